"""Dashboard benchmark: the cohort dashboard at 100,000 patients and 1,000,000 draws.

Usage (PostgreSQL only; the script creates and drops its own database on that server):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/dashboard.py

Seeds the scheduling benchmark's cohort plus a lab report for one resulted draw in five (ESR1
in one report in twenty), alerts and progression scans, then requests /dashboard/ through
Django's test client and prints one JSON line: server time p50/p95 and the query count.
Budget (issue #6): at most 2 s.
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
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "10"))
BENCH_DB = "surveillance_bench_dashboard"


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
    from tests.factories import UserFactory

    call_command("migrate", verbosity=0)
    oncologist = UserFactory(username="bench_onc", role=Role.ONCOLOGIST)
    lab = UserFactory(username="bench_lab", role=Role.LAB)
    today = clinic_today()
    start = time.perf_counter()
    with connection.cursor() as cur:
        seed_patients_and_draws(cur, oncologist.pk, today, PATIENTS, HISTORY_PER_PATIENT)
        cur.execute(
            """
            INSERT INTO liquidbiopsy_labreport (created_at, updated_at, lab_account_id, report_id,
                version, status, is_current, draw_id, patient_id, assay, qc_status, collected_on,
                reported_on, payload, payload_sha256, received_at)
            SELECT now(), now(), %s, 'B-' || d.id, 1, 'final', true, d.id, d.patient_id, 'G360',
                'pass', d.collected_on, d.collected_on, '{}'::jsonb, 'x', now()
            FROM patients_draw d WHERE d.state = 'resulted' AND mod(d.id, 5) = 0
            """,
            [lab.pk],
        )
        cur.execute(
            """
            INSERT INTO liquidbiopsy_variantcall (report_id, gene, hgvs_p, hgvs_c, transcript,
                genome_build, chrom, pos, ref, alt, vaf, flags)
            SELECT r.id, 'ESR1', 'p.Asp538Gly', '', '', 'GRCh38', '6', 152098791, 'A', 'G',
                0.004, '[]'::jsonb
            FROM liquidbiopsy_labreport r WHERE mod(r.id, 20) = 0
            """
        )
        cur.execute(
            """
            INSERT INTO therapy_alert (created_at, updated_at, patient_id, kind, state,
                rule_version, facts_snapshot, variants, needs_confirmatory_imaging, opened_at,
                escalation_level, decision, reason_code, comment, decided_at,
                attested_no_progression, withdrawn_reason, withdrawn_detail, flagged_for_review,
                flag_detail, episode, revision)
            SELECT now(), now(), p.id, 'switch_recommended',
                CASE WHEN mod(p.id, 3) = 0 THEN 'open' ELSE 'accepted' END, 'serena6-v1', '{}',
                '[]', false, now() - interval '5 days', mod(p.id, 2),
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
    connection.ensure_connection()
    with connection.cursor() as cur:
        for table in ("patients_draw", "liquidbiopsy_labreport", "liquidbiopsy_variantcall"):
            cur.execute(f"VACUUM ANALYZE {table}")
    seed_seconds = time.perf_counter() - start

    client = Client()
    client.force_login(oncologist)
    client.get("/dashboard/")
    times, queries = [], set()
    for _ in range(REQUESTS):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get("/dashboard/")
            times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            sys.exit(f"/dashboard/ answered {response.status_code}")
        queries.add(len(ctx.captured_queries))
    print(
        json.dumps(
            {
                "bench": "dashboard",
                "patients": PATIENTS,
                "draws": PATIENTS * HISTORY_PER_PATIENT,
                "seed_seconds": round(seed_seconds, 1),
                "dashboard_p50_ms": round(statistics.median(times), 1),
                "dashboard_p95_ms": round(percentile(times, 95), 1),
                "queries": max(queries),
                "budget_ms": 2000,
            }
        )
    )


if __name__ == "__main__":
    main()
