"""Reads on patients. Role checks happen in the view layer (accounts.roles); these return
querysets with everything a page needs joined in, so pages run a constant number of queries.
"""

from __future__ import annotations

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from audit.services import audit_record
from patients.models import ImagingAssessment, Patient, Regimen


def _current_regimen_qs():
    return Regimen.objects.filter(patient=OuterRef("pk"), ended_on__isnull=True)


def _latest_scan_qs():
    return ImagingAssessment.objects.filter(patient=OuterRef("pk")).order_by("-performed_on", "-id")


def patient_list(
    *, search: str = "", oncologist_id: int | None = None, state: str = ""
) -> QuerySet[Patient]:
    """Patients with their current regimen and latest scan annotated (one query)."""
    current = _current_regimen_qs()
    latest_scan = _latest_scan_qs()
    qs = Patient.objects.select_related("oncologist").annotate(
        current_endocrine_agent=Subquery(current.values("endocrine_agent")[:1]),
        current_cdk46_inhibitor=Subquery(current.values("cdk46_inhibitor")[:1]),
        current_started_on=Subquery(current.values("started_on")[:1]),
        latest_scan_on=Subquery(latest_scan.values("performed_on")[:1]),
        latest_scan_outcome=Subquery(latest_scan.values("outcome")[:1]),
    )
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(mrn__iexact=search)
            | Q(mrn__istartswith=search)
            | Q(family_name__istartswith=search)
            | Q(given_name__istartswith=search)
        )
    if oncologist_id:
        qs = qs.filter(oncologist_id=oncologist_id)
    if state:
        qs = qs.filter(surveillance_state=state)
    return qs.order_by("family_name", "given_name", "id")


def patient_get(*, patient_id: int) -> Patient:
    """The patient or 404 (list annotations included)."""
    return get_object_or_404(patient_list(), pk=patient_id)


def patient_view(*, patient_id: int, user, what: str = "record") -> Patient:
    """Fetch a patient for display and leave the audit event every view of a record needs."""
    patient = patient_get(patient_id=patient_id)
    audit_record(action="patient.view", acting_user=user, obj=patient, detail={"view": what})
    return patient


def regimen_list(*, patient: Patient) -> list[Regimen]:
    return list(Regimen.objects.filter(patient=patient).order_by("-started_on", "-id"))


def scan_list(*, patient: Patient) -> list[ImagingAssessment]:
    return list(ImagingAssessment.objects.filter(patient=patient).order_by("-performed_on", "-id"))


def current_regimen(*, patient: Patient) -> Regimen | None:
    return Regimen.objects.filter(patient=patient, ended_on__isnull=True).first()


def latest_scan(*, patient: Patient) -> ImagingAssessment | None:
    return (
        ImagingAssessment.objects.filter(patient=patient).order_by("-performed_on", "-id").first()
    )
