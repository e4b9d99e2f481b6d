"""A deferral is "come back to this later", never a silent dismissal: at most DEFER_MAX_DAYS
ahead (a sceptical review deferred a switch alert to 2126, where it would never escalate)."""

import datetime as dt

import pytest

from tests.builders import ack, payload, pending, post_report
from therapy.models import Alert
from therapy.rules import DEFER_MAX_DAYS

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 24)  # the therapy tests' clinic day


@pytest.mark.parametrize(
    ("days", "status"), [(DEFER_MAX_DAYS, 200), (DEFER_MAX_DAYS + 1, 400), (36500, 400)]
)
def test_a_defer_is_bounded(eligible, lab_token_api, oncologist_api, days, status):
    post_report(lab_token_api, payload())
    (alert,) = pending(eligible)
    answer = ack(
        oncologist_api,
        alert,
        decision="defer",
        reason_code="awaiting_imaging",
        defer_until=(TODAY + dt.timedelta(days=days)).isoformat(),
    )
    alert.refresh_from_db()
    assert answer.status_code == status, answer.json()
    if status == 400:
        (message,) = answer.json()["extra"]["fields"]["defer_until"]
        assert f"at most {DEFER_MAX_DAYS} days" in message
        assert alert.state == Alert.State.OPEN
    else:
        assert alert.state == Alert.State.DEFERRED
