"""Triggers that keep CohortDay and CohortState equal to the sums they hold.

Statement-level AFTER triggers with transition tables: each INSERT, UPDATE or DELETE on
patients_draw or patients_patient adds its net change (new rows minus old rows, grouped by
oncologist and day, or oncologist and state) in one statement, so the planner's and the
uploads' set-based statements stay set-based, and every service, whatever app it lives in,
keeps the figures right inside its own transaction. An update counts only the rows whose
contribution changed (a result arriving changes none). A change of a patient's oncologist
moves her draws' contributions and her CohortPatient row. `manage.py cohort_rebuild`
recomputes everything from scratch.
"""

from django.db import migrations

COUNTED = "('collected', 'resulted', 'failed', 'missed')"

# What a closed draw row `x` (collected, resulted, failed, missed: DRAW_COUNTED) adds: one
# due on the day its window closes, for its patient, and whether it was collected inside the
# window. Open and cancelled draws add nothing (the dashboard counts overdue open draws live).
DRAW_KEY = """
    x.patient_id, x.window_closes_on AS day,
    coalesce(x.collected_on BETWEEN x.window_opens_on AND x.window_closes_on, false) AS inw
"""
DRAW_COUNTED = f"x.state IN {COUNTED}"

DAY_UPSERT = """
    INSERT INTO clinic_cohortday AS c (oncologist_id, day, due, in_window)
    SELECT onc, day, sum(due), sum(in_window) FROM ({rows}) AS delta
    GROUP BY onc, day
    HAVING sum(due) <> 0 OR sum(in_window) <> 0
    ORDER BY onc, day
    ON CONFLICT (oncologist_id, day) DO UPDATE SET due = c.due + excluded.due,
        in_window = c.in_window + excluded.in_window
"""

STATE_UPSERT = """
    INSERT INTO clinic_cohortstate AS c (oncologist_id, state, patients)
    SELECT onc, state, sum(n) FROM ({rows}) AS delta
    GROUP BY onc, state HAVING sum(n) <> 0 ORDER BY onc, state
    ON CONFLICT (oncologist_id, state) DO UPDATE SET patients = c.patients + excluded.patients
"""


def _draw_delta(*sources: tuple[str, int]) -> str:
    """The net change of the rows of `sources` (transition table, sign), by patient and key.

    New rows (+1) and old rows (-1) are summed without pairing them: a row whose contribution
    did not change (a result arriving: collected to resulted) cancels out in the aggregate,
    before any patient is looked up. No join of the two transition tables: the planner has no
    statistics on them and may nest-loop such a join (quadratic)."""
    union = " UNION ALL ".join(
        f"SELECT {DRAW_KEY}, {sign} AS s FROM {table} x WHERE {DRAW_COUNTED}"
        for table, sign in sources
    )
    return f"""
    SELECT p.oncologist_id AS onc, d.day, d.s AS due, d.s * d.inw::int AS in_window
    FROM (SELECT patient_id, day, inw, sum(s) AS s FROM ({union}) AS u
          GROUP BY patient_id, day, inw HAVING sum(s) <> 0) AS d
    JOIN patients_patient p ON p.id = d.patient_id
    """


DRAW_FUNCTIONS = {
    "INSERT": DAY_UPSERT.format(rows=_draw_delta(("new_rows", 1))),
    "UPDATE": DAY_UPSERT.format(rows=_draw_delta(("new_rows", 1), ("old_rows", -1))),
    "DELETE": DAY_UPSERT.format(rows=_draw_delta(("old_rows", -1))),
}

# Patients whose oncologist changed in the statement: (id, oncologist, +1 new / -1 old), by
# the same cancelling aggregate (no join of the transition tables).
MOVED = """
    SELECT id, onc, sum(s) AS s FROM (
        SELECT id, oncologist_id AS onc, 1 AS s FROM new_rows
        UNION ALL SELECT id, oncologist_id, -1 FROM old_rows) AS u
    GROUP BY id, onc HAVING sum(s) <> 0
"""

# Their draws' contributions move (out of the old oncologist's rows, into the new one's) ...
PATIENT_MOVES = f"WITH moved AS ({MOVED}) " + DAY_UPSERT.format(
    rows=f"""
    SELECT m.onc, d.day, m.s AS due, m.s * d.inw::int AS in_window
    FROM moved m JOIN LATERAL (SELECT {DRAW_KEY} FROM patients_draw x
                               WHERE x.patient_id = m.id AND {DRAW_COUNTED}) AS d ON true
    """
)

# ... and their CohortPatient rows follow them (the dashboard filters those by oncologist).
PATIENT_ONCOLOGIST = f"""
    WITH moved AS ({MOVED})
    UPDATE clinic_cohortpatient c SET oncologist_id = m.onc
    FROM moved m WHERE c.patient_id = m.id AND m.s > 0
"""

STATE_ROWS = (
    "SELECT oncologist_id AS onc, surveillance_state AS state, {sign} AS n FROM {table}"
)

PATIENT_FUNCTIONS = {
    "INSERT": STATE_UPSERT.format(rows=STATE_ROWS.format(sign=1, table="new_rows")),
    "UPDATE": STATE_UPSERT.format(
        rows=STATE_ROWS.format(sign=1, table="new_rows")
        + " UNION ALL "
        + STATE_ROWS.format(sign=-1, table="old_rows")
    )
    + f""";
    -- EXISTS over the aggregate: it is computed whole (hashed), once per statement.
    IF EXISTS (SELECT 1 FROM ({MOVED}) AS m) THEN
        {PATIENT_MOVES};
        {PATIENT_ONCOLOGIST};
    END IF
    """,
    "DELETE": STATE_UPSERT.format(rows=STATE_ROWS.format(sign=-1, table="old_rows")),
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
    INSERT INTO clinic_cohortday (oncologist_id, day, due, in_window)
    SELECT p.oncologist_id, d.window_closes_on, count(*),
        count(*) FILTER (WHERE d.collected_on BETWEEN d.window_opens_on AND d.window_closes_on)
    FROM patients_draw d JOIN patients_patient p ON p.id = d.patient_id
    WHERE d.state IN {COUNTED}
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
