"""The schedule rule and worklist timing: pure, no database (DESIGN.md §4)."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patients.rules import (
    DrawTiming,
    PlannedDraw,
    ScheduleFacts,
    draw_timing,
    draw_window,
    plan_next_draw,
    previous_clinic_day,
)

MON_FRI = frozenset({1, 2, 3, 4, 5})
TODAY = dt.date(2026, 11, 24)  # a Tuesday
D = dt.date


START = D(2026, 1, 5)


def facts(start=START, weeks=8, ok=None, missed=None, failed=None):
    return ScheduleFacts(
        start_on=start,
        interval_weeks=weeks,
        last_collected_on=ok,
        last_missed_on=missed,
        last_failed_on=failed,
    )


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        # First draw on the start date (a Monday)...
        (facts(start=D(2026, 12, 7)), PlannedDraw(D(2026, 12, 7), False)),
        # ... moved back to Friday when the start date is a Sunday ...
        (facts(start=D(2026, 12, 13)), PlannedDraw(D(2026, 12, 11), False)),
        # ... or today, if the start date passed with no draw.
        (facts(start=D(2026, 1, 5)), PlannedDraw(TODAY, False)),
        # Next = last collection + interval.
        (facts(ok=D(2026, 11, 3)), PlannedDraw(D(2026, 12, 29), False)),
        # 12-week interval.
        (facts(weeks=12, ok=D(2026, 11, 3)), PlannedDraw(D(2027, 1, 26), False)),
        # Missed draw: its planned date + interval.
        (facts(ok=D(2026, 9, 1), missed=D(2026, 10, 27)), PlannedDraw(D(2026, 12, 22), False)),
        # A collection after the missed draw wins.
        (facts(ok=D(2026, 11, 2), missed=D(2026, 10, 27)), PlannedDraw(D(2026, 12, 28), False)),
        # A Saturday collection gives a Saturday due date: moved to Friday.
        (facts(ok=D(2026, 11, 21)), PlannedDraw(D(2027, 1, 15), False)),
        # A failed sample newer than any anchor: a redraw due at once (not moved).
        (facts(ok=D(2026, 9, 1), failed=D(2026, 11, 20)), PlannedDraw(TODAY, True)),
        # The redraw's collection resumes the interval.
        (facts(ok=D(2026, 11, 23), failed=D(2026, 11, 20)), PlannedDraw(D(2027, 1, 18), False)),
        # A missed redraw resumes from its planned date.
        (
            facts(ok=D(2026, 9, 1), missed=D(2026, 11, 23), failed=D(2026, 11, 20)),
            PlannedDraw(D(2027, 1, 18), False),
        ),
        # No start date and no history: nothing to plan.
        (facts(start=None), None),
    ],
)
def test_plan_next_draw(f, expected):
    assert plan_next_draw(f, today=TODAY, clinic_days=MON_FRI) == expected


@pytest.mark.parametrize(
    ("day", "days", "expected"),
    [
        (D(2026, 11, 28), MON_FRI, D(2026, 11, 27)),  # Saturday -> Friday
        (D(2026, 11, 29), MON_FRI, D(2026, 11, 27)),  # Sunday -> Friday
        (D(2026, 11, 30), MON_FRI, D(2026, 11, 30)),  # Monday stays
        (D(2026, 11, 30), frozenset({2, 4}), D(2026, 11, 26)),  # Tue/Thu clinic: Mon -> Thu
        (D(2026, 11, 29), frozenset({1, 2, 3, 4, 5, 6, 7}), D(2026, 11, 29)),
    ],
)
def test_previous_clinic_day(day, days, expected):
    assert previous_clinic_day(day, days) == expected


def test_previous_clinic_day_needs_a_clinic_day():
    with pytest.raises(ValueError, match="empty"):
        previous_clinic_day(TODAY, frozenset())


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (TODAY - dt.timedelta(days=8), DrawTiming.OVERDUE),  # window closed yesterday
        (TODAY - dt.timedelta(days=7), DrawTiming.DUE),  # last day of the window
        (TODAY, DrawTiming.DUE),
        (TODAY + dt.timedelta(days=7), DrawTiming.DUE),  # window opens today
        (TODAY + dt.timedelta(days=8), DrawTiming.UPCOMING),
        (TODAY + dt.timedelta(days=14), DrawTiming.UPCOMING),
        (TODAY + dt.timedelta(days=15), DrawTiming.LATER),
    ],
)
def test_draw_timing(due, expected):
    opens, closes = draw_window(due, 7)
    assert (
        draw_timing(
            due_on=due,
            window_opens_on=opens,
            window_closes_on=closes,
            today=TODAY,
            upcoming_days=14,
        )
        == expected
    )


# --- The rule as first written (DESIGN.md §4, step by step): the planner's faster form must
# give the same answer for any facts, any day and any set of clinic days.


def _reference_previous_clinic_day(day, clinic_days):
    for back in range(7):
        candidate = day - dt.timedelta(days=back)
        if candidate.isoweekday() in clinic_days:
            return candidate
    raise ValueError("clinic_days is empty")


def _reference_plan_next_draw(f, *, today, clinic_days):
    anchors = [d for d in (f.last_collected_on, f.last_missed_on) if d is not None]
    anchor = max(anchors) if anchors else None
    if f.last_failed_on is not None and (anchor is None or f.last_failed_on > anchor):
        return PlannedDraw(due_on=today, is_redraw=True)
    if anchor is not None:
        due = anchor + dt.timedelta(weeks=f.interval_weeks)
    elif f.start_on is not None:
        due = max(f.start_on, today)
    else:
        return None
    return PlannedDraw(due_on=_reference_previous_clinic_day(due, clinic_days), is_redraw=False)


_days = st.one_of(st.none(), st.dates(min_value=D(2020, 1, 1), max_value=D(2030, 12, 31)))


@settings(max_examples=2000, deadline=None)
@given(
    start=_days,
    weeks=st.integers(min_value=4, max_value=12),
    ok=_days,
    missed=_days,
    failed=_days,
    today=st.dates(min_value=D(2020, 1, 1), max_value=D(2030, 12, 31)),
    clinic_days=st.frozensets(st.integers(min_value=1, max_value=7), min_size=1),
)
def test_plan_next_draw_agrees_with_the_rule_as_written(
    start, weeks, ok, missed, failed, today, clinic_days
):
    f = facts(start=start, weeks=weeks, ok=ok, missed=missed, failed=failed)
    assert plan_next_draw(f, today=today, clinic_days=clinic_days) == _reference_plan_next_draw(
        f, today=today, clinic_days=clinic_days
    )


@given(
    day=st.dates(min_value=D(2020, 1, 1), max_value=D(2030, 12, 31)),
    clinic_days=st.frozensets(st.integers(min_value=1, max_value=7), min_size=1),
)
def test_previous_clinic_day_agrees_with_the_rule_as_written(day, clinic_days):
    assert previous_clinic_day(day, clinic_days) == _reference_previous_clinic_day(day, clinic_days)
