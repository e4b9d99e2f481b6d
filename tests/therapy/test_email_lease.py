"""An e-mail whose worker died while sending it (claimed `sending`, no outcome recorded) is
not lost: after its lease the sweep tries it again (a second copy is possible; an alert
e-mail never sent is worse), and after the last allowed try it is `failed`, visible."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from clinic.tasks import work_sweep
from notifications import services
from notifications.models import Notification
from tests.builders import URL, payload
from therapy.models import Alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def email(lab_token_api, eligible) -> Notification:
    assert lab_token_api.post(URL, payload(), format="json").status_code == 201
    alert = Alert.objects.get()
    return Notification.objects.get(key=f"alert:{alert.pk}:opened", channel="email")


def _died_mid_send(email: Notification, now) -> None:
    """A worker claims the e-mail, then is killed before send_mail returns."""
    with time_machine.travel(now, tick=False):
        assert services._claim(email, now)
    email.refresh_from_db()
    assert email.state == "sending"


def test_an_email_whose_worker_died_is_sent_again_after_its_lease(email):
    now = timezone.now()
    _died_mid_send(email, now)
    with time_machine.travel(now + dt.timedelta(minutes=5), tick=False):
        work_sweep()  # within the lease: the worker may still be sending it
    email.refresh_from_db()
    assert email.state == "sending"
    assert mail.outbox == []
    with time_machine.travel(now + services.SEND_LEASE + dt.timedelta(minutes=1), tick=False):
        work_sweep()
    email.refresh_from_db()
    assert (email.state, email.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1


def test_a_died_send_on_the_last_try_ends_failed(email, settings):
    settings.EMAIL_MAX_ATTEMPTS = 1
    now = timezone.now()
    _died_mid_send(email, now)
    with time_machine.travel(now + services.SEND_LEASE + dt.timedelta(minutes=1), tick=False):
        work_sweep()
    email.refresh_from_db()
    assert (email.state, email.attempts) == ("failed", 1)
    assert "stopped" in email.error
    assert mail.outbox == []
