"""The alert page: the recommendation, why it fired, the evidence, the patient's timeline,
and the oncologist's decision (one at a time; a switch is confirmed against a summary).

It lives in the top floor because it composes therapy (the alert), liquidbiopsy (the
evidence) and patients (the timeline). Nurses and admins read; oncologists decide.
"""

from __future__ import annotations

from decimal import Decimal

import plotly
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import Role, has_role, role_required
from audit.services import audit_record
from clinic.timeline import patient_timeline_figure
from clinic.views import NO_CURRENT_REGIMEN_STATES
from core.exceptions import ApplicationError
from liquidbiopsy import selectors as report_selectors
from patients import selectors as patient_selectors
from patients.formulary import get_formulary
from therapy import presentation, selectors
from therapy.config import rule_config
from therapy.decisions import alert_acknowledge, alert_review
from therapy.forms import AcknowledgeForm
from therapy.models import Alert

READERS = (Role.ONCOLOGIST, Role.ADMIN, Role.NURSE)
FIELD_LABELS = {
    "decision": "Decision",
    "effective_on": "Switch date",
    "confirmatory_scan": "Confirmatory imaging",
    "defer_until": "Defer until",
    "reason_code": "Reason",
    "comment": "Comment",
}


def _page(request, alert: Alert, *, form=None, confirm=None, status=200, **extra):
    formulary = get_formulary()
    config = rule_config()
    patient = alert.patient
    regimens = patient_selectors.regimen_list(patient=patient)
    scans = patient_selectors.scan_list(patient=patient)
    draws = patient_selectors.draw_history(patient=patient)
    reports = report_selectors.reports_for_patient(patient=patient)
    patient_alerts = selectors.patient_alerts(patient_id=patient.pk)
    evidence_ids = {e.report_id for e in alert.evidence.all()}
    evidence = [r for r in reports if r.pk in evidence_ids]
    variants = [(p, Decimal(v)) for p, v in alert.variants]
    can_decide = has_role(request.user, Role.ONCOLOGIST) and alert.state in Alert.PENDING_STATES
    if form is None and can_decide:
        form = AcknowledgeForm(
            kind=alert.kind,
            initial={"effective_on": timezone.localdate(), "revision": alert.revision},
        )
    current = patient_selectors.current_regimen(patient=patient)
    pending = alert.state in Alert.PENDING_STATES
    switch_possible = _switch_possible(current, config.allowed_ais)
    if form is not None and not switch_possible:  # never offer what the service refuses
        decision = form.fields["decision"]
        decision.choices = [c for c in decision.choices if c[0] != Alert.Decision.SWITCH]
    return render(
        request,
        "clinic/alert.html",
        {
            "alert": alert,
            "patient": patient,
            "variants": variants,
            "why": presentation.why(
                kind=alert.kind,
                facts=alert.facts_snapshot,
                variants=variants,
                drug_label=formulary.label,
                min_months=settings.MIN_THERAPY_MONTHS,
                lookback_days=settings.SCAN_LOOKBACK_DAYS,
                vaf_floor=config.vaf_floor,
                allowed_ais=config.allowed_ais,
            ),
            "withdrawn": presentation.withdrawn_text(
                alert.withdrawn_reason, alert.withdrawn_detail, drug_label=formulary.label
            )
            if alert.state == Alert.State.WITHDRAWN
            else [],
            "evidence": [(r, [v for v in r.variants.all() if v.gene == "ESR1"]) for r in evidence],
            "newer_pending": [
                d
                for d in draws
                if d.state == "collected"
                and alert.facts_snapshot.get("collected_on", "") < d.collected_on.isoformat()
            ]
            if alert.state in Alert.PENDING_STATES
            else [],
            "newer_results": _newer_results(alert, reports, evidence_ids, config)
            if pending
            else [],
            "current": current,
            "regimen_is_current": patient.surveillance_state not in NO_CURRENT_REGIMEN_STATES,
            "regimen_changed": pending and _regimen_changed(alert.facts_snapshot, current),
            "switch_refused": pending
            and alert.kind == Alert.Kind.SWITCH_RECOMMENDED
            and not switch_possible,
            "form": form if can_decide else None,
            "confirm": confirm,
            "lookback_days": settings.SCAN_LOOKBACK_DAYS,
            "other_alerts": [a for a in patient_alerts if a.pk != alert.pk],
            "timeline": patient_timeline_figure(
                reports=reports, regimens=regimens, scans=scans, draws=draws, alerts=patient_alerts
            ),
            "plotly_version": plotly.__version__,
            **extra,
        },
        status=status,
    )


def _newer_results(alert: Alert, reports, evidence_ids, config) -> list:
    """Her current reports collected on or after the alert's evidence and not part of it (a
    later "not detected", a failure, another lab's result on the same blood), each with its
    ESR1 result in the patient page's words (`r.esr1`): the chart draws them, and the decision
    must not rest on the chart alone."""
    since = alert.facts_snapshot.get("collected_on", "")
    # The day the blood was drawn, as the rule reads it (the nurse's recorded collection, the
    # lab's date only as a fallback): a second lab may date the same draw a day off.
    newer = [
        r
        for r in reports
        if r.is_current
        and r.pk not in evidence_ids
        and ((r.draw.collected_on if r.draw_id else None) or r.collected_on).isoformat() >= since
    ]
    for r in newer:
        r.esr1 = presentation.esr1_result(
            status=r.status,
            qc_status=r.qc_status,
            tumor_fraction=r.tumor_fraction,
            calls=r.variants.all(),
            config=config,
        )
    return sorted(newer, key=lambda r: (r.collected_on, r.report_id))


def _switch_possible(current, allowed_ais) -> bool:
    """The service's own test: a switch starts from an allowed AI with a CDK4/6 inhibitor."""
    return (
        current is not None
        and current.endocrine_agent in allowed_ais
        and bool(current.cdk46_inhibitor)
    )


def _regimen_changed(facts: dict, current) -> bool:
    """The regimen now is not the one the rule saw on the blood test's date."""
    seen = (facts.get("endocrine_agent") or "", facts.get("cdk46_inhibitor") or "")
    if current is None:
        return True
    return (current.endocrine_agent, current.cdk46_inhibitor or "") != seen


def _alert(alert_id: int) -> Alert:
    return get_object_or_404(selectors.alerts_with_context(selectors.alert_list()), pk=alert_id)


@role_required(*READERS)
def alert_detail(request, alert_id: int):
    alert = _alert(alert_id)
    audit_record(
        action="alert.view", acting_user=request.user, obj=alert, patient_id=alert.patient_id
    )
    return _page(request, alert)


def _service_args(data: dict) -> dict:
    scan = None
    if data.get("scan_performed_on"):
        scan = {
            "performed_on": data["scan_performed_on"],
            "modality": data.get("scan_modality") or "ct",
            "outcome": "no_progression",
        }
    return {
        "revision": data.get("revision"),
        "decision": data["decision"],
        "reason_code": data.get("reason_code", ""),
        "comment": data.get("comment", ""),
        "effective_on": data.get("effective_on"),
        "defer_until": data.get("defer_until"),
        "confirmatory_scan": scan,
        "attest_no_progression": data.get("attest_no_progression", False),
        # The regimen the confirmed summary showed: checked again under her row lock.
        "expected_regimen_id": data.get("summary_regimen")
        if data["decision"] == "switch"
        else None,
    }


@role_required(Role.ONCOLOGIST)
@require_POST
def alert_decide(request, alert_id: int):
    """Validate; a switch first shows what it will do, and is recorded once confirmed."""
    alert = _alert(alert_id)
    form = AcknowledgeForm(request.POST, kind=alert.kind)
    if form.is_valid():
        data = form.cleaned_data
        current = patient_selectors.current_regimen(patient=alert.patient)
        if (
            data["decision"] == "switch"
            and _switch_possible(current, rule_config().allowed_ais)
            and data.get("effective_on")
        ):
            summary = presentation.switch_summary(
                current=current,
                target_label=_target_label(),
                on=data["effective_on"],
                drug_label=get_formulary().label,
            )
            changed = _summary_changed(alert, data, current, summary)
            if not data.get("confirmed") or changed:
                return _page(
                    request,
                    alert,
                    form=form,
                    confirm=summary,
                    confirm_regimen=current,
                    confirm_changed=changed if data.get("confirmed") else "",
                    status=409 if data.get("confirmed") else 200,
                )
        try:
            alert_acknowledge(alert=alert, acting_user=request.user, **_service_args(data))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                if field in form.fields and field != "decision":
                    form.add_error(field, errors)
                else:  # named in words, never by its internal name
                    label = FIELD_LABELS.get(field, "Decision")
                    form.add_error(None, [f"{label}: {e}" for e in errors])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Decision recorded.")
            return redirect("alert_detail", alert_id=alert.pk)
    messages.error(request, "Decision not recorded: see the messages below.")
    return _page(request, _alert(alert_id), form=form, status=400)


@role_required(Role.ONCOLOGIST)
@require_POST
def alert_review_record(request, alert_id: int):
    """The oncologist's review of a decision flagged because its evidence changed."""
    alert = _alert(alert_id)
    revision = request.POST.get("revision", "")
    try:
        alert_review(
            alert=alert,
            acting_user=request.user,
            note=request.POST.get("review_note", ""),
            revision=int(revision) if revision.isdigit() else None,
        )
    except ValidationError as exc:
        messages.error(request, "Review not recorded: " + " ".join(exc.messages))
        return _page(request, _alert(alert_id), status=400)
    except ApplicationError as exc:
        messages.error(request, f"Review not recorded: {exc.message}")
        return _page(request, _alert(alert_id), status=409)
    messages.success(request, "Review recorded.")
    return redirect("alert_detail", alert_id=alert.pk)


def _summary_changed(alert: Alert, data: dict, current, summary) -> str:
    """Why a confirmed switch is not what its summary showed (empty when it is).

    The summary names the regimen that ends and the drugs that continue; a regimen recorded
    while it was open (another AI or CDK4/6 inhibitor, say) would otherwise be switched
    unseen. The service still switches from whatever regimen is current when it runs: the
    window left is this request's, not the minutes the summary was open."""
    seen = data.get("summary_regimen")
    was = next(
        (r for r in patient_selectors.regimen_list(patient=alert.patient) if r.pk == seen),
        None,
    )
    return presentation.switch_summary_changed(
        was=was,
        now=current,
        said=data.get("summary") or "",
        now_says=summary.sentence(),
        drug_label=get_formulary().label,
    )


def _target_label() -> str:
    formulary = get_formulary()
    drug = formulary.endocrine_agents.get(formulary.switch_target)
    return f"{drug.label} {drug.dose}" if drug else formulary.switch_target
