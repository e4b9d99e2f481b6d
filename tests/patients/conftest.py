"""Fixtures of the results-move-draws tests (test_schedfix_results, test_schedfix_late_failure):
two patients, each with a draw collected on 2 Nov 2026 (ACC-000123, ACC-000200)."""

import datetime as dt

import pytest

from tests.builders import collect
from tests.factories import PatientFactory, RegimenFactory, ScanFactory

D = dt.date


@pytest.fixture
def eligible(oncologist, nurse):
    patient = PatientFactory(
        mrn="MRN-0001",
        date_of_birth=D(1961, 4, 2),
        oncologist=oncologist,
        surveillance_start_on=D(2026, 5, 2),
    )
    RegimenFactory(patient=patient, started_on=D(2025, 11, 2))
    ScanFactory(patient=patient, performed_on=D(2026, 10, 20), outcome="no_progression")
    collect(patient, "ACC-000123", D(2026, 11, 2), nurse)
    return patient


@pytest.fixture
def other(oncologist, nurse):
    patient = PatientFactory(
        mrn="MRN-0002",
        date_of_birth=D(1970, 1, 1),
        oncologist=oncologist,
        surveillance_start_on=D(2026, 5, 2),
    )
    RegimenFactory(patient=patient, started_on=D(2025, 11, 2))
    ScanFactory(patient=patient, performed_on=D(2026, 10, 20))
    collect(patient, "ACC-000200", D(2026, 11, 2), nurse)
    return patient
