from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.db import TimeStampedModel
from therapy.reasons import ReasonCode


class Alert(TimeStampedModel):
    """A recommendation put in front of the responsible oncologist (DESIGN.md §5).

    The product only recommends: therapy changes only through an oncologist's decision.
    """

    class Kind(models.TextChoices):
        SWITCH_RECOMMENDED = "switch_recommended", "Consider switching to camizestrant"
        REVIEW = "review", "Early ESR1: review"
        ESR1_WITH_PROGRESSION = "esr1_with_progression", "ESR1 with progression"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        DEFERRED = "deferred", "Deferred"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Decision(models.TextChoices):
        SWITCH = "switch", "Switch accepted"
        DEFER = "defer", "Deferred"
        DECLINE = "decline", "Declined"
        ACKNOWLEDGE = "acknowledge", "Acknowledged: managed on the progression pathway"

    class WithdrawnReason(models.TextChoices):
        EVIDENCE_RETRACTED = (
            "evidence_retracted",
            "Its evidence was retracted (reports cancelled, corrected or moved)",
        )
        PROGRESSION = "progression", "Progression took over"
        PATIENT_STATE = "patient_state", "The patient's surveillance is not active"
        SUPERSEDED = "superseded", "Superseded by a switch alert"
        NO_LONGER_ELIGIBLE = (
            "no_longer_eligible",
            "The rule no longer gives it: her facts at the blood test changed",
        )

    PENDING_STATES = (State.OPEN, State.DEFERRED)
    ACTED_ON_STATES = (State.ACCEPTED, State.DECLINED)

    patient = models.ForeignKey("patients.Patient", models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=32, choices=Kind)
    state = models.CharField(max_length=16, choices=State, default=State.OPEN)
    rule_version = models.CharField(max_length=32)
    facts_snapshot = models.JSONField()  # the facts of the latest evaluation that fed it
    variants = models.JSONField(default=list)  # [[protein, allele fraction], ...]
    # Every variant its evidence showed, each at its strongest fraction: what a decline or an
    # acceptance is taken to have seen (a persisting variant then does not re-alert).
    evidence_variants = models.JSONField(default=list)  # [[protein, allele fraction], ...]
    needs_confirmatory_imaging = models.BooleanField(default=False)
    opened_at = models.DateTimeField()
    escalation_level = models.PositiveSmallIntegerField(default=0)
    defer_until = models.DateField(null=True, blank=True)
    decision = models.CharField(max_length=16, choices=Decision, blank=True)
    reason_code = models.CharField(max_length=32, choices=ReasonCode, blank=True)
    comment = models.TextField(blank=True, max_length=2000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    effective_on = models.DateField(null=True, blank=True)
    attested_no_progression = models.BooleanField(default=False)
    new_regimen = models.ForeignKey(
        "patients.Regimen",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    withdrawn_reason = models.CharField(max_length=32, choices=WithdrawnReason, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # What withdrew it: {"reports": [{"report_id", "version", "status"}], "scan_on", "state"}.
    withdrawn_detail = models.JSONField(default=dict, blank=True)
    # An alert already acted on whose evidence later changed materially; flag_detail says how.
    flagged_for_review = models.BooleanField(default=False)
    flag_detail = models.JSONField(default=list, blank=True)
    # How the evidence differed from the decision's at the last flag (flag lines without their
    # report version): a later version that differs the same way flags nothing new.
    flag_state = models.JSONField(default=list, blank=True, db_default=[])
    # The oncologist's review of a flag (therapy.decisions.alert_review): the flag clears, who
    # reviewed it, when and what she concluded stay; a later material change flags it again.
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(max_length=2000, blank=True, default="", db_default="")
    # Each pending episode (opened, or reopened after a deferral) escalates and notifies afresh.
    episode = models.PositiveSmallIntegerField(default=1)
    # Bumped by every change; a decision names the revision its author saw (409 if stale).
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["opened_at", "id"]
        constraints = [
            # One pending alert per patient and kind: new evidence attaches to it, and a
            # repeated or concurrent evaluation cannot open a second one.
            models.UniqueConstraint(
                fields=["patient", "kind"],
                condition=Q(state__in=["open", "deferred"]),
                name="one_pending_alert_per_patient_kind",
            ),
        ]
        indexes = [
            # The inbox (open first, oldest first) and the escalation sweep.
            models.Index(fields=["state", "opened_at"], name="alert_state_opened"),
        ]

    def __str__(self) -> str:
        return f"Alert {self.pk} ({self.kind}, {self.state})"


class AlertEvidence(models.Model):
    """A report version that supports an alert."""

    alert = models.ForeignKey(Alert, models.CASCADE, related_name="evidence")
    report = models.ForeignKey("liquidbiopsy.LabReport", models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "report"], name="one_evidence_per_report")
        ]

    def __str__(self) -> str:
        return f"Evidence {self.report_id} for alert {self.alert_id}"


class SwitchEvaluation(models.Model):
    """Every run of the rule, with its version and the facts it saw, so it can be replayed."""

    report = models.ForeignKey("liquidbiopsy.LabReport", models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        "patients.Patient", models.PROTECT, related_name="+", db_index=False
    )
    rule_version = models.CharField(max_length=32)
    kind = models.CharField(max_length=32, blank=True)
    reasons = models.JSONField(default=list)
    facts_snapshot = models.JSONField()
    alert = models.ForeignKey(Alert, models.SET_NULL, null=True, blank=True, related_name="+")
    evaluated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "-evaluated_at"], name="evaluation_patient")]

    def __str__(self) -> str:
        return f"Evaluation of report {self.report_id}: {self.kind or 'no alert'}"


class ReconcileOwed(models.Model):
    """A patient whose alerts must be reconciled by a worker (work owed, DESIGN §5).

    Written in the transaction that stores the reports (a lab file), before any task is
    queued; a worker claims rows with SELECT ... FOR UPDATE SKIP LOCKED, reconciles and deletes
    them in one transaction, so a worker killed mid-way leaves them owed for the next run
    (the beat entry `therapy.alerts_reconcile_owed` runs every minute as the safety net)."""

    patient = models.OneToOneField("patients.Patient", models.CASCADE, related_name="+")
    owed_since = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Reconcile owed for patient {self.patient_id}"
