"""Cohort surveillance metrics (DESIGN.md, issues 6 and 14).

`cohort_metrics` reads the precomputed figures (clinic/models.py, kept right by
clinic/cohort.py) and the alerts in one SQL statement whose cost does not grow with the
cohort: per oncologist and day for closed draws (open draws whose window has closed, few,
live), per oncologist and state for patients, the
patients with an ESR1 call first seen in the range, the alerts opened in it (a copy beside
the patient's oncologist).
`cohort_metrics_from_scratch` computes the same figures from the base tables (the
definition; the property tests hold the two equal). Filters: a date range and the
responsible oncologist. Definitions:
- adherence: draws whose window closed in the month (within the range) and that were
  collected, resulted, failed, missed, or are still scheduled with the window closed;
  share = those collected inside their window. Cancelled draws do not count.
- first-draw vs emergent: patients whose first ESR1 detection falls in the range: a tested
  report (current, final/amended/corrected, QC pass) with an ESR1 call the switch rule counts
  (allow-listed, FILTER passed, at or above the floor: clinic.cohort.esr1_detected, which is
  therapy.rules.qualifying_calls); "first draw" when it is on their first tested report.
- hours to decision: alerts opened in the range and decided (switch, decline, acknowledge):
  decided_at - opened_at. A deferral is no decision: a deferred alert is still pending
  (DESIGN §5: "pending (open or deferred)"), and counts when it is decided.
- pending alerts: of the alerts opened in the range, those open or deferred now; escalated:
  the open ones past their SLA (escalation level above 0).
- lead time: days from a patient's first ESR1 detection to the first progression scan on or
  after it, for patients with both.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field

import pandas as pd
from django.db import connection
from django.db.models import Count, F, Min, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from clinic.cohort import CALL_COLUMNS, esr1_detected
from core.clock import clinic_today
from liquidbiopsy.models import LabReport, VariantCall
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
    alerts_open: int  # pending and not deferred
    alerts_escalated: int  # open and escalated
    alerts_pending: int  # open or deferred (DESIGN §5)
    lead_time_summary: dict  # median_days, n
    lead_days: list[int] = field(default_factory=list)  # sorted, one per patient
    # patient_id, first_esr1_on, progression_on, lead_days: read only when asked for (the
    # CSV export); the page needs only the lead days.
    lead_time: pd.DataFrame | None = None

    @property
    def alerts_deferred(self) -> int:
        return self.alerts_pending - self.alerts_open


def _frame(rows, columns) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=columns)


def cohort_metrics_from_scratch(filters: Filters) -> CohortMetrics:
    """The figures straight from the base tables (five queries whose cost grows with the
    cohort): the definition the precomputed `cohort_metrics` must equal (property-tested),
    and what `cohort_rebuild` would give."""
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

    # First tested report (one grouped query) vs first ESR1 detection (the tested reports'
    # ESR1 calls, judged as the rule judges them), per patient.
    tested = LabReport.objects.filter(
        by_patient, is_current=True, qc_status="pass", status__in=["final", "amended", "corrected"]
    )
    calls = list(
        VariantCall.objects.filter(report__in=tested, gene="ESR1").values_list(
            "report__patient_id", "report__collected_on", "report_id", *CALL_COLUMNS
        )
    )
    detected_reports = esr1_detected(row[2:] for row in calls)
    first_esr1: dict[int, dt.date] = {}
    for patient_id, collected_on, report_id, *_ in calls:
        if report_id in detected_reports:
            first_esr1[patient_id] = min(collected_on, first_esr1.get(patient_id, collected_on))
    per_patient = _frame(
        tested.values("patient_id")
        .annotate(first_tested=Min("collected_on"))
        .values_list("patient_id", "first_tested"),
        ["patient_id", "first_tested"],
    )
    per_patient["first_esr1"] = per_patient["patient_id"].map(first_esr1)
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
    decided = decided[decided["decision"] != "defer"]
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
    pending = alerts[alerts["state"].isin(["open", "deferred"])]
    still_open = pending[pending["state"] == "open"]

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
        alerts_open=len(still_open),
        alerts_escalated=int((still_open["escalation_level"] > 0).sum()),
        alerts_pending=len(pending),
        lead_time=lead.rename(columns={"first_esr1": "first_esr1_on"}),
        lead_days=sorted(int(d) for d in lead["lead_days"]),
        lead_time_summary={
            "median_days": float(lead["lead_days"].median()) if len(lead) else None,
            "n": len(lead),
        },
    )


# --- From the precomputed figures: one statement -------------------------------------------

_ONC = "oncologist_id = %(onc)s"

_METRICS_SQL = """
WITH states AS (
    SELECT state, sum(patients) AS n FROM clinic_cohortstate WHERE {onc}
    GROUP BY state HAVING sum(patients) <> 0
), overdue AS (
    -- Open draws whose window closed before today count as due (and not in window); read
    -- live, through the worklist's partial indexes (non-redraws, redraws).
    SELECT x.window_closes_on AS day FROM patients_draw x {onc_join_x}
    WHERE x.state = 'scheduled' AND NOT x.is_redraw
        AND x.window_closes_on BETWEEN %(date_from)s AND %(date_to)s
        AND x.window_closes_on < %(today)s
    UNION ALL
    SELECT x.window_closes_on FROM patients_draw x {onc_join_x}
    WHERE x.state = 'scheduled' AND x.is_redraw
        AND x.window_closes_on BETWEEN %(date_from)s AND %(date_to)s
        AND x.window_closes_on < %(today)s
), adherence AS (
    SELECT date_trunc('month', day)::date AS month, sum(due) AS due,
        sum(in_window) AS in_window
    FROM (
        SELECT day, due, in_window FROM clinic_cohortday
        WHERE day BETWEEN %(date_from)s AND %(date_to)s AND {onc}
        UNION ALL SELECT day, 1, 0 FROM overdue
    ) AS d
    GROUP BY 1 HAVING sum(due) <> 0
), detected AS (
    SELECT c.first_esr1_on = c.first_tested_on AS first_draw,
        c.progression_on - c.first_esr1_on AS lead_days, count(*) AS n
    FROM clinic_cohortpatient c
    WHERE c.first_esr1_on BETWEEN %(date_from)s AND %(date_to)s AND {onc_c}
    GROUP BY 1, 2
), alerts AS (
    SELECT a.kind, a.state, a.decision, a.reason_code, a.escalation_level,
        CASE WHEN a.decision <> 'defer'
            THEN extract(epoch FROM a.decided_at - a.opened_at) / 3600 END AS hours
    FROM clinic_cohortalert a
    WHERE a.opened_at >= %(opened_from)s AND a.opened_at < %(opened_to)s AND {onc_a}
)
SELECT
    (SELECT coalesce(json_agg(json_build_array(state, n) ORDER BY state COLLATE "C"), '[]')
     FROM states),
    (SELECT coalesce(json_agg(json_build_array(month, due, in_window) ORDER BY month), '[]')
     FROM adherence),
    (SELECT coalesce(json_agg(json_build_array(first_draw, lead_days, n)), '[]') FROM detected),
    (SELECT json_build_array(
        percentile_cont(0.5) WITHIN GROUP (ORDER BY hours),
        percentile_cont(0.9) WITHIN GROUP (ORDER BY hours),
        count(hours),
        count(*) FILTER (WHERE state = 'open'),
        count(*) FILTER (WHERE state = 'open' AND escalation_level > 0),
        count(*) FILTER (WHERE state IN ('open', 'deferred'))) FROM alerts),
    (SELECT coalesce(json_agg(json_build_array(kind, decision, reason_code, n)
        ORDER BY kind COLLATE "C", decision COLLATE "C", reason_code COLLATE "C"), '[]')
     FROM (SELECT kind, decision, reason_code, count(*) AS n FROM alerts
           WHERE decision <> '' GROUP BY 1, 2, 3) AS d)
"""


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight of a clinic day, aware: alerts are filtered by their clinic date."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _metrics_sql(filters: Filters) -> str:
    if filters.oncologist_id:
        return _METRICS_SQL.format(
            onc=_ONC,
            onc_c="c." + _ONC,
            onc_a="a." + _ONC,
            onc_join_x="JOIN patients_patient p ON p.id = x.patient_id AND p." + _ONC,
        )
    return _METRICS_SQL.format(onc="true", onc_c="true", onc_a="true", onc_join_x="")


def cohort_metrics(filters: Filters, *, lead_rows: bool = False) -> CohortMetrics:
    """The dashboard's figures from the precomputed tables: one query whatever the cohort
    size (two with `lead_rows`, the per-patient lead times of the CSV export). On SQLite
    (the demo run command; no triggers) the figures come from the base tables."""
    if connection.vendor != "postgresql":
        return cohort_metrics_from_scratch(filters)
    params = {
        "onc": filters.oncologist_id,
        "today": clinic_today(),
        "date_from": filters.date_from,
        "date_to": filters.date_to,
        "opened_from": _day_start(filters.date_from),
        "opened_to": _day_start(filters.date_to + dt.timedelta(days=1)),
    }
    with connection.cursor() as cur:
        cur.execute(_metrics_sql(filters), params)
        states, adherence, detected, hours, decisions = cur.fetchone()

    adherence_frame = pd.DataFrame(
        [(dt.date.fromisoformat(m), due, ok) for m, due, ok in adherence],
        columns=["month", "draws_due", "collected_in_window"],
    )
    adherence_frame["share"] = (
        adherence_frame["collected_in_window"] / adherence_frame["draws_due"]
    ).round(3)
    first_draw = sum(n for is_first, _, n in detected if is_first)
    emergent = sum(n for is_first, _, n in detected if not is_first)
    lead_days = sorted(days for _, days, n in detected if days is not None for _ in range(n))
    median_hours, p90_hours, decided, still_open, escalated, pending = hours
    return CohortMetrics(
        states=pd.DataFrame(states, columns=["state", "patients"]),
        adherence=adherence_frame,
        detection=pd.DataFrame(
            {"kind": ["first draw", "emergent"], "patients": [first_draw, emergent]}
        ),
        response_hours={
            "median": round(float(median_hours), 1) if decided else None,
            "p90": round(float(p90_hours), 1) if decided else None,
            "n": decided,
        },
        decisions=pd.DataFrame(decisions, columns=["kind", "decision", "reason_code", "alerts"]),
        alerts_open=still_open,
        alerts_escalated=escalated,
        alerts_pending=pending,
        lead_days=lead_days,
        lead_time_summary={
            "median_days": float(statistics.median(lead_days)) if lead_days else None,
            "n": len(lead_days),
        },
        lead_time=_lead_rows(filters) if lead_rows else None,
    )


def _lead_rows(filters: Filters) -> pd.DataFrame:
    from clinic.models import CohortPatient

    rows = CohortPatient.objects.filter(
        filters.patients(),
        first_esr1_on__gte=filters.date_from,
        first_esr1_on__lte=filters.date_to,
        progression_on__isnull=False,
    ).order_by("patient_id")
    frame = _frame(
        rows.values_list("patient_id", "first_esr1_on", "progression_on"),
        ["patient_id", "first_esr1_on", "progression_on"],
    )
    frame["lead_days"] = [
        (p - f).days for f, p in zip(frame["first_esr1_on"], frame["progression_on"], strict=True)
    ]
    return frame
