"""The set-based reconcile: one batch of patients gives exactly what reconciling each patient
alone gives (alerts, evidence, decisions recorded, audit rows, notices).

Hypothesis draws an event sequence (as the invariant property does), then leaves the stored
alerts out of date without a reconcile: patient 0's pending alerts thrown away (the reconcile
must open them again), and a fact of patient 1 changed behind the reconcile's back (a
progression scan, a withdrawal, or nothing). From that same state, rolled back between the
two, it reconciles both patients in one call, then each patient in a call of her own, and
compares everything the two wrote.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import AuditEvent
from notifications.models import Notification
from patients.models import Patient
from tests.factories import ScanFactory
from tests.therapy.test_reconcile_property import World, events
from therapy.models import Alert, AlertEvidence, SwitchEvaluation
from therapy.reconcile import alerts_reconcile

pytestmark = pytest.mark.django_db


def _snapshot(patient_ids, marks) -> dict:
    """What a reconcile wrote since the marks, without the ids a second run cannot repeat."""
    alert_ids = {}
    alerts = []
    for alert in Alert.objects.filter(patient_id__in=patient_ids).order_by("patient_id", "pk"):
        evidence = sorted(
            AlertEvidence.objects.filter(alert=alert).values_list("report_id", flat=True)
        )
        label = (alert.patient_id, alert.kind, alert.opened_at is not None, tuple(evidence))
        alert_ids[alert.pk] = label
        alerts.append(
            (
                *label,
                alert.state,
                alert.withdrawn_reason,
                tuple(map(tuple, alert.variants)),
                alert.needs_confirmatory_imaging,
                alert.flagged_for_review,
                tuple(alert.flag_detail),
            )
        )
    audits = sorted(
        (e.action, e.patient_id, e.object_type, repr(sorted(e.detail.items())))
        for e in AuditEvent.objects.filter(pk__gt=marks["audit"], patient_id__in=patient_ids)
    )
    evaluations = sorted(
        (e.report_id, e.kind, tuple(e.reasons), alert_ids.get(e.alert_id))
        for e in SwitchEvaluation.objects.filter(pk__gt=marks["evaluation"])
    )
    notices = sorted(
        (n.recipient_id, n.channel, n.subject, alert_ids.get(int(n.key.split(":")[1])))
        for n in Notification.objects.filter(pk__gt=marks["notice"], key__startswith="alert:")
    )
    return {"alerts": alerts, "audits": audits, "evaluations": evaluations, "notices": notices}


def _marks() -> dict:
    def last(model):
        return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    return {
        "audit": last(AuditEvent),
        "evaluation": last(SwitchEvaluation),
        "notice": last(Notification),
    }


@settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sequence=st.lists(events, min_size=1, max_size=8),
    behind=st.sampled_from(["nothing", "progression_scan", "withdrawn"]),
)
def test_a_batch_reconcile_equals_each_patient_alone(sequence, behind, oncologist, nurse, lab_user):
    with transaction.atomic():
        world = World(oncologist, nurse, lab_user)
        for event in sequence:
            world.apply(event)
        first, second = world.patients
        # Out of date, behind the reconcile's back:
        pending = Alert.objects.filter(patient=first, state__in=Alert.PENDING_STATES)
        AlertEvidence.objects.filter(alert__in=pending).delete()
        SwitchEvaluation.objects.filter(alert__in=pending).update(alert=None)
        pending.delete()
        if behind == "progression_scan":
            ScanFactory(patient=second, performed_on=dt.date(2026, 11, 22), outcome="progression")
        elif behind == "withdrawn":
            Patient.objects.filter(pk=second.pk).update(surveillance_state="withdrawn")
        ids = [first.pk, second.pk]
        marks = _marks()

        with transaction.atomic():
            touched = alerts_reconcile(ids)
            batch = _snapshot(ids, marks)
            batch_touched = sorted((a.patient_id, a.kind, a.state) for a in touched)
            transaction.set_rollback(True)
        with transaction.atomic():
            touched = alerts_reconcile([first.pk]) + alerts_reconcile([second.pk])
            alone = _snapshot(ids, marks)
            alone_touched = sorted((a.patient_id, a.kind, a.state) for a in touched)
            transaction.set_rollback(True)

        assert batch == alone, (sequence, behind)
        assert batch_touched == alone_touched
        transaction.set_rollback(True)
