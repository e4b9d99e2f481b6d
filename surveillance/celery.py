"""The one Celery application: configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "surveillance.settings.base")

app = Celery("surveillance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _process_ready(**_kwargs) -> None:
    """Each worker process, once its tasks are imported (core.runtime)."""
    from core.runtime import process_ready

    process_ready()


@task_prerun.connect
@task_postrun.connect
def _alive(**_kwargs) -> None:
    """A task started or finished in this process: the worker is consuming
    (manage.py worker_alive)."""
    import contextlib
    from pathlib import Path

    from django.conf import settings

    # A read-only or missing folder must not fail the task; the health check then says so.
    with contextlib.suppress(OSError):
        Path(settings.WORKER_ALIVE_FILE).touch()
