"""E-mails owed: pending rows whose send task was lost (broker down or flushed), and
refused ones whose next try has come (notifications.services)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from notifications.models import Notification
from notifications.services import email_due

GRACE = dt.timedelta(minutes=2)


def notifications_owed(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Pending e-mails older than a grace period (their own task would have sent them)
    and due (not waiting to be tried again)."""
    now = now or timezone.now()
    return list(
        Notification.objects.filter(
            email_due(now), channel=Notification.Channel.EMAIL, created_at__lt=now - GRACE
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
