"""The upload sweep's edges: a lost queued upload is handed back once per grace period, not
on every beat."""

import datetime as dt

import pytest
from django.utils import timezone

from liquidbiopsy.models import Upload
from liquidbiopsy.upload_sweep import uploads_stalled_requeue

pytestmark = pytest.mark.django_db


def _upload(lab_user, state=Upload.State.QUEUED, **ages) -> Upload:
    upload = Upload.objects.create(
        uploaded_by=lab_user,
        filename="f.csv",
        file_format="csv",
        content=b"report_id\n",
        content_sha256="x",
        state=state,
    )
    now = timezone.now()
    Upload.objects.filter(pk=upload.pk).update(**{field: now - age for field, age in ages.items()})
    return upload


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
    upload = _upload(lab_user, updated_at=dt.timedelta(minutes=10))
    now = timezone.now()
    grace = dt.timedelta(minutes=settings.UPLOAD_QUEUED_GRACE_MINUTES)
    assert uploads_stalled_requeue(now=now) == [upload.pk]
    assert uploads_stalled_requeue(now=now + grace - dt.timedelta(seconds=1)) == []
    assert uploads_stalled_requeue(now=now + grace + dt.timedelta(seconds=1)) == [upload.pk]
    upload.refresh_from_db()
    assert upload.state == "queued"
