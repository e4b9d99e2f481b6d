"""Escalation and deferral with time travel; the inbox and alert pages."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from notifications.models import Notification
from tests.builders import LONDON, URL, payload
from tests.factories import UserFactory
from therapy.models import Alert
from therapy.sweep import alerts_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_alert(lab_token_api, eligible):
    alert_id = lab_token_api.post(URL, payload(), format="json").json()["alerts"][0]["id"]
    return Alert.objects.get(pk=alert_id)


def at(days: float):
    return time_machine.travel(
        dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON) + dt.timedelta(days=days), tick=False
    )


def test_unacknowledged_alerts_escalate_once_per_level(open_alert, oncologist):
    admin = UserFactory(username="contact", role=Role.ADMIN)
    with at(2.9):
        assert alerts_sweep()["escalated"] == 0
    with at(3.01):
        assert alerts_sweep()["escalated"] == 1
        assert alerts_sweep()["escalated"] == 0  # twice in the same hour: nothing again
    open_alert.refresh_from_db()
    assert open_alert.escalation_level == 1
    with at(6.01):
        alerts_sweep()
    open_alert.refresh_from_db()
    assert open_alert.escalation_level == 2
    keys = set(
        Notification.objects.filter(channel="in_app").values_list("recipient__username", "key")
    )
    assert (oncologist.username, f"alert:{open_alert.pk}:e1:escalated:1") in keys
    assert (admin.username, f"alert:{open_alert.pk}:e1:escalated:1:contact") in keys
    assert (admin.username, f"alert:{open_alert.pk}:e1:escalated:2:contact") in keys
    from audit.models import AuditEvent

    levels = [
        e.detail["level"]
        for e in AuditEvent.objects.filter(action="alert.escalate").order_by("at", "id")
    ]
    assert levels == [1, 2]  # one audit row per escalation, none for the repeated run


def test_deferred_alert_comes_back_on_its_date(open_alert, oncologist_api):
    oncologist_api.post(
        f"/api/v1/alerts/{open_alert.pk}/acknowledge/",
        {"decision": "defer", "defer_until": "2026-12-10", "reason_code": "awaiting_imaging"},
        format="json",
    )
    with at(15):
        alerts_sweep()
    open_alert.refresh_from_db()
    assert open_alert.state == "deferred"
    with at(16):
        assert alerts_sweep()["reopened"] == 1
    open_alert.refresh_from_db()
    assert (open_alert.state, open_alert.escalation_level) == ("open", 0)


def test_oncologist_home_is_the_inbox_and_decides_there(client, oncologist, open_alert):
    client.force_login(oncologist)
    response = client.get("/")
    assert response.url == "/alerts/"
    html = client.get("/alerts/").content.decode()
    assert "Consider switching to camizestrant" in html
    assert "p.Asp538Gly" in html
    assert "0.42%" in html
    page = client.get(f"/alerts/{open_alert.pk}/").content.decode()
    assert "consider switching Letrozole to camizestrant, continue Palbociclib" in page
    response = client.post(
        f"/alerts/{open_alert.pk}/decide/",
        {"decision": "decline", "reason_code": "patient_preference", "comment": ""},
        follow=True,
    )
    assert "Decision recorded." in response.content.decode()
    open_alert.refresh_from_db()
    assert open_alert.state == "declined"


def test_nurse_reads_alerts_but_cannot_decide(client, nurse, open_alert):
    client.force_login(nurse)
    page = client.get(f"/alerts/{open_alert.pk}/").content.decode()
    assert "Only oncologists record a decision." in page
    assert (
        client.post(f"/alerts/{open_alert.pk}/decide/", {"decision": "decline"}).status_code == 403
    )


def test_inbox_query_count_does_not_grow(client, oncologist, open_alert):
    client.force_login(oncologist)
    client.get("/alerts/")
    with CaptureQueriesContext(connection) as one:
        client.get("/alerts/?all=1")
    patient = open_alert.patient
    for i in range(30):
        Alert.objects.create(
            patient=patient,
            kind="review" if i % 2 else "esr1_with_progression",
            state="declined",
            rule_version="serena6-v1",
            facts_snapshot={},
            variants=[["p.Asp538Gly", "0.01"]],
            opened_at=open_alert.opened_at,
        )
    with CaptureQueriesContext(connection) as many:
        client.get("/alerts/?all=1")
    assert len(one.captured_queries) == len(many.captured_queries)
