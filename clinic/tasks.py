"""Celery adapters for the workflows that span apps: an id in, one call, idempotent."""

from celery import shared_task
from django.db import OperationalError


@shared_task(
    name="clinic.upload_process",
    ignore_result=True,
    acks_late=True,  # idempotent: the claim is a conditional UPDATE
    reject_on_worker_lost=True,
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


@shared_task(
    name="clinic.work_sweep",
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def work_sweep() -> None:
    """Every minute: work the database says is owed and nobody is doing. Stalled or lost
    uploads are queued again (or failed after UPLOAD_GIVE_UP_HOURS); pending e-mails whose
    task was lost are sent; alert reconciles owed after a file are paid."""
    from audit.context import audit_channel
    from liquidbiopsy.upload_sweep import uploads_stalled_requeue
    from notifications.services import notification_send_emails
    from notifications.sweep import notifications_owed
    from therapy.owed import reconcile_owed_run

    with audit_channel("task"):
        for upload_id in uploads_stalled_requeue():
            try:
                upload_process.delay(upload_id)
            except Exception:  # broker still down: the next sweep tries again
                break
        notification_send_emails(notification_ids=notifications_owed())
        reconcile_owed_run()
