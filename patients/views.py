"""Clinician pages for the patient list and the writes made from the patient page."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import CLINIC_ROLES, Role, has_role, role_required
from audit.services import audit_record
from core.clock import clinic_today
from core.exceptions import ApplicationError
from patients import scheduling, selectors, services
from patients.forms import (
    CancelForm,
    CollectForm,
    MissForm,
    PatientCreateForm,
    RegimenForm,
    RescheduleForm,
    SurveillanceForm,
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
            return redirect("patient_detail", patient_id=patient.pk)
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
    return redirect("patient_detail", patient_id=patient.pk)


# --- The nurses' worklist and draw actions ---------------------------------------------------

WORKLIST_PAGE_SIZE = 25
SECTION_DEFAULT_ORDER = (
    selectors.Section.OVERDUE,
    selectors.Section.DUE,
    selectors.Section.REDRAW,
    selectors.Section.UPCOMING,
    selectors.Section.AWAITING,
)


def _int_param(request, name: str) -> int:
    try:
        return int(request.GET.get(name, "") or 0)
    except ValueError:
        return 0


@role_required(*CLINIC_ROLES)
def worklist(request):
    """Overdue, due, upcoming, awaiting-result and redraw draws: counts for all, rows for one."""
    today = clinic_today()
    search = request.GET.get("q", "").strip()
    oncologist_id = _int_param(request, "oncologist") or None
    counts = selectors.worklist_counts(today=today, search=search, oncologist_id=oncologist_id)
    section = request.GET.get("section", "")
    if section not in selectors.Section.values:
        section = next((s for s in SECTION_DEFAULT_ORDER if counts[s]), selectors.Section.OVERDUE)
    rows = selectors.worklist_rows(
        section=section, today=today, search=search, oncologist_id=oncologist_id
    )
    page = selectors.KnownCountPaginator(rows, WORKLIST_PAGE_SIZE, count=counts[section]).get_page(
        request.GET.get("page")
    )
    draws = list(page.object_list)
    audit_record(
        action="worklist.view",
        acting_user=request.user,
        detail={"section": section, "patient_ids": [d.patient_id for d in draws]},
    )
    flag_before = today - dt.timedelta(days=settings.AWAITING_RESULT_FLAG_DAYS)
    for draw in draws:
        draw.days_to_due = (draw.due_on - today).days
        draw.days_past_due = -draw.days_to_due
        draw.reschedule_min = max(draw.window_opens_on, today)
        # Formatted here, once per row: the template's date filter is the page's hot spot.
        draw.due_label = f"{draw.due_on:%a} {draw.due_on.day} {draw.due_on:%b}"
        draw.window_label = (
            f"{draw.window_opens_on.day} {draw.window_opens_on:%b} \u2013 "
            f"{draw.window_closes_on.day} {draw.window_closes_on:%b}"
        )
        draw.days_waiting = (today - draw.collected_on).days if draw.collected_on else None
        draw.flagged = bool(draw.collected_on and draw.collected_on < flag_before)
    return render(
        request,
        "patients/worklist.html",
        {
            "today": today,
            "counts": counts,
            "sections": selectors.Section.choices,
            "section": section,
            "draws": draws,
            "page": page,
            "search": search,
            "oncologist_id": oncologist_id or 0,
            "oncologists": list(oncologist_queryset()),
            # Built once, not per row: the page renders many rows.
            "now_local": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "draw_url": reverse("draw_collect", args=[0]).removesuffix("0/collect/"),
            "here": request.get_full_path(),
            "miss_form": MissForm(),
            "cancel_form": CancelForm(),
            "flag_days": settings.AWAITING_RESULT_FLAG_DAYS,
            "window_days": settings.DRAW_WINDOW_DAYS,
            "upcoming_days": settings.WORKLIST_UPCOMING_DAYS,
            "can_act": has_role(request.user, Role.NURSE),
            "query": request.GET.urlencode(),
        },
    )


def _back_to_worklist(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("worklist")


# The nurse's actions on a draw: the form that reads the input, the scheduling service (the
# same one the API calls) and what to tell the nurse.
DRAW_ACTIONS = {
    "collect": (
        CollectForm,
        scheduling.draw_collect,
        "Collection recorded; the next draw is planned.",
    ),
    "miss": (
        MissForm,
        scheduling.draw_mark_missed,
        "Draw marked missed; the next draw is planned.",
    ),
    "cancel": (CancelForm, scheduling.draw_cancel, "Draw cancelled; the next draw is planned."),
    "reschedule": (RescheduleForm, scheduling.draw_reschedule, "Draw rescheduled."),
}


@role_required(Role.NURSE)
@require_POST
def draw_action(request, draw_id: int, action: str):
    """Run one draw service from a worklist form; errors come back as a message."""
    form_class, service, success = DRAW_ACTIONS[action]
    draw = selectors.draw_get(draw_id=draw_id)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            service(draw=draw, **form.cleaned_data, acting_user=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
    if form.errors:
        messages.error(request, f"Draw not updated. {_form_errors_message(form)}")
    else:
        messages.success(request, success)
    return _back_to_worklist(request)


@role_required(*CLINIC_ROLES)
@require_POST
def surveillance_update(request, patient_id: int):
    patient = selectors.patient_get(patient_id=patient_id)
    form = SurveillanceForm(request.POST)
    if form.is_valid():
        changes = {
            "surveillance_start_on": form.cleaned_data["surveillance_start_on"],
            "surveillance_interval_weeks": form.cleaned_data["surveillance_interval_weeks"],
        }
        if form.cleaned_data["surveillance_state"]:
            changes["surveillance_state"] = form.cleaned_data["surveillance_state"]
        try:
            services.patient_update(patient=patient, acting_user=request.user, changes=changes)
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        messages.error(request, "Surveillance not updated. " + _form_errors_message(form))
    else:
        messages.success(request, "Surveillance settings saved; the draw schedule is updated.")
    return redirect("patient_detail", patient_id=patient.pk)
