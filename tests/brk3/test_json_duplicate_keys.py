"""A lab's JSON with a key given twice (DESIGN §6: "Allele fraction: exactly one of vaf or
vaf_percent ... ambiguity here is a patient-safety bug"; "any mismatch is rejected").
RFC 8259 §4: with duplicate names the behaviour of a receiver is unpredictable, so the
product must not pick one silently. Found by the brk3 review (REPORT.md F3)."""

import json

import pytest

from liquidbiopsy.models import LabReport
from tests.builders import URL, payload

pytestmark = pytest.mark.django_db


def _post_raw(api, text: str):
    return api.post(URL, data=text, content_type="application/json")


def test_a_variant_with_vaf_percent_twice_is_a_400_and_stores_nothing(her, drawn, lab_token_api):
    drawn(her)
    text = json.dumps(payload()).replace(
        '"vaf_percent": 0.42', '"vaf_percent": 42, "vaf_percent": 0.42'
    )
    assert text.count('"vaf_percent"') == 2
    answer = _post_raw(lab_token_api, text)
    assert answer.status_code == 400, answer.json()
    assert "vaf_percent" in json.dumps(answer.json())
    assert LabReport.objects.count() == 0


def test_a_patient_with_mrn_twice_is_a_400_and_stores_nothing(her, drawn, lab_token_api):
    drawn(her)
    text = json.dumps(payload()).replace('"mrn": ', '"mrn": "MRN-9999", "mrn": ')
    answer = _post_raw(lab_token_api, text)
    assert answer.status_code == 400, answer.json()
    assert LabReport.objects.count() == 0


def test_the_refusal_names_the_key_given_twice(lab_token_api):
    answer = _post_raw(lab_token_api, '{"report_id": "R-1", "report_id": "R-2"}')
    assert answer.status_code == 400
    assert answer.json()["message"] == (
        'JSON parse error - the key "report_id" is given twice in one object: send each '
        "field once (a receiver may keep either value)."
    )


@pytest.mark.parametrize("text", ['{"a": 1, "b": {"a": 2}}', '[{"a": 1}, {"a": 2}]'])
def test_the_same_key_in_different_objects_is_not_a_duplicate(text):
    import io

    from core.drf_inputs import JSONParser

    assert JSONParser().parse(io.BytesIO(text.encode())) == json.loads(text)
