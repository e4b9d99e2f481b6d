"""Ingestion benchmark: a 100,000-row CSV (20,000 reports for 20,000 patients).

Usage (PostgreSQL only; the script creates and drops its own database on that server):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/ingest.py

Every patient is active on letrozole + palbociclib for 400 days, so every report (ESR1
p.Asp538Gly at 0.42%) opens a switch alert: the reconcile does its real work. Uploads the
file through the real endpoint (POST /api/v1/reports/upload/; it is large, so it answers 202
and the worker's task processes it, run here in-process), then pays the alert reconciles the
file owes (therapy.owed, what the worker's nudge runs), all of it timed as "end to end". On
the same database it then COPYs the same 100,000 variant rows into the same table (rolled
back): the floor. Then the JSON endpoint, one report of five variants per request, with its
query count. Then the whole again at scale 1/10 (a subprocess, its own database) for the
growth ratios. Prints one JSON line. Budgets (issue #14): end to end at most 4x the COPY;
JSON p95 at most 25 ms; growth from 1/10 to full at most linear (bulk) and 1.3x (JSON p95).
BENCH_SCALE=0.1 runs one scale only (what the subprocess does).
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import bench_database_url, percentile  # noqa: E402

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
REPORTS = int(int(os.environ.get("BENCH_REPORTS", "20000")) * SCALE)
VARIANTS_PER_REPORT = 5
JSON_REQUESTS = int(os.environ.get("BENCH_JSON_REQUESTS", "200"))
BENCH_DB = "surveillance_bench_ingest" + ("" if SCALE == 1 else "_small")
GENES = [
    ("ESR1", "p.Asp538Gly", "6", 152098791, "A", "G"),
    ("PIK3CA", "p.His1047Arg", "3", 179234297, "A", "G"),
    ("TP53", "p.Arg273His", "17", 7673802, "C", "T"),
    ("AKT1", "p.Glu17Lys", "14", 104780214, "C", "T"),
    ("ERBB2", "p.Leu755Ser", "17", 39723966, "T", "C"),
]
HEADER = (
    "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
    "qc_status,tumor_fraction,gene,hgvs_p,genome_build,chrom,pos,ref,alt,vaf_percent,depth"
)


def main() -> None:
    os.environ["DATABASE_URL"] = bench_database_url(BENCH_DB)
    os.environ["DJANGO_SETTINGS_MODULE"] = "surveillance.settings.test"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    # The 202 path enqueues the worker's task; the bench runs that task itself, in-process.
    os.environ["CELERY_BROKER_URL"] = "memory://"
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import connection, transaction
    from rest_framework.test import APIClient

    from accounts.roles import Role
    from accounts.services import api_token_issue
    from clinic.tasks import upload_process
    from core.clock import clinic_today
    from core.runtime import process_ready
    from liquidbiopsy.models import LabReport, VariantCall
    from tests.factories import UserFactory
    from therapy.models import Alert
    from therapy.owed import reconcile_owed_run

    call_command("migrate", verbosity=0)
    oncologist = UserFactory(username="bench_onc", role=Role.ONCOLOGIST)
    lab = UserFactory(username="bench_lab", role=Role.LAB)
    today = clinic_today()
    total_patients = REPORTS + JSON_REQUESTS
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO patients_patient (created_at, updated_at, mrn, given_name, family_name,
                date_of_birth, oncologist_id, surveillance_state, surveillance_interval_weeks,
                surveillance_start_on, surveillance_start_explicit)
            SELECT now(), now(), 'I' || lpad(g::text, 7, '0'), 'Given', 'Family' || g,
                DATE '1955-01-01' + mod(g, 9000), %s, 'active', 8, %s::date - 400, false
            FROM generate_series(1, %s) AS g
            """,
            [oncologist.pk, today, total_patients],
        )
        cur.execute(
            """
            INSERT INTO patients_draw (created_at, updated_at, patient_id, planned_on, due_on,
                window_opens_on, window_closes_on, state, is_redraw, collected_at, collected_on,
                accession, reason_code, reason_note)
            SELECT now(), now(), p.id, %s::date - 10, %s::date - 10, %s::date - 17,
                %s::date - 3, 'collected', false, now() - interval '10 days', %s::date - 10,
                'ACC-' || p.mrn, '', ''
            FROM patients_patient p
            """,
            [today, today, today, today, today],
        )
        cur.execute(
            """
            INSERT INTO patients_regimen (created_at, updated_at, patient_id, endocrine_agent,
                cdk46_inhibitor, lhrh_agonist, started_on, end_reason)
            SELECT now(), now(), p.id, 'letrozole', 'palbociclib', '', %s::date - 400, ''
            FROM patients_patient p
            """,
            [today],
        )
        cur.execute("SELECT mrn, date_of_birth FROM patients_patient ORDER BY id")
        patients = cur.fetchall()
        cur.execute("ANALYZE")
    collected_on = (today.fromordinal(today.toordinal() - 10)).isoformat()
    reported_on = today.isoformat()

    lines = [HEADER]
    for mrn, dob in patients[:REPORTS]:
        for gene, hgvs_p, chrom, pos, ref, alt in GENES[:VARIANTS_PER_REPORT]:
            lines.append(
                f"REP-{mrn},1,final,ACC-{mrn},{mrn},{dob},{collected_on},{reported_on},"
                f"Guardant360 CDx,pass,0.021,{gene},{hgvs_p},GRCh38,{chrom},{pos},{ref},{alt},"
                f"0.42,15000"
            )
    data = ("\n".join(lines) + "\n").encode()

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(username=lab.username)}")
    # A running server has imported its URLconf and views already: the first request of a
    # process pays ~1 s of imports, which is not the upload's cost.
    client.get("/api/v1/uploads/0/")
    process_ready()  # what each web and worker process does once at start (core.runtime)
    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        start = time.perf_counter()
        response = client.post(
            "/api/v1/reports/upload/",
            {"file": SimpleUploadedFile("bench.csv", data, "text/csv")},
            format="multipart",
        )
        if response.status_code != 202:
            sys.exit(f"upload answered {response.status_code}: {response.content[:500]!r}")
        upload_id = response.json()["id"]
        upload_process(upload_id)  # what the Celery worker runs
        stored_seconds = time.perf_counter() - start
        reconciled = reconcile_owed_run()  # what the nudge (or the sweep) runs
        upload_seconds = time.perf_counter() - start
    status = client.get(f"/api/v1/uploads/{upload_id}/").json()
    if status["state"] != "done":
        sys.exit(f"upload ended {status['state']}: {status['errors'][:5]}")
    upload_queries = statements[0]

    # The same 100,000 variant rows by COPY into the same table, rolled back.
    report_ids = dict(LabReport.objects.values_list("report_id", "id"))
    buffer = io.StringIO()
    for mrn, _dob in patients[:REPORTS]:
        rid = report_ids[f"REP-{mrn}"]
        for gene, hgvs_p, chrom, pos, ref, alt in GENES[:VARIANTS_PER_REPORT]:
            buffer.write(
                f"{rid}\t{gene}\t{hgvs_p}\t\t\tGRCh38\t{chrom}\t{pos}\t{ref}\t{alt}\t0.0042\t15000\t[]\n"
            )
    with transaction.atomic():
        with connection.cursor() as cur:
            buffer.seek(0)
            start = time.perf_counter()
            cur.cursor.copy_expert(
                "COPY liquidbiopsy_variantcall (report_id, gene, hgvs_p, hgvs_c, transcript, "
                "genome_build, chrom, pos, ref, alt, vaf, depth, flags) FROM STDIN",
                buffer,
            )
            copy_seconds = time.perf_counter() - start
        transaction.set_rollback(True)

    # The JSON endpoint, one report per request, for the remaining patients. This machine
    # kind's PostgreSQL runs with autovacuum off (SHOW autovacuum): the tables the file just
    # filled would keep an empty table's statistics for ever, which no server in use has.
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    times = []
    json_queries = []
    for mrn, dob in patients[REPORTS:]:
        body = {
            "report_id": f"JSON-{mrn}",
            "version": 1,
            "status": "final",
            "accession": f"ACC-{mrn}",
            "patient": {"mrn": mrn, "date_of_birth": dob.isoformat()},
            "collected_on": collected_on,
            "reported_on": reported_on,
            "assay": "Guardant360 CDx",
            "qc_status": "pass",
            "tumor_fraction": 0.021,
            "variants": [
                {
                    "gene": g,
                    "hgvs_p": hp,
                    "genome_build": "GRCh38",
                    "chrom": c,
                    "pos": p,
                    "ref": r,
                    "alt": a,
                    "vaf_percent": 0.42,
                    "depth": 15000,
                }
                for g, hp, c, p, r, a in GENES
            ],
        }
        before = statements[0]
        with connection.execute_wrapper(count):
            start = time.perf_counter()
            answer = client.post("/api/v1/reports/", body, format="json")
            times.append((time.perf_counter() - start) * 1000)
        json_queries.append(statements[0] - before)
        if answer.status_code != 201:
            sys.exit(f"JSON answered {answer.status_code}: {answer.content[:300]!r}")

    rows = REPORTS * VARIANTS_PER_REPORT
    figures = {
        "bench": "ingest",
        "scale": SCALE,
        "rows": rows,
        "reports": REPORTS,
        "patients": total_patients,
        "upload_seconds": round(upload_seconds, 2),
        "upload_stored_seconds": round(stored_seconds, 2),
        "reconcile_seconds": round(upload_seconds - stored_seconds, 2),
        "patients_reconciled": reconciled,
        "alerts_open": Alert.objects.filter(state=Alert.State.OPEN).count(),
        "rows_per_second": round(rows / upload_seconds),
        "upload_sql_queries": upload_queries,
        "variant_rows_stored": VariantCall.objects.filter(report__upload_id=upload_id).count(),
        "floor_copy_seconds_same_rows": round(copy_seconds, 3),
        "upload_to_copy_ratio": round(upload_seconds / copy_seconds, 1),
        "json_report_p50_ms": round(statistics.median(times), 1),
        "json_report_p95_ms": round(percentile(times, 95), 1),
        "json_report_queries": max(json_queries),
        "budgets": {"upload_to_copy_ratio": 4, "json_p95_ms": 25},
    }
    if SCALE == 1 and not os.environ.get("BENCH_NO_GROWTH"):
        figures["growth"] = _growth(figures)
    print(json.dumps(figures))


def _growth(full: dict) -> dict:
    """The same bench at scale 1/10 in a subprocess (its own database): the ratios."""
    import subprocess

    env = {**os.environ, "BENCH_SCALE": "0.1"}
    out = subprocess.run(  # noqa: S603 (this script, by its own path)
        [sys.executable, __file__], env=env, capture_output=True, text=True, check=True
    ).stdout
    small = json.loads(out.strip().splitlines()[-1])
    return {
        "small": {k: small[k] for k in ("rows", "upload_seconds", "json_report_p95_ms")},
        "rows_ratio": round(full["rows"] / small["rows"], 1),
        "upload_seconds_ratio": round(full["upload_seconds"] / small["upload_seconds"], 2),
        "json_p95_ratio": round(full["json_report_p95_ms"] / small["json_report_p95_ms"], 2),
        "budgets": {"upload_seconds_ratio": "<= rows_ratio", "json_p95_ratio": 1.3},
    }


if __name__ == "__main__":
    main()
