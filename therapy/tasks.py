"""Celery adapters for the switch rule and alerts: ids in, one service call each."""

from celery import shared_task
from django.db import OperationalError


@shared_task(
    name="therapy.alerts_evaluate_reports",
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def alerts_evaluate_reports(report_ids: list[int]) -> None:
    """Run the rule for reports stored from a file (each in its own transaction)."""
    from audit.context import audit_channel
    from liquidbiopsy.models import LabReport
    from therapy.services import alerts_evaluate_for_report

    with audit_channel("task"):
        for report in LabReport.objects.filter(pk__in=report_ids).order_by("collected_on", "id"):
            alerts_evaluate_for_report(report=report)


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
    from therapy.services import alerts_sweep as sweep

    with audit_channel("task"):
        sweep()
