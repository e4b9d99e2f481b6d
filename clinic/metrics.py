"""Cohort surveillance metrics (DESIGN.md, issue 6), from a few set-based queries + pandas.

Large tables are aggregated in SQL (draws by month, patients by state); pandas takes the
small remainder (per-patient ESR1 dates, alerts, progression scans). Filters: a date range
and the responsible oncologist. Definitions:
- adherence: draws whose window closed in the month (within the range) and that were
  collected, resulted, failed, missed, or are still scheduled with the window closed;
  share = those collected inside their window. Cancelled draws do not count.
- first-draw vs emergent: patients whose first ESR1 call (any ESR1 variant in a current,
  passing report) falls in the range; "first draw" when it is on their first passing report.
- hours to decision: alerts opened in the range and decided: decided_at - opened_at.
- lead time: days from a patient's first ESR1 call to the first progression scan on or after
  it, for patients with both.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from django.db.models import Count, F, Min, Q
from django.db.models.functions import TruncMonth

from core.clock import clinic_today
from liquidbiopsy.models import LabReport
from patients.models import Draw, ImagingAssessment, Patient
from therapy.models import Alert

CLOSED_DRAW_STATES = ["collected", "resulted", "failed", "missed"]


@dataclass
class Filters:
    date_from: dt.date
    date_to: dt.date
    oncologist_id: int | None = None

    def patients(self, prefix: str = "") -> Q:
        if not self.oncologist_id:
            return Q()
        return Q(**{f"{prefix}oncologist_id": self.oncologist_id})


@dataclass
class CohortMetrics:
    states: pd.DataFrame  # state, patients
    adherence: pd.DataFrame  # month, draws_due, collected_in_window, share
    detection: pd.DataFrame  # kind (first draw / emergent), patients
    response_hours: dict  # median, p90, n
    decisions: pd.DataFrame  # kind, decision, reason_code, alerts
    alerts_open: int
    alerts_escalated: int
    lead_time: pd.DataFrame  # patient_id, first_esr1_on, progression_on, lead_days
    lead_time_summary: dict  # median_days, n


def _frame(rows, columns) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=columns)


def cohort_metrics(filters: Filters) -> CohortMetrics:
    """Seven queries whatever the cohort size."""
    by_patient = filters.patients("patient__")

    states = _frame(
        Patient.objects.filter(filters.patients())
        .values("surveillance_state")
        .annotate(n=Count("id"))
        .order_by("surveillance_state")
        .values_list("surveillance_state", "n"),
        ["state", "patients"],
    )

    adherence = _frame(
        Draw.objects.filter(
            by_patient,
            Q(state__in=CLOSED_DRAW_STATES)
            | Q(state=Draw.State.SCHEDULED, window_closes_on__lt=clinic_today()),
            window_closes_on__gte=filters.date_from,
            window_closes_on__lte=filters.date_to,
        )
        .annotate(month=TruncMonth("window_closes_on"))
        .values("month")
        .annotate(
            due=Count("id"),
            in_window=Count(
                "id",
                filter=Q(
                    collected_on__gte=F("window_opens_on"),
                    collected_on__lte=F("window_closes_on"),
                ),
            ),
        )
        .order_by("month")
        .values_list("month", "due", "in_window"),
        ["month", "draws_due", "collected_in_window"],
    )
    adherence["share"] = (adherence["collected_in_window"] / adherence["draws_due"]).round(3)

    # First tested report vs first ESR1 detection, per patient (one grouped query).
    tested = LabReport.objects.filter(
        by_patient, is_current=True, qc_status="pass", status__in=["final", "amended", "corrected"]
    )
    per_patient = _frame(
        tested.values("patient_id")
        .annotate(
            first_tested=Min("collected_on"),
            first_esr1=Min("collected_on", filter=Q(variants__gene="ESR1")),
        )
        .values_list("patient_id", "first_tested", "first_esr1"),
        ["patient_id", "first_tested", "first_esr1"],
    )
    detected = per_patient.dropna(subset=["first_esr1"])
    detected = detected[
        (detected["first_esr1"] >= filters.date_from) & (detected["first_esr1"] <= filters.date_to)
    ]
    first_draw = int((detected["first_esr1"] == detected["first_tested"]).sum())
    detection = pd.DataFrame(
        {"kind": ["first draw", "emergent"], "patients": [first_draw, len(detected) - first_draw]}
    )

    alerts = _frame(
        Alert.objects.filter(
            by_patient,
            opened_at__date__gte=filters.date_from,
            opened_at__date__lte=filters.date_to,
        ).values_list(
            "kind",
            "state",
            "decision",
            "reason_code",
            "opened_at",
            "decided_at",
            "escalation_level",
        ),
        ["kind", "state", "decision", "reason_code", "opened_at", "decided_at", "escalation_level"],
    )
    decided = alerts.dropna(subset=["decided_at"])
    # utc=True on both sides: an empty or all-None column parses as tz-naive, and naive minus
    # aware is a TypeError (an oncologist whose alerts have no decision yet answered 500).
    hours = (
        pd.to_datetime(decided["decided_at"], utc=True)
        - pd.to_datetime(decided["opened_at"], utc=True)
    ).dt.total_seconds() / 3600
    response_hours = {
        "median": round(float(hours.median()), 1) if len(hours) else None,
        "p90": round(float(hours.quantile(0.9)), 1) if len(hours) else None,
        "n": len(hours),
    }
    decisions = (
        alerts[alerts["decision"] != ""]
        .groupby(["kind", "decision", "reason_code"], as_index=False)
        .size()
        .rename(columns={"size": "alerts"})
    )
    pending = alerts[alerts["state"].isin(["open"])]

    progression = _frame(
        ImagingAssessment.objects.filter(by_patient, outcome="progression").values_list(
            "patient_id", "performed_on"
        ),
        ["patient_id", "progression_on"],
    )
    lead = detected[["patient_id", "first_esr1"]].merge(progression, on="patient_id")
    lead = lead[lead["progression_on"] >= lead["first_esr1"]]
    lead = lead.groupby(["patient_id", "first_esr1"], as_index=False)["progression_on"].min()
    lead["lead_days"] = (
        pd.to_datetime(lead["progression_on"]) - pd.to_datetime(lead["first_esr1"])
    ).dt.days
    return CohortMetrics(
        states=states,
        adherence=adherence,
        detection=detection,
        response_hours=response_hours,
        decisions=decisions,
        alerts_open=len(pending),
        alerts_escalated=int((pending["escalation_level"] > 0).sum()),
        lead_time=lead.rename(columns={"first_esr1": "first_esr1_on"}),
        lead_time_summary={
            "median_days": float(lead["lead_days"].median()) if len(lead) else None,
            "n": len(lead),
        },
    )
