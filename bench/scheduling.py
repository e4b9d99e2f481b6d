"""Scheduling benchmark: the planner and the worklist page at 10,000 and 100,000 patients.

Usage (PostgreSQL only; the script creates and drops its own database on that server):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/scheduling.py

Each size runs in a child process with a fresh database: active patients with ten past
draws each (about 1,000,000 at 100,000 patients), spread so that their next draws fall
from two months ago to two months ahead. It times the planner for a full catch-up (every
patient needs a draw), a steady day (2% drawn yesterday) and a day with nothing to do, then
the worklist page for every section (server time through Django's test client, logged in
as a nurse; also the Python process's own CPU time, which waiting for a busy CPU or for
PostgreSQL does not inflate: the planner's `python_cpu_s`, a page's `cpu_p50_ms`), next to
the floor: the same page of rows read by raw SQL. Prints ONE JSON
line: both sizes' figures, the budgets (issue #14), the growth from 10k to 100k (pages
flat: at most 1.3x; bulk paths at most linear, 10x) and whether each holds.

BENCH_SIZES (default "10000,100000"), BENCH_REQUESTS (requests a section, default 100).
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

SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "10000,100000").split(",")]
HISTORY_PER_PATIENT = int(os.environ.get("BENCH_HISTORY", "10"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "100"))
BENCH_DB = "surveillance_bench_scheduling"
SECTIONS = ("overdue", "due", "upcoming", "awaiting", "redraw")
PAGE_SIZE = 25
BUDGETS = {
    "catchup_s": 5.0,
    "steady_s": 0.3,
    "worklist_p95_ms": 25.0,
    "worklist_queries": 4,
    "page_growth_max": 1.3,  # 10k -> 100k patients
    "bulk_growth_max": 10.0,  # linear: 10x the patients, at most 10x the time
}


def measure(patients: int) -> dict:
    """One size, in this process: seed, plan, pages. Returns its figures."""
    os.environ["DATABASE_URL"] = bench_database_url(BENCH_DB)
    os.environ["DJANGO_SETTINGS_MODULE"] = "surveillance.settings.test"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.roles import Role
    from core.clock import clinic_today
    from core.runtime import process_ready
    from patients import selectors
    from patients.scheduling import FAILED, DrawResult, draws_apply_results, draws_plan
    from tests.factories import UserFactory

    def vacuum_analyze():
        # Outside a transaction (VACUUM refuses one); what autovacuum does in production.
        connection.ensure_connection()
        with connection.cursor() as cur:
            for table in ("patients_patient", "patients_draw", "audit_auditevent"):
                cur.execute(f"VACUUM ANALYZE {table}")

    call_command("migrate", verbosity=0)
    oncologist = UserFactory(username="bench_onc", role=Role.ONCOLOGIST)
    nurse = UserFactory(username="bench_nurse", role=Role.NURSE)
    today = clinic_today()

    t0 = time.perf_counter()
    with connection.cursor() as cur:
        # Next draws from two months ago to two months ahead: every section has rows.
        seed_patients_and_draws(
            cur, oncologist.pk, today, patients, HISTORY_PER_PATIENT, shift_days=56
        )
        cur.execute("SELECT count(*) FROM patients_draw")
        history = cur.fetchone()[0]
    seed_seconds = time.perf_counter() - t0
    vacuum_analyze()

    def timed_plan():
        with CaptureQueriesContext(connection) as ctx:
            start, cpu = time.perf_counter(), time.process_time()
            result = draws_plan(today=today)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        return {
            "seconds": round(seconds, 3),
            "python_cpu_s": round(cpu, 3),
            "queries": len(ctx.captured_queries),
            "created": result.created,
        }

    catchup = timed_plan()
    vacuum_analyze()  # as autovacuum would after a bulk change
    with connection.cursor() as cur:
        # A steady day: about 2% of patients were drawn yesterday and their next draw is
        # missing (the services plan it at once; this is the safety net's worst ordinary day).
        cur.execute(
            """
            UPDATE patients_draw SET state = 'collected', collected_at = now() - interval '1 day',
                collected_on = %s::date - 1, accession = 'S' || id
            WHERE state = 'scheduled' AND mod(id, 50) = 0
            """,
            [today],
        )
    steady = timed_plan()
    idle = timed_plan()
    # Failed samples (1 patient in 200) so that the redraw section has rows: the service a
    # lab result calls (their open draws are replaced by redraws, due at once).
    with connection.cursor() as cur:
        cur.execute(
            "SELECT max(id) FROM patients_draw WHERE state = 'resulted' AND mod(patient_id, 200) = 0"
            " GROUP BY patient_id"
        )
        failed = [row[0] for row in cur.fetchall()]
    draws_apply_results(
        results=[DrawResult(pk, FAILED, "qc_fail") for pk in failed], acting_user=None
    )
    vacuum_analyze()

    client = Client()
    client.force_login(nurse)
    client.get("/worklist/")  # warm up (the session's idle refresh, compiled statements)
    process_ready()  # what each web process does once at start (core.runtime)
    pages = {}
    for section in SECTIONS:
        times, cpu_times, queries = [], [], set()
        for i in range(REQUESTS):
            url = f"/worklist/?section={section}&page={1 + i % 3}"
            with CaptureQueriesContext(connection) as ctx:
                start, cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                cpu_times.append((time.process_time() - cpu) * 1000)
            if response.status_code != 200:
                sys.exit(f"{url} answered {response.status_code}")
            queries.add(len(ctx.captured_queries))
        pages[section] = {
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(percentile(times, 95), 2),
            "cpu_p50_ms": round(statistics.median(cpu_times), 2),
            "queries": max(queries),
        }

    # The floor: the same page of rows (patient, oncologist joined) read by raw SQL.
    floors = {}
    with connection.cursor() as cur:
        for section in SECTIONS:
            rows = selectors.worklist_rows(section=section, today=today)
            sql, params = rows.query.sql_with_params()
            times = []
            for i in range(REQUESTS):
                start = time.perf_counter()
                cur.execute(f"{sql} LIMIT {PAGE_SIZE} OFFSET {PAGE_SIZE * (i % 3)}", params)
                cur.fetchall()
                times.append((time.perf_counter() - start) * 1000)
            floors[section] = round(statistics.median(times), 3)
        counts = selectors.worklist_page(today=today, section="due").counts

    return {
        "patients": patients,
        "historical_draws": history,
        "seed_seconds": round(seed_seconds, 1),
        "catchup": catchup,
        "steady_day": steady,
        "idle_day": idle,
        "section_counts": counts,
        "worklist": pages,
        "floor_raw_rows_p50_ms": floors,
    }


def main() -> None:
    if os.environ.get("BENCH_CHILD_SIZE"):
        print(json.dumps(measure(int(os.environ["BENCH_CHILD_SIZE"]))))
        return
    runs = {}
    for size in SIZES:
        child = subprocess.run(  # noqa: S603 - this script, in its own interpreter
            [sys.executable, __file__],
            env={**os.environ, "BENCH_CHILD_SIZE": str(size)},
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            sys.exit(f"size {size} failed:\n{child.stderr[-4000:]}")
        runs[size] = json.loads(child.stdout.strip().splitlines()[-1])
    big = runs[max(SIZES)]
    checks = {
        "catchup_s": big["catchup"]["seconds"] <= BUDGETS["catchup_s"],
        "steady_s": big["steady_day"]["seconds"] <= BUDGETS["steady_s"],
        "worklist_p95_ms": all(
            p["p95_ms"] <= BUDGETS["worklist_p95_ms"] for p in big["worklist"].values()
        ),
        "worklist_queries": all(
            p["queries"] <= BUDGETS["worklist_queries"]
            for run in runs.values()
            for p in run["worklist"].values()
        ),
    }
    growth = {}
    if len(SIZES) > 1:
        small = runs[min(SIZES)]
        growth = {
            "from_to": [min(SIZES), max(SIZES)],
            "worklist_p50": {
                s: round(big["worklist"][s]["p50_ms"] / small["worklist"][s]["p50_ms"], 2)
                for s in SECTIONS
            },
            "worklist_p95": {
                s: round(big["worklist"][s]["p95_ms"] / small["worklist"][s]["p95_ms"], 2)
                for s in SECTIONS
            },
            "catchup": round(big["catchup"]["seconds"] / small["catchup"]["seconds"], 2),
            "steady_day": round(big["steady_day"]["seconds"] / small["steady_day"]["seconds"], 2),
        }
        checks["page_growth"] = all(
            r <= BUDGETS["page_growth_max"] for r in growth["worklist_p50"].values()
        )
        checks["bulk_growth"] = (
            max(growth["catchup"], growth["steady_day"]) <= (BUDGETS["bulk_growth_max"])
        )
    print(
        json.dumps(
            {
                "bench": "scheduling",
                "sizes": runs,
                "growth": growth,
                "budgets": BUDGETS,
                "holds": checks,
            }
        )
    )


if __name__ == "__main__":
    main()
