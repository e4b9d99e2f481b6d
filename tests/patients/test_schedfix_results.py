"""A withdrawn QC failure (DESIGN.md §4): a failed report that is cancelled, or corrected
to another patient, no longer stands. The draw awaits a result again and the redraw it
caused is cancelled; the planner then gives the patient her regular draw. In each case the open draw is the one a from-scratch planner run gives.
"""

import datetime as dt

import pytest
import time_machine

from patients import scheduling
from patients.models import Draw
from tests.builders import LONDON, MOVED, collect, payload, post_report
from tests.patients.results_scenario import assert_planner_agrees, open_draw

D = dt.date


@pytest.fixture(autouse=True)
def _clinic_today():
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON), tick=False):
        yield


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
