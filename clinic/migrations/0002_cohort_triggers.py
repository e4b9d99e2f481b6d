"""Triggers that keep CohortDay and CohortState equal to the sums they hold.

Statement-level AFTER triggers with transition tables: each INSERT, UPDATE or DELETE on
patients_draw or patients_patient adds its net change (new rows minus old rows, grouped by
oncologist and day, or oncologist and state) in one statement, so the planner's and the
uploads' set-based statements stay set-based, and every service, whatever app it lives in,
keeps the figures right inside its own transaction. A change of a patient's oncologist moves
her draws' contributions and her CohortPatient row. `manage.py cohort_rebuild` recomputes everything from scratch.
"""

from django.db import migrations

COUNTED = "('collected', 'resulted', 'failed', 'missed')"

# One draw row's contribution, signed: `x` is the row, `s` the sign (+1 new, -1 old).
DRAW_TERMS = f"""
    p.oncologist_id AS onc, x.window_closes_on AS day,
    s * (x.state IN {COUNTED})::int AS due,
    s * (x.state IN {COUNTED} AND coalesce(x.collected_on BETWEEN x.window_opens_on
        AND x.window_closes_on, false))::int AS in_window,
    s * (x.state = 'scheduled')::int AS scheduled
"""

DAY_UPSERT = """
    INSERT INTO clinic_cohortday AS c (oncologist_id, day, due, in_window, scheduled)
    SELECT onc, day, sum(due), sum(in_window), sum(scheduled) FROM ({rows}) AS delta
    GROUP BY onc, day
    HAVING sum(due) <> 0 OR sum(in_window) <> 0 OR sum(scheduled) <> 0
    ORDER BY onc, day
    ON CONFLICT (oncologist_id, day) DO UPDATE SET due = c.due + excluded.due,
        in_window = c.in_window + excluded.in_window,
        scheduled = c.scheduled + excluded.scheduled
"""

STATE_UPSERT = """
    INSERT INTO clinic_cohortstate AS c (oncologist_id, state, patients)
    SELECT onc, state, sum(n) FROM ({rows}) AS delta
    GROUP BY onc, state HAVING sum(n) <> 0 ORDER BY onc, state
    ON CONFLICT (oncologist_id, state) DO UPDATE SET patients = c.patients + excluded.patients
"""


def _draw_rows(table: str, sign: int) -> str:
    return (
        f"SELECT {DRAW_TERMS} FROM {table} x JOIN patients_patient p ON p.id = x.patient_id "
        f"CROSS JOIN (SELECT {sign} AS s) AS sign"
    )


DRAW_FUNCTIONS = {
    "INSERT": DAY_UPSERT.format(rows=_draw_rows("new_rows", 1)),
    "UPDATE": DAY_UPSERT.format(
        rows=f"{_draw_rows('new_rows', 1)} UNION ALL {_draw_rows('old_rows', -1)}"
    ),
    "DELETE": DAY_UPSERT.format(rows=_draw_rows("old_rows", -1)),
}

# A patient whose oncologist changed: her draws' contributions move (out of the old one's
# rows, into the new one's).
PATIENT_MOVES = DAY_UPSERT.format(
    rows=f"""
    SELECT {DRAW_TERMS.replace("p.oncologist_id", "m.onc")}
    FROM (SELECT o.id, o.oncologist_id AS onc, -1 AS s FROM old_rows o
            JOIN new_rows n ON n.id = o.id WHERE n.oncologist_id <> o.oncologist_id
          UNION ALL
          SELECT n.id, n.oncologist_id, 1 FROM old_rows o
            JOIN new_rows n ON n.id = o.id WHERE n.oncologist_id <> o.oncologist_id) AS m
    JOIN patients_draw x ON x.patient_id = m.id
    """
)

# ... and her CohortPatient row follows her (the dashboard filters it by oncologist).
PATIENT_ONCOLOGIST = """
    UPDATE clinic_cohortpatient c SET oncologist_id = n.oncologist_id
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE c.patient_id = n.id AND n.oncologist_id <> o.oncologist_id
"""

PATIENT_FUNCTIONS = {
    "INSERT": STATE_UPSERT.format(
        rows="SELECT oncologist_id AS onc, surveillance_state AS state, 1 AS n FROM new_rows"
    ),
    "UPDATE": STATE_UPSERT.format(
        rows="""
        SELECT n.oncologist_id AS onc, n.surveillance_state AS state, 1 AS n
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.oncologist_id, n.surveillance_state) <> (o.oncologist_id, o.surveillance_state)
        UNION ALL
        SELECT o.oncologist_id, o.surveillance_state, -1
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.oncologist_id, n.surveillance_state) <> (o.oncologist_id, o.surveillance_state)
        """
    )
    + ";\n"
    + PATIENT_MOVES
    + ";\n"
    + PATIENT_ONCOLOGIST,
    "DELETE": STATE_UPSERT.format(
        rows="SELECT oncologist_id AS onc, surveillance_state AS state, -1 AS n FROM old_rows"
    ),
}

REFERENCING = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
}


def _triggers(table: str, short: str, bodies: dict[str, str]) -> tuple[str, str]:
    forward, backward = [], []
    for event, body in bodies.items():
        name = f"clinic_cohort_{short}_{event.lower()}"
        forward.append(
            f"""
            CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                {body};
                RETURN NULL;
            END $$;
            CREATE TRIGGER {name} AFTER {event} ON {table} {REFERENCING[event]}
                FOR EACH STATEMENT EXECUTE FUNCTION {name}();
            """
        )
        backward.append(f"DROP TRIGGER {name} ON {table}; DROP FUNCTION {name}();")
    return "\n".join(forward), "\n".join(backward)


DRAW_SQL = _triggers("patients_draw", "draw", DRAW_FUNCTIONS)
PATIENT_SQL = _triggers("patients_patient", "patient", PATIENT_FUNCTIONS)


# The figures of the data already there (a frozen copy of clinic.cohort.cohort_rebuild as
# of this migration: later changes to that module must not change what this one does).
INITIAL_FILL = [
    f"""
    INSERT INTO clinic_cohortday (oncologist_id, day, due, in_window, scheduled)
    SELECT p.oncologist_id, d.window_closes_on,
        count(*) FILTER (WHERE d.state IN {COUNTED}),
        count(*) FILTER (WHERE d.state IN {COUNTED}
            AND d.collected_on BETWEEN d.window_opens_on AND d.window_closes_on),
        count(*) FILTER (WHERE d.state = 'scheduled')
    FROM patients_draw d JOIN patients_patient p ON p.id = d.patient_id
    GROUP BY p.oncologist_id, d.window_closes_on
    """,
    """
    INSERT INTO clinic_cohortstate (oncologist_id, state, patients)
    SELECT oncologist_id, surveillance_state, count(*) FROM patients_patient
    GROUP BY oncologist_id, surveillance_state
    """,
    """
    WITH tested AS (
        SELECT r.patient_id, min(r.collected_on) AS first_tested_on,
            min(r.collected_on) FILTER (WHERE EXISTS (
                SELECT 1 FROM liquidbiopsy_variantcall v
                WHERE v.report_id = r.id AND v.gene = 'ESR1')) AS first_esr1_on
        FROM liquidbiopsy_labreport r
        WHERE r.is_current AND r.qc_status = 'pass'
            AND r.status IN ('final', 'amended', 'corrected')
        GROUP BY r.patient_id
    )
    INSERT INTO clinic_cohortpatient (patient_id, oncologist_id, first_tested_on,
        first_esr1_on, progression_on)
    SELECT t.patient_id, p.oncologist_id, t.first_tested_on, t.first_esr1_on,
        (SELECT min(s.performed_on) FROM patients_imagingassessment s
         WHERE s.patient_id = t.patient_id AND s.outcome = 'progression'
            AND s.performed_on >= t.first_esr1_on)
    FROM tested t JOIN patients_patient p ON p.id = t.patient_id
    WHERE t.first_esr1_on IS NOT NULL
    """,
]


def forward(apps, schema_editor):
    """PostgreSQL only: on SQLite (the demo run command) the dashboard reads the base tables."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(DRAW_SQL[0])
    schema_editor.execute(PATIENT_SQL[0])
    for statement in INITIAL_FILL:
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PATIENT_SQL[1])
        schema_editor.execute(DRAW_SQL[1])


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_cohort_precompute"),
        ("liquidbiopsy", "0003_variant_filter_db_default"),
    ]

    operations = [migrations.RunPython(forward, backward)]
