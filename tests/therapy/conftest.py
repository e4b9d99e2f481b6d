"""A patient on letrozole + palbociclib for a year with a clear scan and collected draws."""

import datetime as dt

import pytest
import time_machine

from patients import scheduling
from patients.models import Draw
from tests.factories import PatientFactory, RegimenFactory, ScanFactory
from tests.liquidbiopsy.conftest import LONDON


@pytest.fixture(autouse=True)
def _clinic_today():
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON), tick=False):
        yield


def collect(patient, accession: str, day: dt.date, nurse) -> Draw:
    with time_machine.travel(dt.datetime.combine(day, dt.time(9), LONDON), tick=False):
        scheduling.draws_plan(patient_ids=[patient.pk])
        draw = Draw.objects.get(patient=patient, state="scheduled")
        scheduling.draw_collect(
            draw=draw,
            collected_at=dt.datetime.combine(day, dt.time(8, 30), LONDON),
            accession=accession,
            acting_user=nurse,
        )
    draw.refresh_from_db()
    return draw


@pytest.fixture
def eligible(oncologist, nurse):
    patient = PatientFactory(
        mrn="MRN-0001",
        date_of_birth=dt.date(1961, 4, 2),
        oncologist=oncologist,
        surveillance_start_on=dt.date(2026, 5, 2),
    )
    RegimenFactory(
        patient=patient,
        endocrine_agent="letrozole",
        cdk46_inhibitor="palbociclib",
        started_on=dt.date(2025, 11, 2),
    )
    ScanFactory(patient=patient, performed_on=dt.date(2026, 10, 20), outcome="no_progression")
    collect(patient, "ACC-000123", dt.date(2026, 11, 2), nurse)
    return patient
