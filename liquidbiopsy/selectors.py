"""Reads on lab reports, uploads and the draws a lab awaits."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from liquidbiopsy.models import LabReport, Upload, VariantCall
from patients import scheduling
from patients.models import Draw


def report_list(
    *, patient_id: int | None = None, accession: str = "", lab_account=None
) -> QuerySet[LabReport]:
    """Reports with their variants (two queries for any number of reports)."""
    qs = LabReport.objects.select_related("draw").prefetch_related(
        Prefetch("variants", queryset=VariantCall.objects.order_by("gene", "id"))
    )
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if accession:
        qs = qs.filter(draw__accession=accession.replace("\x00", "").strip())
    if lab_account is not None:
        qs = qs.filter(lab_account=lab_account)
    return qs.order_by("-collected_on", "report_id", "-version", "-id")


def reports_for_patient(*, patient) -> list[LabReport]:
    return list(report_list(patient_id=patient.pk))


# --- The lab's pages ---------------------------------------------------------------------


def awaiting_results_for_lab(*, lab_account, accession: str = "") -> QuerySet[Draw]:
    """Collected draws this lab account may report on and that await a result, longest
    waiting first (the partial index draw_awaiting_result serves the order).

    "May report on" is exactly what the report matcher accepts
    (liquidbiopsy.services.draws_for_accessions): draws sent to the account's lab, and
    draws it already sent a report for (a cancelled report sends its draw back here). Only
    the fields a lab needs are loaded: no patient is joined, so no name, MRN or date of
    birth can reach the page. `accession` narrows to accessions starting with it.
    """
    reported = LabReport.objects.filter(lab_account=lab_account, draw=OuterRef("pk"))
    qs = Draw.objects.filter(state=Draw.State.COLLECTED).filter(
        scheduling.lab_draws(lab_account) | Q(Exists(reported))
    )
    accession = accession.replace("\x00", "").strip()
    if accession:
        qs = qs.filter(accession__istartswith=accession)
    # A draw back here because its current report is a cancellation: which, and when.
    cancelled = LabReport.objects.filter(
        draw=OuterRef("pk"), is_current=True, status=LabReport.Status.CANCELLED
    ).order_by("-reported_on", "-id")
    return (
        qs.only("id", "patient_id", "accession", "collected_on", "collected_at", "is_redraw", "lab")
        .annotate(
            retracted_on=Subquery(cancelled.values("reported_on")[:1]),
            retracted_report=Subquery(cancelled.values("report_id")[:1]),
        )
        .order_by("collected_on", "id")
    )


def upload_list_for_account(*, lab_account, limit: int = 20) -> list[Upload]:
    """The account's latest uploads (the file content, kept until processed, is not read)."""
    return list(
        Upload.objects.filter(uploaded_by=lab_account)
        .defer("content")
        .order_by("-created_at", "-id")[:limit]
    )


def upload_get_for_account(*, upload_id: int, lab_account) -> Upload:
    """One upload of this account; 404 for another account's, as for one that does not exist."""
    return get_object_or_404(Upload.objects.defer("content"), pk=upload_id, uploaded_by=lab_account)


def upload_reports(*, upload: Upload) -> QuerySet[LabReport]:
    """The reports stored from one upload with their calls, by accession: what the lab sees
    of what it sent (no patient is joined, so no name, MRN or date of birth)."""
    return (
        LabReport.objects.filter(upload=upload)
        .select_related("draw")
        .only(
            "id", "report_id", "version", "status", "qc_status", "tumor_fraction",
            "collected_on", "draw__accession", "upload_id",
        )
        .prefetch_related(Prefetch("variants", queryset=VariantCall.objects.order_by("id")))
        .order_by("id")
    )  # fmt: skip
