"""brk probes: a deferred alert and the patient's state; resuming surveillance."""

import datetime as dt

import pytest
import time_machine

from tests.builders import LONDON, ack, payload, pending, post_report
from therapy.models import Alert
from therapy.sweep import alerts_sweep

pytestmark = pytest.mark.django_db


def test_a_deferred_alert_is_withdrawn_when_she_dies_and_never_comes_back(
    lab_token_api, eligible, oncologist_api, nurse_api
):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    r = ack(
        oncologist_api,
        alert,
        decision="defer",
        reason_code="awaiting_imaging",
        defer_until="2026-11-30",
    )
    assert r.status_code == 200, r.json()
    r = nurse_api.patch(
        f"/api/v1/patients/{eligible.pk}/", {"surveillance_state": "deceased"}, format="json"
    )
    assert r.status_code == 200, r.json()
    alert.refresh_from_db()
    assert (alert.state, alert.withdrawn_reason) == ("withdrawn", "patient_state")
    with time_machine.travel(dt.datetime(2026, 12, 20, 12, tzinfo=LONDON)):
        alerts_sweep()
    alert.refresh_from_db()
    assert alert.state == "withdrawn"
    assert not pending(eligible).exists()
    r = ack(oncologist_api, alert, decision="decline", reason_code="other", comment="x")
    assert r.status_code == 409


def test_withdrawn_then_resumed_raises_the_alert_again(lab_token_api, eligible, nurse_api):
    post_report(lab_token_api, payload())
    r = nurse_api.patch(
        f"/api/v1/patients/{eligible.pk}/", {"surveillance_state": "withdrawn"}, format="json"
    )
    assert r.status_code == 200
    assert not pending(eligible).exists()
    r = nurse_api.patch(
        f"/api/v1/patients/{eligible.pk}/", {"surveillance_state": "active"}, format="json"
    )
    if r.status_code == 200:
        assert pending(eligible, "switch_recommended").count() == 1
    else:
        assert r.status_code in (400, 409), r.status_code
