"""brk probes: tiny allele fractions must not be stored as 0 (0 < vaf <= 1)."""

import pytest

from liquidbiopsy.models import LabReport, VariantCall
from tests.builders import URL, payload, variant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "v",
    [
        {"vaf_percent": 1e-10},
        {"vaf_percent": 0.0000001},
        {"vaf_percent": None, "vaf": 1e-12},
        {"vaf_percent": None, "vaf": 5e-324},
        {"vaf_percent": 99.99999999999},
        {"vaf_percent": "0.42"},
        {"vaf_percent": 1.23456789012345678},
    ],
)
def test_a_tiny_or_long_vaf_is_refused_or_stored_within_bounds(lab_token_api, collected, v):
    r = lab_token_api.post(URL, payload(variants=[variant(**v)]), format="json")
    assert r.status_code in (201, 400), r.content
    for call in VariantCall.objects.all():
        assert 0 < call.vaf <= 1, call.vaf


@pytest.mark.parametrize("tf", [1e-12, 5e-324, 0.99999999999999])
def test_a_tiny_tumour_fraction_is_refused_or_stored_within_bounds(lab_token_api, collected, tf):
    r = lab_token_api.post(URL, payload(tumor_fraction=tf), format="json")
    assert r.status_code in (201, 400), r.content
    for rep in LabReport.objects.all():
        assert rep.tumor_fraction is None or 0 <= rep.tumor_fraction <= 1
