"""6b23b10 dropped the savepoint round the JSON report insert on PostgreSQL, trusting the
chain's advisory lock to serialise every writer of the chain. The file path
(liquidbiopsy.bulk._store) takes no such lock: a file storing version 1 of a report while the
same version is posted as JSON makes the JSON insert wait on the unique index and then fail
with an IntegrityError, which is no longer caught: a 500 for what was an identical re-send
(200) or a conflict (409) before."""

import threading
import time

import pytest
from django.db import connections, transaction
from rest_framework.test import APIClient

from liquidbiopsy.bulk import reports_ingest_bulk
from liquidbiopsy.models import LabReport
from tests.builders import URL, payload


def _race(lab_user, body):
    """A file storing version 1 holds its transaction open while `body` is posted as JSON;
    the JSON post's status code."""
    in_flight, release = threading.Event(), threading.Event()
    errors, answers = [], []

    def file_worker():
        try:
            with transaction.atomic():
                reports_ingest_bulk(reports=[payload()], lab_account=lab_user)
                in_flight.set()
                release.wait(timeout=10)  # the file's transaction is still open
        except Exception as exc:
            errors.append(("file", repr(exc)))
        finally:
            in_flight.set()
            connections.close_all()

    def json_post():
        try:
            in_flight.wait(timeout=10)
            client = APIClient(raise_request_exception=False)
            client.force_authenticate(lab_user)
            answers.append(client.post(URL, body, format="json").status_code)
        except Exception as exc:
            errors.append(("json", repr(exc)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=file_worker), threading.Thread(target=json_post)]
    for t in threads:
        t.start()
    in_flight.wait(timeout=10)
    time.sleep(1.5)  # the JSON post is now waiting on the unique index
    release.set()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return answers


@pytest.mark.django_db(transaction=True)
def test_identical_version_posted_while_a_file_stores_it_is_not_a_server_error(eligible, lab_user):
    answers = _race(lab_user, payload())
    assert LabReport.objects.count() == 1
    # The same content twice is an identical re-send: 200, as report_ingest promises
    # (and as it answered before 6b23b10).
    assert answers == [200], answers


@pytest.mark.django_db(transaction=True)
def test_a_next_version_posted_while_a_file_stores_the_first_is_not_a_server_error(
    eligible, lab_user
):
    """Not a regression (500 before 6b23b10 too): the chain lock the JSON path trusts is not
    taken by the file path, so the JSON v2 believes it is the chain's first version."""
    answers = _race(lab_user, payload(version=2, status="amended"))
    assert answers != [500], answers
    assert answers in ([201], [409]), answers
