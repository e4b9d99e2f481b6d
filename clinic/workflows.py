"""Workflows that span apps, so that no app has to call one above it.

Receiving a lab report stores it (liquidbiopsy) and then applies the SERENA-6 switch rule
(therapy) in the same transaction, so the API answer lists the alerts. A file's reports are
evaluated by a worker once stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record
from liquidbiopsy.bulk import FileError, FileRejected, reports_ingest_bulk
from liquidbiopsy.models import LabReport, Upload
from liquidbiopsy.parsers import parse_csv, parse_vcf, sniff_format
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

UNSUPPORTED_FILE = "Send a CSV (.csv) or a VCF (.vcf) file."
FILE_TOO_LARGE = "The file is larger than {mb} MB; split it into smaller files."
EMPTY_UPLOAD = "No file was sent: attach it as the 'file' field."


class UploadRefused(Exception):
    """The file cannot even be read (no file, too large, unknown format): nothing recorded."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _parse(upload: Upload):
    data = bytes(upload.content)
    parse = parse_csv if upload.file_format == "csv" else parse_vcf
    return parse(data, max_rows=settings.UPLOAD_MAX_ROWS, max_bytes=settings.UPLOAD_MAX_BYTES)


def _finish(upload: Upload, *, state: str, errors=(), stored=0, unchanged=0) -> Upload:
    upload.state = state
    upload.errors = [e.as_dict() if hasattr(e, "as_dict") else e for e in errors][:500]
    upload.reports_stored = stored
    upload.reports_unchanged = unchanged
    if state == Upload.State.DONE:
        upload.rows_done = upload.rows_total
    upload.finished_at = timezone.now()
    upload.content = b""  # processed: the stored reports keep their payloads
    upload.save(
        update_fields=[
            "state",
            "errors",
            "reports_stored",
            "reports_unchanged",
            "rows_done",
            "finished_at",
            "content",
            "updated_at",
        ]
    )
    return upload


def upload_run(*, upload: Upload) -> Upload:
    """Parse, validate and store one file (all or nothing); progress is saved as it goes."""
    claimed = Upload.objects.filter(pk=upload.pk, state__in=[Upload.State.QUEUED]).update(
        state=Upload.State.PROCESSING
    )
    if claimed != 1:
        upload.refresh_from_db()
        return upload  # another worker has it, or it is finished
    upload.refresh_from_db()
    parsed = _parse(upload)
    Upload.objects.filter(pk=upload.pk).update(rows_total=parsed.rows)
    upload.rows_total = parsed.rows
    file_errors = [FileError(e.line, e.field or "file", e.message) for e in parsed.errors]
    if file_errors and not parsed.reports:
        return _finish(upload, state=Upload.State.FAILED, errors=file_errors)

    def progress(rows_checked: int) -> None:
        # Outside the storing transaction: the uploader polls this while the file is checked.
        Upload.objects.filter(pk=upload.pk).update(rows_done=min(rows_checked, parsed.rows))

    try:
        result = reports_ingest_bulk(
            reports=parsed.reports,
            lab_account=upload.uploaded_by,
            upload=upload,
            progress=progress,
            file_errors=file_errors,
        )
    except FileRejected as exc:
        upload.rows_done = upload.rows_total  # every row was checked
        return _finish(upload, state=Upload.State.FAILED, errors=exc.errors)
    _evaluate_later(result.report_ids)
    return _finish(
        upload, state=Upload.State.DONE, stored=result.stored, unchanged=result.unchanged
    )


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
    if not data:
        raise UploadRefused(EMPTY_UPLOAD)
    if len(data) > settings.UPLOAD_MAX_BYTES:
        raise UploadRefused(FILE_TOO_LARGE.format(mb=settings.UPLOAD_MAX_BYTES // (1024 * 1024)))
    file_format = sniff_format(filename, data)
    if file_format not in ("csv", "vcf"):
        raise UploadRefused(UNSUPPORTED_FILE)
    upload = Upload.objects.create(
        uploaded_by=lab_account,
        filename=filename[:255],
        file_format=file_format,
        content=data,
        content_sha256=hashlib.sha256(data).hexdigest(),
    )
    audit_record(
        action="upload.receive",
        acting_user=lab_account,
        obj=upload,
        detail={"format": file_format, "bytes": len(data)},
    )
    rows = data.count(b"\n") + 1
    if rows <= settings.UPLOAD_SYNC_MAX_ROWS:
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
