"""Workflows that span apps, so that no app has to call one above it.

Receiving a lab report stores it (liquidbiopsy) and then applies the SERENA-6 switch rule
(therapy) in the same transaction, so the API answer lists the alerts. A file's reports are
evaluated by a worker once stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from liquidbiopsy import uploads
from liquidbiopsy.models import LabReport, Upload
from liquidbiopsy.services import report_ingest
from therapy.models import Alert
from therapy.services import alerts_evaluate_for_report


@dataclass(frozen=True)
class ReportReceipt:
    report: LabReport
    created: bool
    alerts: list = field(default_factory=list)


@transaction.atomic
def report_receive(*, payload: dict, lab_account, upload=None) -> ReportReceipt:
    """Store one report version and run the switch rule on it, in one transaction."""
    result = report_ingest(payload=payload, lab_account=lab_account, upload=upload)
    if result.created:
        alerts = alerts_evaluate_for_report(report=result.report)
    else:  # an identical re-send answers as the first send did
        alerts = list(Alert.objects.filter(evidence__report=result.report).distinct())
    return ReportReceipt(report=result.report, created=result.created, alerts=alerts)


# --- Files of reports (CSV or VCF) ------------------------------------------------------------
# The pipeline (claim, parse, progress, bulk store) is liquidbiopsy.uploads; what stays here
# is the step above it: then reconcile the alerts of the patients whose reports were stored.

UploadRefused = uploads.UploadRefused


def upload_run(*, upload: Upload) -> Upload:
    """Process one file (liquidbiopsy.uploads), then evaluate its reports in a worker."""
    return uploads.upload_process(upload=upload, then=_evaluate_later)


def _evaluate_later(report_ids: list[int]) -> None:
    """The switch rule for a file's reports runs in a worker once they are committed: those
    with an ESR1 call, and every later version (it may withdraw an alert)."""
    from therapy.tasks import alerts_evaluate_reports

    ids = list(
        LabReport.objects.filter(pk__in=report_ids)
        .filter(Q(variants__gene="ESR1") | Q(version__gt=1))
        .values_list("pk", flat=True)
        .distinct()
    )
    if ids:
        transaction.on_commit(lambda: alerts_evaluate_reports.delay(ids))


def upload_receive(*, filename: str, data: bytes, lab_account) -> Upload:
    """Record an uploaded file; small files are processed now, larger ones by a worker."""
    upload = uploads.upload_create(filename=filename, data=data, lab_account=lab_account)
    if uploads.upload_runs_now(upload):
        return upload_run(upload=upload)
    from clinic.tasks import upload_process as upload_process_task

    transaction.on_commit(lambda: upload_process_task.delay(upload.pk))
    return upload


# --- Scans ------------------------------------------------------------------------------------


@transaction.atomic
def scan_receive(*, patient, performed_on, modality, outcome, note="", acting_user):
    """Record a scan, then re-run the switch rule for the patient's pending alerts."""
    from patients.services import scan_record
    from therapy.services import alerts_evaluate_after_scan

    scan = scan_record(
        patient=patient,
        performed_on=performed_on,
        modality=modality,
        outcome=outcome,
        note=note,
        acting_user=acting_user,
    )
    alerts = alerts_evaluate_after_scan(patient=patient, acting_user=acting_user)
    return scan, alerts
