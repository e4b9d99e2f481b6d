"""Celery adapter: send e-mails already recorded as pending (claimed one by one)."""

from celery import shared_task
from django.db import OperationalError


@shared_task(
    name="notifications.send",
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def notifications_send(notification_ids: list[int]) -> None:
    from notifications.services import notification_send_emails

    notification_send_emails(notification_ids=notification_ids)
