"""Alerts from the switch rule: raising, attaching evidence, withdrawing, notifying.

`alerts_evaluate_for_report` is one transaction:
1. build the facts, run the rule, store the decision (SwitchEvaluation) with the facts;
2. if the report amends an earlier version that fed alerts and the evidence is gone, open
   alerts are withdrawn (oncologist told) and alerts already acted on are flagged for review;
3. an esr1_with_progression decision withdraws a pending switch/review alert (progression);
4. otherwise the pending alert of that kind gains the evidence, or one is opened (the
   partial unique index makes a second impossible, even for two reports at once);
5. the responsible oncologist is notified, once per event.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import AuditRow, audit_bulk, audit_record
from liquidbiopsy.models import LabReport
from notifications.services import Message, notification_publish
from therapy.config import rule_config
from therapy.models import Alert, AlertEvidence, SwitchEvaluation
from therapy.rules import ESR1_WITH_PROGRESSION, evaluate_serena6_switch
from therapy.selectors import facts_snapshot, switch_facts_for_report

WITHDRAWN_PROGRESSION = "progression"
WITHDRAWN_EVIDENCE_GONE = "evidence_amended_away"


def _notify(alert: Alert, event: str, subject: str) -> None:
    ids = notification_publish(
        message=Message(
            key=f"alert:{alert.pk}:{event}",
            subject=subject,
            body=(
                f"{subject}\nAlert {alert.pk}, patient record {alert.patient_id}. "
                "Open the alert to review the evidence and record your decision."
            ),
            link=f"/alerts/{alert.pk}/",
        ),
        recipients=[alert.patient.oncologist],
    )
    if ids:
        from notifications.tasks import notifications_send

        transaction.on_commit(lambda: notifications_send.delay(ids))


def _withdraw(alert: Alert, reason: str, acting_user) -> None:
    alert.state = Alert.State.WITHDRAWN
    alert.withdrawn_reason = reason
    alert.save(update_fields=["state", "withdrawn_reason", "updated_at"])
    audit_record(
        action="alert.withdraw",
        acting_user=acting_user,
        obj=alert,
        patient_id=alert.patient_id,
        detail={"reason": reason},
        system=None if acting_user else "rule",
    )
    _notify(alert, f"withdrawn:{reason}", "A switch alert was withdrawn")


def _earlier_versions(report: LabReport):
    return LabReport.objects.filter(
        lab_account_id=report.lab_account_id, report_id=report.report_id
    ).exclude(pk=report.pk)


def _open_or_attach(report: LabReport, decision, snapshot: dict, acting_user) -> Alert:
    variants = [[protein, format(vaf.normalize(), "f")] for protein, vaf in decision.variants]
    alert = (
        Alert.objects.select_for_update()
        .filter(patient=report.patient, kind=decision.kind, state__in=Alert.PENDING_STATES)
        .first()
    )
    created = False
    if alert is None:
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    patient=report.patient,
                    kind=decision.kind,
                    rule_version=decision.rule_version,
                    facts_snapshot=snapshot,
                    variants=variants,
                    needs_confirmatory_imaging=decision.needs_confirmatory_imaging,
                    opened_at=timezone.now(),
                )
                created = True
        except IntegrityError:  # another report for this patient opened it meanwhile
            alert = Alert.objects.select_for_update().get(
                patient=report.patient, kind=decision.kind, state__in=Alert.PENDING_STATES
            )
    if not created:
        alert.facts_snapshot = snapshot
        alert.variants = variants
        alert.needs_confirmatory_imaging = decision.needs_confirmatory_imaging
        alert.rule_version = decision.rule_version
        alert.save(
            update_fields=[
                "facts_snapshot",
                "variants",
                "needs_confirmatory_imaging",
                "rule_version",
                "updated_at",
            ]
        )
    _, new_evidence = AlertEvidence.objects.get_or_create(alert=alert, report=report)
    audit_record(
        action="alert.open" if created else "alert.evidence",
        acting_user=acting_user,
        obj=alert,
        patient_id=alert.patient_id,
        detail={"kind": alert.kind, "report": report.pk},
        system=None if acting_user else "rule",
    )
    if created:
        _notify(alert, "opened", "A new ctDNA switch alert needs your decision")
    elif new_evidence:
        _notify(alert, f"evidence:{report.pk}", "New ctDNA evidence on an open alert")
    return alert


@transaction.atomic
def alerts_evaluate_for_report(*, report: LabReport, acting_user=None) -> list[Alert]:
    """Run the SERENA-6 rule for a stored report version; returns the alerts it touched."""
    report = LabReport.objects.select_related("patient", "patient__oncologist").get(pk=report.pk)
    facts = switch_facts_for_report(report=report)
    decision = evaluate_serena6_switch(facts, rule_config())
    snapshot = facts_snapshot(facts)
    touched: list[Alert] = []

    earlier = list(_earlier_versions(report).values_list("pk", flat=True))
    if earlier:  # an amendment, correction or cancellation re-runs the rule
        fed = Alert.objects.select_for_update().filter(
            pk__in=AlertEvidence.objects.filter(report_id__in=earlier).values("alert_id")
        )
        for alert in fed:
            if decision.kind == alert.kind:
                continue  # the evidence still stands: the new version attaches below
            if alert.state in Alert.PENDING_STATES:
                _withdraw(alert, WITHDRAWN_EVIDENCE_GONE, acting_user)
            elif alert.state in (Alert.State.ACCEPTED, Alert.State.DECLINED):
                alert.flagged_for_review = True
                alert.save(update_fields=["flagged_for_review", "updated_at"])
                _notify(alert, f"flagged:{report.pk}", "An acted-on alert's evidence was amended")
            touched.append(alert)

    if decision.kind == ESR1_WITH_PROGRESSION:
        for pending in Alert.objects.select_for_update().filter(
            patient=report.patient,
            kind__in=[Alert.Kind.SWITCH_RECOMMENDED, Alert.Kind.REVIEW],
            state__in=Alert.PENDING_STATES,
        ):
            _withdraw(pending, WITHDRAWN_PROGRESSION, acting_user)
            touched.append(pending)

    alert = None
    if decision.kind is not None:
        alert = _open_or_attach(report, decision, snapshot, acting_user)
        touched.append(alert)
    SwitchEvaluation.objects.create(
        report=report,
        patient=report.patient,
        rule_version=decision.rule_version,
        kind=decision.kind or "",
        reasons=list(decision.reasons),
        facts_snapshot=snapshot,
        alert=alert,
    )
    return touched


# --- The oncologist's decision --------------------------------------------------------------

NOT_PENDING = "This alert is already {state}; only an open or deferred alert can be acknowledged."
SWITCH_ONLY_FOR_SWITCH_ALERTS = "Only a switch_recommended alert can be accepted as a switch."
REASON_REQUIRED = "A coded reason is required."
REASON_UNKNOWN = "Unknown reason; choose one of: {choices}."
COMMENT_REQUIRED = "A comment is required when the reason is 'other'."
EFFECTIVE_REQUIRED = "The date the switch takes effect is required."
EFFECTIVE_FUTURE = "The switch date cannot be in the future: record it on the day it starts."
DEFER_REQUIRED = "A date to come back to this alert is required."
DEFER_NOT_FUTURE = "The defer date must be after today."
NOT_ON_AI = "The patient's current regimen is not an aromatase inhibitor with a CDK4/6 inhibitor."
IMAGING_REQUIRED = (
    "Confirmatory imaging is needed: record a no-progression scan with the switch "
    "(confirmatory_scan) or attest that there is no progression (attest_no_progression)."
)
SCAN_SHOWS_PROGRESSION = "The confirmatory scan shows progression: a switch is not recommended."
SCAN_TOO_OLD = "The confirmatory scan must be within {days} days before the switch date."


def _check_reason(reason_code: str, comment: str, errors: dict) -> None:
    from therapy.reasons import ReasonCode

    if not reason_code:
        errors["reason_code"] = [REASON_REQUIRED]
    elif reason_code not in ReasonCode.values:
        errors["reason_code"] = [REASON_UNKNOWN.format(choices=", ".join(ReasonCode.values))]
    elif reason_code == ReasonCode.OTHER and not comment.strip():
        errors["comment"] = [COMMENT_REQUIRED]


def _imaging_still_needed(alert: Alert, lookback_days: int) -> bool:
    """Imaging flagged at evaluation, and no clear scan recorded since within the look-back
    of the latest evidence's collection date."""
    from patients.models import ImagingAssessment

    if not alert.needs_confirmatory_imaging:
        return False
    collected = max(
        (e.report.collected_on for e in alert.evidence.select_related("report")), default=None
    )
    if collected is None:
        return True
    return not ImagingAssessment.objects.filter(
        patient=alert.patient,
        outcome=ImagingAssessment.Outcome.NO_PROGRESSION,
        performed_on__gte=collected - dt.timedelta(days=lookback_days),
    ).exists()


@transaction.atomic
def alert_acknowledge(
    *,
    alert: Alert,
    decision: str,
    acting_user,
    reason_code: str = "",
    comment: str = "",
    effective_on=None,
    defer_until=None,
    confirmatory_scan: dict | None = None,
    attest_no_progression: bool = False,
) -> Alert:
    """Record the oncologist's decision; a switch changes therapy in this same transaction."""
    from django.conf import settings
    from django.core.exceptions import ValidationError

    from core.clock import clinic_today
    from core.exceptions import NotEligible
    from patients import selectors as patient_selectors
    from patients import services as patient_services
    from patients.formulary import get_formulary
    from patients.models import Regimen

    alert = Alert.objects.select_for_update().select_related("patient").get(pk=alert.pk)
    if alert.state not in Alert.PENDING_STATES:
        raise NotEligible(NOT_PENDING.format(state=alert.state), extra={"state": alert.state})
    today = clinic_today()
    errors: dict[str, list[str]] = {}
    if decision not in Alert.Decision.values:
        errors["decision"] = [f"Must be one of: {', '.join(Alert.Decision.values)}."]
    elif decision == Alert.Decision.SWITCH:
        if alert.kind != Alert.Kind.SWITCH_RECOMMENDED:
            errors["decision"] = [SWITCH_ONLY_FOR_SWITCH_ALERTS]
        if effective_on is None:
            errors["effective_on"] = [EFFECTIVE_REQUIRED]
        elif effective_on > today:
            errors["effective_on"] = [EFFECTIVE_FUTURE]
        if (
            _imaging_still_needed(alert, settings.SCAN_LOOKBACK_DAYS)
            and not confirmatory_scan
            and not attest_no_progression
        ):
            errors["confirmatory_scan"] = [IMAGING_REQUIRED]
        if confirmatory_scan:
            if confirmatory_scan.get("outcome") == "progression":
                errors["confirmatory_scan"] = [SCAN_SHOWS_PROGRESSION]
            elif (
                effective_on
                and confirmatory_scan.get("performed_on")
                and (effective_on - confirmatory_scan["performed_on"]).days
                > settings.SCAN_LOOKBACK_DAYS
            ):
                errors["confirmatory_scan"] = [
                    SCAN_TOO_OLD.format(days=settings.SCAN_LOOKBACK_DAYS)
                ]
    elif decision == Alert.Decision.DEFER:
        _check_reason(reason_code, comment, errors)
        if defer_until is None:
            errors["defer_until"] = [DEFER_REQUIRED]
        elif defer_until <= today:
            errors["defer_until"] = [DEFER_NOT_FUTURE]
    else:
        _check_reason(reason_code, comment, errors)
    if errors:
        raise ValidationError(errors)

    alert.decision = decision
    alert.reason_code = reason_code
    alert.comment = comment.strip()
    alert.decided_by = acting_user
    alert.decided_at = timezone.now()
    fields = ["decision", "reason_code", "comment", "decided_by", "decided_at", "updated_at"]
    if decision == Alert.Decision.SWITCH:
        current = patient_selectors.current_regimen(patient=alert.patient)
        formulary = get_formulary()
        if (
            current is None
            or not formulary.is_aromatase_inhibitor(current.endocrine_agent)
            or not current.cdk46_inhibitor
        ):
            raise NotEligible(NOT_ON_AI)
        if confirmatory_scan:
            patient_services.scan_record(
                patient=alert.patient,
                performed_on=confirmatory_scan["performed_on"],
                modality=confirmatory_scan["modality"],
                outcome=confirmatory_scan["outcome"],
                note="Confirmatory imaging recorded with a ctDNA-guided switch.",
                acting_user=acting_user,
            )
        regimen = patient_services.regimen_start(
            patient=alert.patient,
            endocrine_agent=formulary.switch_target,
            cdk46_inhibitor=current.cdk46_inhibitor,
            lhrh_agonist=current.lhrh_agonist,
            started_on=effective_on,
            previous_end_reason=Regimen.EndReason.CTDNA_GUIDED_SWITCH,
            acting_user=acting_user,
        )
        patient_services.patient_mark_switched(patient=alert.patient, acting_user=acting_user)
        alert.state = Alert.State.ACCEPTED
        alert.effective_on = effective_on
        alert.new_regimen = regimen
        alert.attested_no_progression = bool(attest_no_progression and not confirmatory_scan)
        fields += ["state", "effective_on", "new_regimen", "attested_no_progression"]
    elif decision == Alert.Decision.DEFER:
        alert.state = Alert.State.DEFERRED
        alert.defer_until = defer_until
        fields += ["state", "defer_until"]
    else:
        alert.state = Alert.State.DECLINED
        fields += ["state"]
    alert.save(update_fields=fields)
    audit_record(
        action=f"alert.{decision}",
        acting_user=acting_user,
        obj=alert,
        patient_id=alert.patient_id,
        detail={
            "reason_code": reason_code,
            "effective_on": effective_on.isoformat() if effective_on else None,
            "defer_until": defer_until.isoformat() if defer_until else None,
            "attested_no_progression": alert.attested_no_progression,
        },
    )
    return alert


# --- The hourly sweep: deferred alerts come back, unacknowledged alerts escalate -----------


def _escalation_contacts():
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from accounts.roles import Role

    users = get_user_model().objects.filter(is_active=True)
    if settings.ALERT_ESCALATION_CONTACTS:
        return list(users.filter(username__in=settings.ALERT_ESCALATION_CONTACTS))
    return list(users.filter(groups__name=Role.ADMIN))


def alerts_sweep(*, now=None) -> dict[str, int]:
    """Idempotent: each change is a conditional UPDATE, each notice has a unique key."""
    from django.conf import settings

    now = now or timezone.now()
    today = timezone.localdate(now)
    sla = dt.timedelta(hours=settings.ALERT_ACK_SLA_HOURS)
    counts = {"reopened": 0, "escalated": 0}
    with transaction.atomic():
        back = list(
            Alert.objects.filter(state=Alert.State.DEFERRED, defer_until__lte=today).values_list(
                "pk", flat=True
            )
        )
        if back:
            counts["reopened"] = Alert.objects.filter(
                pk__in=back, state=Alert.State.DEFERRED
            ).update(state=Alert.State.OPEN, opened_at=now, escalation_level=0, updated_at=now)
            reopened = list(Alert.objects.filter(pk__in=back).select_related("patient__oncologist"))
            audit_bulk(
                action="alert.reopen",
                rows=[AuditRow("therapy.alert", str(a.pk), a.patient_id) for a in reopened],
                system="sweep",
            )
            for alert in reopened:  # one notice per alert: its own oncologist, its own key
                _notify(alert, f"reopened:{alert.defer_until}", "A deferred switch alert is back")
    contacts = _escalation_contacts()
    for level, age in ((1, sla), (2, 2 * sla)):
        with transaction.atomic():
            due = list(
                Alert.objects.filter(
                    state=Alert.State.OPEN, escalation_level__lt=level, opened_at__lte=now - age
                ).values_list("pk", flat=True)
            )
            if not due:
                continue
            Alert.objects.filter(pk__in=due, escalation_level__lt=level).update(
                escalation_level=level, updated_at=now
            )
            counts["escalated"] += len(due)
            escalated = list(Alert.objects.filter(pk__in=due).select_related("patient__oncologist"))
            audit_bulk(
                action="alert.escalate",
                rows=[
                    AuditRow("therapy.alert", str(a.pk), a.patient_id, {"level": level})
                    for a in escalated
                ],
                system="sweep",
            )
            for alert in escalated:  # one notice per alert: its own oncologist, its own key
                subject = f"Switch alert {alert.pk} unacknowledged for {age.days * 24 + age.seconds // 3600} h"
                _notify(alert, f"escalated:{level}", subject)
                ids = notification_publish(
                    message=Message(
                        key=f"alert:{alert.pk}:escalated:{level}:contact",
                        subject=subject,
                        body=f"{subject}. Patient record {alert.patient_id}; please make sure it is seen.",
                        link=f"/alerts/{alert.pk}/",
                    ),
                    recipients=contacts,
                )
                if ids:
                    from notifications.tasks import notifications_send

                    transaction.on_commit(lambda ids=ids: notifications_send.delay(ids))
    return counts


@transaction.atomic
def alerts_evaluate_after_scan(*, patient, acting_user=None) -> list[Alert]:
    """A scan was recorded: re-run the rule on each pending alert's latest evidence.

    A progression on the current regimen withdraws a pending switch/review alert (reason:
    progression) and raises esr1_with_progression with the same evidence; a new clear scan
    can lift the need for confirmatory imaging.
    """
    touched: list[Alert] = []
    pending = Alert.objects.filter(
        patient=patient,
        state__in=Alert.PENDING_STATES,
        kind__in=[Alert.Kind.SWITCH_RECOMMENDED, Alert.Kind.REVIEW],
    )
    reports = {
        e.report
        for alert in pending.prefetch_related("evidence__report")
        for e in sorted(alert.evidence.all(), key=lambda e: e.report.collected_on)[-1:]
    }
    for report in sorted(reports, key=lambda r: r.collected_on):
        touched += alerts_evaluate_for_report(report=report, acting_user=acting_user)
    return touched
