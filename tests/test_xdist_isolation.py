"""Under pytest-xdist (scripts/test.sh runs `-n`), each worker has its own Redis database.

The workers share one Redis server; Celery's queues are keys of a database, so two workers on
one database would take each other's tasks (a real worker started by one would run the tasks
another published, against the wrong test database, and its --purge would drop them).
"""

from __future__ import annotations

import os

from django.conf import settings

from surveillance.celery import app as celery_app
from tests.utils import SHARED_REDIS_URL, worker_redis_url


def test_each_worker_gets_its_own_database_on_the_same_server():
    assert worker_redis_url("redis://127.0.0.1:6379/0", "gw0") == "redis://127.0.0.1:6379/1"
    assert worker_redis_url("redis://127.0.0.1:6379/0", "gw1") == "redis://127.0.0.1:6379/2"
    assert worker_redis_url("redis://:pw@cache:6380/4?x=1", "gw2") == "redis://:pw@cache:6380/7?x=1"
    assert worker_redis_url("redis://127.0.0.1:6379", "gw0") == "redis://127.0.0.1:6379/1"


def test_this_process_and_the_celery_processes_it_starts_use_its_database():
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker and SHARED_REDIS_URL.startswith(("redis://", "rediss://")):
        expected = worker_redis_url(SHARED_REDIS_URL, worker)
    else:
        expected = SHARED_REDIS_URL  # one process: REDIS_URL as given
    assert os.environ.get("REDIS_URL", "") == expected  # what tests.utils.child_env passes on
    assert expected == settings.REDIS_URL
    if expected and not os.environ.get("CELERY_BROKER_URL"):  # the broker is REDIS_URL's
        assert expected == settings.CELERY_BROKER_URL
        assert celery_app.conf.broker_url == expected
