"""Pure rules about surveillance dates and states (DESIGN.md §3). No ORM, no clock."""

from __future__ import annotations

import calendar
import datetime as dt

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
