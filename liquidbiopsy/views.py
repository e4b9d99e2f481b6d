"""The lab's pages: upload a file and watch it, each past upload with all its errors, the
accessions awaiting this lab's results, and the CSV template.

A lab account sees only what it needs to match results to draws (DESIGN.md §2): accessions
and collection dates, never a patient's name, MRN or date of birth (the lab sends those from
the sample's request form and the product checks them, so showing them would make the check
an echo). No URL carries anything but an upload id, a page number or an accession prefix.
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.roles import Role, role_required
from audit.services import audit_record
from core.clock import clinic_today
from liquidbiopsy import csv_template, selectors
from liquidbiopsy.models import Upload
from liquidbiopsy.parsers import CSV_COLUMNS
from liquidbiopsy.uploads import MAX_STORED_ERRORS
from patients import scheduling

AWAITING_PAGE_SIZE = 25
STORED_PAGE_SIZE = 50  # reports of an upload listed on its page
UNFINISHED = (Upload.State.QUEUED, Upload.State.PROCESSING)
# A stored error's field path, as the validator names it: "variants[0].vaf_percent",
# "patient.mrn", "collected_on", "patient" (identity), "variants[0]" (the whole call).
_FIELD_PREFIX = re.compile(r"^(?:variants\[\d+\]\.|patient\.)")
IDENTITY_COLUMNS = "mrn, date_of_birth"


def error_where(error: dict, file_format: str) -> str:
    """Where to look for a stored error: its CSV column (the `column` key when the pipeline
    stored one, else the column the field path names), else the field path; "" for the
    whole row or file."""
    column = error.get("column")
    if column:
        return str(column)
    field = str(error.get("field") or "")
    if field in ("", "file", "non_field_errors"):
        return ""
    if file_format != "csv":
        return field  # a VCF's metadata key or record field
    if field == "patient":  # one generic identity message names both columns
        return IDENTITY_COLUMNS
    leaf = _FIELD_PREFIX.sub("", field)
    if leaf in CSV_COLUMNS:
        return leaf
    if re.fullmatch(r"variants\[\d+\]", field):
        return ""  # the variant as a whole: the line is the row
    return field


def _stalled_minutes(upload: Upload) -> int | None:
    """Minutes an unfinished upload has waited past what the work sweep allows (a file
    processing longer than UPLOAD_STALLED_MINUTES, or queued longer than the grace the sweep
    gives a lost message): the lab is told it is retried, not that it "updates by itself"."""
    if upload.state not in UNFINISHED or upload.updated_at is None:
        return None
    limit = (
        settings.UPLOAD_STALLED_MINUTES
        if upload.state == Upload.State.PROCESSING
        else settings.UPLOAD_QUEUED_GRACE_MINUTES
    )
    minutes = int((timezone.now() - upload.updated_at).total_seconds() // 60)
    return minutes if minutes >= limit else None


def _upload_context(upload: Upload) -> dict:
    errors = [
        {
            "line": e.get("line"),
            "where": error_where(e, upload.file_format),
            "message": e.get("message", ""),
        }
        for e in (upload.errors or [])
        if isinstance(e, dict)
    ]
    return {
        "upload": upload,
        "finished": upload.state not in UNFINISHED,
        "stalled_minutes": _stalled_minutes(upload),
        "errors": errors,
        "errors_truncated": len(errors) >= MAX_STORED_ERRORS,
        "max_errors": MAX_STORED_ERRORS,
        "is_csv": upload.file_format == "csv",
    }


@role_required(Role.LAB)
def upload_page(request):
    recent = selectors.upload_list_for_account(lab_account=request.user)
    return render(
        request,
        "liquidbiopsy/upload.html",
        {"recent": recent, "columns": csv_template.column_help()},
    )


@role_required(Role.LAB)
@require_GET
def upload_recent(request):
    """The recent-uploads table body alone: the upload page reloads it when a file finishes."""
    recent = selectors.upload_list_for_account(lab_account=request.user)
    return render(request, "liquidbiopsy/_recent_rows.html", {"recent": recent})


@role_required(Role.LAB)
@require_GET
def upload_detail(request, upload_id: int):
    """One past upload of this account: state, counts, progress, every error, what next."""
    upload = selectors.upload_get_for_account(upload_id=upload_id, lab_account=request.user)
    context = _upload_context(upload)
    detail = {}
    if upload.state == Upload.State.DONE and upload.reports_stored:
        page = Paginator(selectors.upload_reports(upload=upload), STORED_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        context |= {"stored": list(page.object_list), "stored_page": page}
        detail = {"report_ids": [r.pk for r in context["stored"]]}
    audit_record(action="upload.view", acting_user=request.user, obj=upload, detail=detail)
    return render(request, "liquidbiopsy/upload_detail.html", context)


@role_required(Role.LAB)
@require_GET
def upload_panel(request, upload_id: int):
    """The upload's status panel alone, polled while the file is being processed."""
    upload = selectors.upload_get_for_account(upload_id=upload_id, lab_account=request.user)
    context = _upload_context(upload) | {"link": request.GET.get("link") == "1"}
    response = render(request, "liquidbiopsy/_upload_panel.html", context)
    response["Cache-Control"] = "no-store"
    return response


@role_required(Role.LAB)
@require_GET
def awaiting_results(request):
    """Accessions collected and sent to this lab that have no result yet, longest first."""
    today = clinic_today()
    accession = request.GET.get("accession", "")[:64]
    qs = selectors.awaiting_results_for_lab(lab_account=request.user, accession=accession)
    page = Paginator(qs, AWAITING_PAGE_SIZE).get_page(request.GET.get("page"))
    draws = list(page.object_list)
    flag_before = today - dt.timedelta(days=settings.AWAITING_RESULT_FLAG_DAYS)
    for draw in draws:
        draw.days_waiting = (today - draw.collected_on).days
        draw.flagged = draw.collected_on < flag_before
    audit_record(
        action="lab.awaiting_view",
        acting_user=request.user,
        detail={
            "draw_ids": [d.pk for d in draws],
            "patient_ids": sorted({d.patient_id for d in draws}),
        },
    )
    return render(
        request,
        "liquidbiopsy/awaiting.html",
        {
            "draws": draws,
            "page": page,
            "accession": accession.strip(),
            "flag_days": settings.AWAITING_RESULT_FLAG_DAYS,
            "lab": scheduling.lab_of_account(request.user),
        },
    )


@role_required(Role.LAB)
@require_GET
def csv_template_download(request):
    """The CSV template: the parser's exact header and two example rows."""
    response = HttpResponse(csv_template.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{csv_template.FILENAME}"'
    return response
