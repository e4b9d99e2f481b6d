"""The upload sweep's edges: a lost queued upload handed back once per grace period, not on
every beat; the give-up counts from a worker's first claim, not from the file's arrival."""

import datetime as dt

import pytest
from django.db.models import F
from django.utils import timezone

from audit.models import AuditEvent
from liquidbiopsy.models import Upload
from liquidbiopsy.upload_sweep import GAVE_UP, uploads_stalled_requeue
from tests.builders import stale_upload

pytestmark = pytest.mark.django_db


def test_a_lost_upload_handed_back_is_not_handed_back_again_on_every_sweep(lab_user):
    """A `processing` upload reset by the sweep is not reset again at once (its new message
    has time to come, test_durable_work.py). A `queued` one handed back must get the same
    grace: the sweep runs every minute, so otherwise every queued upload waiting behind a
    busy worker gets one more message per minute for as long as it waits."""
    upload = Upload.objects.create(
        uploaded_by=lab_user,
        filename="f.csv",
        file_format="csv",
        content=b"report_id\n",
        content_sha256="x",
    )
    now = timezone.now()
    Upload.objects.filter(pk=upload.pk).update(updated_at=now - dt.timedelta(minutes=10))
    assert uploads_stalled_requeue(now=now) == [upload.pk]
    assert uploads_stalled_requeue(now=now + dt.timedelta(minutes=1)) == []


def test_a_lost_upload_is_handed_back_again_after_another_grace_period(lab_user, settings):
    upload = stale_upload(lab_user, updated_at=dt.timedelta(minutes=10))
    now = timezone.now()
    grace = dt.timedelta(minutes=settings.UPLOAD_QUEUED_GRACE_MINUTES)
    assert uploads_stalled_requeue(now=now) == [upload.pk]
    assert uploads_stalled_requeue(now=now + grace - dt.timedelta(seconds=1)) == []
    assert uploads_stalled_requeue(now=now + grace + dt.timedelta(seconds=1)) == [upload.pk]
    upload.refresh_from_db()
    assert (upload.state, upload.first_claimed_at) == ("queued", None)  # never claimed


def test_an_upload_that_waited_in_a_backlog_is_not_given_up_unattempted(lab_user):
    """The give-up is meant for a file that kills every worker (README: "cannot loop"), but it
    counts hours since arrival, not attempts: a night's backfill of large files on two
    workers (15 min each) leaves the last ones queued for more than UPLOAD_GIVE_UP_HOURS, and
    they end failed ("interrupted repeatedly") without ever having been tried."""
    upload = Upload.objects.create(
        uploaded_by=lab_user,
        filename="f.csv",
        file_format="csv",
        content=b"report_id\n",
        content_sha256="x",
    )
    now = timezone.now()
    Upload.objects.filter(pk=upload.pk).update(
        created_at=now - dt.timedelta(hours=7), updated_at=now - dt.timedelta(hours=7)
    )
    assert not AuditEvent.objects.filter(action="upload.requeue").exists()  # never tried
    assert uploads_stalled_requeue(now=now) == [upload.pk]
    upload.refresh_from_db()
    assert upload.state == "queued"


def test_an_upload_first_claimed_after_a_backlog_that_kills_its_worker_is_tried_again(
    lab_user,
):
    """Seven hours in the queue, then its first worker died: one try, not a give-up."""
    upload = stale_upload(
        lab_user,
        Upload.State.PROCESSING,
        created_at=dt.timedelta(hours=7),
        updated_at=dt.timedelta(minutes=30),
    )
    assert uploads_stalled_requeue() == [upload.pk]
    upload.refresh_from_db()
    assert upload.state == "queued"
    assert upload.first_claimed_at == timezone.now() - dt.timedelta(minutes=30)


def test_a_file_that_kills_every_worker_ends_failed_hours_after_its_first_claim(lab_user, settings):
    upload = stale_upload(lab_user, updated_at=dt.timedelta(minutes=10))
    start = timezone.now()
    claim = start
    hours = dt.timedelta(hours=settings.UPLOAD_GIVE_UP_HOURS)
    tries = 0
    while True:
        # A worker claims it (as liquidbiopsy.uploads does) and dies with it.
        Upload.objects.filter(pk=upload.pk, state="queued").update(
            state="processing", updated_at=claim
        )
        tries += 1
        later = claim + dt.timedelta(minutes=settings.UPLOAD_STALLED_MINUTES + 1)
        requeued = uploads_stalled_requeue(now=later)
        upload.refresh_from_db()
        if upload.state == "failed":
            break
        assert requeued == [upload.pk]
        assert upload.first_claimed_at == start
        claim = later + dt.timedelta(minutes=1)
    assert later - start > hours
    assert later - start <= hours + dt.timedelta(minutes=settings.UPLOAD_STALLED_MINUTES + 2)
    assert tries > 1
    assert upload.errors[0]["message"] == GAVE_UP
    assert bytes(upload.content) == b""
    assert AuditEvent.objects.filter(action="upload.fail", object_id=str(upload.pk)).count() == 1


def test_a_processing_upload_seen_by_the_sweep_keeps_its_claim_time(lab_user):
    """A live claim (no change for less than UPLOAD_STALLED_MINUTES) is left alone, but its
    claim time is recorded as the first, so later deaths count from it."""
    upload = stale_upload(lab_user, Upload.State.PROCESSING, updated_at=dt.timedelta(minutes=2))
    claimed_at = Upload.objects.get(pk=upload.pk).updated_at
    assert uploads_stalled_requeue() == []
    upload.refresh_from_db()
    assert (upload.state, upload.updated_at, upload.first_claimed_at) == (
        "processing",
        claimed_at,  # the worker's fencing token is untouched
        claimed_at,
    )
    Upload.objects.filter(pk=upload.pk).update(updated_at=F("updated_at") + dt.timedelta(1))
    uploads_stalled_requeue()
    upload.refresh_from_db()
    assert upload.first_claimed_at == claimed_at  # the first, not the latest
