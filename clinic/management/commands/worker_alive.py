"""Exit 1 unless this container's Celery worker finished a task recently (its health check).

`celery inspect ping` is answered by the worker's main process, which stays responsive when
its pool consumes nothing (seen after a pool child was SIGKILLed just as it was handed a
task: the task stayed reserved with no process, and no upload, reconcile, e-mail or sweep ran
again). Beat's work sweep gives the worker a task every minute, and each task started or
finished touches WORKER_ALIVE_FILE (surveillance/celery.py): a file older than
WORKER_STALL_MINUTES (longer than any task may run) means the worker stopped working, and the
orchestrator restarts it (Compose marks the container unhealthy; restarting it on that needs a
restart policy that acts on health: Swarm, Kubernetes, or an autoheal companion). The database keeps the
owed work, so a restart loses nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Fail unless the Celery worker started or finished a task within WORKER_STALL_MINUTES."

    def handle(self, *args, **options):
        path = Path(settings.WORKER_ALIVE_FILE)
        limit = settings.WORKER_STALL_MINUTES
        try:
            age = time.time() - path.stat().st_mtime
        except OSError:
            raise CommandError(
                f"No task has started or finished yet ({path} does not exist)."
            ) from None
        if age > limit * 60:
            raise CommandError(
                f"No task has started or finished for {age / 60:.0f} minutes (limit {limit}): the "
                "worker is not consuming."
            )
        self.stdout.write(f"A task started or finished {age:.0f} s ago.")
