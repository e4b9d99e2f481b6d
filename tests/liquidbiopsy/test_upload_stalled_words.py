"""The lab's upload page while a file waits past what the work sweep allows (review brk3 C3):
a file a stopped worker left 'processing' said "0 of 20010 rows checked ... This updates by
itself" for 16 minutes. It now says the file is retried automatically and nothing is stored
twice; a file within its time says nothing of the kind."""

import datetime as dt

import pytest

from tests.builders import stale_upload

pytestmark = pytest.mark.django_db


def _panel(client, lab_user, upload) -> str:
    client.force_login(lab_user)
    return client.get(f"/uploads/{upload.pk}/").content.decode()


@pytest.mark.parametrize(
    ("state", "age", "words"),
    [
        ("processing", 16, "No worker has finished this file in 16 minutes"),
        ("queued", 9, "This file has waited 9 minutes for a worker"),
    ],
)
def test_a_stalled_upload_says_it_is_retried(state, age, words, client, lab_user, settings):
    settings.UPLOAD_STALLED_MINUTES = 16
    settings.UPLOAD_QUEUED_GRACE_MINUTES = 5
    upload = stale_upload(lab_user, state, updated_at=dt.timedelta(minutes=age, seconds=5))
    page = _panel(client, lab_user, upload)
    assert words in page
    assert "It is queued again automatically" in page


@pytest.mark.parametrize(("state", "age"), [("processing", 3), ("queued", 1)])
def test_an_upload_within_its_time_says_nothing_of_the_kind(state, age, client, lab_user, settings):
    settings.UPLOAD_STALLED_MINUTES = 16
    upload = stale_upload(lab_user, state, updated_at=dt.timedelta(minutes=age))
    assert 'id="upload-stalled"' not in _panel(client, lab_user, upload)
