"""Helpers for tests that start other processes (commands, Celery workers)."""

from __future__ import annotations

import os
from urllib.parse import quote, urlsplit, urlunsplit

from django.db import connection


def test_database_url() -> str:
    """A DATABASE_URL for the test database itself, for child processes."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    host = s["HOST"] or "localhost"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{s['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = test_database_url()
    env["DJANGO_SETTINGS_MODULE"] = "surveillance.settings.test"
    env.update(extra)
    return env


# --- pytest-xdist: one Redis database per worker ----------------------------------------------
# REDIS_URL as the run was started with, before conftest gave this worker its own database.
SHARED_REDIS_URL = os.environ.get("REDIS_URL", "")


def worker_redis_url(url: str, worker: str) -> str:
    """REDIS_URL for one pytest-xdist worker: the same server, its own database number.

    gw0 gets the database after REDIS_URL's (redis://host:port/0 -> /1), gw1 the next one, and
    so on. Celery's queues are keys of that database, so the tasks a worker's tests publish, a
    real Celery worker's --purge and everything else kept there stay with that worker's tests
    (and its own test database: pytest-django names them test_<name>_gw0, ...).
    """
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{base + 1 + int(worker.removeprefix('gw'))}"))
