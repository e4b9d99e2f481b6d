"""Dashboard benchmark: the cohort dashboard at 10,000 and 100,000 patients.

Usage (PostgreSQL only; the script creates and drops its own database on that server):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/dashboard.py

For each size (BENCH_SIZES, default "10000,100000"; 10 past draws a patient, so 100,000 and
1,000,000 draws) a child process seeds the scheduling benchmark's cohort, split between two
oncologists (two thirds, one third), plus a lab report for one resulted draw in five (ESR1 in one report in twenty),
alerts and a scan for every patient (one in seven showing progression); it then refreshes the
dashboard's precomputed figures the way an upload does (clinic.cohort.cohort_refresh, for a
fifth of the cohort and for all of it), rebuilds them (`manage.py cohort_rebuild`), and
requests /dashboard/ through Django's test client with each filter it offers: none (the last
12 months), one oncologist, and a five-year range. It prints ONE JSON line: per size the
server time p50/p95 and SQL queries per filter, the metrics statement alone, the same figures
computed from the base tables (what the page cost before the precompute), refresh and
rebuild times; the growth ratios 100k/10k (worst p95, and p50 per filter); the budgets and
whether each holds (the growth budget holds only if every ratio does).
Budgets (issue 14): p95 at most 300 ms at 100,000 patients; at most 1.3x from 10k to 100k.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import bench_database_url, percentile, seed_patients_and_draws  # noqa: E402

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "10000,100000").split(",")]
HISTORY_PER_PATIENT = int(os.environ.get("BENCH_HISTORY", "10"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "40"))
BENCH_DB = "surveillance_bench_dashboard"
BUDGET_P95_MS = 300
BUDGET_GROWTH = 1.3


def _seed(cur, oncologist_id, other_id, lab_id, today, patients) -> None:
    seed_patients_and_draws(cur, oncologist_id, today, patients, HISTORY_PER_PATIENT)
    # A tenth of the collections nine days late (outside the window): an UPDATE of 100,000
    # rows of the 1,000,000 (the draw trigger's set-based path).
    cur.execute(
        """
        UPDATE patients_draw SET collected_on = collected_on + 9,
            collected_at = collected_at + interval '9 days'
        WHERE state = 'resulted' AND mod(abs(hashtext(id::text)), 10) = 0
        """
    )
    # A third of the cohort to a second oncologist (the triggers move their draws' figures).
    cur.execute("UPDATE patients_patient SET oncologist_id = %s WHERE mod(id, 3) = 0", [other_id])
    cur.execute(
        """
        INSERT INTO liquidbiopsy_labreport (created_at, updated_at, lab_account_id, report_id,
            version, status, is_current, draw_id, patient_id, assay, qc_status, collected_on,
            reported_on, payload, payload_sha256, received_at)
        SELECT now(), now(), %s, 'B-' || d.id, 1, 'final', true, d.id, d.patient_id, 'G360',
            'pass', d.collected_on, d.collected_on, '{}'::jsonb, 'x', now()
        FROM patients_draw d WHERE d.state = 'resulted' AND mod(abs(hashtext(d.id::text)), 5) = 0
        """,
        [lab_id],
    )
    cur.execute(
        """
        INSERT INTO liquidbiopsy_variantcall (report_id, gene, hgvs_p, hgvs_c, transcript,
            genome_build, chrom, pos, ref, alt, vaf, flags)
        SELECT r.id, 'ESR1', 'p.Asp538Gly', '', '', 'GRCh38', '6', 152098791, 'A', 'G',
            0.004, '[]'::jsonb
        FROM liquidbiopsy_labreport r WHERE mod(abs(hashtext(r.id::text)), 20) = 0
        """
    )
    cur.execute(
        """
        INSERT INTO therapy_alert (created_at, updated_at, patient_id, kind, state,
            rule_version, facts_snapshot, variants, evidence_variants, needs_confirmatory_imaging,
            opened_at,
            escalation_level, decision, reason_code, comment, decided_at,
            attested_no_progression, withdrawn_reason, withdrawn_detail, flagged_for_review,
            flag_detail, episode, revision)
        SELECT now(), now(), p.id, 'switch_recommended',
            CASE WHEN mod(p.id, 3) = 0 THEN 'open' ELSE 'accepted' END, 'serena6-v1', '{}',
            '[]', '[]', false, now() - interval '5 days', mod(p.id, 2),
            CASE WHEN mod(p.id, 3) = 0 THEN '' ELSE 'switch' END, '', '',
            CASE WHEN mod(p.id, 3) = 0 THEN NULL ELSE now() - interval '3 days' END,
            false, '', '{}', false, '[]', 1, 0
        FROM patients_patient p WHERE mod(p.id, 50) = 0
        """
    )
    cur.execute(
        """
        INSERT INTO patients_imagingassessment (created_at, updated_at, patient_id,
            performed_on, modality, outcome, note)
        SELECT now(), now(), p.id, %s::date - mod(p.id, 300)::int, 'ct',
            CASE WHEN mod(p.id, 7) = 0 THEN 'progression' ELSE 'no_progression' END, ''
        FROM patients_patient p
        """,
        [today],
    )


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def child(patients: int) -> dict:
    """One size, in its own process (its own database and Django setup)."""
    os.environ["DATABASE_URL"] = bench_database_url(BENCH_DB)
    os.environ["DJANGO_SETTINGS_MODULE"] = "surveillance.settings.test"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    import datetime as dt

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.roles import Role
    from clinic.cohort import cohort_rebuild, cohort_refresh
    from clinic.metrics import Filters, cohort_metrics, cohort_metrics_from_scratch
    from core.clock import clinic_today
    from core.runtime import process_ready
    from patients.models import Patient
    from tests.factories import UserFactory

    call_command("migrate", verbosity=0)
    oncologist = UserFactory(username="bench_onc", role=Role.ONCOLOGIST)
    other = UserFactory(username="bench_onc2", role=Role.ONCOLOGIST)
    lab = UserFactory(username="bench_lab", role=Role.LAB)
    today = clinic_today()
    start = time.perf_counter()
    with connection.cursor() as cur:
        _seed(cur, oncologist.pk, other.pk, lab.pk, today, patients)
        # (ids are hashed to pick reports and ESR1 calls: a modulo of the id would follow the
        # insert order, putting every report on a fifth of the patients and every first ESR1
        # call in one season, outside the default 12 months)
    seed_seconds = time.perf_counter() - start
    ids = list(Patient.objects.order_by("pk").values_list("pk", flat=True))
    # An upload of 20,000 reports touches about a fifth of the 100,000 patients.
    fifth = ids[::5]
    with transaction.atomic():
        refresh_fifth = _timed(lambda: cohort_refresh(fifth))
    with transaction.atomic():
        refresh_all = _timed(lambda: cohort_refresh(ids))
    with transaction.atomic():
        refresh_one = _timed(lambda: cohort_refresh(ids[:1]))
    rebuild = _timed(cohort_rebuild)
    with connection.cursor() as cur:
        for table in ("patients_draw", "liquidbiopsy_labreport", "liquidbiopsy_variantcall",
                      "patients_patient", "clinic_cohortday", "clinic_cohortpatient"):  # fmt: skip
            cur.execute(f"VACUUM ANALYZE {table}")

    client = Client()
    client.force_login(oncologist)
    process_ready()  # what each web process does once at start (core.runtime)
    filters = {
        "none": "",
        "oncologist": f"?oncologist={other.pk}",
        "five_years": f"?from={today - dt.timedelta(days=5 * 365)}&to={today}",
    }
    pages = {}
    for name, query in filters.items():
        client.get("/dashboard/" + query)
        times, queries = [], set()
        for _ in range(REQUESTS):
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                response = client.get("/dashboard/" + query)
                times.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                sys.exit(f"/dashboard/{query} answered {response.status_code}")
            queries.add(len(ctx.captured_queries))
        pages[name] = {
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 95), 1),
            "queries": max(queries),
        }
    year = Filters(date_from=today - dt.timedelta(days=365), date_to=today)
    sql_times = [_timed(lambda: cohort_metrics(year)) * 1000 for _ in range(REQUESTS)]
    shown = cohort_metrics(year)
    scratch_times = [_timed(lambda: cohort_metrics_from_scratch(year)) * 1000 for _ in range(3)]
    if (
        cohort_metrics(year).lead_time_summary
        != cohort_metrics_from_scratch(year).lead_time_summary
    ):
        sys.exit("precomputed lead times differ from the base tables")
    return {
        "patients": patients,
        "draws": patients * HISTORY_PER_PATIENT,
        "seed_seconds": round(seed_seconds, 1),
        "pages": pages,
        "worst_p95_ms": max(p["p95_ms"] for p in pages.values()),
        "metrics_query_p50_ms": round(statistics.median(sql_times), 1),
        "from_base_tables_p50_ms": round(statistics.median(scratch_times), 1),
        "refresh_one_patient_ms": round(refresh_one * 1000, 1),
        "refresh_fifth_seconds": round(refresh_fifth, 2),
        "refresh_fifth_patients": len(fifth),
        "refresh_all_seconds": round(refresh_all, 2),
        "rebuild_seconds": round(rebuild, 2),
        "year_figures": {
            "esr1_detections": int(shown.detection["patients"].sum()),
            "lead_times": shown.lead_time_summary["n"],
            "alerts_decided": shown.response_hours["n"],
            "draws_due": int(shown.adherence["draws_due"].sum()),
        },
    }


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(child(int(sys.argv[2]))))
        return
    runs = {}
    for size in SIZES:
        out = subprocess.run(  # noqa: S603 - this script, fixed arguments
            [sys.executable, __file__, "--child", str(size)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs[size] = json.loads(out.strip().splitlines()[-1])
    largest, smallest = runs[max(SIZES)], runs[min(SIZES)]
    growth = round(largest["worst_p95_ms"] / smallest["worst_p95_ms"], 2)
    growth_p50 = {
        name: round(page["p50_ms"] / smallest["pages"][name]["p50_ms"], 2)
        for name, page in largest["pages"].items()
    }
    print(
        json.dumps(
            {
                "bench": "dashboard",
                "sizes": list(runs.values()),
                "growth_p95_ratio": growth,
                "growth_p50_ratio_by_filter": growth_p50,
                "budget_p95_ms": BUDGET_P95_MS,
                "budget_growth": BUDGET_GROWTH,
                "p95_within_budget": largest["worst_p95_ms"] <= BUDGET_P95_MS,
                "growth_within_budget": max(growth, *growth_p50.values()) <= BUDGET_GROWTH,
            }
        )
    )


if __name__ == "__main__":
    main()
