"""The rule's reading of imaging changed (rules.confirmation_needed: her newest scan since the
blood test decides, 237a540) and so did the reasons an alert is withdrawn for (52b0cae): owe a
reconcile (therapy.owed) to every patient with a pending alert, which the worker's sweep pays,
so that each stored alert says what the rule now gives (an alert stored before would show no
imaging warning while the switch is refused for want of confirmatory imaging). Nothing to
undo: a reconcile is idempotent."""

from django.db import migrations


def forwards(apps, schema_editor):
    Alert = apps.get_model("therapy", "Alert")
    ReconcileOwed = apps.get_model("therapy", "ReconcileOwed")
    patients = (
        Alert.objects.filter(state__in=["open", "deferred"])
        .order_by()
        .values_list("patient_id", flat=True)
        .distinct()
    )
    ReconcileOwed.objects.bulk_create(
        [ReconcileOwed(patient_id=pid) for pid in sorted(set(patients))],
        ignore_conflicts=True,
        batch_size=5000,
    )


class Migration(migrations.Migration):
    dependencies = [("therapy", "0008_withdrawn_label_not_active")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
