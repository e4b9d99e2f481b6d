"""Reads for the switch rule and the alert pages."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from liquidbiopsy.models import LabReport, VariantCall
from patients import selectors as patient_selectors
from patients.models import ImagingAssessment
from therapy.models import Alert, AlertEvidence
from therapy.rules import Esr1Call, SwitchFacts


def switch_facts_for_report(*, report: LabReport) -> SwitchFacts:
    """The facts the rule needs about one report version and its patient (a few queries)."""
    patient = report.patient
    regimen = patient_selectors.current_regimen(patient=patient)
    progression = (
        regimen is not None
        and ImagingAssessment.objects.filter(
            patient=patient,
            outcome=ImagingAssessment.Outcome.PROGRESSION,
            performed_on__gte=regimen.started_on,
        ).exists()
    )
    # The latest clear scan up to now: one taken after the blood draw is recent too.
    latest_clear = (
        ImagingAssessment.objects.filter(
            patient=patient, outcome=ImagingAssessment.Outcome.NO_PROGRESSION
        )
        .order_by("-performed_on")
        .values_list("performed_on", flat=True)
        .first()
    )
    declined = (
        Alert.objects.filter(
            patient=patient,
            state=Alert.State.DECLINED,
            kind__in=[Alert.Kind.SWITCH_RECOMMENDED, Alert.Kind.REVIEW],
        )
        .order_by("-decided_at", "-id")
        .values_list("variants", flat=True)
        .first()
    )
    calls = VariantCall.objects.filter(report=report, gene="ESR1")
    return SwitchFacts(
        report_status=report.status,
        qc_status=report.qc_status,
        esr1_calls=tuple(
            Esr1Call(hgvs_p=c.hgvs_p, vaf=c.vaf, chrom=c.chrom, pos=c.pos, ref=c.ref, alt=c.alt)
            for c in calls
        ),
        collected_on=report.collected_on,
        surveillance_state=patient.surveillance_state,
        endocrine_agent=regimen.endocrine_agent if regimen else None,
        cdk46_inhibitor=regimen.cdk46_inhibitor if regimen else None,
        regimen_started_on=regimen.started_on if regimen else None,
        progression_on_current_regimen=progression,
        latest_no_progression_scan_on=latest_clear,
        declined=tuple((protein, Decimal(str(vaf))) for protein, vaf in (declined or [])),
    )


def facts_snapshot(facts: SwitchFacts) -> dict:
    """A JSON-safe copy of the facts, stored with every decision."""

    def plain(value):
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return value

    return plain(dataclasses.asdict(facts))


def alert_list(*, patient_id=None, state="", kind="") -> QuerySet[Alert]:
    qs = Alert.objects.select_related("patient", "patient__oncologist").prefetch_related(
        Prefetch(
            "evidence",
            queryset=AlertEvidence.objects.select_related("report").prefetch_related(
                Prefetch("report__variants", queryset=VariantCall.objects.order_by("gene", "id"))
            ),
        )
    )
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("opened_at", "id")


def alerts_with_context(qs: QuerySet[Alert]) -> QuerySet[Alert]:
    """Alerts with their patient, the current regimen and the latest scan joined in (one query)."""
    return patient_selectors.with_current_regimen_and_latest_scan(
        qs.select_related("patient", "patient__oncologist"), patient_ref="patient_id"
    )


def patient_alerts(*, patient_id: int) -> list[Alert]:
    """Every alert of one patient, newest first, with who decided (one query)."""
    return list(
        Alert.objects.filter(patient_id=patient_id)
        .select_related("decided_by")
        .order_by("-opened_at", "-id")
    )
