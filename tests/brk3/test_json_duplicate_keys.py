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


# --- The same ambiguity in a VCF (VCF 4.2 §1.6.2: sample IDs unique; FORMAT keys unique) -----

VCF_HEAD = """##fileformat=VCFv4.2
##report_id=V-DUP-1
##version=1
##status=final
##accession=ACC-000123
##mrn=MRN-0001
##date_of_birth=1961-04-02
##collected_on=2026-11-02
##reported_on=2026-11-10
##assay=Guardant360 CDx
##qc_status=pass
##reference=GRCh38
##INFO=<ID=GENE,Number=1,Type=String,Description="Gene">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">
"""


def _send_vcf(api, text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return api.post(
        "/api/v1/reports/upload/",
        {"file": SimpleUploadedFile("dup.vcf", text.encode())},
        format="multipart",
    )


@pytest.mark.parametrize(
    "records",
    [
        # Two sample columns both named TUMOR: 0.42 % in one, 42 % in the other.
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\tTUMOR\n"
        "6\t152098791\t.\tA\tG\t.\tPASS\tGENE=ESR1\tAF\t0.0042\t0.42\n",
        # FORMAT AF given twice for the one sample.
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
        "6\t152098791\t.\tA\tG\t.\tPASS\tGENE=ESR1\tAF:AF\t0.42:0.0042\n",
    ],
    ids=["two-TUMOR-columns", "FORMAT-AF-twice"],
)
def test_a_vcf_giving_the_allele_fraction_twice_is_a_400(records, her, drawn, lab_token_api):
    drawn(her)
    answer = _send_vcf(lab_token_api, VCF_HEAD + records)
    assert answer.status_code == 400, answer.json()
    assert LabReport.objects.count() == 0


def test_a_decision_with_decision_twice_is_a_400_and_changes_no_therapy(
    her, scan, drawn, lab_token_api, oncologist_api
):
    """'decline' then 'switch' in one body: the last wins today and camizestrant is started."""
    import datetime as dt

    from patients.models import Regimen
    from tests.builders import pending, post_report

    scan(her, dt.date(2026, 10, 20), "no_progression")
    drawn(her)
    post_report(lab_token_api, payload())
    (alert,) = pending(her)
    text = (
        '{"decision": "decline", "reason_code": "patient_preference", '
        '"decision": "switch", "effective_on": "2026-11-24"}'
    )
    answer = oncologist_api.post(
        f"/api/v1/alerts/{alert.pk}/acknowledge/", data=text, content_type="application/json"
    )
    assert answer.status_code == 400, answer.json()
    assert not Regimen.objects.filter(patient=her, endocrine_agent="camizestrant").exists()


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
