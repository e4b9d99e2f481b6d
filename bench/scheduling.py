"""Scheduling benchmark: 100,000 active patients with about 1,000,000 past draws.

Usage (PostgreSQL only; the script creates and drops its own database on that server):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/scheduling.py

Prints one JSON line: the planner's time and query count for a full catch-up (every patient
needs a draw) and for a steady day, and the worklist page's server time p50/p95 and query
count, next to a raw SQL query for the same page of rows. Budgets (issue #3): catch-up
<= 10 s, steady day <= 1 s, worklist p95 <= 100 ms with <= 10 queries.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import bench_database_url, percentile, seed_patients_and_draws  # noqa: E402

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "100000"))
HISTORY_PER_PATIENT = int(os.environ.get("BENCH_HISTORY", "10"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "60"))
BENCH_DB = "surveillance_bench_scheduling"


def main() -> None:
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
    from patients.scheduling import draws_plan
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
        # Patients whose surveillance started 1.5-3 years ago, spread so that their next
        # draws fall anywhere from two months ago to two months ahead.
        seed_patients_and_draws(cur, oncologist.pk, today, PATIENTS, HISTORY_PER_PATIENT)
        cur.execute("SELECT count(*) FROM patients_draw")
        history = cur.fetchone()[0]
    seed_seconds = time.perf_counter() - t0
    vacuum_analyze()

    def timed_plan():
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            result = draws_plan(today=today)
            seconds = time.perf_counter() - start
        return seconds, len(ctx.captured_queries), result

    catchup_s, catchup_q, catchup = timed_plan()
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
    steady_s, steady_q, steady = timed_plan()
    idle_s, idle_q, idle = timed_plan()
    vacuum_analyze()

    client = Client()
    client.force_login(nurse)
    client.get("/worklist/")  # warm up (session refresh, caches)
    pages = {}
    for section in ("overdue", "due", "upcoming", "awaiting"):
        times, queries = [], set()
        for i in range(REQUESTS):
            url = f"/worklist/?section={section}&page={1 + i % 3}"
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                sys.exit(f"{url} answered {response.status_code}")
            queries.add(len(ctx.captured_queries))
        pages[section] = {
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 95), 1),
            "queries": max(queries),
        }

    raw_times = []
    with connection.cursor() as cur:
        for i in range(REQUESTS):
            start = time.perf_counter()
            cur.execute(
                """
                SELECT d.id, d.due_on, d.window_opens_on, d.window_closes_on, p.id, p.mrn,
                       p.given_name, p.family_name, u.username
                FROM patients_draw d
                JOIN patients_patient p ON p.id = d.patient_id
                JOIN auth_user u ON u.id = p.oncologist_id
                WHERE d.state = 'scheduled' AND NOT d.is_redraw
                  AND d.window_opens_on <= %s AND d.window_closes_on >= %s
                ORDER BY d.window_closes_on, d.due_on, d.id LIMIT 25 OFFSET %s
                """,
                [today, today, 25 * (i % 3)],
            )
            cur.fetchall()
            raw_times.append((time.perf_counter() - start) * 1000)

    print(
        json.dumps(
            {
                "bench": "scheduling",
                "patients": PATIENTS,
                "historical_draws": history,
                "seed_seconds": round(seed_seconds, 1),
                "catchup": {
                    "seconds": round(catchup_s, 2),
                    "queries": catchup_q,
                    "created": catchup.created,
                },
                "steady_day": {
                    "seconds": round(steady_s, 3),
                    "queries": steady_q,
                    "created": steady.created,
                },
                "idle_day": {
                    "seconds": round(idle_s, 3),
                    "queries": idle_q,
                    "created": idle.created,
                },
                "worklist": pages,
                "raw_sql_same_page_p50_ms": round(statistics.median(raw_times), 2),
                "budgets": {
                    "catchup_s": 10,
                    "steady_s": 1,
                    "worklist_p95_ms": 100,
                    "worklist_queries": 10,
                },
            }
        )
    )


if __name__ == "__main__":
    main()
