"""A real Celery worker and beat against Redis: beat fires the planner and the digest, and the
worker processes a lab file too large to answer at once.

The worker and beat run as separate processes on the test database, exactly as in
production (only the schedules are shortened to "every 2 s"). Several beat ticks must
still give one open draw per patient and one digest per nurse.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.roles import Role
from liquidbiopsy.models import LabReport, Upload
from notifications.models import Notification
from patients.models import Draw
from patients.scheduling import draw_collect
from tests.factories import PatientFactory, UserFactory
from tests.utils import child_env

pytestmark = [pytest.mark.celery_live, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[1]
UPLOAD_HEADER = (
    "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
    "qc_status,gene,hgvs_p,vaf_percent"
)


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
        # A lab file larger than the synchronous limit goes to the worker (202) and is
        # processed there: collect three of the planned draws, then upload their results.
        nurse = nurses[0]
        lab = UserFactory(username="live_lab", role=Role.LAB)
        rows = [UPLOAD_HEADER]
        for n, draw in enumerate(
            Draw.objects.filter(state="scheduled").select_related("patient")[:3]
        ):
            draw_collect(
                draw=draw,
                collected_at=timezone.now() - dt.timedelta(hours=1),
                accession=f"ACC-LIVE-{n}",
                acting_user=nurse,
            )
            p, day = draw.patient, timezone.localdate().isoformat()
            rows.append(
                f"LIVE-{n},1,final,ACC-LIVE-{n},{p.mrn},{p.date_of_birth},{day},{day},G360,pass,"
                f"ESR1,D538G,0.5"
            )
        api = APIClient()
        api.force_authenticate(lab)
        with override_settings(UPLOAD_SYNC_MAX_ROWS=2):
            answer = api.post(
                "/api/v1/reports/upload/",
                {"file": SimpleUploadedFile("live.csv", ("\n".join(rows) + "\n").encode())},
                format="multipart",
            )
        assert answer.status_code == 202, answer.content
        _wait_for(
            lambda: Upload.objects.filter(state="done").exists(), 60, "the worker's upload", procs
        )
        assert LabReport.objects.filter(report_id__startswith="LIVE-").count() == 3
        assert Draw.objects.filter(accession__startswith="ACC-LIVE-", state="resulted").count() == 3
        time.sleep(6)  # several more beat ticks: nothing may be created twice
        assert Draw.objects.count() == len(patients) + 3  # three collected, three next draws
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
                assert "Sending due task draws-plan (clinic.draws_plan)" in text, text[-3000:]
            else:
                assert "clinic.draws_plan" in text, text[-3000:]
