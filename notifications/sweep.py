"""E-mails owed: pending rows whose send task was lost (broker down or flushed), refused
ones whose next try has come, and claimed ones whose worker died mid-send (their lease has
run out: notifications.services)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from notifications.models import Notification
from notifications.services import SEND_LEASE, STOPPED_MID_SEND, email_due

GRACE = dt.timedelta(minutes=2)


def notifications_owed(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Pending e-mails older than a grace period (their own task would have sent them)
    and due (not waiting to be tried again)."""
    now = now or timezone.now()
    _leases_expired_release(now)
    return list(
        Notification.objects.filter(
            email_due(now), channel=Notification.Channel.EMAIL, created_at__lt=now - GRACE
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def _leases_expired_release(now) -> int:
    """E-mails claimed by a worker that never recorded the outcome (killed mid-send): due
    again now, or failed when that was the last try. A claim from before leases were kept
    (no next_attempt_at) counts from the e-mail's creation."""
    stale = Q(next_attempt_at__lte=now) | Q(
        next_attempt_at__isnull=True, created_at__lt=now - SEND_LEASE
    )
    last = Q(attempts__gte=settings.EMAIL_MAX_ATTEMPTS)
    return Notification.objects.filter(
        stale, state=Notification.State.SENDING, channel=Notification.Channel.EMAIL
    ).update(
        state=Case(
            When(last, then=Value(Notification.State.FAILED)),
            default=Value(Notification.State.PENDING),
        ),
        next_attempt_at=Case(When(last, then=None), default=Value(now)),
        error=STOPPED_MID_SEND,
    )
