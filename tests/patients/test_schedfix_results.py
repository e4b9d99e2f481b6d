"""A withdrawn QC failure (DESIGN.md §4): a failed report that is cancelled, or corrected
to another patient, no longer stands. The draw awaits a result again and the redraw it
caused is cancelled; the planner then gives the patient her regular draw. In each case the open draw is the one a from-scratch planner run gives.
"""

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from patients import scheduling
from patients.models import Draw
from tests.builders import LONDON, MOVED, collect, payload, post_report
from tests.factories import PatientFactory, RegimenFactory, ScanFactory

D = dt.date


@pytest.fixture(autouse=True)
def _clinic_today():
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON), tick=False):
        yield


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


def open_draw(patient) -> Draw:
    return Draw.objects.get(patient=patient, state=Draw.State.SCHEDULED)


def from_scratch(patient) -> tuple[dt.date, bool]:
    """The open draw a planner run gives from the patient's past draws alone."""
    with transaction.atomic():
        Draw.objects.filter(patient=patient, state=Draw.State.SCHEDULED).delete()
        scheduling.draws_plan(patient_ids=[patient.pk])
        fresh = open_draw(patient)
        transaction.set_rollback(True)
    return fresh.due_on, fresh.is_redraw


def assert_planner_agrees(patient) -> None:
    draw = open_draw(patient)
    assert (draw.due_on, draw.is_redraw) == from_scratch(patient)


# --- A. A withdrawn failure ------------------------------------------------------------------


@pytest.mark.django_db
def test_cancelling_a_qc_failed_report_sends_the_draw_back_and_cancels_its_redraw(
    eligible, lab_token_api
):
    post_report(lab_token_api, payload(qc_status="fail", variants=[]))
    first = Draw.objects.get(accession="ACC-000123")
    redraw = open_draw(eligible)
    assert first.state == Draw.State.FAILED
    assert redraw.is_redraw
    assert redraw.redraw_of_id == first.pk

    post_report(
        lab_token_api, payload(version=2, status="cancelled", qc_status="fail", variants=[])
    )

    first.refresh_from_db()
    redraw.refresh_from_db()
    assert first.state == Draw.State.COLLECTED  # awaiting a result again
    assert first.reason_code == ""
    assert redraw.state == Draw.State.CANCELLED
    assert redraw.reason_code == Draw.CancelReason.FAILURE_RETRACTED
    now_open = open_draw(eligible)
    assert not now_open.is_redraw
    assert now_open.due_on == D(2026, 12, 28)  # 2 Nov + 8 weeks
    assert_planner_agrees(eligible)


@pytest.mark.django_db
def test_a_qc_failure_corrected_to_another_patient_leaves_her_awaiting_a_result(
    eligible, other, lab_token_api
):
    post_report(lab_token_api, payload(qc_status="fail", variants=[]))
    post_report(lab_token_api, payload(**MOVED, qc_status="fail", variants=[]))

    hers = Draw.objects.get(accession="ACC-000123")
    theirs = Draw.objects.get(accession="ACC-000200")
    assert hers.state == Draw.State.COLLECTED
    assert not open_draw(eligible).is_redraw
    assert not Draw.objects.filter(
        patient=eligible, is_redraw=True, state=Draw.State.SCHEDULED
    ).exists()
    assert theirs.state == Draw.State.FAILED
    assert open_draw(other).is_redraw
    assert_planner_agrees(eligible)
    assert_planner_agrees(other)


@pytest.mark.django_db
def test_a_redraw_already_collected_is_kept_when_the_failure_is_withdrawn(
    eligible, lab_token_api, nurse
):
    post_report(lab_token_api, payload(qc_status="fail", variants=[]))
    redraw = open_draw(eligible)
    collect(eligible, "ACC-RE-1", D(2026, 11, 23), nurse)

    post_report(
        lab_token_api, payload(version=2, status="cancelled", qc_status="fail", variants=[])
    )

    redraw.refresh_from_db()
    assert redraw.state == Draw.State.COLLECTED
    assert Draw.objects.get(accession="ACC-000123").state == Draw.State.COLLECTED
    assert open_draw(eligible).due_on == D(2027, 1, 18)  # from the redraw's collection
    assert_planner_agrees(eligible)


@pytest.mark.django_db
def test_retracting_a_failed_draw_through_the_service(eligible, nurse):
    first = Draw.objects.get(accession="ACC-000123")
    scheduling.draw_mark_failed(draw=first, reason="qc_fail", acting_user=None)
    assert open_draw(eligible).is_redraw
    scheduling.draw_mark_awaiting_result(draw=first, acting_user=None)
    first.refresh_from_db()
    assert first.state == Draw.State.COLLECTED
    assert not open_draw(eligible).is_redraw
    assert_planner_agrees(eligible)
