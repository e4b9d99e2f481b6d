"""Celery adapters for alerts: no arguments but ids, one service call each, idempotent."""

from celery import shared_task
from django.db import OperationalError


@shared_task(
    name="therapy.alerts_reconcile_owed",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def alerts_reconcile_owed() -> None:
    """Pay the alert reconciles owed (after a lab file); the beat entry is the safety net."""
    from audit.context import audit_channel
    from therapy.owed import reconcile_owed_run

    with audit_channel("task"):
        reconcile_owed_run()


@shared_task(
    name="therapy.alerts_sweep",
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def alerts_sweep() -> None:
    """Hourly: deferred alerts come back on their date; unacknowledged alerts escalate."""
    from audit.context import audit_channel
    from therapy.sweep import alerts_sweep as sweep

    with audit_channel("task"):
        sweep()
