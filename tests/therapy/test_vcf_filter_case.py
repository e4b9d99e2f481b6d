"""A VCF FILTER of lowercase "pass" is PASS (DESIGN §6): the ESR1 call it carries is used by
the rule, never hidden as a filtered call."""

from decimal import Decimal

import pytest

from liquidbiopsy.models import VariantCall
from tests.builders import pending
from tests.therapy.test_review_vcf import MUTECT2_HEADER, upload

pytestmark = pytest.mark.django_db

D538G = (
    "chr6\t152098791\t.\tA\tG\t.\t{filter}\tDP=5000;GENE=ESR1;HGVSP=p.Asp538Gly\t"
    "GT:AD:AF:DP\t0/1:4980,20:0.004:5000\n"
)


@pytest.mark.parametrize("written", ["pass", "Pass", "PASS"])
def test_d538g_with_pass_in_any_case_raises_the_switch_alert(lab_token_api, eligible, written):
    response = upload(lab_token_api, MUTECT2_HEADER + D538G.format(filter=written))

    assert response.status_code == 201, response.json()
    [call] = VariantCall.objects.all()
    assert (call.hgvs_p, call.vaf, call.filter) == ("p.Asp538Gly", Decimal("0.004"), "PASS")
    alert = pending(eligible).get()
    assert (alert.kind, alert.variants) == ("switch_recommended", [["p.Asp538Gly", "0.004"]])


def test_d538g_with_a_real_filter_is_still_never_used(lab_token_api, eligible):
    response = upload(lab_token_api, MUTECT2_HEADER + D538G.format(filter="clustered_events"))

    assert response.status_code == 201, response.json()
    assert not pending(eligible).exists()
