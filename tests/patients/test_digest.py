"""The nurses' daily digest: in-app and e-mail, recorded, never sent twice."""

import datetime as dt

import pytest
from django.core import mail

from accounts.roles import Role
from notifications.models import Notification
from notifications.services import Message, notification_publish, notification_send_emails
from patients.digest import nurse_digest_send
from tests.builders import make_draw
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 24)


def test_digest_counts_and_delivers_once_per_day(oncologist):
    nurses = [UserFactory(username=f"n{i}", role=Role.NURSE) for i in range(2)]
    UserFactory(username="no_mail", role=Role.NURSE, email="")
    UserFactory(username="onc_not_nurse", role=Role.ONCOLOGIST)
    make_draw(PatientFactory(oncologist=oncologist), TODAY - dt.timedelta(days=10))
    make_draw(PatientFactory(oncologist=oncologist), TODAY - dt.timedelta(days=30))
    make_draw(PatientFactory(oncologist=oncologist), TODAY)

    assert nurse_digest_send(today=TODAY) == 2
    assert nurse_digest_send(today=TODAY) == 0  # the same day again: nothing
    assert len(mail.outbox) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(n.email for n in nurses)
    assert mail.outbox[0].subject == "ctDNA draws 24 Nov 2026: 2 overdue, 1 due today"
    assert "/worklist/" in mail.outbox[0].body
    assert "MRN" not in mail.outbox[0].body  # no PHI by e-mail
    in_app = Notification.objects.filter(channel="in_app", key="nurse-digest:2026-11-24")
    assert in_app.count() == 3  # every nurse, with or without an address
    assert Notification.objects.filter(channel="email", state="sent").count() == 2

    nurse_digest_send(today=TODAY + dt.timedelta(days=1))
    assert len(mail.outbox) == 4


def test_failed_email_is_recorded_not_retried_blindly(settings, nurse):
    """Refused: recorded and tried again later (tests/notifications), EMAIL_MAX_ATTEMPTS
    times in all, then failed for good."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    settings.EMAIL_MAX_ATTEMPTS = 2
    ids = notification_publish(message=Message(key="k1", subject="s", body="b"), recipients=[nurse])
    assert notification_send_emails(notification_ids=ids) == 0
    refused = Notification.objects.get(channel="email")
    assert (refused.state, refused.attempts) == ("pending", 1)
    assert refused.error
    assert notification_send_emails(notification_ids=ids) == 0  # the last try
    failed = Notification.objects.get(channel="email")
    assert (failed.state, failed.attempts) == ("failed", 2)
    assert failed.error
    assert notification_send_emails(notification_ids=ids) == 0  # not pending any more
    assert Notification.objects.get(channel="email").attempts == 2


def test_a_claimed_email_is_not_sent_again(nurse):
    ids = notification_publish(message=Message(key="k2", subject="s", body="b"), recipients=[nurse])
    Notification.objects.filter(pk__in=ids).update(state="sending")  # another worker has it
    assert notification_send_emails(notification_ids=ids) == 0
    assert mail.outbox == []


def test_in_app_notifications_page(client, nurse):
    nurse_digest_send(today=TODAY)
    client.force_login(nurse)
    page = client.get("/notifications/").content.decode()
    assert "ctDNA draws 24 Nov 2026" in page
    assert 'aria-label="1 unread"' in page
    client.post("/notifications/read/")
    assert 'aria-label="1 unread"' not in client.get("/notifications/").content.decode()
