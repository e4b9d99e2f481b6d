"""The upload pipeline for lab files (CSV or VCF): receive, claim, parse, progress, store.

1. `upload_create` records the file (refusing what cannot even be read: no file, too large,
   not a CSV or VCF; a gzip/bgzip file is decompressed up to the size limit, which applies
   to the uncompressed content) with its audit row.
2. `upload_process` claims a queued upload with a conditional UPDATE (a second delivery
   finds it claimed and does nothing), parses it, validates the whole file, and stores all
   or nothing (liquidbiopsy.bulk), saving progress as it goes.
3. However it ends, it ends `done` or `failed` with its errors and its raw content wiped:
   a rejected file lists every error with its line; an unexpected exception is logged and
   recorded as the upload's error, never left `processing`.
What happens after the reports are stored (the switch rule) is the caller's `then`: it runs
in the storing transaction, with the upload's `done`, so a worker killed before the commit
leaves none of the three (the work sweep queues the file again) and never reports without
the alert reconciles they owe.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.services import audit_record
from liquidbiopsy.bulk import FileError, FileRejected, reports_ingest_bulk
from liquidbiopsy.models import Upload
from liquidbiopsy.parsers import GZIP_MAGIC, gunzip, parse_csv, parse_vcf, sniff_format
from liquidbiopsy.services import MATCH_WITHHELD_ACTION, report_match_failures_record
from liquidbiopsy.throttles import match_failures_remaining

logger = logging.getLogger(__name__)

UNSUPPORTED_FILE = "Send a CSV (.csv) or a VCF (.vcf, or .vcf.gz compressed) file."
FILE_TOO_LARGE = "The file is larger than {mb} MB (uncompressed); split it into smaller files."
EMPTY_UPLOAD = "No file was sent: attach it as the 'file' field."
PROCESSING_FAILED = (
    "The file could not be processed because of an internal error; nothing from it was "
    "stored. Send it again, or contact the clinic if this persists."
)
MAX_STORED_ERRORS = 500


class UploadRefused(Exception):
    """The file cannot even be read (no file, too large, unknown format): nothing recorded."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _mb() -> int:
    return settings.UPLOAD_MAX_BYTES // (1024 * 1024)


def decompress(data: bytes, *, max_bytes: int) -> bytes:
    """A gzip or bgzip file's content, up to max_bytes (else UploadRefused)."""
    out, problem = gunzip(data, max_bytes=max_bytes)
    if problem is not None:
        raise UploadRefused(problem)
    return out


def upload_create(*, filename: str, data: bytes, lab_account) -> Upload:
    """Record an uploaded file, to be processed now or by a worker."""
    if not data:
        raise UploadRefused(EMPTY_UPLOAD)
    if data.startswith(GZIP_MAGIC):
        data = decompress(data, max_bytes=settings.UPLOAD_MAX_BYTES)
    if len(data) > settings.UPLOAD_MAX_BYTES:
        raise UploadRefused(FILE_TOO_LARGE.format(mb=_mb()))
    name = (filename or "").removesuffix(".gz").removesuffix(".bgz")
    file_format = sniff_format(name, data)
    if file_format not in ("csv", "vcf"):
        raise UploadRefused(UNSUPPORTED_FILE)
    upload = Upload.objects.create(
        uploaded_by=lab_account,
        filename=(filename or "")[:255],
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
    return upload


def upload_runs_now(upload: Upload) -> bool:
    """Small files are answered in the request; larger ones go to a worker. Lines end in
    LF, CRLF or a lone CR (old spreadsheet exports): each ending counts once."""
    content = bytes(upload.content)
    lines = max(content.count(b"\n"), content.count(b"\r")) + 1
    return lines <= settings.UPLOAD_SYNC_MAX_ROWS


class _ClaimLost(Exception):
    """The upload is no longer this worker's (the sweep gave it up or queued it again): what
    the worker did is rolled back and the upload keeps the state the sweep gave it."""


def _storable(error: dict) -> dict:
    """An error as the errors column can hold it: a NUL the file carried (in a column or
    sample name the message echoes) is shown as \\x00; PostgreSQL text cannot hold NUL."""
    return {k: v.replace("\x00", "\\x00") if isinstance(v, str) else v for k, v in error.items()}


def _finish(upload: Upload, *, state: str, errors=(), stored=0, unchanged=0, notes=()) -> Upload:
    """End the upload, if it is still this worker's claim (`upload.updated_at` is the claim's
    time, a fencing token: the sweep's requeue or give-up changes it); else _ClaimLost."""
    finished_at = timezone.now()
    kept = [_storable(e.as_dict() if hasattr(e, "as_dict") else e) for e in errors][
        :MAX_STORED_ERRORS
    ]
    rows_done = upload.rows_total if state == Upload.State.DONE else upload.rows_done
    ended = Upload.objects.filter(
        pk=upload.pk, state=Upload.State.PROCESSING, updated_at=upload.updated_at
    ).update(
        state=state,
        errors=kept,
        notes=[_storable(n.as_dict() if hasattr(n, "as_dict") else n) for n in notes][
            :MAX_STORED_ERRORS
        ],
        reports_stored=stored,
        reports_unchanged=unchanged,
        rows_total=upload.rows_total,
        rows_done=rows_done,
        finished_at=finished_at,
        content=b"",  # finished either way: the stored reports keep their payloads
        updated_at=finished_at,
    )
    if ended != 1:
        raise _ClaimLost
    upload.state, upload.errors, upload.rows_done = state, kept, rows_done
    upload.notes = [_storable(n.as_dict() if hasattr(n, "as_dict") else n) for n in notes][
        :MAX_STORED_ERRORS
    ]
    upload.reports_stored, upload.reports_unchanged = stored, unchanged
    upload.finished_at = upload.updated_at = finished_at
    upload.content = b""
    return upload


def _parse(upload: Upload):
    data = bytes(upload.content)
    parse = parse_csv if upload.file_format == "csv" else parse_vcf
    return parse(data, max_rows=settings.UPLOAD_MAX_ROWS, max_bytes=settings.UPLOAD_MAX_BYTES)


def upload_process(*, upload: Upload, then: Callable[[list[int]], None] | None = None) -> Upload:
    """Claim, parse, validate and store one file (all or nothing); see the module docstring."""
    claimed_at = timezone.now()  # the claim's fencing token (see _finish)
    claimed = Upload.objects.filter(pk=upload.pk, state=Upload.State.QUEUED).update(
        state=Upload.State.PROCESSING,
        updated_at=claimed_at,
        # The give-up clock (upload_sweep) starts at the first claim, also for an upload the
        # sweep never sees processing (handed back after a database error each time).
        first_claimed_at=Coalesce("first_claimed_at", Value(claimed_at)),
    )
    upload.refresh_from_db()
    if claimed != 1:
        return upload  # another worker has it, or it is finished
    try:
        return _process(upload, then)
    except _ClaimLost:
        upload.refresh_from_db()
        return upload
    except (OperationalError, InterfaceError):
        # The database, not the file: hand the upload back (content kept) for the task's
        # retry, or for the sweep if the database is still away, and let the task retry.
        with contextlib.suppress(OperationalError, InterfaceError):
            Upload.objects.filter(
                pk=upload.pk, state=Upload.State.PROCESSING, updated_at=claimed_at
            ).update(state=Upload.State.QUEUED, updated_at=timezone.now())
        raise
    except Exception as exc:
        logger.exception("upload %s failed unexpectedly", upload.pk)
        error = FileError(None, "file", PROCESSING_FAILED)
        try:
            with transaction.atomic():
                finished = _finish(upload, state=Upload.State.FAILED, errors=[error])
                audit_record(
                    action="upload.fail",
                    acting_user=upload.uploaded_by,
                    obj=upload,
                    detail={"error": type(exc).__name__},
                )
        except _ClaimLost:
            upload.refresh_from_db()
            return upload
        return finished


def _process(upload: Upload, then) -> Upload:
    parsed = _parse(upload)
    upload.rows_total = parsed.rows
    Upload.objects.filter(pk=upload.pk).update(rows_total=parsed.rows)
    columns = upload.file_format == "csv"
    file_errors = [
        FileError(e.line, e.field or "file", e.message, e.field if columns else None)
        for e in parsed.errors
    ]
    if file_errors and not parsed.reports:
        return _finish(upload, state=Upload.State.FAILED, errors=file_errors)

    def progress(rows_checked: int) -> None:
        # Outside the storing transaction: the uploader polls this while the file is checked.
        Upload.objects.filter(pk=upload.pk).update(rows_done=min(rows_checked, parsed.rows))

    def stored(result) -> None:
        # In the storing transaction: a worker that dies before its commit leaves neither the
        # reports nor their reconciles (the sweep processes the file again), never one alone.
        if then is not None:
            then(result.report_ids)
        _finish(
            upload,
            state=Upload.State.DONE,
            stored=result.stored,
            unchanged=result.unchanged,
            notes=[FileError(n.line, n.field or "file", n.message) for n in parsed.notes],
        )

    try:
        reports_ingest_bulk(
            reports=parsed.reports,
            lab_account=upload.uploaded_by,
            upload=upload,
            progress=progress,
            file_errors=file_errors,
            columns=columns,
            on_stored=stored,
            match_allowance=match_failures_remaining(upload.uploaded_by),
        )
    except FileRejected as exc:
        upload.rows_done = upload.rows_total  # every row was checked
        with transaction.atomic():  # audited once: the failures and the end together
            report_match_failures_record(
                lab_account=upload.uploaded_by, failures=exc.match_failures
            )
            report_match_failures_record(
                lab_account=upload.uploaded_by,
                failures=exc.withheld,
                action=MATCH_WITHHELD_ACTION,
            )
            return _finish(upload, state=Upload.State.FAILED, errors=exc.errors)
    return upload
