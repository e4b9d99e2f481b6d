"""The API refuses a collection time outside the draw's window unless it is confirmed, as the
page does (a sceptical review recorded 2016 for 2026 through the API: the next draw planned
for 2017, the lab's right date refused for ever)."""

import datetime as dt

import pytest

from patients import scheduling
from patients.models import Draw
from tests.factories import PatientFactory, RegimenFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("on_24_nov_2026")]


@pytest.fixture
def due_today(oncologist):
    """A year on letrozole + palbociclib; first draw due today (24 Nov 2026), window 17 Nov - 1 Dec."""
    patient = PatientFactory(
        mrn="MRN-0009",
        date_of_birth=dt.date(1961, 4, 2),
        oncologist=oncologist,
        surveillance_start_on=dt.date(2026, 11, 24),
    )
    RegimenFactory(patient=patient, started_on=dt.date(2025, 11, 2))
    scheduling.draws_plan(patient_ids=[patient.pk])
    return Draw.objects.get(patient=patient, state="scheduled")


def test_a_collection_dated_ten_years_before_its_window_is_refused_by_the_api(
    due_today, nurse_api, lab_token_api
):
    """A year typed as 2016 for 2026. The page's collect form refuses a time before the window
    without an explicit confirmation (patients.forms.CollectForm); POST .../collect/ accepts
    it (200): collected_on 2016-11-24, before her regimen and surveillance started. The lab's
    correct collected_on (2026-11-24) is then refused (422) for ever, and a lab that copies
    the clinic's date gets its ESR1 result judged "no regimen at collection": no alert."""
    answer = nurse_api.post(
        f"/api/v1/draws/{due_today.pk}/collect/",
        {"collected_at": "2016-11-24T09:00:00Z", "accession": "ACC-000900"},
        format="json",
    )
    assert answer.status_code == 400, answer.json()
    assert "collected_at" in answer.json()["extra"]["fields"]


def test_a_confirmed_time_outside_the_window_is_recorded(due_today, nurse_api):
    answer = nurse_api.post(
        f"/api/v1/draws/{due_today.pk}/collect/",
        {
            "collected_at": "2026-11-10T09:00:00Z",
            "accession": "ACC-000901",
            "confirm_outside_window": True,
        },
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    due_today.refresh_from_db()
    assert due_today.collected_on == dt.date(2026, 11, 10)


def test_the_refusal_says_how_to_confirm_and_stores_nothing(due_today, nurse_api):
    answer = nurse_api.post(
        f"/api/v1/draws/{due_today.pk}/collect/",
        {"collected_at": "2016-11-24T09:00:00Z", "accession": "ACC-000902"},
        format="json",
    )
    (message,) = answer.json()["extra"]["fields"]["collected_at"]
    assert "before this draw's window opens" in message
    assert "confirm_outside_window" in message
    due_today.refresh_from_db()
    assert due_today.state == "scheduled"


def test_a_time_inside_the_window_needs_no_confirmation(due_today, nurse_api):
    answer = nurse_api.post(
        f"/api/v1/draws/{due_today.pk}/collect/",
        {"collected_at": "2026-11-24T09:00:00Z", "accession": "ACC-000903"},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
