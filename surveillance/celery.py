"""The one Celery application: configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "surveillance.settings.base")

app = Celery("surveillance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _process_ready(**_kwargs) -> None:
    """Each worker process, once its tasks are imported (core.runtime)."""
    from core.runtime import process_ready

    process_ready()
