"""Shared fixtures. Tests run on PostgreSQL: the suite refuses to start on anything else."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.services import api_token_issue
from tests.builders import LONDON
from tests.factories import PatientFactory, UserFactory
from tests.utils import SHARED_REDIS_URL, worker_redis_url


def _isolate_redis_per_xdist_worker() -> None:
    """Under pytest-xdist, point this worker's broker, and the Celery processes its tests start
    (tests.utils.child_env passes os.environ on), at a Redis database of its own.

    pytest-django imports Django's settings before any conftest, so both the environment and
    the settings read from it are changed here, before any test publishes a task.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker or not SHARED_REDIS_URL.startswith(("redis://", "rediss://")):
        return
    from surveillance.celery import app as celery_app

    url = worker_redis_url(SHARED_REDIS_URL, worker)
    os.environ["REDIS_URL"] = settings.REDIS_URL = url
    if settings.CELERY_BROKER_URL == SHARED_REDIS_URL:  # the broker is REDIS_URL's
        settings.CELERY_BROKER_URL = celery_app.conf.broker_url = url


_isolate_redis_per_xdist_worker()


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    return (
        f"database: {db['ENGINE'].rsplit('.', 1)[-1]} at {db.get('HOST') or 'socket'}:"
        f"{db.get('PORT') or ''}; broker: {settings.CELERY_BROKER_URL.split('@')[-1]}"
    )


@pytest.fixture(scope="session", autouse=True)
def _require_postgresql(django_db_blocker):
    """Constraints, locking and partial indexes differ on SQLite; never test there."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.exit("Tests must run on PostgreSQL: set DATABASE_URL (scripts/test.sh does).", 2)
    with django_db_blocker.unblock():
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
    print(f"\n[tests] running on PostgreSQL {version}")  # noqa: T201


@pytest.fixture
def nurse(db):
    return UserFactory(username="nurse_nina", role=Role.NURSE)


@pytest.fixture
def oncologist(db):
    return UserFactory(username="dr_olga", role=Role.ONCOLOGIST)


@pytest.fixture
def other_oncologist(db):
    return UserFactory(username="dr_oscar", role=Role.ONCOLOGIST)


@pytest.fixture
def lab_user(db):
    return UserFactory(username="lab_lims", role=Role.LAB)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin_ada", role=Role.ADMIN)


@pytest.fixture
def patient(oncologist):
    return PatientFactory(oncologist=oncologist)


def _api_client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def nurse_api(nurse):
    return _api_client_for(nurse)


@pytest.fixture
def oncologist_api(oncologist):
    return _api_client_for(oncologist)


@pytest.fixture
def lab_token_api(lab_user):
    """A lab service account authenticated the way a LIMS would: a real token header."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(username=lab_user.username)}")
    return client


@pytest.fixture
def anon_api():
    return APIClient()


# Headless Chromium (Debian's package; Playwright never downloads one here), one per test
# session for every browser test wherever it lives: Playwright's sync API allows one running
# instance per thread, so a test module must not start a second one.
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: scripts/test.sh installs Debian's chromium."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def on_24_nov_2026():
    """The clinic's clock stopped at noon on Tuesday 24 Nov 2026 (London), the day most
    scenarios are written for: `pytestmark = pytest.mark.usefixtures("on_24_nov_2026")`."""
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON), tick=False):
        yield
