"""Shared by the benchmark scripts: a database of their own, and percentiles."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit, urlunsplit


def bench_database_url(name: str) -> str:
    """Drop and create database `name` on DATABASE_URL's PostgreSQL server; its URL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (the script makes its own database).")
    import psycopg2

    parts = urlsplit(url)
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        cur.execute(f"CREATE DATABASE {name}")
    admin.close()
    return urlunsplit(parts._replace(path=f"/{name}"))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def seed_patients_and_draws(
    cur, oncologist_id: int, today, patients: int, history: int, *, shift_days: int = 0
) -> None:
    """`patients` active patients, each with `history` past draws 8 weeks apart (mostly
    resulted, one in 23 missed), spread so their next draws fall around today.

    The last past draw is 56-175 days before today, less `shift_days` (at most 56; 56 puts
    the next draws from two months ago to two months ahead, every worklist section full)."""
    cur.execute(
        """
        INSERT INTO patients_patient (created_at, updated_at, mrn, given_name, family_name,
            date_of_birth, oncologist_id, surveillance_state, surveillance_interval_weeks,
            surveillance_start_on, surveillance_start_explicit)
        SELECT now(), now(), 'B' || lpad(g::text, 7, '0'), 'Given' || g, 'Family' || mod(g, 5000),
            DATE '1955-01-01' + mod(g, 9000), %s, 'active', 8,
            %s::date - (%s * 56 + mod(g, 120)) + %s, false
        FROM generate_series(1, %s) AS g
        """,
        [oncologist_id, today, history, min(shift_days, 56), patients],
    )
    cur.execute(
        """
        INSERT INTO patients_draw (created_at, updated_at, patient_id, planned_on, due_on,
            window_opens_on, window_closes_on, state, is_redraw, collected_at,
            collected_on, accession, reason_code, reason_note)
        SELECT now(), now(), p.id, d, d, d - 7, d + 7,
            CASE WHEN mod(k, 23) = 0 THEN 'missed' ELSE 'resulted' END, false,
            CASE WHEN mod(k, 23) = 0 THEN NULL ELSE d::timestamp + time '10:00' END,
            CASE WHEN mod(k, 23) = 0 THEN NULL ELSE d END,
            CASE WHEN mod(k, 23) = 0 THEN NULL ELSE 'H' || p.id || '-' || k END,
            CASE WHEN mod(k, 23) = 0 THEN 'did_not_attend' ELSE '' END, ''
        FROM patients_patient p
        CROSS JOIN generate_series(0, %s - 1) AS k
        CROSS JOIN LATERAL (SELECT p.surveillance_start_on + k * 56 AS d) AS dd
        """,
        [history],
    )
