"""Reads on lab reports."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from liquidbiopsy.models import LabReport, VariantCall


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
