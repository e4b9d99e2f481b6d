"""therapy/0009: every patient with a pending alert is owed a reconcile once the rule's reading
of imaging changed; the worker's sweep pays it (therapy.owed)."""

import importlib

import pytest
from django.apps import apps

from tests.builders import payload, pending, post_report
from therapy.models import ReconcileOwed

pytestmark = pytest.mark.django_db


def test_patients_with_a_pending_alert_are_owed_a_reconcile(eligible, lab_token_api):
    post_report(lab_token_api, payload())
    assert pending(eligible).exists()
    ReconcileOwed.objects.all().delete()
    migration = importlib.import_module("therapy.migrations.0009_owe_reconcile_pending_alerts")
    migration.forwards(apps, None)
    migration.forwards(apps, None)  # twice: one debt per patient
    assert list(ReconcileOwed.objects.values_list("patient_id", flat=True)) == [eligible.pk]
