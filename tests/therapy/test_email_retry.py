"""An e-mail the mail server refused is tried again (backoff), and failed only after
EMAIL_MAX_ATTEMPTS tries; each try is claimed first, so no two workers send it at once."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from clinic.tasks import work_sweep
from notifications import services
from notifications.models import Notification
from notifications.sweep import notifications_owed
from tests.builders import LONDON, URL, payload
from therapy.models import Alert

NOON = dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON)  # tests/therapy/conftest.py's clock


def refused(*args, **kwargs):
    raise ConnectionRefusedError("SMTP down")


@pytest.fixture
def email(lab_token_api, eligible) -> Notification:
    assert lab_token_api.post(URL, payload(), format="json").status_code == 201
    alert = Alert.objects.get()
    return Notification.objects.get(key=f"alert:{alert.pk}:opened", channel="email")


@pytest.mark.django_db
def test_an_email_that_failed_while_the_mail_server_was_down_is_sent_when_it_is_back(
    lab_token_api, eligible, monkeypatch
):
    """The mail server refuses one send (a restart, a network blip). The notice is owed, as a
    pending e-mail is: the work sweep must send it once the server is back, not drop it."""
    monkeypatch.setattr(services, "send_mail", refused)
    assert lab_token_api.post(URL, payload(), format="json").status_code == 201
    alert = Alert.objects.get()
    email = Notification.objects.get(key=f"alert:{alert.pk}:opened", channel="email")
    services.notification_send_emails(notification_ids=[email.pk])  # its task, SMTP down
    monkeypatch.undo()
    Notification.objects.filter(pk=email.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=30)
    )
    for _ in range(3):
        work_sweep()
    email.refresh_from_db()
    assert email.state == "sent"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_refused_email_waits_longer_after_each_try_and_fails_after_the_last(
    email, monkeypatch, settings
):
    settings.EMAIL_MAX_ATTEMPTS = 5
    monkeypatch.setattr(services, "send_mail", refused)
    now, waits = timezone.now(), []
    for attempt in range(1, 5):
        with time_machine.travel(now, tick=False):
            assert email.pk in notifications_owed(now=now + dt.timedelta(minutes=5))
            assert services.notification_send_emails(notification_ids=[email.pk]) == 0
        email.refresh_from_db()
        assert (email.state, email.attempts) == ("pending", attempt)
        assert "SMTP down" in email.error
        waits.append(email.next_attempt_at - now)
        if email.next_attempt_at > now:  # not due before its time: no sweep, no late task
            early = email.next_attempt_at - dt.timedelta(seconds=1)
            with time_machine.travel(early, tick=False):
                assert email.pk not in notifications_owed()
                assert services.notification_send_emails(notification_ids=[email.pk]) == 0
            email.refresh_from_db()
            assert (email.state, email.attempts) == ("pending", attempt)
        now = email.next_attempt_at
    assert waits == [dt.timedelta(0), *(dt.timedelta(minutes=m) for m in (1, 2, 4))]
    with time_machine.travel(now, tick=False):
        services.notification_send_emails(notification_ids=[email.pk])  # the fifth and last
        email.refresh_from_db()
        assert (email.state, email.attempts) == ("failed", 5)
        assert email.pk not in notifications_owed(now=now + dt.timedelta(days=1))
        monkeypatch.undo()
        assert services.notification_send_emails(notification_ids=[email.pk]) == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_wait_between_tries_is_capped(email, monkeypatch, settings):
    settings.EMAIL_MAX_ATTEMPTS = 20
    monkeypatch.setattr(services, "send_mail", refused)
    for _ in range(15):
        Notification.objects.filter(pk=email.pk).update(next_attempt_at=None)
        services.notification_send_emails(notification_ids=[email.pk])
    email.refresh_from_db()
    assert (email.state, email.attempts) == ("pending", 15)
    assert email.next_attempt_at - timezone.now() == services.RETRY_MAX_WAIT


@pytest.mark.django_db
def test_an_email_claimed_by_another_worker_is_not_sent_or_counted_again(email, monkeypatch):
    """The claim (pending -> sending) is still the only way to a send."""
    Notification.objects.filter(pk=email.pk).update(state="sending")
    assert services.notification_send_emails(notification_ids=[email.pk]) == 0
    email.refresh_from_db()
    assert (email.state, email.attempts) == ("sending", 0)
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_email_sent_on_a_retry_is_sent_once(email, monkeypatch):
    monkeypatch.setattr(services, "send_mail", refused)
    services.notification_send_emails(notification_ids=[email.pk])
    monkeypatch.undo()
    assert services.notification_send_emails(notification_ids=[email.pk]) == 1
    assert services.notification_send_emails(notification_ids=[email.pk]) == 0
    email.refresh_from_db()
    assert (email.state, email.attempts, email.error) == ("sent", 2, "")
    assert len(mail.outbox) == 1
