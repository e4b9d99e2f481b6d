"""Calls stored with FILTER "pass" (any case but PASS) before the validator read PASS in any
case were hidden from the rule as filtered calls: store them as PASS and owe their patients a
reconcile (therapy.owed), which the worker's sweep pays, so an alert they should have raised
opens. Nothing to undo: the original text stays in each report's payload."""

from django.db import migrations
from django.db.models import Q
from django.db.models.functions import Trim, Upper


def forwards(apps, schema_editor):
    VariantCall = apps.get_model("liquidbiopsy", "VariantCall")
    ReconcileOwed = apps.get_model("therapy", "ReconcileOwed")
    calls = (
        VariantCall.objects.annotate(normal=Upper(Trim("filter")))
        .filter(normal="PASS")
        .filter(~Q(filter="PASS"))
    )
    patients = set(calls.values_list("report__patient_id", flat=True).distinct())
    VariantCall.objects.filter(pk__in=calls.values("pk")).update(filter="PASS")
    ReconcileOwed.objects.bulk_create(
        [ReconcileOwed(patient_id=pid) for pid in sorted(patients)], ignore_conflicts=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("therapy", "0004_alert_evidence_variants"),
        ("liquidbiopsy", "0004_upload_first_claimed_at"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
