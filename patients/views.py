"""Clinician pages for the patient list and the writes made from the patient page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import CLINIC_ROLES, role_required
from audit.services import audit_record
from patients import selectors, services
from patients.forms import (
    PatientCreateForm,
    RegimenForm,
    ScanForm,
    add_service_errors,
    oncologist_queryset,
)
from patients.models import SurveillanceState

PAGE_SIZE = 25


@role_required(*CLINIC_ROLES)
def patient_list(request):
    search = request.GET.get("q", "").strip()
    state = request.GET.get("state", "")
    if state not in SurveillanceState.values:
        state = ""
    try:
        oncologist_id = int(request.GET.get("oncologist", "") or 0)
    except ValueError:
        oncologist_id = 0
    qs = selectors.patient_list(search=search, oncologist_id=oncologist_id or None, state=state)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_record(
        action="patient.list",
        acting_user=request.user,
        detail={"count": len(page.object_list), "patient_ids": [p.pk for p in page.object_list]},
    )
    return render(
        request,
        "patients/patient_list.html",
        {
            "page": page,
            "search": search,
            "state": state,
            "states": SurveillanceState.choices,
            "oncologist_id": oncologist_id,
            "oncologists": list(oncologist_queryset()),
        },
    )


@role_required(*CLINIC_ROLES)
@require_http_methods(["GET", "POST"])
def patient_create(request):
    form = PatientCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(**form.cleaned_data, acting_user=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Patient registered.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "patients/patient_form.html", {"form": form})


def _form_errors_message(form) -> str:
    parts = []
    for field, errors in form.errors.items():
        label = form.fields[field].label or field.replace("_", " ") if field in form.fields else ""
        parts.append(f"{label.capitalize()}: {' '.join(errors)}" if label else " ".join(errors))
    return "; ".join(parts)


@role_required(*CLINIC_ROLES)
@require_POST
def regimen_create(request, patient_id: int):
    patient = selectors.patient_get(patient_id=patient_id)
    form = RegimenForm(request.POST)
    if form.is_valid():
        try:
            services.regimen_start(patient=patient, **form.cleaned_data, acting_user=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        messages.error(request, "Regimen not recorded. " + _form_errors_message(form))
    else:
        messages.success(request, "Regimen recorded.")
    return redirect("patients:detail", patient_id=patient.pk)


@role_required(*CLINIC_ROLES)
@require_POST
def scan_create(request, patient_id: int):
    patient = selectors.patient_get(patient_id=patient_id)
    form = ScanForm(request.POST)
    if form.is_valid():
        try:
            services.scan_record(patient=patient, **form.cleaned_data, acting_user=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        messages.error(request, "Scan not recorded. " + _form_errors_message(form))
    else:
        messages.success(request, "Scan recorded.")
    return redirect("patients:detail", patient_id=patient.pk)
