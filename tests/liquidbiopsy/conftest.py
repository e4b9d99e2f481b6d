"""Shared fixtures for the lab-report tests: a collected draw and a valid payload."""

import copy
import datetime as dt
import zoneinfo

import pytest
import time_machine

from liquidbiopsy.models import LabReport, VariantCall
from patients import scheduling
from patients.models import Draw
from tests.factories import PatientFactory

LONDON = zoneinfo.ZoneInfo("Europe/London")
URL = "/api/v1/reports/"


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


def payload(**overrides):
    body = {
        "report_id": "G360-2026-000123",
        "version": 1,
        "status": "final",
        "accession": "ACC-000123",
        "patient": {"mrn": "MRN-0001", "date_of_birth": "1961-04-02"},
        "collected_on": "2026-11-02",
        "reported_on": "2026-11-10",
        "assay": "Guardant360 CDx",
        "qc_status": "pass",
        "tumor_fraction": 0.012,
        "variants": [
            {
                "gene": "ESR1",
                "hgvs_p": "p.Asp538Gly",
                "hgvs_c": "c.1613A>G",
                "transcript": "NM_000125.4",
                "genome_build": "GRCh38",
                "chrom": "6",
                "pos": 152098791,
                "ref": "A",
                "alt": "G",
                "vaf_percent": 0.42,
                "depth": 15000,
            }
        ],
    }
    body.update(overrides)
    return body


def variant(**overrides):
    base = copy.deepcopy(payload()["variants"][0])
    base.update(overrides)
    return {k: val for k, val in base.items() if val is not None}


def counts():
    return (LabReport.objects.count(), VariantCall.objects.count(), Draw.objects.count())
