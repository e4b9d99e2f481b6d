"""Clinician pages for the patient list and the writes made from the patient page."""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
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
    ListSearchForm,
    MissForm,
    PatientCreateForm,
    RescheduleForm,
    SampleLostForm,
    WorklistScanForm,
    add_service_errors,
    clinic_day,
    clinic_day_time,
    collection_outside_window,
    late_confirm_days,
    oncologist_queryset,
    window_label,
)
from patients.models import Draw, SurveillanceState
from patients.templatetags.clinic import day_time

PAGE_SIZE = 25


# --- Searches by POST: a name or MRN never lands in a URL or an access log -------------------
#
# The search form posts; the terms are kept in the session under a random id and the page
# redirects to ?s=<id> (pagination and section links carry only that id). An old-style
# ?q= link is turned into a saved search at once, so it does not travel further.

SAVED_SEARCHES_KEY = "saved_searches"
SAVED_SEARCHES_KEPT = 20


def _save_search(request, terms: dict) -> str:
    saved = dict(request.session.get(SAVED_SEARCHES_KEY, {}))
    token = secrets.token_urlsafe(9)
    saved[token] = terms
    while len(saved) > SAVED_SEARCHES_KEPT:
        saved.pop(next(iter(saved)))
    request.session[SAVED_SEARCHES_KEY] = saved
    return token


def _saved_search(request) -> tuple[str, dict]:
    token = request.GET.get("s", "")
    terms = request.session.get(SAVED_SEARCHES_KEY, {}).get(token)
    return (token, terms) if terms else ("", {})


def _search_redirect(request, url_name: str, terms: dict, keep=()):
    params = {k: request.GET.get(k) or request.POST.get(k) for k in keep}
    params = {k: v for k, v in params.items() if v}
    if any(terms.values()):
        params["s"] = _save_search(request, terms)
    url = reverse(url_name)
    return redirect(f"{url}?{urlencode(params)}" if params else url)


def _search_terms(data) -> dict:
    form = ListSearchForm(data)
    form.is_valid()  # every field is optional and bounded; invalid ones are dropped
    clean = getattr(form, "cleaned_data", {})
    return {
        "q": clean.get("q") or "",
        "state": clean.get("state") or "",
        "oncologist": clean.get("oncologist") or 0,
    }


@role_required(*CLINIC_ROLES)
@require_http_methods(["GET", "POST"])
def patient_list(request):
    if request.method == "POST" or "q" in request.GET:
        terms = _search_terms(request.POST if request.method == "POST" else request.GET)
        return _search_redirect(request, "patients:list", terms)
    token, terms = _saved_search(request)
    search = terms.get("q", "")
    state = terms.get("state", "")
    if state not in SurveillanceState.values:
        state = ""
    oncologist_id = int(terms.get("oncologist") or 0)
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
            "search_token": token,
            "page_query": f"s={token}&" if token else "",
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


# --- The nurses' worklist and draw actions ---------------------------------------------------

WORKLIST_PAGE_SIZE = 25
SECTION_DEFAULT_ORDER = selectors.SECTION_DEFAULT_ORDER


FOUND_KEY = "worklist_found"  # the draw the scan box found, awaiting confirmation
LAST_COLLECTION_KEY = "worklist_last_collection"  # the collection that may be undone
SCAN_NOT_FOUND = "Nothing matches the code scanned. Check the wristband or tube and scan again."
SCAN_NO_OPEN_DRAW = "{name} has no open draw ({state})."
COLLECTED_MESSAGE = (
    "Collected for {name}, accession {accession}. Next draw due {next_due}. "
    "Time of collection: {when}{outside}."
)
COLLECTED_OUTSIDE = {
    "before": " (before this draw's window, {window})",
    "after": " (after this draw's window, {window})",
}
NEXT_DRAW = "{name}: next draw due {due} (window {window})."
NO_NEXT_DRAW = "{name}: no next draw is planned."
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
UNDONE_MESSAGE = "Collection undone: the draw for {name} is open again."
COLLECT_NOT_SAVED = "Collection not saved for {name}: correct the form below."


def _int(value) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _typed_time(text: str):
    """The collection time the nurse typed, read as the form reads it (None if unreadable)."""
    try:
        return CollectForm.base_fields["collected_at"].clean(text)
    except ValidationError:
        return None


def _found_context(request, today: dt.date, panel_draws: dict) -> dict | None:
    """The patient and draw the scan box found, for the confirmation panel (the draw was
    read with the page). After a refused save, the form comes back as the nurse sent it,
    each error next to its field; the window warnings compare the window with the time
    shown in the form (typed, or now), not with today."""
    found = request.session.get(FOUND_KEY)
    if not found:
        return None
    draw = panel_draws.get(_int(found.get("draw"))) if found.get("draw") else None
    if draw is None:
        request.session.pop(FOUND_KEY, None)
        return None
    flag_before = today - dt.timedelta(days=settings.AWAITING_RESULT_FLAG_DAYS)
    collectable = draw.state == draw.State.SCHEDULED
    submitted = found.get("submitted") or {}
    errors = found.get("errors") or {}
    typed = submitted.get("collected_at")
    shown_at = _typed_time(typed) if typed is not None else timezone.now()
    outside = collection_outside_window(draw, shown_at) if collectable else ""
    shown_local = timezone.localtime(shown_at) if shown_at is not None else None
    # Her latest collection, when it was today: the open draw is then her next one.
    recent = panel_draws.get(_int(found.get("recent"))) if found.get("recent") else None
    if recent is not None and (
        recent.state not in Draw.CLOSED_WITH_SPECIMEN or recent.collected_on != today
    ):
        recent = None
    next_after_recent = bool(recent and collectable and not draw.is_redraw)
    return {
        "draw": draw,
        "patient": draw.patient,
        "matched_by": found.get("matched_by", ""),
        "collectable": collectable,
        "early": collectable and outside == "before",
        "late": collectable
        and shown_local is not None
        and shown_local.date() > draw.window_closes_on,
        "outside": outside,
        "window": window_label(draw),
        "shown_when": clinic_day_time(shown_at) if shown_at is not None else "",
        "confirm_day": shown_local.date().isoformat() if shown_local else "",
        "days_late": (shown_local.date() - draw.window_closes_on).days if shown_local else 0,
        "flagged": bool(draw.collected_on and draw.collected_on < flag_before),
        "lost_allowed": draw.state == draw.State.COLLECTED,
        "recent": recent if next_after_recent else None,
        "choice_needed": next_after_recent and not found.get("next_early"),
        "values": {
            "accession": submitted.get("accession", ""),
            "collected_at": typed if typed is not None else clinic_day_time(timezone.now()),
            "identity_checked": bool(submitted.get("identity_checked")),
        },
        "errors": {
            "form": errors.get("__all__", []),
            "accession": errors.get("accession", []),
            "collected_at": errors.get("collected_at", []),
        },
        "first_error": next(
            (f for f in ("accession", "collected_at") if errors.get(f)), "accession"
        ),
    }


def _last_collection(request, panel_draws: dict) -> dict | None:
    """The nurse's latest collection, while it may still be undone (the draw was read with
    the page)."""
    last = request.session.get(LAST_COLLECTION_KEY)
    if not last:
        return None
    until = dt.datetime.fromisoformat(last["until"])
    draw = panel_draws.get(_int(last.get("draw")))
    if draw is not None and draw.state != Draw.State.COLLECTED:
        draw = None
    if draw is None or timezone.now() > until:
        request.session.pop(LAST_COLLECTION_KEY, None)
        return None
    outside = collection_outside_window(draw, draw.collected_at)
    return {
        "draw": draw,
        "until": timezone.localtime(until),
        "outside": outside,
        "text": COLLECTED_MESSAGE.format(
            name=draw.patient.display_name,
            accession=draw.accession,
            next_due=last.get("next_due", ""),
            when=clinic_day_time(draw.collected_at),
            outside=COLLECTED_OUTSIDE[outside].format(window=window_label(draw)) if outside else "",
        ),
    }


def _person_name(user: dict) -> str:
    """User.get_full_name() or the username, from a row of values."""
    return f"{user['first_name']} {user['last_name']}".strip() or user["username"]


def _days(n: int) -> str:
    return f"{n} day{'' if n == 1 else 's'}"


RETRACTED_NOTE = "Result retracted by the lab on {on} (report {report})."
FAILED_NOTE = "{reason}: sample of {on} ({accession})."


def _worklist_row(row: dict, today: dt.date, section: str, day=clinic_day) -> dict:
    """One row as the template shows it: every label formatted here, once, as text (the
    template then only escapes strings: no number localizing, no filters, per row).
    `day`: clinic_day, or the page's memo of it (a page's rows share most of their dates)."""
    flag_before = today - dt.timedelta(days=settings.AWAITING_RESULT_FLAG_DAYS)
    days_to_due = (row["due_on"] - today).days
    collected_on = row["collected_on"]
    if section == selectors.Section.OVERDUE:
        status = f"{_days(-days_to_due)} late"
    elif days_to_due == 0:
        status = "due today"
    elif days_to_due > 0:
        status = f"in {_days(days_to_due)}"
    else:
        status = f"{_days(-days_to_due)} ago"
    closes = row["window_closes_on"]
    window_note = ""
    if section == selectors.Section.OVERDUE:
        window_note = f"window closed {day(closes)} ({_days((today - closes).days)} ago)"
    elif section == selectors.Section.DUE and closes == today:
        window_note = "window closes today"
    retracted = ""
    if row.get("retracted_report"):
        retracted = RETRACTED_NOTE.format(
            on=day(row["retracted_on"]) if row.get("retracted_on") else "an unknown date",
            report=row["retracted_report"],
        )
    failed = ""
    if row.get("failed_reason") or row.get("failed_on"):
        failed = FAILED_NOTE.format(
            reason=Draw(reason_code=row.get("failed_reason") or "").reason_label or "Sample failed",
            on=day(row["failed_on"]) if row.get("failed_on") else "an unknown date",
            accession=row.get("failed_accession") or "no accession",
        )
    onc = f"{row['onc_first']} {row['onc_last']}".strip() or row["onc_username"]
    return {
        "pk": str(row["id"]),
        "patient_id": str(row["patient_id"]),
        "name": f"{row['family_name'].upper()}, {row['given_name']}",  # Patient.display_name
        "mrn": row["mrn"],
        "born_label": day(row["date_of_birth"]),
        "oncologist": onc,
        "is_redraw": row["is_redraw"],
        "due_label": f"{row['due_on']:%a} {day(row['due_on'])}",
        "due_day": day(row["due_on"]),
        "window_label": f"{day(row['window_opens_on'])} \u2013 {day(row['window_closes_on'])}",
        "opens_label": day(row["window_opens_on"]),
        "status": status,
        "early": today < row["window_opens_on"],
        "collected_label": day_time(row["collected_at"]) if row["collected_at"] else "",
        "accession": row["accession"] or "",
        "waiting": _days((today - collected_on).days) if collected_on else "",
        "flagged": bool(collected_on and collected_on < flag_before) and not retracted,
        "window_note": window_note,
        "retracted": retracted,
        "failed": failed,
    }


@role_required(*CLINIC_ROLES)
@require_http_methods(["GET", "POST"])
def worklist(request):
    """Overdue, due, upcoming, awaiting-result and redraw draws: counts for all, rows for one.

    The search form posts (names and MRNs stay out of URLs); the scan box above the table
    is the only way to start a collection: it finds the patient's draw, the nurse confirms
    name and date of birth, then saves.
    """
    if request.method == "POST" or "q" in request.GET:
        data = request.POST if request.method == "POST" else request.GET
        return _search_redirect(request, "worklist", _search_terms(data), keep=("section",))
    today = clinic_today()
    token, terms = _saved_search(request)
    search = terms.get("q", "")
    oncologist_id = int(terms.get("oncologist") or 0) or _int(request.GET.get("oncologist"))
    oncologist_id = oncologist_id or None
    # Counts, the page's rows, the filter's oncologists and the unread badge: one statement.
    data = selectors.worklist_page(
        today=today,
        section=request.GET.get("section", ""),
        page=request.GET.get("page"),
        page_size=WORKLIST_PAGE_SIZE,
        search=search,
        oncologist_id=oncologist_id,
        unread_for=request.user,
        panel_draw_ids=[
            _int((request.session.get(FOUND_KEY) or {}).get("draw")),
            _int((request.session.get(FOUND_KEY) or {}).get("recent")),
            _int((request.session.get(LAST_COLLECTION_KEY) or {}).get("draw")),
        ],
    )
    counts, section = data.counts, data.section
    paginator = selectors.KnownCountPaginator([], WORKLIST_PAGE_SIZE, count=counts[section])
    page = Page(data.rows, data.number, paginator)
    audit_record(
        action="worklist.view",
        acting_user=request.user,
        detail={"section": section, "patient_ids": [row["patient_id"] for row in data.rows]},
    )
    day = functools.lru_cache(maxsize=None)(clinic_day)  # this page's dates, formatted once
    draws = [_worklist_row(row, today, section, day) for row in data.rows]
    found = _found_context(request, today, data.panel_draws)
    last = _last_collection(request, data.panel_draws)
    can_act = has_role(request.user, Role.NURSE)
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
            "search_token": token,
            "oncologist_id": oncologist_id or 0,
            "oncologists": [{"pk": o["id"], "name": _person_name(o)} for o in data.oncologists],
            "patient_url": reverse("patient_detail", args=[0]).removesuffix("0/"),
            "draw_url": reverse("draw_collect", args=[0]).removesuffix("0/collect/"),
            "here": request.get_full_path(),
            "scan_form": WorklistScanForm(),
            "found": found if can_act else None,
            "last": last if can_act else None,
            "miss_form": MissForm(),
            "cancel_form": CancelForm(),
            "reschedule_form": RescheduleForm(),
            "flag_days": settings.AWAITING_RESULT_FLAG_DAYS,
            "window_days": settings.DRAW_WINDOW_DAYS,
            "late_confirm_days": late_confirm_days(),
            "upcoming_days": settings.WORKLIST_UPCOMING_DAYS,
            "undo_minutes": scheduling.COLLECT_UNDO_MINUTES,
            "can_act": can_act,
            "found_draw_id": str(found["draw"].pk) if found and can_act else "",
            "unread_notifications": data.unread,  # read with the page (no query of its own)
        },
    )


def _back_to_worklist(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("worklist")


@role_required(Role.NURSE)
@require_POST
def worklist_scan(request):
    """The scan box (or a row's Collect button): find the draw and ask for confirmation.

    The found draw is kept in the session (not the URL: the MRN or accession would land in
    the access log); the worklist shows it with the patient's name and date of birth.
    """
    request.session.pop(FOUND_KEY, None)
    draw_id = _int(request.POST.get("draw"))
    if draw_id:
        draw = selectors.draw_list().select_related("patient").filter(pk=draw_id).first()
        patient, matched_by = (draw.patient if draw else None), "row"
    else:
        form = WorklistScanForm(request.POST)
        if not form.is_valid():
            messages.error(request, SCAN_NOT_FOUND)
            return _back_to_worklist(request)
        patient, draw, matched_by = selectors.draw_find_for_scan(code=form.cleaned_data["code"])
    if patient is None:
        messages.error(request, SCAN_NOT_FOUND)
        return _back_to_worklist(request)
    audit_record(
        action="worklist.scan",
        acting_user=request.user,
        obj=patient,
        detail={"matched_by": matched_by, "draw_id": draw.pk if draw else None},
    )
    if draw is None:
        messages.error(
            request,
            SCAN_NO_OPEN_DRAW.format(
                name=patient.display_name,
                state=patient.get_surveillance_state_display().lower(),
            ),
        )
        return _back_to_worklist(request)
    recent = None
    if draw.state == Draw.State.SCHEDULED:
        recent = selectors.draw_collected_on(
            patient_id=draw.patient_id, day=clinic_today(), exclude_id=draw.pk
        )
    request.session[FOUND_KEY] = {
        "draw": draw.pk,
        "matched_by": matched_by,
        "recent": recent.pk if recent else None,
        # "Collect her next draw early", chosen after being told she was collected today.
        "next_early": bool(draw_id and request.POST.get("next_early")),
    }
    return _back_to_worklist(request)


@role_required(Role.NURSE)
@require_POST
def worklist_scan_clear(request):
    request.session.pop(FOUND_KEY, None)
    return _back_to_worklist(request)


# The nurse's actions on a draw: the form that reads the input, the scheduling service (the
# same one the API calls) and what to tell the nurse.
DRAW_ACTIONS = {
    "collect": (CollectForm, scheduling.draw_collect, ""),
    "miss": (
        MissForm,
        scheduling.draw_mark_missed,
        "Draw marked missed; the next draw is planned.",
    ),
    "cancel": (CancelForm, scheduling.draw_cancel, "Draw cancelled; the next draw is planned."),
    "reschedule": (RescheduleForm, scheduling.draw_reschedule, "Draw rescheduled to {due}."),
    "lost": (
        SampleLostForm,
        scheduling.draw_mark_sample_lost,
        "Sample reported lost; a redraw is due now.",
    ),
}


def _collected(request, draw) -> None:
    """Remember the collection for the panel that confirms it (patient, accession, next due
    date) and offers the undo; it replaces the usual message."""
    next_draw = selectors.open_draw(patient_id=draw.patient_id)
    next_due = clinic_day(next_draw.due_on) if next_draw else "not planned"
    until = timezone.now() + dt.timedelta(minutes=scheduling.COLLECT_UNDO_MINUTES)
    request.session.pop(FOUND_KEY, None)
    request.session[LAST_COLLECTION_KEY] = {
        "draw": draw.pk,
        "until": until.isoformat(),
        "next_due": next_due,
    }


def _keep_collect_form(request, draw, form) -> None:
    """A refused collection: keep what the nurse sent (accession, typed time, her identity
    tick) and the errors, field by field, for the panel to show again (the session, not
    the URL: an accession does not belong in an access log)."""
    found = request.session.get(FOUND_KEY) or {}
    if _int(found.get("draw")) != draw.pk:
        found = {"draw": draw.pk, "matched_by": "row"}
    found["submitted"] = {
        "accession": request.POST.get("accession", "")[:64],
        "collected_at": request.POST.get("collected_at", "")[:40],
        "identity_checked": bool(request.POST.get("identity_checked")),
    }
    found["errors"] = {
        field: [_house_dates(str(e)) for e in errors] for field, errors in form.errors.items()
    }
    request.session[FOUND_KEY] = found


def _house_dates(text: str) -> str:
    """ISO dates in a service's message, in the clinic's format ('2026-10-12' -> '12 Oct
    2026'): a nurse reads one date format everywhere."""

    def house(match) -> str:
        try:
            return clinic_day(dt.date.fromisoformat(match.group(0)))
        except ValueError:
            return match.group(0)

    return ISO_DATE.sub(house, text)


def _next_draw_text(draw) -> str:
    next_draw = selectors.open_draw(patient_id=draw.patient_id)
    name = draw.patient.display_name
    if next_draw is None:
        return NO_NEXT_DRAW.format(name=name)
    return NEXT_DRAW.format(
        name=name,
        due=f"{next_draw.due_on:%a} {clinic_day(next_draw.due_on)}",
        window=window_label(next_draw),
    )


@role_required(Role.NURSE)
@require_POST
def draw_action(request, draw_id: int, action: str):
    """Run one draw service from a worklist form. A refused collection comes back in its
    panel as typed; other errors come back as a message."""
    form_class, service, success = DRAW_ACTIONS[action]
    draw = selectors.draw_get(draw_id=draw_id)
    if action == "collect":
        form = form_class(request.POST, draw=draw, today=clinic_today())
    else:
        form = form_class(request.POST)
    if form.is_valid():
        kwargs = form.service_kwargs() if hasattr(form, "service_kwargs") else form.cleaned_data
        try:
            draw = service(draw=draw, **kwargs, acting_user=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
    if form.errors and action == "collect" and draw.state == Draw.State.SCHEDULED:
        _keep_collect_form(request, draw, form)
        messages.error(request, COLLECT_NOT_SAVED.format(name=draw.patient.display_name))
    elif form.errors:
        messages.error(request, _house_dates(f"Draw not updated. {_form_errors_message(form)}"))
    elif action == "collect":
        _collected(request, draw)
    elif action in ("miss", "cancel"):
        messages.success(request, f"{success} {_next_draw_text(draw)}")
    else:
        due = clinic_day(draw.due_on) if action == "reschedule" else ""
        messages.success(request, success.format(due=due))
    return _back_to_worklist(request)


@role_required(Role.NURSE)
@require_POST
def draw_undo_collect(request, draw_id: int):
    """Undo the nurse's latest collection (within the undo time); the draw is open again."""
    draw = selectors.draw_get(draw_id=draw_id)
    try:
        draw = scheduling.draw_collect_undo(draw=draw, acting_user=request.user)
    except ApplicationError as exc:
        messages.error(request, f"Not undone. {exc.message}")
    else:
        messages.success(request, UNDONE_MESSAGE.format(name=draw.patient.display_name))
    request.session.pop(LAST_COLLECTION_KEY, None)
    return _back_to_worklist(request)
