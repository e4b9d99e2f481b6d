"""The worklist's section counts, kept by triggers on patients_draw (PostgreSQL only).

Statement-level AFTER triggers with transition tables: each statement on patients_draw adds
its net change (new rows minus old rows, grouped by bucket and dates) in one upsert, in key
order, so set-based statements stay set-based and every path that changes draws (services,
planner, lab files, raw SQL) keeps the counts right inside its own transaction.
"""

from django.db import migrations, models

# One draw row's bucket and dates (`x` the row): NULL kind for draws in no bucket.
BUCKET = """
    CASE WHEN x.state = 'scheduled' AND NOT x.is_redraw THEN 'open'
         WHEN x.state = 'scheduled' THEN 'redraw'
         WHEN x.state = 'collected' THEN 'collected' END AS kind,
    CASE WHEN x.state = 'collected' THEN x.collected_on ELSE x.window_opens_on END AS opens_on,
    CASE WHEN x.state = 'collected' THEN x.collected_on ELSE x.window_closes_on END AS closes_on,
    CASE WHEN x.state = 'collected' THEN x.collected_on ELSE x.due_on END AS due_on
"""
IN_BUCKET = "x.state IN ('scheduled', 'collected')"

UPSERT = """
    INSERT INTO patients_worklistcount AS w (kind, opens_on, closes_on, due_on, n)
    SELECT kind, opens_on, closes_on, due_on, sum(s) FROM ({rows}) AS delta
    GROUP BY kind, opens_on, closes_on, due_on HAVING sum(s) <> 0
    ORDER BY kind, opens_on, closes_on, due_on
    ON CONFLICT (kind, opens_on, closes_on, due_on) DO UPDATE SET n = w.n + excluded.n
"""


def _rows(table: str, sign: int) -> str:
    return f"SELECT {BUCKET}, {sign} AS s FROM {table} x WHERE {IN_BUCKET}"


BODIES = {
    "INSERT": UPSERT.format(rows=_rows("new_rows", 1)),
    "UPDATE": UPSERT.format(rows=f"{_rows('new_rows', 1)} UNION ALL {_rows('old_rows', -1)}"),
    "DELETE": UPSERT.format(rows=_rows("old_rows", -1)),
}
REFERENCING = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
}

FORWARD, BACKWARD = [], []
for _event, _body in BODIES.items():
    _name = f"patients_worklist_count_{_event.lower()}"
    FORWARD.append(
        f"""
        CREATE FUNCTION {_name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {_body};
            RETURN NULL;
        END $$;
        CREATE TRIGGER {_name} AFTER {_event} ON patients_draw {REFERENCING[_event]}
            FOR EACH STATEMENT EXECUTE FUNCTION {_name}();
        """
    )
    BACKWARD.append(f"DROP TRIGGER {_name} ON patients_draw; DROP FUNCTION {_name}();")

# The draws already there (the same grouping as the triggers).
INITIAL_FILL = UPSERT.format(rows=_rows("patients_draw", 1))


def _forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("\n".join(FORWARD))
        cursor.execute(INITIAL_FILL)


def _backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("\n".join(BACKWARD))


class Migration(migrations.Migration):
    dependencies = [("patients", "0003_draw_lab")]

    operations = [
        migrations.CreateModel(
            name="WorklistCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(max_length=16)),
                ("opens_on", models.DateField()),
                ("closes_on", models.DateField()),
                ("due_on", models.DateField()),
                ("n", models.IntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "opens_on", "closes_on", "due_on"),
                        name="worklist_count_key",
                    )
                ],
            },
        ),
        migrations.RunPython(_forward, _backward),
    ]
