from __future__ import annotations

from django.db.models import QuerySet

from notifications.models import Notification


def inbox_for(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user, channel=Notification.Channel.IN_APP)


def unread_count(*, user) -> int:
    return inbox_for(user=user).filter(read_at__isnull=True).count()
