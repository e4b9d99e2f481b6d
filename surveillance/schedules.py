"""Parse beat schedules from the environment: five cron fields, or "every N seconds".

"30 6 * * *" runs at 06:30 clinic time every day (https://crontab.guru/#30_6_*_*_*);
"every 5s" exists for the integration test that watches beat fire the planner.
"""

from __future__ import annotations

import datetime as dt
import re

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

_EVERY = re.compile(r"^every\s+(\d+)\s*s$")
WEEKDAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}


def parse_schedule(value: str) -> crontab | dt.timedelta:
    value = value.strip()
    match = _EVERY.match(value)
    if match:
        return dt.timedelta(seconds=int(match.group(1)))
    fields = value.split()
    if len(fields) != 5:
        raise ImproperlyConfigured(
            f"Schedule {value!r}: give five cron fields (e.g. '30 6 * * *') or 'every N s'."
        )
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    try:
        return crontab(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week=day_of_week,
        )
    except ValueError as exc:
        raise ImproperlyConfigured(f"Schedule {value!r}: {exc}") from exc


def parse_clinic_days(value: str) -> frozenset[int]:
    """'mon,tue,wed,thu,fri' -> ISO weekdays {1..5}; fails on anything unknown or empty."""
    days = set()
    for part in value.lower().replace(" ", "").split(","):
        if part not in WEEKDAYS:
            raise ImproperlyConfigured(f"CLINIC_DAYS: unknown day {part!r}; use mon..sun.")
        days.add(WEEKDAYS[part])
    if not days:
        raise ImproperlyConfigured("CLINIC_DAYS must name at least one day.")
    return frozenset(days)
