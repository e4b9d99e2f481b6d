"""Celery adapters for the workflows that span apps: an id in, one call, idempotent."""

from celery import shared_task
from django.db import OperationalError


@shared_task(
    name="clinic.upload_process",
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def upload_process(upload_id: int) -> None:
    """Process a queued upload (liquidbiopsy.uploads via the workflow that then reconciles
    alerts); a second delivery finds it claimed and does nothing."""
    from audit.context import audit_channel
    from clinic.workflows import upload_run
    from liquidbiopsy.models import Upload

    upload = Upload.objects.filter(pk=upload_id).first()
    if upload is None or upload.state != Upload.State.QUEUED:
        return
    with audit_channel("task"):
        upload_run(upload=upload)


@shared_task(
    name="clinic.draws_plan",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def draws_plan() -> None:
    """Daily safety net: every drawing patient has one open draw; newly active patients'
    alerts are reconciled. Idempotent, so a redelivery after a killed worker is harmless."""
    from audit.context import audit_channel
    from clinic.workflows import draws_plan_and_reconcile

    with audit_channel("task"):
        draws_plan_and_reconcile()
