"""Celery adapters: ids or nothing in, one service call, idempotent."""

from celery import shared_task
from django.db import OperationalError


@shared_task(
    name="patients.nurse_digest_send",
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def nurse_digest_send() -> None:
    """Today's digest to the nurses; a second run the same day sends nothing."""
    from audit.context import audit_channel
    from patients.digest import nurse_digest_send as send

    with audit_channel("task"):
        send()
