"""rev4: df138f4 refuses a VCF whose FORMAT names a field twice ("AF:AF 0.42:0.0042": which one
a reader keeps is not ours to guess), but the same ambiguity in INFO, where a VCF without sample
columns (LoFreq) takes its allele fraction from, is read silently as one of the two values."""

import pytest

from liquidbiopsy.models import VariantCall
from tests.liquidbiopsy.test_vcf_callers import caller_vcf, upload

pytestmark = pytest.mark.django_db


def test_info_af_given_twice_in_a_sampleless_vcf_is_refused(lab_token_api, collected):
    data = caller_vcf("lofreq.vcf", replace=("AF=0.004484", "AF=0.42;AF=0.004484"))
    response = upload(lab_token_api, data)
    stored = list(VariantCall.objects.values_list("vaf", flat=True))
    assert response.status_code == 400, (response.status_code, stored)
