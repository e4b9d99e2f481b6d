"""Clinician pages: role checks, the patient list and page, forms, audit of views."""

import datetime as dt

import pytest
import time_machine

from audit.models import AuditEvent
from patients.models import Patient, Regimen
from tests.factories import PatientFactory, RegimenFactory, ScanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clinic_today():
    with time_machine.travel(dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC), tick=False):
        yield


def test_anonymous_is_sent_to_login(client, patient):
    for url in ("/", "/patients/", f"/patients/{patient.pk}/", "/patients/new/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")


def test_lab_cannot_open_patient_pages(client, lab_user, patient):
    client.force_login(lab_user)
    for url in ("/patients/", f"/patients/{patient.pk}/", "/patients/new/"):
        assert client.get(url).status_code == 403
    assert client.post(f"/patients/{patient.pk}/scans/", {}).status_code == 403
    assert not AuditEvent.objects.filter(action="patient.view").exists()


def test_patient_page_shows_record_and_audits_the_view(client, nurse, patient):
    RegimenFactory(
        patient=patient,
        started_on=dt.date(2024, 1, 1),
        ended_on=dt.date(2025, 1, 1),
        end_reason="toxicity",
    )
    RegimenFactory(patient=patient, endocrine_agent="anastrozole", started_on=dt.date(2025, 1, 1))
    ScanFactory(patient=patient, outcome="progression", performed_on=dt.date(2024, 12, 1))
    client.force_login(nurse)
    response = client.get(f"/patients/{patient.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert patient.mrn in html
    assert "Anastrozole" in html
    assert "Toxicity" in html
    assert "Progression" in html
    event = AuditEvent.objects.get(action="patient.view")
    assert (event.actor, event.patient_id, event.channel) == (nurse, patient.pk, "web")


def test_patient_urls_carry_the_internal_id_not_the_mrn(client, nurse):
    PatientFactory(mrn="MRN-SECRET-1")
    client.force_login(nurse)
    html = client.get("/patients/").content.decode()
    patient = Patient.objects.get(mrn="MRN-SECRET-1")
    assert f'href="/patients/{patient.pk}/"' in html
    assert "/patients/MRN-SECRET-1" not in html


def test_list_search_by_name_or_mrn_and_paginate(client, nurse):
    for i in range(30):
        PatientFactory(mrn=f"MRN-P{i:03d}", family_name="Quimby" if i == 3 else "Other")
    client.force_login(nurse)
    page = client.get("/patients/").content.decode()
    assert "30 patients" in page
    assert "Page 1 of 2" in page
    found = client.post("/patients/", {"q": "quim"}, follow=True)
    assert "1 patient" in found.content.decode()
    assert "quim" not in found.redirect_chain[-1][0]
    found = client.post("/patients/", {"q": "MRN-P003"}, follow=True)
    assert "MRN-P003" in found.content.decode()
    assert "MRN-P003" not in found.redirect_chain[-1][0]
    listed = AuditEvent.objects.filter(action="patient.list").first()
    assert listed.detail["count"] == 1


def test_register_patient_form(client, nurse, oncologist):
    client.force_login(nurse)
    response = client.post(
        "/patients/new/",
        {
            "mrn": "MRN-FORM",
            "given_name": "Grace",
            "family_name": "Hopper",
            "date_of_birth": "1960-12-09",
            "oncologist": oncologist.pk,
            "surveillance_interval_weeks": 8,
        },
    )
    patient = Patient.objects.get(mrn="MRN-FORM")
    assert response.status_code == 302
    assert response.url == f"/patients/{patient.pk}/"


def test_register_patient_form_shows_service_errors(client, nurse, oncologist):
    PatientFactory(mrn="MRN-FORM")
    client.force_login(nurse)
    response = client.post(
        "/patients/new/",
        {
            "mrn": "MRN-FORM",
            "given_name": "Grace",
            "family_name": "Hopper",
            "date_of_birth": "2099-12-09",
            "oncologist": oncologist.pk,
            "surveillance_interval_weeks": 8,
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "A patient with this MRN already exists." in html
    assert "Date of birth cannot be in the future." in html
    assert Patient.objects.count() == 1


def test_record_regimen_and_scan_from_patient_page(client, oncologist, patient):
    client.force_login(oncologist)
    response = client.post(
        f"/patients/{patient.pk}/regimens/",
        {
            "endocrine_agent": "letrozole",
            "cdk46_inhibitor": "abemaciclib",
            "started_on": "2026-01-02",
        },
    )
    assert response.status_code == 302
    assert Regimen.objects.filter(patient=patient, ended_on__isnull=True).exists()
    client.post(
        f"/patients/{patient.pk}/scans/",
        {"performed_on": "2026-11-01", "modality": "ct", "outcome": "progression"},
    )
    patient.refresh_from_db()
    assert patient.surveillance_state == "progressed"


def test_bad_regimen_from_page_shows_message_and_writes_nothing(client, oncologist, patient):
    client.force_login(oncologist)
    response = client.post(
        f"/patients/{patient.pk}/regimens/",
        {"endocrine_agent": "letrozole", "cdk46_inhibitor": "", "started_on": "2026-01-02"},
        follow=True,
    )
    assert "Regimen not recorded" in response.content.decode()
    assert "must be combined with a CDK4/6 inhibitor" in response.content.decode()
    assert Regimen.objects.count() == 0
