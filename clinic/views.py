"""Pages that bring several apps together: the role-aware home and the patient page.

They live in the project package because it sits above every app (therapy -> liquidbiopsy
-> patients), so it may read from all of them.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

import plotly
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.timesince import timesince
from django.views.decorators.http import require_POST

from accounts.roles import CLINIC_ROLES, Role, primary_role, role_required
from clinic.timeline import patient_timeline_figure
from clinic.workflows import patient_change, regimen_receive, scan_receive
from core.clock import clinic_today
from liquidbiopsy import selectors as report_selectors
from patients import selectors as patient_selectors
from patients.forms import RegimenForm, ScanForm, SurveillanceForm, add_service_errors
from patients.formulary import get_formulary
from patients.services import STATE_FINAL
from therapy import selectors as alert_selectors
from therapy.config import rule_config
from therapy.models import ReconcileOwed
from therapy.presentation import esr1_result


@login_required
def home(request):
    """Send each role to the page its work starts on."""
    role = primary_role(request.user)
    if role == Role.NURSE:
        return redirect("worklist")
    if role == Role.ONCOLOGIST:
        return redirect("alerts:inbox")
    if role == Role.ADMIN:
        return render(request, "clinic/home/admin.html")
    if role == Role.LAB:
        return render(request, "clinic/home/lab.html")
    return render(request, "clinic/home/no_role.html", status=403)


# Surveillance has ended for these states (no draws: patients.rules.DRAWING_STATES), said at
# the top of her page. Deceased and withdrawn get no alert of any kind (DESIGN §5 clause 0).
END_STATE_TEXT = {
    "deceased": "Deceased. Surveillance has ended: no draws are planned and no alerts are raised.",
    "withdrawn": "Withdrawn from surveillance. Surveillance has ended: no draws are planned "
    "and no alerts are raised.",
    "off_therapy": "Off therapy. Surveillance has ended: no draws are planned and no switch "
    "alerts are raised.",
    "progressed": "Progressed on the line under surveillance. Drawing has stopped; ESR1 "
    "results go to the progression pathway, not a switch.",
}
# States after which no regimen is called "current": she died, left surveillance or stopped
# therapy, and the product no longer follows her treatment (a regimen without an end date
# is only "not recorded as ended").
NO_CURRENT_REGIMEN_STATES = frozenset({"deceased", "withdrawn", "off_therapy"})


@role_required(*CLINIC_ROLES)
def patient_detail(request, patient_id: int):
    patient = patient_selectors.patient_view(patient_id=patient_id, user=request.user, what="page")
    regimens = patient_selectors.regimen_list(patient=patient)
    scans = patient_selectors.scan_list(patient=patient)
    draws = patient_selectors.draw_history(patient=patient)
    reports = report_selectors.reports_for_patient(patient=patient)
    _describe_reports(reports, draws)
    alerts = alert_selectors.patient_alerts(patient_id=patient.pk)
    # Results stored by a file whose alert reconcile a worker still owes (therapy.owed): until
    # it is paid the alerts may be incomplete, and the page says so instead of "No alert".
    reconcile_owed_since = (
        ReconcileOwed.objects.filter(patient_id=patient.pk)
        .values_list("owed_since", flat=True)
        .first()
    )
    return render(
        request,
        "clinic/patient_detail.html",
        {
            "patient": patient,
            "alerts": alerts,
            "reconcile_owed_since": reconcile_owed_since,
            "pending_alerts": [a for a in alerts if a.state in ("open", "deferred")],
            "regimens": regimens,
            "scans": scans,
            "formulary": get_formulary(),
            "draws": draws,
            "reports": reports,
            "end_state_text": END_STATE_TEXT.get(patient.surveillance_state, ""),
            "regimen_is_current": patient.surveillance_state not in NO_CURRENT_REGIMEN_STATES,
            # patients.services.patient_update refuses any state change of a deceased patient
            "state_final": STATE_FINAL if patient.surveillance_state == "deceased" else "",
            "regimen_form": RegimenForm(),
            "scan_form": ScanForm(),
            "surveillance_form": SurveillanceForm(
                initial={
                    "surveillance_start_on": patient.surveillance_start_on
                    if patient.surveillance_start_explicit
                    else None,
                    "surveillance_interval_weeks": patient.surveillance_interval_weeks,
                }
            ),
            "min_therapy_months": settings.MIN_THERAPY_MONTHS,
            "time_on_regimen": _time_on(regimens[0].started_on) if regimens else "",
            "regimen_starts_later": bool(regimens) and regimens[0].started_on > clinic_today(),
            "timeline": patient_timeline_figure(
                reports=reports, regimens=regimens, scans=scans, draws=draws, alerts=alerts
            ),
            "plotly_version": plotly.__version__,
        },
    )


def _describe_reports(reports, draws) -> None:
    """Each report's ESR1 result in words (`r.esr1`), what superseded an old version
    (`r.superseded_note`), whether the lab corrected it to another patient (`r.moved_away`),
    and on each draw awaiting a result, the cancelled report that sent it back to waiting
    (`d.cancelled_report`). No query: the variants are prefetched.

    `reports` are all of hers, so a version superseded by one not among them was corrected
    to another patient's draw, unless a later correction brought the report back to her
    (its current version is then among hers)."""
    by_pk = {r.pk: r for r in reports}
    hers_now = {(r.lab_account_id, r.report_id) for r in reports if r.is_current}
    config = rule_config()
    for r in reports:
        r.moved_away = (
            not r.is_current
            and r.superseded_by_id is not None
            and r.superseded_by_id not in by_pk
            and (r.lab_account_id, r.report_id) not in hers_now
        )
        r.esr1 = esr1_result(
            status=r.status,
            qc_status=r.qc_status,
            tumor_fraction=r.tumor_fraction,
            calls=r.variants.all(),
            config=config,
        )
        r.superseded_note = ""
        newer = by_pk.get(r.superseded_by_id) if not r.is_current else None
        if newer is not None:
            r.superseded_note = (
                f"Superseded by v{newer.version} ({newer.get_status_display().lower()})"
            )
            if newer.status == "cancelled":
                r.superseded_note += ": the lab retracted this result"
        elif r.moved_away:
            r.superseded_note = "Corrected to another patient: this result is not hers"
        elif not r.is_current:
            r.superseded_note = "Superseded by a later version"
    cancelled = {
        r.draw_id: r for r in reports if r.is_current and r.status == "cancelled" and r.draw_id
    }
    for d in draws:
        d.cancelled_report = cancelled.get(d.pk) if d.state == "collected" else None


def _time_on(started_on) -> str:
    """Time on a regimen in clinic days: 'started today', 'starts in 3 days', '1 year, 7 months'.

    Django's `timesince` on a date counts from midnight UTC to now, so a regimen started
    today read '20 hours, 41 minutes', and one starting later read '0 minutes'.
    """
    days = (clinic_today() - started_on).days
    if days == 0:
        return "started today"
    if days < 0:
        return f"starts in {-days} day{'s' if days < -1 else ''}"
    return timesince(started_on, clinic_today())


def not_found(request, exception=None):
    """404: the JSON error shape under /api/, the page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"message": "Not found.", "extra": {}}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    """500: the JSON error shape under /api/, the page elsewhere (nothing was half-saved)."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"message": "Server error: it has been logged; nothing was stored.", "extra": {}},
            status=500,
        )
    return render(request, "500.html", status=500)


@role_required(*CLINIC_ROLES)
@require_POST
def scan_create(request, patient_id: int):
    """The patient page's scan form: the scan, then the switch rule for pending alerts."""
    patient = patient_selectors.patient_get(patient_id=patient_id)
    form = ScanForm(request.POST)
    alerts = []
    if form.is_valid():
        try:
            _scan, alerts = scan_receive(
                patient=patient, **form.cleaned_data, acting_user=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        problems = "; ".join(" ".join(errors) for errors in form.errors.values())
        messages.error(request, f"Scan not recorded. {problems}")
    else:
        changed = f" The switch rule updated {len(alerts)} alert(s)." if alerts else ""
        messages.success(request, f"Scan recorded.{changed}")
    return redirect("patient_detail", patient_id=patient.pk)


PLOTLY_BUNDLE = Path(__file__).parent / "vendor" / "plotly-cartesian.min.js"


@lru_cache(maxsize=2)
def plotly_bundle(gzipped: bool) -> bytes:
    """plotly.js's cartesian partial bundle (vendored: 1.5 MB, 0.45 MB gzipped, against
    4.8 MB for the full bundle inside the plotly package), read and compressed once per process.
    It holds every trace the pages draw (scatter, bar, histogram); tests/test_plotly_bundle.py
    checks it is the same plotly.js release as the plotly package that builds the figures."""
    data = PLOTLY_BUNDLE.read_bytes()
    return gzip.compress(data, compresslevel=9, mtime=0) if gzipped else data


def plotly_js(request, version: str):
    """plotly.js for the timeline and dashboard charts: the pages fetch nothing from other hosts.

    `version` in the URL only makes a new plotly release a new URL for browser caches."""
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
    response = HttpResponse(plotly_bundle(gzipped), content_type="text/javascript")
    if gzipped:
        response["Content-Encoding"] = "gzip"
    response["Vary"] = "Accept-Encoding"
    response["Cache-Control"] = "public, max-age=604800, immutable"  # the URL carries the version
    return response


# --- The patient page's forms whose changes re-run the alert reconcile ---------------------


def form_errors_message(form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = (form.fields[name].label or name.replace("_", " ")) if name in form.fields else ""
        parts.append(f"{label.capitalize()}: {' '.join(errors)}" if label else " ".join(errors))
    return "; ".join(parts)


@role_required(*CLINIC_ROLES)
@require_POST
def regimen_create(request, patient_id: int):
    patient = patient_selectors.patient_get(patient_id=patient_id)
    form = RegimenForm(request.POST)
    if form.is_valid():
        try:
            regimen_receive(patient=patient, **form.cleaned_data, acting_user=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        messages.error(request, "Regimen not recorded. " + form_errors_message(form))
    else:
        messages.success(request, "Regimen recorded.")
    return redirect("patient_detail", patient_id=patient.pk)


@role_required(*CLINIC_ROLES)
@require_POST
def surveillance_update(request, patient_id: int):
    patient = patient_selectors.patient_get(patient_id=patient_id)
    form = SurveillanceForm(request.POST)
    if form.is_valid():
        changes = {
            "surveillance_start_on": form.cleaned_data["surveillance_start_on"],
            "surveillance_interval_weeks": form.cleaned_data["surveillance_interval_weeks"],
        }
        if form.cleaned_data["surveillance_state"]:
            changes["surveillance_state"] = form.cleaned_data["surveillance_state"]
        try:
            patient_change(patient=patient, acting_user=request.user, changes=changes)
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        messages.error(request, "Surveillance not updated. " + form_errors_message(form))
    else:
        messages.success(request, "Surveillance settings saved; the draw schedule is updated.")
    return redirect("patient_detail", patient_id=patient.pk)
