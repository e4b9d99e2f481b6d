"""brk probes as the failing machine: PostgreSQL errors mid-store, mid-decision, mid-file."""

import contextlib
import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.utils import timezone

from clinic.tasks import work_sweep
from liquidbiopsy.models import LabReport, Upload
from patients.models import Regimen
from tests.builders import HER_ROW, UPLOAD_URL, URL, ack, file_of, payload, pending
from therapy.models import Alert, ReconcileOwed

pytestmark = pytest.mark.django_db


def _boom(*args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


def test_a_database_error_in_the_reconcile_of_a_json_report_is_503_and_stores_nothing(
    lab_token_api, eligible, monkeypatch
):
    from clinic import workflows

    real = workflows.alerts_reconcile
    monkeypatch.setattr(workflows, "alerts_reconcile", _boom)
    response = lab_token_api.post(URL, payload(), format="json")
    assert response.status_code == 503, response.content
    assert response.has_header("Retry-After")
    assert not LabReport.objects.exists()
    assert eligible.draws.get(accession="ACC-000123").state == "collected"
    monkeypatch.setattr(workflows, "alerts_reconcile", real)
    again = lab_token_api.post(URL, payload(), format="json")
    assert again.status_code == 201, again.content
    assert pending(eligible, "switch_recommended").count() == 1


def test_a_database_error_storing_a_small_file_is_503_and_the_file_is_not_failed(
    lab_token_api, eligible, monkeypatch
):
    from liquidbiopsy import uploads

    monkeypatch.setattr(uploads, "reports_ingest_bulk", _boom)
    response = lab_token_api.post(
        UPLOAD_URL, {"file": SimpleUploadedFile("f.csv", file_of(HER_ROW))}, format="multipart"
    )
    assert response.status_code == 503, response.content
    assert not LabReport.objects.exists()
    assert not Upload.objects.filter(state="failed").exists()
    monkeypatch.undo()
    # Either the lab sends it again or the sweep picks the kept upload up: stored once.
    again = lab_token_api.post(
        UPLOAD_URL, {"file": SimpleUploadedFile("f.csv", file_of(HER_ROW))}, format="multipart"
    )
    assert again.status_code in (200, 201), again.content
    work_sweep()
    later = timezone.now() + dt.timedelta(minutes=30)
    from liquidbiopsy.upload_sweep import uploads_stalled_requeue

    for pk in uploads_stalled_requeue(now=later):
        from clinic.tasks import upload_process

        upload_process(pk)
    work_sweep()
    assert LabReport.objects.count() == 1
    assert pending(eligible, "switch_recommended").count() == 1
    assert not ReconcileOwed.objects.exists()


def test_a_database_error_paying_a_files_reconcile_keeps_the_debt_for_the_sweep(
    lab_token_api, eligible, settings, monkeypatch
):
    from clinic.tasks import upload_process
    from therapy import owed

    settings.UPLOAD_SYNC_MAX_ROWS = 1
    response = lab_token_api.post(
        UPLOAD_URL, {"file": SimpleUploadedFile("f.csv", file_of(HER_ROW))}, format="multipart"
    )
    assert response.status_code == 202
    upload_process(Upload.objects.get().pk)
    assert Upload.objects.get().state == "done"
    assert ReconcileOwed.objects.count() == 1
    monkeypatch.setattr(owed, "alerts_reconcile", _boom)
    with contextlib.suppress(OperationalError):
        owed.reconcile_owed_run()
    assert ReconcileOwed.objects.count() == 1
    monkeypatch.undo()
    work_sweep()
    assert not ReconcileOwed.objects.exists()
    assert pending(eligible, "switch_recommended").count() == 1


def test_a_database_error_mid_switch_leaves_the_alert_pending_and_the_regimen_whole(
    lab_token_api, eligible, oncologist_api, monkeypatch
):
    from patients import services as patient_services

    lab_token_api.post(URL, payload(), format="json")
    alert = Alert.objects.get()
    monkeypatch.setattr(patient_services, "patient_mark_switched", _boom)
    response = ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24")
    assert response.status_code == 503, response.content
    alert.refresh_from_db()
    assert alert.state == "open"
    (current,) = Regimen.objects.filter(patient=eligible, ended_on__isnull=True)
    assert current.endocrine_agent == "letrozole"
    monkeypatch.undo()
    again = ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24")
    assert again.status_code == 200, again.content
