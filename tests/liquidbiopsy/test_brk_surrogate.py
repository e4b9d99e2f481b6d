"""brk DEFECT probe: a lone UTF-16 surrogate escaped in JSON ("\\ud800") is a 500, not a 400."""

import json

import pytest

from tests.builders import URL, payload

pytestmark = pytest.mark.django_db


def _variant(**kw):
    body = payload()
    body["variants"][0].update(kw)
    return body


@pytest.mark.parametrize(
    "body",
    [
        payload(report_id="R\ud800"),
        payload(accession="ACC\ud800"),
        payload(assay="G360\ud800"),
        _variant(hgvs_p="p.Asp538Gly\ud800"),
        _variant(genome_build="GRCh38\ud800"),
        _variant(chrom="6\ud800"),
    ],
    ids=["report_id", "accession", "assay", "hgvs_p", "genome_build", "chrom"],
)
def test_a_lone_surrogate_in_a_report_is_a_400(lab_token_api, collected, body):
    raw = json.dumps(body)  # ensure_ascii: the surrogate travels as the escape \ud800
    response = lab_token_api.generic("POST", URL, raw, content_type="application/json")
    assert response.status_code == 400, response.status_code


def test_a_lone_surrogate_in_a_patient_post_is_a_400(nurse_api, oncologist):
    raw = json.dumps(
        {
            "mrn": "MRN-\ud800",
            "given_name": "A",
            "family_name": "B",
            "date_of_birth": "1960-01-01",
            "oncologist": oncologist.username,
        }
    )
    response = nurse_api.generic("POST", "/api/v1/patients/", raw, content_type="application/json")
    assert response.status_code == 400, response.status_code


def test_a_lone_surrogate_in_a_scan_note_or_draw_accession_is_a_400(
    nurse_api, oncologist_api, collected
):
    from patients import scheduling
    from patients.models import Draw

    patient = collected.patient
    raw = json.dumps(
        {
            "performed_on": "2026-11-20",
            "modality": "ct",
            "outcome": "indeterminate",
            "note": "n\ud800",
        }
    )
    r = oncologist_api.generic(
        "POST", f"/api/v1/patients/{patient.pk}/scans/", raw, content_type="application/json"
    )
    assert r.status_code == 400, r.status_code
    scheduling.draws_plan(patient_ids=[patient.pk])
    draw = Draw.objects.filter(patient=patient, state="scheduled").first()
    if draw is not None:
        raw = json.dumps({"collected_at": "2026-11-24T09:00:00Z", "accession": "A\ud800"})
        r = nurse_api.generic(
            "POST", f"/api/v1/draws/{draw.pk}/collect/", raw, content_type="application/json"
        )
        assert r.status_code == 400, r.status_code


def test_a_lone_surrogate_in_a_choice_field_is_a_400_not_a_500(oncologist_api, collected):
    """DRF's ChoiceField error echoes the value ('"\\ud800" is not a valid choice.') and the
    JSON renderer (ensure_ascii False) cannot encode it: 500 on every choice field."""
    patient = collected.patient
    oncologist_api.raise_request_exception = False
    raw = json.dumps(
        {"endocrine_agent": "\ud800", "cdk46_inhibitor": "palbociclib", "started_on": "2026-11-20"}
    )
    r = oncologist_api.generic(
        "POST", f"/api/v1/patients/{patient.pk}/regimens/", raw, content_type="application/json"
    )
    assert r.status_code == 400, r.status_code
    raw = json.dumps({"surveillance_state": "\ud800"})
    r = oncologist_api.generic(
        "PATCH", f"/api/v1/patients/{patient.pk}/", raw, content_type="application/json"
    )
    assert r.status_code == 400, r.status_code
