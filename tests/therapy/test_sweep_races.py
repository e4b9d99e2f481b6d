"""The alert sweep racing a decision, or another sweep: it escalates, tells and audits only
the alerts its own UPDATE changed (still pending, still below the level)."""

import datetime as dt
import threading
import time

import pytest
from django.db import connections, transaction

from audit.models import AuditEvent
from notifications.models import Notification
from tests.builders import LONDON, payload
from therapy.models import Alert

PAST_SLA = dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON) + dt.timedelta(days=3, hours=1)


@pytest.mark.django_db(transaction=True)
def test_an_alert_declined_while_the_sweep_escalates_it_is_not_escalated(eligible, oncologist):
    """The sweep selects the open alerts past their SLA, then updates them. An oncologist's
    decline commits in between (the sweep's UPDATE waits for her row lock). The UPDATE only
    re-checks the escalation level, not that the alert is still open: a declined alert gets
    escalated, and the oncologist and the escalation contacts are told it is waiting."""
    import time_machine

    from accounts.roles import Role
    from clinic.workflows import report_receive
    from tests.factories import UserFactory
    from therapy.decisions import alert_acknowledge
    from therapy.sweep import alerts_sweep

    lab = UserFactory(username="lab_sweep_race", role=Role.LAB)
    UserFactory(username="contact_race", role=Role.ADMIN)
    report_receive(payload=payload(), lab_account=lab)
    alert = Alert.objects.get()
    errors = []

    def sweep():
        try:
            alerts_sweep()
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    with time_machine.travel(PAST_SLA, tick=False):
        with transaction.atomic():
            alert_acknowledge(
                alert=alert,
                decision="decline",
                reason_code="patient_preference",
                acting_user=oncologist,
            )
            thread = threading.Thread(target=sweep)
            thread.start()
            time.sleep(1.5)  # the sweep has read the alert as open and waits for its row
        thread.join(timeout=30)
    assert not errors, errors
    alert.refresh_from_db()
    assert alert.state == "declined"
    assert alert.escalation_level == 0
    assert not Notification.objects.filter(key__contains=":escalated:").exists()
    assert not AuditEvent.objects.filter(action="alert.escalate").exists()


@pytest.mark.django_db(transaction=True)
def test_two_alert_sweeps_at_once_escalate_and_audit_once(eligible, oncologist):
    """Two sweeps (a retry after an OperationalError overlapping the next beat) both read the
    alert as due; the second's UPDATE changes nothing, but it counts, audits and notifies
    every alert it read: two alert.escalate rows for one escalation."""
    import time_machine

    from accounts.roles import Role
    from clinic.workflows import report_receive
    from tests.factories import UserFactory
    from therapy.sweep import alerts_sweep

    lab = UserFactory(username="lab_two_sweeps", role=Role.LAB)
    report_receive(payload=payload(), lab_account=lab)
    alert = Alert.objects.get()
    counts, errors = [], []

    def sweep():
        try:
            counts.append(alerts_sweep()["escalated"])
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    with time_machine.travel(PAST_SLA, tick=False):
        with transaction.atomic():
            Alert.objects.select_for_update().get(pk=alert.pk)  # both sweeps read, then wait
            threads = [threading.Thread(target=sweep) for _ in range(2)]
            for t in threads:
                t.start()
            time.sleep(1.5)
        for t in threads:
            t.join(timeout=30)
    assert not errors, errors
    assert AuditEvent.objects.filter(action="alert.escalate").count() == 1
    assert sorted(counts) == [0, 1]
