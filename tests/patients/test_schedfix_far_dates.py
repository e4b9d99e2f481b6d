"""A surveillance start date far ahead (year 9999) is bad input, not a 500: the API answers 400
naming the field, the pages a form error, and nothing is written. The window of a draw is
safe at the ends of the calendar whatever the caller."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from hypothesis import example, given
from hypothesis import strategies as st

from audit.models import AuditEvent
from patients import rules, services
from patients.models import Draw, Patient
from tests.builders import LONDON
from tests.factories import PatientFactory

D = dt.date


@pytest.fixture(autouse=True)
def _clinic_today():
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON), tick=False):
        yield


def written():
    return Patient.objects.count(), Draw.objects.count(), AuditEvent.objects.count()


def body(oncologist, start_on, mrn="FAR-1"):
    return {
        "mrn": mrn,
        "given_name": "A",
        "family_name": "B",
        "date_of_birth": "1960-01-01",
        "oncologist": oncologist.username,
        "surveillance_start_on": start_on,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("start_on", ["9999-12-31", "9999-12-25", "2040-01-01"])
def test_api_create_refuses_a_start_date_beyond_the_horizon(nurse_api, oncologist, start_on):
    before = written()
    r = nurse_api.post("/api/v1/patients/", body(oncologist, start_on), format="json")
    assert r.status_code == 400, r.content
    message = r.json()["extra"]["fields"]["surveillance_start_on"][0]
    assert "2031-11-24" in message  # the latest date allowed, 5 years ahead
    assert written() == before


@pytest.mark.django_db
def test_api_create_accepts_a_start_date_on_the_horizon(nurse_api, oncologist):
    r = nurse_api.post("/api/v1/patients/", body(oncologist, "2031-11-24"), format="json")
    assert r.status_code == 201, r.content
    draw = Draw.objects.get(patient_id=r.json()["id"], state="scheduled")
    assert draw.planned_on == D(2031, 11, 24)


@pytest.mark.django_db
@pytest.mark.parametrize("with_draws", [False, True])
def test_api_patch_refuses_a_far_start_date(nurse_api, oncologist, with_draws):
    patient = PatientFactory(
        oncologist=oncologist,
        surveillance_state="awaiting_minimum_duration",
        surveillance_start_on=None,
    )
    if with_draws:
        Patient.objects.filter(pk=patient.pk).update(
            surveillance_start_on=D(2026, 5, 2), surveillance_state="active"
        )
        services.draws_plan(patient_ids=[patient.pk])
    before = written()
    r = nurse_api.patch(
        f"/api/v1/patients/{patient.pk}/", {"surveillance_start_on": "9999-12-31"}, format="json"
    )
    assert r.status_code == 400, r.content
    assert "surveillance_start_on" in r.json()["extra"]["fields"]
    assert written() == before


@pytest.mark.django_db
def test_pages_show_a_form_error_for_a_far_start_date(nurse, oncologist):
    client = Client(raise_request_exception=True)
    client.force_login(nurse)
    before = written()
    r = client.post(
        "/patients/new/",
        {
            "mrn": "FAR-PAGE",
            "given_name": "A",
            "family_name": "B",
            "date_of_birth": "1 Jan 1960",
            "oncologist": oncologist.pk,
            "surveillance_start_on": "31 Dec 9999",
            "surveillance_interval_weeks": 8,
        },
    )
    assert r.status_code == 200
    assert b"2031-11-24" in r.content
    assert written() == before

    patient = PatientFactory(oncologist=oncologist, surveillance_start_on=D(2026, 5, 2))
    before = written()
    r = client.post(
        f"/patients/{patient.pk}/surveillance/",
        {"surveillance_start_on": "31 Dec 9999", "surveillance_interval_weeks": 8},
        follow=True,
    )
    assert r.status_code == 200
    assert b"Surveillance not updated" in r.content
    patient.refresh_from_db()
    assert patient.surveillance_start_on == D(2026, 5, 2)
    assert written()[:2] == before[:2]  # (the page shown after it audits its view)
    assert not AuditEvent.objects.filter(action="patient.update").exists()


@given(
    day=st.dates(min_value=dt.date.min, max_value=dt.date.max),
    window=st.integers(min_value=0, max_value=60),
)
@example(day=dt.date.max, window=7)
@example(day=dt.date.min, window=7)
@example(day=D(9999, 12, 28), window=7)
def test_draw_window_is_safe_at_the_ends_of_the_calendar(day, window):
    opens, closes = rules.draw_window(day, window)
    assert opens <= day <= closes
    assert (day - opens).days <= window
    assert (closes - day).days <= window
