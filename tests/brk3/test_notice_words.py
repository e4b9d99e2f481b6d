"""A notice's words match the alert's state (review brk3 C1): new evidence on a deferred alert
is not "on an open switch alert", which the inbox contradicts (it lists it deferred)."""

import datetime as dt

import pytest

from notifications.models import Notification
from tests.builders import ack, later_report, payload, pending, post_report

pytestmark = pytest.mark.django_db


def test_new_evidence_on_a_deferred_alert_says_deferred(
    her, scan, drawn, nurse, lab_token_api, oncologist_api
):
    scan(her, dt.date(2026, 10, 20), "no_progression")
    drawn(her)
    post_report(lab_token_api, payload())
    (alert,) = pending(her)
    deferred = ack(
        oncologist_api,
        alert,
        decision="defer",
        defer_until="2026-12-20",
        reason_code="awaiting_imaging",
    )
    assert deferred.status_code == 200, deferred.json()
    later = later_report(her, nurse)
    later["variants"][0]["vaf_percent"] = 5.0
    post_report(lab_token_api, later)
    subjects = list(
        Notification.objects.filter(subject__startswith="New ctDNA evidence").values_list(
            "subject", flat=True
        )
    )
    assert subjects, "no notice of the new evidence"
    assert all("deferred" in s and "open" not in s for s in subjects), subjects
