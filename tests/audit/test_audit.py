"""The audit trail: append-only in the database, bulk writes, and no PHI in its text."""

import pytest
from django.db import InternalError, ProgrammingError, connection, transaction

from audit.context import audit_channel
from audit.models import AuditEvent
from audit.services import AuditRow, audit_bulk, audit_record

pytestmark = pytest.mark.django_db


def test_events_cannot_be_changed_or_deleted(nurse):
    event = audit_record(action="patient.view", acting_user=nurse, patient_id=1)
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():  # noqa: SIM117
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.get(pk=event.pk).action == "patient.view"


def test_bulk_write_records_one_event_per_row_in_few_queries(django_assert_max_num_queries):
    rows = [
        AuditRow("liquidbiopsy.draw", str(i), i, {"due_on": "2026-12-01"}) for i in range(12000)
    ]
    with django_assert_max_num_queries(4), audit_channel("task"):
        count = audit_bulk(action="draw.plan", rows=rows, system="planner")
    assert count == 12000
    assert (
        AuditEvent.objects.filter(action="draw.plan", actor_label="system:planner").count() == 12000
    )
    assert AuditEvent.objects.filter(action="draw.plan", channel="task").count() == 12000


def test_system_actions_are_labelled(nurse):
    with audit_channel("cli"):
        event = audit_record(action="demo.seed")
    assert (event.actor, event.actor_label, event.channel) == (None, "system:cli", "cli")
