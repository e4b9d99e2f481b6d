"""The UI review's case, end to end: a lab's VCF whose only ESR1 call is FILTERED raises no
alert and is no ESR1 detection on the dashboard; the same call with FILTER PASS is both."""

import datetime as dt

import pytest
import time_machine

from clinic.metrics import Filters, cohort_metrics, cohort_metrics_from_scratch
from clinic.models import CohortPatient
from tests.builders import LONDON, collect, pending
from tests.factories import PatientFactory, RegimenFactory, ScanFactory
from tests.therapy.test_review_vcf import MUTECT2_HEADER, upload

pytestmark = pytest.mark.django_db
YEAR = Filters(date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 12, 31))
D538G = (
    "chr6\t152098791\t.\tA\tG\t.\t{filter}\tDP=5000;GENE=ESR1;HGVSP=p.Asp538Gly\t"
    "GT:AD:AF:DP\t0/1:4980,20:0.004:5000\n"
)


@pytest.fixture(autouse=True)
def _clinic_today():
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON), tick=False):
        yield


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


def _detections(m) -> int:
    return int(m.detection["patients"].sum())


@pytest.mark.parametrize(("written", "counted"), [("clustered_events", 0), ("PASS", 1)])
def test_a_filtered_vcf_call_is_no_detection(lab_token_api, eligible, written, counted):
    response = upload(lab_token_api, MUTECT2_HEADER + D538G.format(filter=written))
    assert response.status_code == 201, response.json()
    assert pending(eligible).exists() == bool(counted)
    assert _detections(cohort_metrics(YEAR)) == counted
    assert _detections(cohort_metrics_from_scratch(YEAR)) == counted
    assert CohortPatient.objects.count() == counted
