"""Background work that must be neither lost, nor done twice, nor left half-done
(README "Durable work"): an owed reconcile whose worker dies, an upload delivered again or
twice at once. A worker's death is a BaseException raised where it dies
(nothing after it runs, no `except Exception` sees it), as in test_upload_atomic.py.
"""

import datetime as dt
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.utils import timezone

from audit.models import AuditEvent
from clinic.tasks import upload_process as upload_process_task
from liquidbiopsy.models import LabReport
from liquidbiopsy.upload_sweep import uploads_stalled_requeue
from notifications.models import Notification
from tests.builders import HER_ROW, UPLOAD_URL, WorkerDied, file_of, queued_upload
from therapy import owed
from therapy.models import Alert, ReconcileOwed
from therapy.owed import reconcile_owed_run

# --- Owed reconciles -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_worker_dying_after_the_reconcile_before_the_delete_leaves_the_debt_whole(
    lab_token_api, eligible, monkeypatch
):
    """Claimed, reconciled, killed before its commit: nothing of the reconcile stays (no
    alert, no notice), the debt stays; the next run does it once."""
    response = lab_token_api.post(
        UPLOAD_URL, {"file": SimpleUploadedFile("f.csv", file_of(HER_ROW))}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert ReconcileOwed.objects.filter(patient=eligible).exists()
    real = owed.alerts_reconcile

    def reconcile_then_die(ids, **kwargs):
        real(ids, **kwargs)
        raise WorkerDied

    monkeypatch.setattr(owed, "alerts_reconcile", reconcile_then_die)
    with pytest.raises(WorkerDied):
        reconcile_owed_run()
    assert not Alert.objects.exists()
    assert not Notification.objects.filter(key__startswith="alert:").exists()
    assert ReconcileOwed.objects.filter(patient=eligible).exists()
    monkeypatch.undo()
    assert reconcile_owed_run() == 1
    alert = Alert.objects.get()
    assert Notification.objects.filter(key=f"alert:{alert.pk}:opened", channel="email").count() == 1
    assert reconcile_owed_run() == 0


# --- Uploads re-delivered --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_finished_upload_delivered_again_changes_nothing(lab_token_api, eligible, settings):
    upload = queued_upload(lab_token_api, settings, HER_ROW)
    upload_process_task(upload.pk)
    upload.refresh_from_db()
    assert upload.state == "done"
    audits = AuditEvent.objects.count()
    upload_process_task(upload.pk)  # the broker redelivers (acks_late, worker lost)
    assert uploads_stalled_requeue(now=timezone.now() + dt.timedelta(hours=1)) == []
    upload.refresh_from_db()
    assert (upload.state, upload.reports_stored) == ("done", 1)
    assert LabReport.objects.count() == 1
    assert ReconcileOwed.objects.count() == 1
    assert AuditEvent.objects.count() == audits


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_upload_at_once_store_it_once(lab_token_api, eligible, settings):
    upload = queued_upload(lab_token_api, settings, HER_ROW)
    barrier = threading.Barrier(2)
    errors = []

    def deliver():
        try:
            barrier.wait(timeout=10)
            upload_process_task(upload.pk)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    upload.refresh_from_db()
    assert (upload.state, upload.reports_stored) == ("done", 1)
    assert LabReport.objects.count() == 1
    assert AuditEvent.objects.filter(action="report.store").count() == 1
    assert ReconcileOwed.objects.count() == 1
    reconcile_owed_run()
    assert Alert.objects.get().kind == "switch_recommended"
