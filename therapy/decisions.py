"""The oncologist's decision on an alert (DESIGN.md §5). The product recommends; she decides.

`alert_acknowledge` is one transaction:
1. lock the patient's row, then the alert's (the order every alert path uses);
2. refuse (409) what cannot be decided: an alert no longer pending, a revision other than the
   one the oncologist saw (someone decided meanwhile), a switch for a patient who is not
   `active` or on an alert that is not `switch_recommended`, a progression alert handled as a
   switch, a regimen at decision time that is not an allowed AI with a CDK4/6 inhibitor;
3. check the fields (pure: `rules.decision_errors`) and raise every error at once (400);
4. record the decision; a switch ends the AI regimen (reason: ctDNA-guided switch) and starts
   camizestrant with the same CDK4/6 inhibitor, moving the patient to post-switch monitoring;
5. reconcile the patient's alerts (a decline now suppresses the same variants), in the same
   transaction.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.clock import clinic_today
from core.exceptions import Conflict, NotEligible
from liquidbiopsy.models import LabReport
from patients import selectors as patient_selectors
from patients import services as patient_services
from patients.formulary import get_formulary
from patients.models import ImagingAssessment, Patient, Regimen
from therapy.config import rule_config
from therapy.models import Alert, ReconcileOwed
from therapy.reasons import ReasonCode
from therapy.reconcile import alerts_reconcile
from therapy.rules import DecisionInput, confirmation_needed, decision_errors

REGIMEN_CHANGED = (
    "Her regimen changed since the switch summary was shown: nothing was recorded. Reload the "
    "alert, check the new summary and confirm it again."
)
NOT_PENDING = "This alert is already {state}; only an open or deferred alert can be decided."
STALE = (
    "This alert changed since you opened it (someone decided it or new evidence arrived). "
    "Reload it and decide again."
)
SWITCH_ONLY_FOR_SWITCH_ALERTS = (
    "Only a switch_recommended alert can be accepted as a switch; this is a {kind} alert."
)
PROGRESSION_ONLY_ACKNOWLEDGE = (
    "An ESR1-with-progression alert is managed on the progression pathway: acknowledge it "
    "with a note (decision 'acknowledge')."
)
ACKNOWLEDGE_ONLY_PROGRESSION = "Only an ESR1-with-progression alert is acknowledged this way."
PATIENT_NOT_ACTIVE = (
    "The patient's surveillance state is '{state}': a switch can only be accepted for a "
    "patient in active surveillance."
)
NOT_ON_ALLOWED_AI = (
    "The patient's current regimen is not an allowed aromatase inhibitor ({allowed}) with a "
    "CDK4/6 inhibitor: the switch cannot be recorded."
)
UNKNOWN_DECISION = "Must be one of: {choices}."


def _latest_evidence_collection(alert: Alert):
    days = LabReport.objects.filter(pk__in=alert.evidence.values("report_id")).values_list(
        "draw__collected_on", "collected_on"
    )
    return max((draw_day or lab_day for draw_day, lab_day in days), default=None)


def _scans(patient) -> list[tuple]:
    """Her recorded scans (day, outcome), of any date: whether a switch needs confirmatory
    imaging looks at those since the blood test (rules.confirmation_needed), and a
    confirmatory scan must be newer than every unclear one, before the blood test or after."""
    return list(
        ImagingAssessment.objects.filter(patient=patient).values_list("performed_on", "outcome")
    )


def alert_acknowledge(*, alert: Alert, **decision) -> Alert:
    """Record the oncologist's decision (the keywords of _alert_decide: decision,
    acting_user, reason_code, comment, effective_on, defer_until, confirmatory_scan,
    attest_no_progression, revision, expected_regimen_id); a switch changes therapy in this
    same transaction.

    A decision is judged on her current evidence. A file's reports may be stored with her
    reconcile still owed (a worker pays it in a moment): the cancellation of the only report
    behind this alert, say, or a new variant she has not seen. Her alerts are reconciled
    first, in a transaction of their own, so that what the evidence gives stands even when
    the decision is then refused (409: the alert changed, or is no longer pending) and the
    alert she reloads is the one she must decide on."""
    for attempt in range(DECIDE_ATTEMPTS):
        _reconcile_first(alert.patient_id)
        try:
            return _alert_decide(alert=alert, **decision)
        except _EvidenceOwed:  # a file stored between the two: judge it, then decide
            time.sleep(0.05 * (attempt + 1))
    raise Conflict(STALE, extra={"revision": Alert.objects.get(pk=alert.pk).revision})


DECIDE_ATTEMPTS = 3


class _EvidenceOwed(Exception):
    """Her alerts have evidence stored and not yet reconciled: the decision must wait."""


@transaction.atomic
def _reconcile_first(patient_id: int) -> None:
    """Reconcile her alerts and pay her owed reconcile (unless a worker holds it: its
    reconcile waits for her row and runs next)."""
    Patient.objects.select_for_update().get(pk=patient_id)
    alerts_reconcile([patient_id], acting_user=None)
    ReconcileOwed.objects.filter(
        pk__in=list(
            ReconcileOwed.objects.select_for_update(skip_locked=True)
            .filter(patient_id=patient_id)
            .values_list("pk", flat=True)
        )
    ).delete()


@transaction.atomic
def _alert_decide(
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
    revision: int | None = None,
    expected_regimen_id: int | None = None,
) -> Alert:
    """The decision itself, in one transaction, after the reconcile (alert_acknowledge).

    `expected_regimen_id`: the regimen a confirmed switch summary showed (the alert page's
    two-step switch); checked under her row lock, so a regimen recorded even in the same
    instant refuses the switch instead of switching from a regimen nobody confirmed."""
    patient = Patient.objects.select_for_update().get(pk=alert.patient_id)
    # Under her row lock no file can record new evidence for her (a file's store locks her
    # row before recording its debt): a debt here is evidence not yet judged.
    if ReconcileOwed.objects.filter(patient_id=patient.pk).exists():
        raise _EvidenceOwed
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    alert.patient = patient
    if alert.state not in Alert.PENDING_STATES:
        raise NotEligible(NOT_PENDING.format(state=alert.state), extra={"state": alert.state})
    if revision is not None and revision != alert.revision:
        raise Conflict(STALE, extra={"revision": alert.revision})
    if decision not in Alert.Decision.values:
        raise ValidationError(
            {"decision": [UNKNOWN_DECISION.format(choices=", ".join(Alert.Decision.values))]}
        )
    kind = alert.kind
    if decision == Alert.Decision.SWITCH:
        if kind != Alert.Kind.SWITCH_RECOMMENDED:
            raise NotEligible(
                PROGRESSION_ONLY_ACKNOWLEDGE
                if kind == Alert.Kind.ESR1_WITH_PROGRESSION
                else SWITCH_ONLY_FOR_SWITCH_ALERTS.format(kind=kind)
            )
        if patient.surveillance_state != "active":
            raise NotEligible(PATIENT_NOT_ACTIVE.format(state=patient.surveillance_state))
    elif decision == Alert.Decision.ACKNOWLEDGE:
        if kind != Alert.Kind.ESR1_WITH_PROGRESSION:
            raise NotEligible(ACKNOWLEDGE_ONLY_PROGRESSION)
    elif kind == Alert.Kind.ESR1_WITH_PROGRESSION:
        raise NotEligible(PROGRESSION_ONLY_ACKNOWLEDGE)

    config = rule_config()
    current = patient_selectors.current_regimen(patient=patient)
    if (
        decision == Alert.Decision.SWITCH
        and expected_regimen_id is not None
        and (current is None or current.pk != expected_regimen_id)
    ):
        raise Conflict(REGIMEN_CHANGED, extra={"revision": alert.revision})
    latest_collected = _latest_evidence_collection(alert)
    scans = _scans(patient) if decision == Alert.Decision.SWITCH else []
    data = DecisionInput(
        decision=decision,
        reason_code=reason_code or "",
        comment=comment or "",
        effective_on=effective_on,
        defer_until=defer_until,
        scan_performed_on=(confirmatory_scan or {}).get("performed_on"),
        scan_outcome=(confirmatory_scan or {}).get("outcome") if confirmatory_scan else None,
        attest_no_progression=bool(attest_no_progression),
    )
    errors = decision_errors(
        data,
        today=clinic_today(),
        latest_collected_on=latest_collected,
        regimen_started_on=current.started_on if current else None,
        imaging_needed=decision == Alert.Decision.SWITCH
        and confirmation_needed(alert.needs_confirmatory_imaging, scans, latest_collected),
        lookback_days=settings.SCAN_LOOKBACK_DAYS,
        reason_codes=ReasonCode.values,
        unclear_scans=[(d, o) for d, o in scans if o != ImagingAssessment.Outcome.NO_PROGRESSION],
    )
    if errors:
        raise ValidationError(errors)
    if decision == Alert.Decision.SWITCH and (
        current is None
        or current.endocrine_agent not in config.allowed_ais
        or not current.cdk46_inhibitor
    ):
        raise NotEligible(NOT_ON_ALLOWED_AI.format(allowed=", ".join(sorted(config.allowed_ais))))

    alert.decision = decision
    alert.reason_code = reason_code if decision in ("defer", "decline") else ""
    alert.comment = (comment or "").strip()
    alert.decided_by = acting_user
    alert.decided_at = timezone.now()
    alert.revision += 1
    fields = [
        "decision", "reason_code", "comment", "decided_by", "decided_at", "revision",
        "updated_at",
    ]  # fmt: skip
    if decision == Alert.Decision.SWITCH:
        if confirmatory_scan:
            patient_services.scan_record(
                patient=patient,
                performed_on=confirmatory_scan["performed_on"],
                modality=confirmatory_scan["modality"],
                outcome=confirmatory_scan["outcome"],
                note="Confirmatory imaging recorded with a ctDNA-guided switch.",
                acting_user=acting_user,
            )
        regimen = patient_services.regimen_start(
            patient=patient,
            endocrine_agent=get_formulary().switch_target,
            cdk46_inhibitor=current.cdk46_inhibitor,
            lhrh_agonist=current.lhrh_agonist,
            started_on=effective_on,
            previous_end_reason=Regimen.EndReason.CTDNA_GUIDED_SWITCH,
            allow_future_days=30,
            acting_user=acting_user,
        )
        patient_services.patient_mark_switched(patient=patient, acting_user=acting_user)
        alert.state = Alert.State.ACCEPTED
        alert.effective_on = effective_on
        alert.new_regimen = regimen
        alert.attested_no_progression = bool(attest_no_progression and not confirmatory_scan)
        fields += ["state", "effective_on", "new_regimen", "attested_no_progression"]
    elif decision == Alert.Decision.DEFER:
        alert.state = Alert.State.DEFERRED
        alert.defer_until = defer_until
        fields += ["state", "defer_until"]
    elif decision == Alert.Decision.ACKNOWLEDGE:
        alert.state = Alert.State.ACCEPTED
        fields += ["state"]
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
            "reason_code": alert.reason_code,
            "effective_on": effective_on.isoformat() if effective_on else None,
            "defer_until": defer_until.isoformat() if defer_until else None,
            "attested_no_progression": alert.attested_no_progression,
            "rule_version": alert.rule_version,
        },
    )
    alerts_reconcile([patient.pk], acting_user=acting_user)
    alert.refresh_from_db()
    return alert


REVIEW_NOT_FLAGGED = "This alert is not flagged for review."
REVIEW_NOTE_CHARS = 2000
REVIEW_NOTE_TOO_LONG = f"The note can be at most {REVIEW_NOTE_CHARS} characters; shorten it."
REVIEW_NOTE_NUL = "The note contains a NUL character (pasted from a binary file?): type it again."
REVIEW_NOTE_REQUIRED = (
    "Say what you reviewed and what follows from it (a note is required): it stays on the alert."
)


@transaction.atomic
def alert_review(*, alert: Alert, acting_user, note: str, revision: int | None = None) -> Alert:
    """Record the oncologist's review of a decided alert whose evidence changed after the
    decision (DESIGN §5: flagged for review). The flag clears; who reviewed it, when and her
    note stay on the alert and in the audit trail. It changes no therapy: undoing a switch is
    a regimen change of its own. A later material change flags the alert again (reconcile).
    Until reviewed, a flagged alert stays in the inbox whatever its age."""
    Patient.objects.select_for_update().get(pk=alert.patient_id)
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if not alert.flagged_for_review:
        raise NotEligible(REVIEW_NOT_FLAGGED)
    if revision is not None and revision != alert.revision:
        raise Conflict(STALE, extra={"revision": alert.revision})
    note = (note or "").strip()
    if not note:
        raise ValidationError({"review_note": [REVIEW_NOTE_REQUIRED]})
    if len(note) > REVIEW_NOTE_CHARS:
        raise ValidationError({"review_note": [REVIEW_NOTE_TOO_LONG]})
    if "\x00" in note:
        raise ValidationError({"review_note": [REVIEW_NOTE_NUL]})
    alert.flagged_for_review = False
    alert.reviewed_by = acting_user
    alert.reviewed_at = timezone.now()
    alert.review_note = note
    alert.revision += 1
    alert.save(
        update_fields=[
            "flagged_for_review", "reviewed_by", "reviewed_at", "review_note", "revision",
            "updated_at",
        ]
    )  # fmt: skip
    audit_record(
        action="alert.review",
        acting_user=acting_user,
        obj=alert,
        patient_id=alert.patient_id,
        detail={"note": alert.review_note, "changes": alert.flag_detail},
    )
    return alert
