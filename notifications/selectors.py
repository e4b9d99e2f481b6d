from __future__ import annotations

from django.db.models import QuerySet

from notifications.models import Notification


def inbox_for(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user, channel=Notification.Channel.IN_APP)


def unread_count(*, user) -> int:
    return unread_qs(user=user).count()


def unread_qs(*, user) -> QuerySet[Notification]:
    """The user's unread in-app notifications (a page may count them in its own statement)."""
    return inbox_for(user=user).filter(read_at__isnull=True)
