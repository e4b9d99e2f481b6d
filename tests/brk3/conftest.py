"""brk3 scenarios: the clinic's clock on 24 Nov 2026 and one eligible patient (as
tests/therapy/conftest.py builds her), for the sceptical review's failing tests."""

import datetime as dt

import pytest

from tests.builders import collect
from tests.factories import PatientFactory, RegimenFactory, ScanFactory
from tests.therapy.conftest import _clinic_today, _fresh_rule_config  # noqa: F401 (fixtures)


@pytest.fixture
def her(oncologist, nurse):
    """Letrozole + palbociclib since 2 Nov 2025; ACC-000123 collected 2 Nov 2026. Her scans
    are each test's own."""
    patient = PatientFactory(
        mrn="MRN-0001",
        date_of_birth=dt.date(1961, 4, 2),
        oncologist=oncologist,
        surveillance_start_on=dt.date(2026, 5, 2),
    )
    RegimenFactory(patient=patient, started_on=dt.date(2025, 11, 2))
    return patient


@pytest.fixture
def scan():
    def make(patient, day, outcome):
        return ScanFactory(patient=patient, performed_on=day, outcome=outcome)

    return make


@pytest.fixture
def drawn(nurse):
    def make(patient, day=dt.date(2026, 11, 2), accession="ACC-000123"):
        return collect(patient, accession, day, nurse)

    return make
