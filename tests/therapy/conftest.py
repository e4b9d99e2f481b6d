"""A patient on letrozole + palbociclib for a year with a clear scan and collected draws."""

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
    """Tests that override the rule's settings get a rule config read from them."""
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


@pytest.fixture
def other(oncologist, nurse):
    """A second eligible patient with draw ACC-000200 collected on 2 Nov 2026."""
    patient = PatientFactory(
        mrn="MRN-0002",
        date_of_birth=dt.date(1970, 1, 1),
        oncologist=oncologist,
        surveillance_start_on=dt.date(2026, 5, 2),
    )
    RegimenFactory(patient=patient, started_on=dt.date(2025, 11, 2))
    ScanFactory(patient=patient, performed_on=dt.date(2026, 10, 20))
    collect(patient, "ACC-000200", dt.date(2026, 11, 2), nurse)
    return patient
