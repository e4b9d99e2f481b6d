"""The patient, regimen and scan calls of the API (DESIGN.md §6), through URLs."""

import datetime as dt

import pytest
import time_machine

from audit.models import AuditEvent
from patients.models import ImagingAssessment, Patient, Regimen
from tests.factories import PatientFactory, RegimenFactory, ScanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clinic_today():
    with time_machine.travel(dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC), tick=False):
        yield


def _counts():
    return (Patient.objects.count(), Regimen.objects.count(), ImagingAssessment.objects.count())


def _new_patient(oncologist, **overrides):
    body = {
        "mrn": "MRN-0001",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": "1961-04-02",
        "oncologist": oncologist.username,
    }
    body.update(overrides)
    return body


def test_nurse_creates_patient(nurse_api, oncologist):
    response = nurse_api.post("/api/v1/patients/", _new_patient(oncologist), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["surveillance_state"] == "awaiting_minimum_duration"
    assert body["oncologist"] == oncologist.username
    assert body["current_regimen"] is None
    assert Patient.objects.get(pk=body["id"]).mrn == "MRN-0001"


def test_create_with_start_and_interval(oncologist_api, oncologist):
    response = oncologist_api.post(
        "/api/v1/patients/",
        _new_patient(
            oncologist, surveillance_start_on="2026-06-01", surveillance_interval_weeks=12
        ),
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["surveillance_state"] == "active"
    assert response.json()["surveillance_interval_weeks"] == 12


def test_bad_patient_lists_every_field_and_writes_nothing(nurse_api, oncologist):
    PatientFactory(mrn="MRN-TAKEN", oncologist=oncologist)
    before = _counts()
    events_before = AuditEvent.objects.count()
    response = nurse_api.post(
        "/api/v1/patients/",
        {
            "mrn": "MRN-TAKEN",
            "given_name": "",
            "date_of_birth": "2090-01-01",
            "oncologist": "nobody",
            "surveillance_interval_weeks": 20,
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith("Invalid input")
    fields = body["extra"]["fields"]
    # Shape errors first (serializer): each missing/unknown field is named.
    assert set(fields) >= {"given_name", "family_name", "oncologist"}
    assert fields["oncologist"] == ["No active oncologist with username 'nobody'."]
    assert _counts() == before
    assert AuditEvent.objects.count() == events_before


def test_rule_errors_are_listed_together(nurse_api, oncologist):
    PatientFactory(mrn="MRN-TAKEN", oncologist=oncologist)
    before = _counts()
    response = nurse_api.post(
        "/api/v1/patients/",
        _new_patient(
            oncologist, mrn="MRN-TAKEN", date_of_birth="2090-01-01", surveillance_interval_weeks=20
        ),
        format="json",
    )
    assert response.status_code == 400
    fields = response.json()["extra"]["fields"]
    assert set(fields) == {"mrn", "date_of_birth", "surveillance_interval_weeks"}
    assert _counts() == before


def test_malformed_json_is_a_400_not_a_500(nurse_api):
    response = nurse_api.generic(
        "POST", "/api/v1/patients/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "message" in response.json()


def test_anonymous_calls_get_401(anon_api, patient):
    assert anon_api.get("/api/v1/patients/").status_code == 401
    assert anon_api.get(f"/api/v1/patients/{patient.pk}/").status_code == 401
    assert anon_api.post("/api/v1/patients/", {}, format="json").status_code == 401


def test_a_bad_token_gets_401(anon_api):
    anon_api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 64)
    assert anon_api.get("/api/v1/patients/").status_code == 401


def test_lab_token_gets_403_on_every_patient_call(lab_token_api, patient, oncologist):
    before = _counts()
    calls = [
        ("get", "/api/v1/patients/", None),
        ("post", "/api/v1/patients/", _new_patient(oncologist)),
        ("get", f"/api/v1/patients/{patient.pk}/", None),
        ("patch", f"/api/v1/patients/{patient.pk}/", {"surveillance_state": "withdrawn"}),
        (
            "post",
            f"/api/v1/patients/{patient.pk}/regimens/",
            {"endocrine_agent": "letrozole", "started_on": "2026-01-01"},
        ),
        (
            "post",
            f"/api/v1/patients/{patient.pk}/scans/",
            {"performed_on": "2026-01-01", "modality": "ct", "outcome": "progression"},
        ),
    ]
    for method, url, body in calls:
        response = getattr(lab_token_api, method)(url, body, format="json")
        assert response.status_code == 403, (method, url)
        assert response.json()["message"] == "Your role does not allow this action."
    assert _counts() == before
    assert not AuditEvent.objects.filter(action="patient.view").exists()


def test_get_patient_returns_contract_fields_and_audits_the_view(nurse_api, nurse, patient):
    RegimenFactory(
        patient=patient,
        started_on=dt.date(2024, 1, 1),
        ended_on=dt.date(2025, 1, 1),
        end_reason="toxicity",
    )
    RegimenFactory(patient=patient, endocrine_agent="anastrozole", started_on=dt.date(2025, 1, 1))
    ScanFactory(patient=patient, performed_on=dt.date(2026, 9, 1), outcome="indeterminate")
    ScanFactory(patient=patient, performed_on=dt.date(2026, 6, 1))
    response = nurse_api.get(f"/api/v1/patients/{patient.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["current_regimen"] == {
        "endocrine_agent": "anastrozole",
        "cdk46_inhibitor": "palbociclib",
        "started_on": "2025-01-01",
    }
    assert body["latest_scan"] == {"performed_on": "2026-09-01", "outcome": "indeterminate"}
    assert body["surveillance_state"] == "active"
    assert body["surveillance_start_on"] == "2026-01-05"
    event = AuditEvent.objects.get(action="patient.view")
    assert (event.actor, event.patient_id, event.channel) == (nurse, patient.pk, "api")


def test_unknown_patient_is_404(nurse_api):
    response = nurse_api.get("/api/v1/patients/999999/")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "extra": {}}


def test_patch_changes_surveillance_settings(oncologist_api, patient, other_oncologist):
    response = oncologist_api.patch(
        f"/api/v1/patients/{patient.pk}/",
        {"surveillance_interval_weeks": 6, "oncologist": other_oncologist.username},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["surveillance_interval_weeks"] == 6
    assert response.json()["oncologist"] == other_oncologist.username


def test_patch_withdraws(nurse_api, patient):
    response = nurse_api.patch(
        f"/api/v1/patients/{patient.pk}/", {"surveillance_state": "withdrawn"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["surveillance_state"] == "withdrawn"


def test_patch_refuses_read_only_and_bad_values(nurse_api, patient):
    response = nurse_api.patch(
        f"/api/v1/patients/{patient.pk}/",
        {"mrn": "NEW", "surveillance_interval_weeks": 2},
        format="json",
    )
    assert response.status_code == 400
    fields = response.json()["extra"]["fields"]
    assert "mrn" in fields
    patient.refresh_from_db()
    assert patient.mrn != "NEW"
    assert patient.surveillance_interval_weeks == 8


def test_post_regimen_ends_current(nurse_api, patient):
    old = RegimenFactory(patient=patient, started_on=dt.date(2025, 1, 1))
    response = nurse_api.post(
        f"/api/v1/patients/{patient.pk}/regimens/",
        {
            "endocrine_agent": "exemestane",
            "cdk46_inhibitor": "ribociclib",
            "lhrh_agonist": "goserelin",
            "started_on": "2026-02-01",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["endocrine_agent"] == "exemestane"
    old.refresh_from_db()
    assert old.ended_on == dt.date(2026, 2, 1)


def test_post_regimen_unknown_drug_names_field(nurse_api, patient):
    response = nurse_api.post(
        f"/api/v1/patients/{patient.pk}/regimens/",
        {"endocrine_agent": "tamoxifen", "cdk46_inhibitor": "palbociclib", "started_on": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"endocrine_agent", "started_on"}
    assert Regimen.objects.count() == 0


def test_post_regimen_combination_rule_from_formulary(nurse_api, patient):
    response = nurse_api.post(
        f"/api/v1/patients/{patient.pk}/regimens/",
        {"endocrine_agent": "letrozole", "started_on": "2026-02-01"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["extra"]["fields"] == {
        "cdk46_inhibitor": ["Letrozole must be combined with a CDK4/6 inhibitor."]
    }


def test_post_progression_scan_moves_patient_to_progressed(oncologist_api, patient):
    RegimenFactory(patient=patient, started_on=dt.date(2025, 1, 1))
    response = oncologist_api.post(
        f"/api/v1/patients/{patient.pk}/scans/",
        {"performed_on": "2026-11-20", "modality": "pet_ct", "outcome": "progression"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    detail = oncologist_api.get(f"/api/v1/patients/{patient.pk}/").json()
    assert detail["surveillance_state"] == "progressed"
    assert detail["latest_scan"]["outcome"] == "progression"


def test_post_scan_bad_input(nurse_api, patient):
    before = _counts()
    response = nurse_api.post(
        f"/api/v1/patients/{patient.pk}/scans/",
        {"performed_on": "2099-01-01", "modality": "xray", "outcome": "progression"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"modality"}
    response = nurse_api.post(
        f"/api/v1/patients/{patient.pk}/scans/",
        {"performed_on": "2099-01-01", "modality": "ct", "outcome": "progression"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"performed_on"}
    assert _counts() == before


def test_list_search_and_pagination(nurse_api, oncologist):
    for i in range(60):
        PatientFactory(mrn=f"MRN-L{i:03d}", family_name="Zed" if i == 7 else "Other")
    page1 = nurse_api.get("/api/v1/patients/").json()
    assert page1["count"] == 60
    assert len(page1["results"]) == 50
    assert page1["next"]
    assert nurse_api.get("/api/v1/patients/?search=zed").json()["count"] == 1
    assert nurse_api.get("/api/v1/patients/?search=MRN-L007").json()["count"] == 1


def test_schema_and_docs_are_served_without_external_assets(anon_api, client):
    schema = anon_api.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/patients/",
        "/api/v1/patients/{patient_id}/",
        "/api/v1/patients/{patient_id}/regimens/",
        "/api/v1/patients/{patient_id}/scans/",
    ):
        assert path in paths
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr" not in html
    assert "unpkg.com" not in html


def test_nul_characters_and_huge_ids_are_400_not_500(nurse_api, oncologist):
    assert nurse_api.get("/api/v1/patients/?search=a%00b").status_code == 200
    assert nurse_api.get("/api/v1/draws/?accession=a%00b").status_code == 200
    huge = nurse_api.get("/api/v1/draws/?patient=99999999999999999999999")
    assert huge.status_code == 400
    assert "patient" in huge.json()["extra"]["fields"]
    body = {
        "mrn": "MRN-NUL",
        "given_name": "A",
        "family_name": "B",
        "date_of_birth": "1961-04-02",
        "oncologist": "dr\x00olga",
    }
    response = nurse_api.post("/api/v1/patients/", body, format="json")
    assert response.status_code == 400
    assert "oncologist" in response.json()["extra"]["fields"]
