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

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
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
    variants = [[protein, str(vaf)] for protein, vaf in decision.variants]
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
