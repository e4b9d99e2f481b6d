"""CohortAlert: each alert's dashboard fields beside its patient's oncologist, kept by
statement-level triggers on therapy_alert (insert, update, delete) and on patients_patient (a
change of oncologist moves her alerts). PostgreSQL only, like 0002."""

from django.db import migrations, models

COLUMNS = "alert_id, patient_id, oncologist_id, opened_at, kind, state, decision, reason_code, "
COLUMNS += "escalation_level, decided_at"
SELECT = """
    SELECT a.id, a.patient_id, p.oncologist_id, a.opened_at, a.kind, a.state, a.decision,
        a.reason_code, a.escalation_level, a.decided_at
    FROM {table} a JOIN patients_patient p ON p.id = a.patient_id
"""
UPSERT = f"""
    INSERT INTO clinic_cohortalert AS c ({COLUMNS}) {{select}}
    ON CONFLICT (alert_id) DO UPDATE SET patient_id = excluded.patient_id,
        oncologist_id = excluded.oncologist_id, opened_at = excluded.opened_at,
        kind = excluded.kind, state = excluded.state, decision = excluded.decision,
        reason_code = excluded.reason_code, escalation_level = excluded.escalation_level,
        decided_at = excluded.decided_at
"""
BODIES = {
    "INSERT": (
        "REFERENCING NEW TABLE AS new_rows",
        UPSERT.format(select=SELECT.format(table="new_rows")),
    ),
    "UPDATE": (
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        UPSERT.format(select=SELECT.format(table="new_rows")),
    ),
    "DELETE": (
        "REFERENCING OLD TABLE AS old_rows",
        "DELETE FROM clinic_cohortalert c USING old_rows o WHERE c.alert_id = o.id",
    ),
}
# The patient trigger of 0002 moves draws and ESR1 dates; this one moves her alerts.
PATIENT_MOVE = """
    IF EXISTS (SELECT 1 FROM ({moved}) AS m) THEN
        WITH moved AS ({moved})
        UPDATE clinic_cohortalert c SET oncologist_id = m.onc
        FROM moved m WHERE c.patient_id = m.id AND m.s > 0;
    END IF
""".format(
    # Patients whose oncologist changed: a cancelling aggregate of new (+1) and old (-1)
    # rows, not a join of the transition tables (no statistics: a nested loop is quadratic).
    moved="""
        SELECT id, onc, sum(s) AS s FROM (
            SELECT id, oncologist_id AS onc, 1 AS s FROM new_rows
            UNION ALL SELECT id, oncologist_id, -1 FROM old_rows) AS u
        GROUP BY id, onc HAVING sum(s) <> 0
    """
)


def _sql() -> tuple[str, str]:
    forward, backward = [], []
    triggers = [
        (f"clinic_cohort_alert_{e.lower()}", "therapy_alert", e, ref, body)
        for e, (ref, body) in BODIES.items()
    ]
    triggers.append(
        (
            "clinic_cohort_patient_alerts",
            "patients_patient",
            "UPDATE",
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
            PATIENT_MOVE,
        )
    )
    for name, table, event, ref, body in triggers:
        forward.append(
            f"""
            CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                {body};
                RETURN NULL;
            END $$;
            CREATE TRIGGER {name} AFTER {event} ON {table} {ref}
                FOR EACH STATEMENT EXECUTE FUNCTION {name}();
            """
        )
        backward.append(f"DROP TRIGGER {name} ON {table}; DROP FUNCTION {name}();")
    return "\n".join(forward), "\n".join(backward)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite (the demo run command): the dashboard reads therapy_alert
    schema_editor.execute(_sql()[0])
    schema_editor.execute(
        f"INSERT INTO clinic_cohortalert ({COLUMNS}) {SELECT.format(table='therapy_alert')}"
    )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_sql()[1])


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0002_cohort_triggers"),
        ("therapy", "0003_alert_reason_choices"),
    ]

    operations = [
        migrations.CreateModel(
            name="CohortAlert",
            fields=[
                ("alert_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("patient_id", models.BigIntegerField()),
                ("oncologist_id", models.BigIntegerField()),
                ("opened_at", models.DateTimeField()),
                ("kind", models.TextField()),
                ("state", models.TextField()),
                ("decision", models.TextField()),
                ("reason_code", models.TextField()),
                ("escalation_level", models.PositiveSmallIntegerField()),
                ("decided_at", models.DateTimeField(null=True)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["opened_at"], name="cohortalert_opened"),
                    models.Index(
                        fields=["oncologist_id", "opened_at"], name="cohortalert_onc_opened"
                    ),
                    models.Index(fields=["patient_id"], name="cohortalert_patient"),
                ],
            },
        ),
        migrations.RunPython(forward, backward),
    ]
