"""A late QC failure for an old draw (DESIGN.md §4): after a newer draw was collected and
resulted, it is no reason for a redraw (the newer good sample stands), so the open draw is
left as it is; a failure of the newest collection still replaces it. In each case the open draw is the one a from-scratch planner run gives.
"""

import datetime as dt

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from patients import rules, scheduling
from patients.models import Draw
from tests.builders import LONDON, collect, later_report, payload, post_report
from tests.patients.results_scenario import assert_planner_agrees, open_draw

D = dt.date


@pytest.fixture(autouse=True)
def _clinic_today():
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON), tick=False):
        yield


# --- B. A late failure for an old draw -------------------------------------------------------


@pytest.mark.django_db
def test_a_late_failure_for_an_old_draw_keeps_the_open_draw(
    eligible, lab_token_api, nurse_api, nurse
):
    body2 = later_report(eligible, nurse)  # a second draw collected on 20 Nov
    post_report(lab_token_api, {**body2, "variants": []})  # resulted, nothing detected
    before = open_draw(eligible)
    moved_to = before.due_on + dt.timedelta(days=3)
    r = nurse_api.post(
        f"/api/v1/draws/{before.pk}/reschedule/", {"due_on": moved_to.isoformat()}, format="json"
    )
    assert r.status_code == 200, r.json()

    post_report(lab_token_api, payload(qc_status="insufficient", variants=[]))  # the 2 Nov draw

    assert Draw.objects.get(accession="ACC-000123").state == Draw.State.FAILED
    before.refresh_from_db()
    assert before.state == Draw.State.SCHEDULED  # not replaced: no redraw is due
    assert before.due_on == moved_to  # the nurse's reschedule stands
    assert open_draw(eligible).pk == before.pk
    assert_planner_agrees(eligible, on="planned_on")


@pytest.mark.django_db
def test_a_failure_of_the_newest_collection_still_replaces_the_open_draw(
    eligible, lab_token_api, nurse
):
    body2 = later_report(eligible, nurse)
    post_report(lab_token_api, payload(variants=[]))  # the 2 Nov draw: resulted
    regular = open_draw(eligible)
    post_report(lab_token_api, {**body2, "qc_status": "fail", "variants": []})  # 20 Nov fails

    regular.refresh_from_db()
    assert regular.state == Draw.State.CANCELLED
    assert regular.reason_code == Draw.CancelReason.REPLACED_BY_REDRAW
    assert open_draw(eligible).is_redraw
    assert_planner_agrees(eligible, on="planned_on")


@pytest.mark.django_db
def test_failures_of_several_patients_at_once_replace_only_where_a_redraw_is_due(
    eligible, other, nurse
):
    """One call for two patients (a lab file): her failure is old, theirs is the newest."""
    later = collect(eligible, "ACC-000124", D(2026, 11, 20), nurse)
    scheduling.draw_mark_resulted(draw=later, acting_user=None)
    hers_open, theirs_open = open_draw(eligible), open_draw(other)
    scheduling.draws_apply_results(
        results=[
            scheduling.DrawResult(Draw.objects.get(accession="ACC-000123").pk, "failed", "qc_fail"),
            scheduling.DrawResult(Draw.objects.get(accession="ACC-000200").pk, "failed", "qc_fail"),
        ],
        acting_user=None,
    )
    hers_open.refresh_from_db()
    theirs_open.refresh_from_db()
    assert hers_open.state == Draw.State.SCHEDULED
    assert theirs_open.state == Draw.State.CANCELLED
    assert open_draw(other).is_redraw
    assert_planner_agrees(eligible, on="planned_on")
    assert_planner_agrees(other, on="planned_on")


days = st.one_of(st.none(), st.dates(min_value=D(2020, 1, 1), max_value=D(2030, 12, 31)))


@given(last_ok=days, last_missed=days, last_failed=days)
def test_redraw_due_is_the_planner_s_rule(last_ok, last_missed, last_failed):
    planned = rules.next_draw(
        D(2026, 5, 2),
        8,
        last_ok,
        last_missed,
        last_failed,
        today=D(2026, 11, 24),
        clinic_days=frozenset({1, 2, 3, 4, 5}),
    )
    assert rules.redraw_due(last_ok, last_missed, last_failed) == planned[1]
