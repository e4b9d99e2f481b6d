"""One lock order for a patient's rows (DESIGN §5): the patient's row first, then her draws.

A nurse's collection, a lab's QC-fail report or a sample marked lost, racing a progression
scan or a change of state for the same patient, used to deadlock (PostgreSQL aborts one:
503): the draw paths locked the draw, then the patient; the patient paths the other way.
"""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connections
from django.utils import timezone

from accounts.roles import Role
from clinic.workflows import patient_change, report_receive, scan_receive
from patients import scheduling
from patients.models import Draw
from tests.builders import LONDON, collect, payload
from tests.factories import PatientFactory, RegimenFactory, ScanFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
D = dt.date
ROUNDS = 8


@pytest.fixture(autouse=True)
def _clinic_today():
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON), tick=True):
        yield


def race(*jobs) -> list[str]:
    barrier = threading.Barrier(len(jobs))
    errors: list[str] = []

    def run(job):
        try:
            barrier.wait(timeout=10)
            job()
        except Exception as exc:  # every failure is reported
            errors.append(repr(exc)[:300])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.fixture
def people():
    return (
        UserFactory(username="dr_r", role=Role.ONCOLOGIST),
        UserFactory(username="nurse_r", role=Role.NURSE),
        UserFactory(username="lab_r", role=Role.LAB),
    )


def a_patient(i: int, oncologist):
    patient = PatientFactory(
        mrn=f"MRN-D{i}",
        date_of_birth=D(1961, 4, 2),
        oncologist=oncologist,
        surveillance_start_on=D(2026, 5, 2),
    )
    RegimenFactory(patient=patient, started_on=D(2025, 11, 2))
    ScanFactory(patient=patient, performed_on=D(2026, 10, 20))
    return patient


def progression(patient, oncologist):
    return lambda: scan_receive(
        patient=patient,
        performed_on=D(2026, 11, 20),
        modality="ct",
        outcome="progression",
        acting_user=oncologist,
    )


def qc_fail(i: int):
    return payload(
        report_id=f"D-{i}",
        accession=f"ACC-D{i}",
        patient={"mrn": f"MRN-D{i}", "date_of_birth": "1961-04-02"},
        qc_status="fail",
        variants=[],
    )


def test_a_collection_and_a_progression_scan_at_once(people):
    oncologist, nurse, _ = people
    errors = []
    for i in range(ROUNDS):
        patient = a_patient(i, oncologist)
        scheduling.draws_plan(patient_ids=[patient.pk])
        draw = Draw.objects.get(patient=patient, state="scheduled")
        errors += race(
            lambda draw=draw, i=i: scheduling.draw_collect(
                draw=draw,
                collected_at=timezone.now() - dt.timedelta(minutes=1),
                accession=f"ACC-D{i}",
                acting_user=nurse,
            ),
            progression(patient, oncologist),
        )
    assert [e for e in errors if "eadlock" in e] == []


def test_a_qc_fail_report_and_a_progression_scan_at_once(people):
    oncologist, nurse, lab = people
    errors = []
    for i in range(ROUNDS):
        patient = a_patient(i, oncologist)
        collect(patient, f"ACC-D{i}", D(2026, 11, 2), nurse)
        errors += race(
            lambda i=i: report_receive(payload=qc_fail(i), lab_account=lab),
            progression(patient, oncologist),
        )
    assert errors == []


def test_a_qc_fail_report_and_a_withdrawal_at_once(people):
    oncologist, nurse, lab = people
    errors = []
    for i in range(ROUNDS):
        patient = a_patient(i, oncologist)
        collect(patient, f"ACC-D{i}", D(2026, 11, 2), nurse)
        errors += race(
            lambda i=i: report_receive(payload=qc_fail(i), lab_account=lab),
            lambda patient=patient: patient_change(
                patient=patient, acting_user=oncologist, changes={"surveillance_state": "withdrawn"}
            ),
        )
    assert errors == []


def test_a_lost_sample_and_a_progression_scan_at_once(people):
    oncologist, nurse, _ = people
    errors = []
    for i in range(ROUNDS):
        patient = a_patient(i, oncologist)
        drawn = collect(patient, f"ACC-D{i}", D(2026, 11, 2), nurse)
        errors += race(
            lambda drawn=drawn: scheduling.draw_mark_sample_lost(draw=drawn, acting_user=nurse),
            progression(patient, oncologist),
        )
    assert errors == []
