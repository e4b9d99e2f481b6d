"""Pure rules about surveillance dates and states (DESIGN.md §3). No ORM, no clock."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from patients.models import SurveillanceState as S

# States the clinic sets by hand; progressed and post_switch follow from scans and switches.
MANUAL_TARGET_STATES = frozenset({S.ACTIVE, S.WITHDRAWN, S.OFF_THERAPY, S.DECEASED})
# States in which the surveillance start date decides between awaiting and active.
DATE_DRIVEN_STATES = frozenset({S.AWAITING_MINIMUM_DURATION, S.ACTIVE})
# States in which a progression scan on the current regimen ends surveillance.
PROGRESSABLE_STATES = frozenset({S.AWAITING_MINIMUM_DURATION, S.ACTIVE, S.POST_SWITCH})


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus calendar months, clamped to the month's end (31 Aug + 6 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_surveillance_start(first_regimen_start: dt.date, min_therapy_months: int) -> dt.date:
    return add_months(first_regimen_start, min_therapy_months)


def state_for_dates(*, state: str, start_on: dt.date | None, today: dt.date) -> str:
    """Awaiting or active from the start date; any other state is kept as it is."""
    if state not in DATE_DRIVEN_STATES:
        return state
    if start_on is not None and start_on <= today:
        return S.ACTIVE
    return S.AWAITING_MINIMUM_DURATION


@dataclass(frozen=True)
class RegimenSpan:
    started_on: dt.date
    ended_on: dt.date | None
    end_reason: str
    ai_with_cdk46i: bool


def line_start_on(regimens: list[RegimenSpan], day: dt.date) -> dt.date | None:
    """Start of the therapy line in force on `day` (DESIGN §5), None if no regimen is.

    The regimen in force that day is the one started on or before it and not ended by then
    (a regimen ends on its successor's start date). Then walk back while the previous one
    was AI + CDK4/6i too and did not end for progression. A regimen planned to start later
    (a switch accepted to take effect ahead) is not in force yet: the one it replaces is.
    """
    ordered = sorted(regimens, key=lambda r: r.started_on)
    current = None
    for index, regimen in enumerate(ordered):
        if regimen.started_on <= day and (regimen.ended_on is None or day < regimen.ended_on):
            current = index
    if current is None:
        return None
    start = ordered[current].started_on
    for back in range(current, 0, -1):
        previous, following = ordered[back - 1], ordered[back]
        if not (
            previous.ai_with_cdk46i
            and following.ai_with_cdk46i
            and previous.end_reason != "progression"
        ):
            break
        start = previous.started_on
    return start


# --- Draw scheduling (DESIGN.md §4) ---------------------------------------------------------

# Patients who get draws: before the start date (the first draw is planned on it), while
# surveillance is active, and after a switch (post-switch monitoring).
DRAWING_STATES = frozenset({S.AWAITING_MINIMUM_DURATION, S.ACTIVE, S.POST_SWITCH})


@dataclass(frozen=True)
class ScheduleFacts:
    """What the schedule rule needs about one patient's surveillance and past draws."""

    start_on: dt.date | None
    interval_weeks: int
    last_collected_on: dt.date | None  # latest good collection (collected or resulted)
    last_missed_on: dt.date | None  # latest planned date of a missed or nurse-cancelled draw
    last_failed_on: dt.date | None  # latest collection whose sample failed


@dataclass(frozen=True)
class PlannedDraw:
    due_on: dt.date
    is_redraw: bool


def previous_clinic_day(day: dt.date, clinic_days: frozenset[int]) -> dt.date:
    """`day` itself if the clinic draws blood that day, else the clinic day before it.

    `clinic_days` holds ISO weekdays (Monday 1 ... Sunday 7).
    """
    weekday = day.isoweekday()
    if weekday in clinic_days:  # most days: no date arithmetic at all
        return day
    for back in range(1, 7):
        if (weekday - back - 1) % 7 + 1 in clinic_days:  # the ISO weekday `back` days before
            return day - dt.timedelta(days=back)
    raise ValueError("clinic_days is empty")


def plan_next_draw(
    facts: ScheduleFacts, *, today: dt.date, clinic_days: frozenset[int]
) -> PlannedDraw | None:
    """The next draw for a patient who has no open draw (DESIGN.md §4).

    1. A failed sample newer than any good collection or missed draw: a redraw, due at once.
    2. Otherwise from the latest anchor (a good collection date, or the planned date of a
       missed draw) plus the interval.
    3. With no anchor, the first draw: the surveillance start date, or today if that date
       has passed without a draw.
    4. A due date on a non-clinic day moves to the clinic day before it (a redraw does not:
       it is due at once).
    """
    planned = next_draw(
        facts.start_on,
        facts.interval_weeks,
        facts.last_collected_on,
        facts.last_missed_on,
        facts.last_failed_on,
        today=today,
        clinic_days=clinic_days,
    )
    return None if planned is None else PlannedDraw(*planned)


def redraw_due(
    last_collected_on: dt.date | None,
    last_missed_on: dt.date | None,
    last_failed_on: dt.date | None,
) -> bool:
    """Whether the next draw is a redraw (rule 1 of `plan_next_draw`): a failed sample newer
    than any good collection or missed draw. A late failure of an old draw, after a newer
    sample was collected, calls for none: the newer sample stands."""
    anchors = [day for day in (last_collected_on, last_missed_on) if day is not None]
    return last_failed_on is not None and (not anchors or last_failed_on > max(anchors))


def next_draw(
    start_on: dt.date | None,
    interval_weeks: int,
    last_collected_on: dt.date | None,
    last_missed_on: dt.date | None,
    last_failed_on: dt.date | None,
    *,
    today: dt.date,
    clinic_days: frozenset[int],
) -> tuple[dt.date, bool] | None:
    """`plan_next_draw` on the facts as plain values, answering (due_on, is_redraw): the
    planner calls it once for every patient of a catch-up, without building objects."""
    # Inline, not through `redraw_due` (held equal to it by tests): a catch-up calls this
    # once for every one of 100,000 patients.
    if last_collected_on is None or (
        last_missed_on is not None and last_missed_on > last_collected_on
    ):
        anchor = last_missed_on
    else:
        anchor = last_collected_on
    if last_failed_on is not None and (anchor is None or last_failed_on > anchor):
        return today, True
    if anchor is not None:
        due = anchor + dt.timedelta(weeks=interval_weeks)
    elif start_on is not None:
        due = max(start_on, today)
    else:
        return None
    return previous_clinic_day(due, clinic_days), False


def draw_window(planned_on: dt.date, window_days: int) -> tuple[dt.date, dt.date]:
    """The days a draw may be collected in: planned date +/- the window (kept inside the
    calendar: a date at its ends gives a shorter window, never an OverflowError)."""
    delta = dt.timedelta(days=window_days)
    try:  # free when nothing is raised: a catch-up calls this for 100,000 patients
        return planned_on - delta, planned_on + delta
    except OverflowError:
        opens = planned_on - delta if planned_on - dt.date.min >= delta else dt.date.min
        closes = planned_on + delta if dt.date.max - planned_on >= delta else dt.date.max
        return opens, closes


class DrawTiming:
    """Derived worklist status of an open draw (never stored)."""

    OVERDUE = "overdue"
    DUE = "due"
    UPCOMING = "upcoming"
    LATER = "later"


def draw_timing(
    *,
    due_on: dt.date,
    window_opens_on: dt.date,
    window_closes_on: dt.date,
    today: dt.date,
    upcoming_days: int,
) -> str:
    """Overdue once the window has closed; due while it is open; upcoming if due soon.

    The worklist selectors express the same three comparisons in SQL.
    """
    if today > window_closes_on:
        return DrawTiming.OVERDUE
    if today >= window_opens_on:
        return DrawTiming.DUE
    if due_on <= today + dt.timedelta(days=upcoming_days):
        return DrawTiming.UPCOMING
    return DrawTiming.LATER
