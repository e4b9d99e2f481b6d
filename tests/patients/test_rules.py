"""Pure surveillance rules: no database."""

import datetime as dt

import pytest

from patients.models import SurveillanceState as S
from patients.rules import add_months, default_surveillance_start, state_for_dates

TODAY = dt.date(2026, 11, 24)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 1, 15), 6, dt.date(2026, 7, 15)),
        (dt.date(2025, 8, 31), 6, dt.date(2026, 2, 28)),  # clamped to the month's end
        (dt.date(2023, 8, 31), 6, dt.date(2024, 2, 29)),  # leap year
        (dt.date(2026, 11, 30), 3, dt.date(2027, 2, 28)),  # across a year end
        (dt.date(2026, 3, 1), 0, dt.date(2026, 3, 1)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


def test_default_surveillance_start_is_regimen_start_plus_minimum_months():
    assert default_surveillance_start(dt.date(2026, 1, 10), 6) == dt.date(2026, 7, 10)


@pytest.mark.parametrize(
    ("state", "start_on", "expected"),
    [
        (S.AWAITING_MINIMUM_DURATION, None, S.AWAITING_MINIMUM_DURATION),
        (S.AWAITING_MINIMUM_DURATION, TODAY + dt.timedelta(days=1), S.AWAITING_MINIMUM_DURATION),
        (S.AWAITING_MINIMUM_DURATION, TODAY, S.ACTIVE),  # active from the start date on
        (S.ACTIVE, TODAY + dt.timedelta(days=30), S.AWAITING_MINIMUM_DURATION),  # start moved later
        (S.PROGRESSED, TODAY - dt.timedelta(days=300), S.PROGRESSED),  # not date-driven
        (S.POST_SWITCH, TODAY - dt.timedelta(days=300), S.POST_SWITCH),
        (S.WITHDRAWN, TODAY - dt.timedelta(days=300), S.WITHDRAWN),
        (S.DECEASED, None, S.DECEASED),
    ],
)
def test_state_for_dates(state, start_on, expected):
    assert state_for_dates(state=state, start_on=start_on, today=TODAY) == expected
