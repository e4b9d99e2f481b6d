"""The draw reschedule API takes the page form's `reason` and `comment`: a date outside the
window is possible with a coded reason (the same rules as the page), not only by the page."""

import datetime as dt

import pytest

from audit.models import AuditEvent
from patients import scheduling
from patients.models import Draw
from tests.factories import PatientFactory, RegimenFactory

D = dt.date
pytestmark = pytest.mark.usefixtures("on_24_nov_2026")


@pytest.fixture
def open_draw(oncologist):
    patient = PatientFactory(oncologist=oncologist, surveillance_start_on=D(2026, 12, 7))
    RegimenFactory(patient=patient, started_on=D(2026, 6, 7))
    scheduling.draws_plan(patient_ids=[patient.pk])
    return Draw.objects.get(patient=patient, state="scheduled")


def reschedule(api, draw, **body):
    return api.post(f"/api/v1/draws/{draw.pk}/reschedule/", body, format="json")


@pytest.mark.django_db
def test_outside_the_window_with_a_reason(nurse_api, open_draw):
    new = open_draw.due_on + dt.timedelta(days=10)
    r = reschedule(
        nurse_api, open_draw, due_on=new.isoformat(), reason="patient_request", comment="away"
    )
    assert r.status_code == 200, r.json()
    open_draw.refresh_from_db()
    assert open_draw.due_on == new
    assert (open_draw.window_opens_on, open_draw.window_closes_on) == (
        new - dt.timedelta(days=7),
        new + dt.timedelta(days=7),
    )
    event = AuditEvent.objects.get(action="draw.reschedule")
    assert event.detail["reason"] == "patient_request"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "patient_away"}, "reason"),
        ({"reason": "other"}, "comment"),
        ({"reason": "other", "comment": "   "}, "comment"),
        ({"reason": "patient_request", "comment": "x" * 2001}, "comment"),
    ],
)
def test_outside_the_window_refused_naming_the_field(nurse_api, open_draw, body, field):
    before = (open_draw.due_on, AuditEvent.objects.count())
    new = open_draw.due_on + dt.timedelta(days=10)
    r = reschedule(nurse_api, open_draw, due_on=new.isoformat(), **body)
    assert r.status_code == 400, r.json()
    assert field in r.json()["extra"]["fields"]
    open_draw.refresh_from_db()
    assert (open_draw.due_on, AuditEvent.objects.count()) == before


@pytest.mark.django_db
def test_inside_the_window_needs_no_reason(nurse_api, open_draw):
    new = open_draw.due_on + dt.timedelta(days=3)
    r = reschedule(nurse_api, open_draw, due_on=new.isoformat())
    assert r.status_code == 200, r.json()
    open_draw.refresh_from_db()
    assert open_draw.due_on == new
