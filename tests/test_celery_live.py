"""A real Celery worker and beat against Redis: beat fires the planner and the digest.

The worker and beat run as separate processes on the test database, exactly as in
production (only the schedules are shortened to "every 2 s"). Several beat ticks must
still give one open draw per patient and one digest per nurse.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from accounts.roles import Role
from notifications.models import Notification
from patients.models import Draw
from tests.factories import PatientFactory, UserFactory
from tests.utils import child_env

pytestmark = [pytest.mark.celery_live, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[1]


def _wait_for(predicate, timeout: float, what: str, procs) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for proc in procs:
            if proc.poll() is not None:
                pytest.fail(f"{proc.args[3]} exited early while waiting for {what}")
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def test_beat_fires_planner_and_digest_on_a_real_worker(tmp_path, oncologist):
    if not os.environ.get("REDIS_URL"):
        pytest.fail("REDIS_URL is not set: scripts/test.sh starts a throwaway Redis.")
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    nurses = [UserFactory(username=f"live_nurse{i}", role=Role.NURSE) for i in range(2)]
    patients = [PatientFactory(oncologist=oncologist) for _ in range(25)]
    assert not Draw.objects.exists()

    env = child_env(PLANNER_SCHEDULE="every 2s", DIGEST_SCHEDULE="every 2s")
    logs = {name: open(tmp_path / f"{name}.log", "w+") for name in ("worker", "beat")}  # noqa: SIM115
    celery = [sys.executable, "-m", "celery", "-A", "surveillance"]
    procs = [
        subprocess.Popen(
            [
                *celery,
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--purge",
            ],
            cwd=ROOT,
            env=env,
            stdout=logs["worker"],
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [*celery, "beat", "--loglevel=INFO", "--schedule", str(tmp_path / "beat-schedule")],
            cwd=ROOT,
            env=env,
            stdout=logs["beat"],
            stderr=subprocess.STDOUT,
        ),
    ]
    try:
        _wait_for(
            lambda: Draw.objects.filter(state="scheduled").count() == len(patients),
            90,
            "the planner's draws",
            procs,
        )
        _wait_for(
            lambda: Notification.objects.filter(channel="in_app").count() == len(nurses),
            60,
            "the nurse digest",
            procs,
        )
        time.sleep(6)  # several more beat ticks: nothing may be created twice
        assert Draw.objects.count() == len(patients)
        assert Draw.objects.filter(state="scheduled").count() == len(patients)
        assert Notification.objects.filter(channel="in_app").count() == len(nurses)
        assert Notification.objects.filter(channel="email", state="sent").count() == len(nurses)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for name, fh in logs.items():
            fh.seek(0)
            text = fh.read()
            fh.close()
            if name == "beat":
                assert "Sending due task draws-plan (patients.draws_plan)" in text, text[-3000:]
            else:
                assert "patients.draws_plan" in text, text[-3000:]
