"""Clinic dates: the clinic's calendar (settings.TIME_ZONE), whatever the server's zone."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def clinic_today() -> dt.date:
    return timezone.localdate()


def clinic_date(moment: dt.datetime) -> dt.date:
    """The clinic's calendar date of an aware datetime."""
    return timezone.localtime(moment).date()
