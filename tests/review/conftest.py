"""Review scenarios (clinical edge cases): today is 24 Nov 2026 in the clinic; `eligible` is a
patient on letrozole + palbociclib since 2 Nov 2025 with a clear scan on 20 Oct 2026 and draw
ACC-000123 collected on 2 Nov 2026 (the same patient as tests/therapy)."""

import datetime as dt

import pytest
import time_machine

from tests.builders import LONDON, collect
from tests.factories import PatientFactory, RegimenFactory, ScanFactory
from therapy.config import rule_config


@pytest.fixture(autouse=True)
def _clinic_today():
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON), tick=False):
        yield


@pytest.fixture(autouse=True)
def _fresh_rule_config():
    rule_config.cache_clear()
    yield
    rule_config.cache_clear()


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
