"""Shared fixtures for the lab-report tests: a collected draw and a valid payload."""

import datetime as dt

import pytest
import time_machine

from patients import scheduling
from patients.models import Draw
from tests.builders import LONDON
from tests.factories import PatientFactory


@pytest.fixture(autouse=True)
def _clinic_today():
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def collected(oncologist, nurse):
    """A patient whose draw ACC-000123 was collected on 2 Nov 2026."""
    patient = PatientFactory(
        mrn="MRN-0001", date_of_birth=dt.date(1961, 4, 2), oncologist=oncologist
    )
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, 0, tzinfo=LONDON), tick=False):
        scheduling.draws_plan(patient_ids=[patient.pk])
        draw = Draw.objects.get(patient=patient, state="scheduled")
        scheduling.draw_collect(
            draw=draw,
            collected_at=dt.datetime(2026, 11, 2, 8, 30, tzinfo=LONDON),
            accession="ACC-000123",
            acting_user=nurse,
        )
    draw.refresh_from_db()
    return draw
