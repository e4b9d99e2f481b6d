"""Nothing lost when a worker or the broker dies (issue 12, durable background work).

The database records the work owed (an upload queued or processing, a pending e-mail, an
alert reconcile owed); the beat's work sweep finds what stalled and gets it done. Here the
deaths are simulated where they leave their marks in the database (a claim nobody releases,
a message that never arrives, a broker that refuses connections); a real worker killed with
SIGKILL is in tests/test_celery_live.py.
"""

import datetime as dt

import pytest
from django.core import mail
from django.db.models import F
from django.utils import timezone

from clinic.tasks import upload_process as upload_process_task
from clinic.tasks import work_sweep
from liquidbiopsy.models import Upload
from liquidbiopsy.upload_sweep import GAVE_UP, uploads_stalled_requeue
from notifications.models import Notification
from notifications.services import Message, notification_publish
from surveillance.celery import app as celery_app
from tests.builders import URL, payload, stale_upload
from therapy.models import Alert, ReconcileOwed

pytestmark = pytest.mark.django_db


def test_an_upload_whose_worker_died_is_queued_again(lab_user):
    dead = stale_upload(lab_user, Upload.State.PROCESSING, updated_at=dt.timedelta(minutes=30))
    alive = stale_upload(lab_user, Upload.State.PROCESSING, updated_at=dt.timedelta(minutes=2))
    assert uploads_stalled_requeue() == [dead.pk]
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert (dead.state, alive.state) == ("queued", "processing")
    assert uploads_stalled_requeue() == []  # just re-queued: its new message has time to come
    upload_process_task(dead.pk)  # what the worker runs on redelivery
    dead.refresh_from_db()
    assert dead.state in ("done", "failed")  # finished either way, never stuck


def test_a_queued_upload_whose_message_was_lost_is_handed_back(lab_user):
    lost = stale_upload(lab_user, Upload.State.QUEUED, updated_at=dt.timedelta(minutes=10))
    fresh = stale_upload(lab_user, Upload.State.QUEUED, updated_at=dt.timedelta(minutes=1))
    assert uploads_stalled_requeue() == [lost.pk]
    assert fresh.pk not in uploads_stalled_requeue()


def test_an_upload_that_never_finishes_ends_failed_with_its_content_wiped(lab_user):
    stuck = stale_upload(
        lab_user,
        Upload.State.PROCESSING,
        updated_at=dt.timedelta(minutes=30),
        created_at=dt.timedelta(hours=7),
    )
    # First claimed (and requeued by the sweep) 7 hours ago: the give-up counts from there
    # (tests/liquidbiopsy/test_upload_sweep_edges.py), not from its arrival.
    Upload.objects.filter(pk=stuck.pk).update(first_claimed_at=F("created_at"))
    assert uploads_stalled_requeue() == []
    stuck.refresh_from_db()
    assert stuck.state == "failed"
    assert stuck.errors[0]["message"] == GAVE_UP
    assert bytes(stuck.content) == b""


def test_pending_emails_whose_task_was_lost_are_sent_by_the_sweep(oncologist):
    ids = notification_publish(
        message=Message(key="test:owed", subject="A new switch alert", body="Open it."),
        recipients=[oncologist],
    )
    Notification.objects.filter(pk__in=ids).update(
        created_at=timezone.now() - dt.timedelta(minutes=5)
    )
    work_sweep()
    assert Notification.objects.get(pk=ids[0]).state == "sent"
    assert len(mail.outbox) == 1
    work_sweep()
    assert len(mail.outbox) == 1  # exactly once


@pytest.fixture
def broker_down():
    """The broker refuses connections (a closed port), as when Redis is stopped."""
    keys = (
        "broker_url",
        "broker_connection_retry",
        "broker_connection_max_retries",
        "broker_transport_options",
    )
    before = {k: celery_app.conf[k] for k in keys}
    celery_app.conf.update(
        broker_url="redis://127.0.0.1:9/0",
        broker_connection_retry=False,
        broker_connection_max_retries=0,
        broker_transport_options={"max_retries": 0},
    )
    _fresh_connections()
    yield
    celery_app.conf.update(before)
    _fresh_connections()


def _fresh_connections():
    """Drop the cached connection pools so the next publish connects with the current URL."""
    celery_app.pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_a_report_posted_with_the_broker_down_is_stored_and_answered_201(
    lab_token_api, eligible, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = lab_token_api.post(URL, payload(), format="json")
    assert response.status_code == 201, response.content
    alert = Alert.objects.get()
    pending = Notification.objects.filter(key=f"alert:{alert.pk}:opened", channel="email")
    assert pending.get().state == "pending"  # owed: the sweep sends it once Redis is back


def test_alert_reconciles_owed_are_paid_by_the_sweep(lab_token_api, eligible):
    """A file's reports are stored with the reconciles they owe (one row per patient); if the
    nudge to the worker is lost, the sweep pays them: the alert exists afterwards."""
    from therapy.owed import reconcile_owed_add

    reconcile_owed_add(patient_ids=[eligible.pk])
    lab_token_api.post(URL, payload(), format="json")
    Alert.objects.all().delete()  # as if the report had come in a file: no alert yet
    assert ReconcileOwed.objects.count() == 1
    work_sweep()
    assert not ReconcileOwed.objects.exists()
    assert Alert.objects.get().kind == "switch_recommended"


def test_an_upload_posted_with_the_broker_down_is_accepted_and_swept_later(
    lab_token_api, eligible, broker_down, django_capture_on_commit_callbacks, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.UPLOAD_SYNC_MAX_ROWS = 1  # so this two-line file goes to the worker
    csv = (
        "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
        "qc_status,gene,hgvs_p,vaf_percent\n"
        "F-1,1,final,ACC-000123,MRN-0001,1961-04-02,2026-11-02,2026-11-10,G360,pass,ESR1,Y537S,0.8\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = lab_token_api.post(
            "/api/v1/reports/upload/",
            {"file": SimpleUploadedFile("f.csv", csv.encode())},
            format="multipart",
        )
    assert response.status_code == 202, response.content
    upload = Upload.objects.get()
    assert upload.state == "queued"
    later = timezone.now() + dt.timedelta(minutes=10)
    assert uploads_stalled_requeue(now=later) == [upload.pk]


def test_owing_a_reconcile_twice_records_it_once(oncologist):
    """A patient owed by two files (or twice in one) is one row, whoever added it first."""
    from tests.factories import PatientFactory
    from therapy.owed import reconcile_owed_add

    a, b, c = (PatientFactory(mrn=f"MRN-OWE{i}", oncologist=oncologist) for i in range(3))
    assert reconcile_owed_add(patient_ids=[a.pk, b.pk, a.pk]) == 2
    first = dict(ReconcileOwed.objects.values_list("patient_id", "owed_since"))
    reconcile_owed_add(patient_ids=[b.pk, c.pk])
    owed = dict(ReconcileOwed.objects.values_list("patient_id", "owed_since"))
    assert set(owed) == {a.pk, b.pk, c.pk}
    assert owed[b.pk] == first[b.pk]  # the first debt's time is kept
