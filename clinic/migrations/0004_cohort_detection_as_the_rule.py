"""Recompute CohortPatient: its ESR1 dates now count only what the switch rule counts.

Before, any ESR1 call on a tested report was a detection: a FILTERED call, an ESR1 change off
the allow-list, a call below the floor too (the dashboard's "Emergent" counted them). A
detection is now an ESR1 call the rule counts (clinic.cohort.esr1_detected). The old rows
are a superset of the new ones (every detection was an ESR1 call), so recomputing the
patients who have a row makes the table right; `cohort_refresh` deletes a row left without a
detection. PostgreSQL only (no precomputed tables elsewhere). No reverse: the old figures
were wrong.
"""

from django.db import migrations

BATCH = 5000


def recompute(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The service itself, not a frozen copy: the definition must be the rule's as deployed.
    from clinic.cohort import cohort_refresh

    with schema_editor.connection.cursor() as cur:
        cur.execute("SELECT patient_id FROM clinic_cohortpatient ORDER BY patient_id")
        ids = [pk for (pk,) in cur.fetchall()]
    for start in range(0, len(ids), BATCH):
        cohort_refresh(ids[start : start + BATCH])


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0003_cohort_alerts"),
        ("liquidbiopsy", "0005_upload_notes"),
        ("patients", "0005_draw_patient_anchors"),
    ]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop, elidable=True)]
