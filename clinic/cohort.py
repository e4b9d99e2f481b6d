"""The dashboard's precomputed figures (clinic/models.py), kept right in the transaction of
each change, and rebuilt from scratch on demand (`manage.py cohort_rebuild`).

- CohortDay and CohortState are sums over closed draws and patients: database triggers
  (migration 0002) add every statement's net change, so the planner, the draw services, the patient
  services and the uploads keep them right without calling up into clinic.
- CohortPatient holds minima over a patient's reports and scans, which a cancellation or a
  moved report can raise: `cohort_refresh(patient_ids)` recomputes the rows of the patients
  given, set-based (one round trip for them all; a second when one of their ESR1 calls does
  not count), and the clinic workflows call it in the transaction that stores a report (one,
  or a file's) or a scan.
- An ESR1 detection is what the switch rule counts (DESIGN §5; therapy.rules.qualifying_calls,
  the one definition): a tested report (current, final/amended/corrected, QC pass) with an
  allow-listed ESR1 call that passed FILTER, at or above the floor. The allow-list match is
  Python (every HGVS form, either build), so the calls are read and judged here
  (`esr1_detected`) and the statement is given the reports that count.
- CohortAlert copies each alert's dashboard fields beside the patient's oncologist (triggers
  on therapy_alert, migration 0003): the oncologist filter reads one index.
PostgreSQL only: on SQLite (the demo run command) there are no triggers, these functions do
nothing and the dashboard computes from the base tables (clinic.metrics).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from core.db import pg_array
from therapy.config import rule_config
from therapy.rules import Esr1Call, qualifying_calls

COUNTED_STATES = ("collected", "resulted", "failed", "missed")
TESTED_STATUSES = ("final", "amended", "corrected")

# The columns of a call the rule reads (liquidbiopsy.esr1.Esr1Call), after its report.
CALL_COLUMNS = (
    "hgvs_p", "vaf", "chrom", "pos", "ref", "alt", "filter", "genome_build", "transcript",
)  # fmt: skip

# The ESR1 calls of the tested reports (of the patients given): (patient id, report id,
# *CALL_COLUMNS), for `esr1_detected` (without the patient id).
_CALLS = """
    SELECT r.patient_id, v.report_id, {columns}
    FROM liquidbiopsy_variantcall v JOIN liquidbiopsy_labreport r ON r.id = v.report_id
    WHERE v.gene = 'ESR1' AND r.is_current AND r.qc_status = 'pass'
        AND r.status IN ('final', 'amended', 'corrected') {where_report}
""".replace("{columns}", ", ".join(f"v.{c}" for c in CALL_COLUMNS))


def esr1_detected(rows) -> set[int]:
    """The reports among (report id, *CALL_COLUMNS) rows of ESR1 calls that carry a call the
    switch rule counts (therapy.rules.qualifying_calls with the rule's configuration: the
    allow-list, FILTER passed, the floor). The rows must be of tested reports only."""
    calls: dict[int, list[Esr1Call]] = {}
    for report_id, *values in rows:
        fields = dict(zip(CALL_COLUMNS, values, strict=True))
        calls.setdefault(report_id, []).append(
            Esr1Call(**{k: (v if v is not None or k == "pos" else "") for k, v in fields.items()})
        )
    config = rule_config()
    return {pk for pk, these in calls.items() if qualifying_calls(these, config)}


# Which tested reports `_FACTS` counts as detections: every report with an ESR1 call (the
# candidates: a superset, one statement, no Python), or exactly those `esr1_detected` judged.
CANDIDATE_REPORT = """EXISTS (SELECT 1 FROM liquidbiopsy_variantcall v
    WHERE v.report_id = r.id AND v.gene = 'ESR1')"""
DETECTED_REPORT = "r.id = ANY(%(detected)s::bigint[])"

# Per patient (of those in `target`): first tested report, first ESR1 detection (the reports
# `esr1_report` picks), first progression scan on or after it (DESIGN: detection and lead
# time, clinic/metrics.py).
_FACTS = """
    WITH tested AS (
        SELECT r.patient_id, min(r.collected_on) AS first_tested_on,
            min(r.collected_on) FILTER (WHERE {esr1_report}) AS first_esr1_on
        FROM liquidbiopsy_labreport r
        WHERE r.is_current AND r.qc_status = 'pass'
            AND r.status IN ('final', 'amended', 'corrected') {where_report}
        GROUP BY r.patient_id
    )
    -- Correlated subqueries, on purpose: one index probe each, whatever the statistics say.
    -- (A join form of this statement was planned as nested loops over whole tables on
    -- freshly loaded data without statistics: 160 s for 100,000 patients.)
    SELECT t.patient_id, p.oncologist_id, t.first_tested_on, t.first_esr1_on,
        (SELECT min(s.performed_on) FROM patients_imagingassessment s
         WHERE s.patient_id = t.patient_id AND s.outcome = 'progression'
            AND s.performed_on >= t.first_esr1_on) AS progression_on
    FROM tested t JOIN patients_patient p ON p.id = t.patient_id
    WHERE t.first_esr1_on IS NOT NULL
"""

_UPSERT = """
    INSERT INTO clinic_cohortpatient AS c (patient_id, oncologist_id, first_tested_on,
        first_esr1_on, progression_on)
    {facts}
    ON CONFLICT (patient_id) DO UPDATE SET oncologist_id = excluded.oncologist_id,
        first_tested_on = excluded.first_tested_on, first_esr1_on = excluded.first_esr1_on,
        progression_on = excluded.progression_on
    WHERE (c.oncologist_id, c.first_tested_on, c.first_esr1_on, c.progression_on)
        IS DISTINCT FROM (excluded.oncologist_id, excluded.first_tested_on,
            excluded.first_esr1_on, excluded.progression_on)
"""


@transaction.atomic(savepoint=False)  # a transaction of its own, or the caller's (no savepoint)
def cohort_refresh(patient_ids: Iterable[int]) -> None:
    """Make these patients' CohortPatient rows what their current reports and scans give.

    The patients' rows are locked first (id order, as the alert reconcile does), so two
    transactions refreshing one patient run one after the other and the second sees the
    first's reports: the recompute reads after the lock is granted."""
    ids = sorted({int(pk) for pk in patient_ids})
    if not ids or connection.vendor != "postgresql":
        return
    # One round trip, two when an ESR1 call does not count. The lock; JIT off (compiling
    # costs ~0.4 s on a large set and gains nothing here; the caller's setting is kept in a
    # placeholder and restored after); one statement that computes the facts once, taking
    # every report with an ESR1 call as a detection (the candidates), upserts them and
    # deletes the rows of patients who have none (a report cancelled or moved); and, last
    # (its result is the one returned), the candidates' ESR1 calls. The rule's definition
    # judges them in Python: when a candidate does not count (a filtered call, one off the
    # allow-list or below the floor), the facts of its patient are computed again from the
    # detections (one statement for all such patients).
    ids_param = pg_array(ids)
    with connection.cursor() as cur:
        cur.execute(
            f"""
            SELECT id FROM patients_patient WHERE id = ANY(%(ids)s::bigint[])
                ORDER BY id FOR NO KEY UPDATE;
            {_refresh_sql(CANDIDATE_REPORT)};
            {_CALLS.format(where_report=_OF_IDS)}
            """,  # noqa: S608 - constants and placeholders only
            {"ids": ids_param},
        )
        rows = cur.fetchall()
        detected = esr1_detected(row[1:] for row in rows)
        # Only the patients with a candidate that does not count are computed again.
        again = {patient_id for patient_id, report_id, *_ in rows if report_id not in detected}
        if again:
            theirs = {report_id for patient_id, report_id, *_ in rows if patient_id in again}
            cur.execute(
                _refresh_sql(DETECTED_REPORT),
                {"ids": pg_array(sorted(again)), "detected": pg_array(sorted(theirs & detected))},
            )


_OF_IDS = "AND r.patient_id = ANY(%(ids)s::bigint[])"


def _refresh_sql(esr1_report: str) -> str:
    """The facts of the patients %(ids)s, upserted, and the rows of those without a
    detection deleted, with JIT off for the statement (see cohort_refresh)."""
    facts = _FACTS.format(where_report=_OF_IDS, esr1_report=esr1_report)
    return f"""
        SELECT set_config('surveillance.jit_before', current_setting('jit'), true);
        SELECT set_config('jit', 'off', true);
        WITH facts AS ({facts}),
        upserted AS ({_UPSERT.format(facts="SELECT * FROM facts")} RETURNING 1)
        DELETE FROM clinic_cohortpatient c WHERE c.patient_id = ANY(%(ids)s::bigint[])
            AND NOT EXISTS (SELECT 1 FROM facts f WHERE f.patient_id = c.patient_id);
        SELECT set_config('jit', current_setting('surveillance.jit_before'), true)
    """  # noqa: S608 - constants and placeholders only


@transaction.atomic
def cohort_rebuild() -> dict:
    """Recompute every precomputed figure from the base tables (the triggers' sums too);
    holds the tables' locks so no change lands half-counted. Returns the row counts."""
    counted = ", ".join(f"'{s}'" for s in COUNTED_STATES)
    if connection.vendor != "postgresql":
        return {"days": 0, "states": 0, "patients": 0, "alerts": 0}
    with connection.cursor() as cur:
        # Writers of patients, draws and the figures wait; readers read the old figures
        # until this commits (DELETE, not TRUNCATE, keeps them readable).
        cur.execute(
            "LOCK TABLE patients_patient, patients_draw IN SHARE ROW EXCLUSIVE MODE; "
            "LOCK TABLE therapy_alert IN SHARE ROW EXCLUSIVE MODE; "
            "LOCK TABLE clinic_cohortday, clinic_cohortstate, clinic_cohortpatient, "
            "clinic_cohortalert IN EXCLUSIVE MODE"
        )
        cur.execute(
            "DELETE FROM clinic_cohortday; DELETE FROM clinic_cohortstate; "
            "DELETE FROM clinic_cohortpatient; DELETE FROM clinic_cohortalert"
        )
        cur.execute(
            f"""
            INSERT INTO clinic_cohortday (oncologist_id, day, due, in_window)
            SELECT p.oncologist_id, d.window_closes_on, count(*),
                count(*) FILTER (
                    WHERE d.collected_on BETWEEN d.window_opens_on AND d.window_closes_on)
            FROM patients_draw d JOIN patients_patient p ON p.id = d.patient_id
            WHERE d.state IN ({counted})
            GROUP BY p.oncologist_id, d.window_closes_on
            """  # noqa: S608 - constants only
        )
        days = cur.rowcount
        cur.execute(
            """
            INSERT INTO clinic_cohortstate (oncologist_id, state, patients)
            SELECT oncologist_id, surveillance_state, count(*) FROM patients_patient
            GROUP BY oncologist_id, surveillance_state
            """
        )
        states = cur.rowcount
        cur.execute(_CALLS.format(where_report=""))
        detected = sorted(esr1_detected(row[1:] for row in cur.fetchall()))
        cur.execute(
            _UPSERT.format(facts=_FACTS.format(where_report="", esr1_report=DETECTED_REPORT)),
            {"detected": pg_array(detected)},
        )
        patients = cur.rowcount
        cur.execute(
            """
            INSERT INTO clinic_cohortalert (alert_id, patient_id, oncologist_id, opened_at, kind,
                state, decision, reason_code, escalation_level, decided_at)
            SELECT a.id, a.patient_id, p.oncologist_id, a.opened_at, a.kind, a.state,
                a.decision, a.reason_code, a.escalation_level, a.decided_at
            FROM therapy_alert a JOIN patients_patient p ON p.id = a.patient_id
            """
        )
        alerts = cur.rowcount
    return {"days": days, "states": states, "patients": patients, "alerts": alerts}
