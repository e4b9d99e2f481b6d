"""A real Celery worker and beat against Redis: beat fires the planner and the digest, and the
worker processes a lab file too large to answer at once; a worker killed (SIGKILL) in the
middle of a file loses nothing: the work sweep queues it again and a new worker finishes it.

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

    alive = tmp_path / "worker-alive"
    env = child_env(
        PLANNER_SCHEDULE="every 2s", DIGEST_SCHEDULE="every 2s", WORKER_ALIVE_FILE=str(alive)
    )
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
        # The worker's health check: it finished tasks, so worker_alive passes.
        check = subprocess.run(
            [sys.executable, "manage.py", "worker_alive"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, check.stderr
        assert alive.exists()
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


def _worker(env, log, *extra):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "surveillance",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def test_a_worker_killed_mid_upload_loses_nothing(tmp_path, oncologist, nurse):
    """SIGKILL the worker while it processes a lab file: nothing of the file is stored, the
    upload stays `processing`; the work sweep queues it again, a new worker stores every
    report once and pays every alert reconcile the file owes."""
    from clinic.tasks import work_sweep
    from tests.builders import collect
    from tests.factories import RegimenFactory
    from therapy.models import Alert, ReconcileOwed

    if not os.environ.get("REDIS_URL"):
        pytest.fail("REDIS_URL is not set: scripts/test.sh starts a throwaway Redis.")
    lab = UserFactory(username="live_lab_kill", role=Role.LAB)
    today = timezone.localdate()
    day = today - dt.timedelta(days=2)
    rows = [UPLOAD_HEADER + ",genome_build,chrom,pos,ref,alt"]
    reports = 150
    for n in range(reports):
        patient = PatientFactory(
            oncologist=oncologist, surveillance_start_on=today - dt.timedelta(days=200)
        )
        RegimenFactory(
            patient=patient,
            endocrine_agent="letrozole",
            cdk46_inhibitor="palbociclib",
            started_on=today - dt.timedelta(days=400),
        )
        collect(patient, f"ACC-KILL-{n}", day, nurse)
        base = (
            f"KILL-{n},1,final,ACC-KILL-{n},{patient.mrn},{patient.date_of_birth},{day},{today},"
            "G360,pass"
        )
        rows.append(f"{base},ESR1,D538G,0.5,GRCh38,6,152098791,T,C")
        # Other genes' calls make the file long enough to be caught mid-way.
        rows += [
            f"{base},TP53,p.Arg{k + 1}His,1.2,GRCh38,17,{7_670_000 + k},C,T" for k in range(80)
        ]
    api = APIClient()
    api.force_authenticate(lab)
    env = child_env()
    log = open(tmp_path / "worker.log", "w+")  # noqa: SIM115
    worker = _worker(env, log, "--purge")
    try:
        # Post only once the worker has purged its queue and listens.
        _wait_for(lambda: "ready." in (tmp_path / "worker.log").read_text(), 60, "ready", [worker])
        answer = api.post(
            "/api/v1/reports/upload/",
            {"file": SimpleUploadedFile("kill.csv", ("\n".join(rows) + "\n").encode())},
            format="multipart",
        )
        assert answer.status_code == 202, answer.content
        deadline = time.monotonic() + 60
        while not Upload.objects.exclude(state="queued").exists():  # polled fast: kill mid-way
            assert time.monotonic() < deadline, "the worker never claimed the upload"
            assert worker.poll() is None, "the worker exited before claiming the upload"
            time.sleep(0.01)
        worker.kill()  # SIGKILL: no cleanup, no ack
        worker.wait(timeout=20)
        upload = Upload.objects.get()
        assert upload.state == "processing", (upload.state, upload.errors[:3])
        assert not LabReport.objects.filter(report_id__startswith="KILL-").exists()

        with override_settings(UPLOAD_STALLED_MINUTES=0):
            work_sweep()  # what beat runs every minute: queues the stalled upload again
        upload.refresh_from_db()
        assert upload.state == "queued"
        worker = _worker(env, log)
        _wait_for(
            lambda: Upload.objects.filter(state__in=["done", "failed"]).exists(),
            120,
            "the redo",
            [worker],
        )
        upload.refresh_from_db()
        assert upload.state == "done", upload.errors
        assert LabReport.objects.filter(report_id__startswith="KILL-").count() == reports
        assert Draw.objects.filter(accession__startswith="ACC-KILL-", state="resulted").count() == (
            reports
        )
        _wait_for(lambda: not ReconcileOwed.objects.exists(), 120, "the reconciles", [worker])
        assert (
            Alert.objects.filter(kind="switch_recommended", state__in=Alert.PENDING_STATES)
            .values("patient")
            .distinct()
            .count()
            == reports
        )
    finally:
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        log.seek(0)
        text = log.read()
        log.close()
    assert "clinic.upload_process" in text, text[-3000:]
