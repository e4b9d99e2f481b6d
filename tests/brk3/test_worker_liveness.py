"""A worker that is alive but consumes nothing (REPORT.md F2, found on the demo by SIGKILLing a
prefork pool child 80 ms after it was handed `therapy.alerts_reconcile_owed`): the task stays
"reserved" with no worker pid, the prefetch slots stay taken, and from then on no upload, owed
reconcile, e-mail or work sweep runs. `celery inspect ping` still answers, so the compose
health check calls it healthy and nothing restarts it; the sweep that should rescue stalled
work runs in that same worker.

DESIGN §4/§6 and the README's "Durable work": the database records what is owed and
`clinic.work_sweep` (every minute) pays it. That guarantee needs a consumer that is known to
be making progress. This test is the configuration half of it: the worker's health check
must look at progress (for example the last finished work sweep), not only at a ping."""

import pathlib

import yaml

COMPOSE = pathlib.Path(__file__).resolve().parents[2] / "docker-compose.yml"


def test_the_worker_health_check_detects_a_worker_that_stopped_working():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    check = services["celeryworker"]["healthcheck"]["test"]
    command = " ".join(check if isinstance(check, list) else [check])
    assert "inspect ping" not in command or "&&" in command, (
        "the only liveness check is `celery inspect ping`, which a wedged worker answers"
    )


def test_worker_alive_fails_until_a_task_finished_and_after_the_stall_limit(tmp_path, settings):
    import os
    import time

    import pytest
    from django.core.management import CommandError, call_command

    settings.WORKER_ALIVE_FILE = str(tmp_path / "alive")
    settings.WORKER_STALL_MINUTES = 10
    with pytest.raises(CommandError, match="No task has started or finished yet"):
        call_command("worker_alive")
    from surveillance.celery import _alive

    _alive()  # what task_postrun runs in the worker process
    call_command("worker_alive")
    stale = time.time() - 11 * 60
    os.utime(tmp_path / "alive", (stale, stale))
    with pytest.raises(CommandError, match="No task has started or finished for 11 minutes"):
        call_command("worker_alive")
