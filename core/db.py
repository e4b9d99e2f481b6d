import json
from collections.abc import Sequence

from django.db import connection, models
from django.db.models import Lookup
from django.utils import timezone

# SQLite limits the parameters of one statement: the ORM path inserts in batches.
ORM_BATCH_SIZE = 500


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def pg_array(values) -> str:
    """`values` as one PostgreSQL array literal ('{"1","2",NULL}'), for a `%s::type[]` cast.

    psycopg2 sends a Python list as ARRAY[v1, v2, ...]: one expression node per element
    that the server parses and plans, about a second per million elements. One quoted
    literal is parsed by the array type's input function instead, ten times faster. Text
    elements are double-quoted with backslash escapes; numbers, dates and booleans need none.
    """
    values = values if isinstance(values, list) else list(values)
    types = set(map(type, values))
    if types <= _PLAIN:  # whole numbers only (or nothing): the list's text, unbracketed
        return "{" + str(values)[1:-1].replace(" ", "") + "}"
    if len(types) == 1 and issubclass(next(iter(types)), str):  # text only: quoted at once
        if '"' in (joined := "".join(values)) or "\\" in joined:
            values = [v.replace("\\", "\\\\").replace('"', '\\"') for v in values]
        return '{"' + '","'.join(values) + '"}'
    parts = []
    append = parts.append
    for value in values:
        if value is None:
            append("NULL")
        elif isinstance(value, str):
            append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
        else:  # numbers, dates, booleans: nothing in their text needs quoting
            append(str(value))
    return "{" + ",".join(parts) + "}"


_PLAIN = frozenset({int})


class JsonText(str):
    """A JSON value already encoded (one snapshot stored in two tables is encoded once):
    `rows_insert` writes it as it is on PostgreSQL and decodes it for the ORM elsewhere."""


def _json_text(value, field) -> str:
    if isinstance(value, JsonText):
        return value
    return json.dumps(value, cls=field.encoder)


def rows_insert(
    model,
    columns: Sequence[str],
    rows: Sequence[Sequence],
    *,
    returning: Sequence[str] = (),
    ignore_conflicts: bool = False,
    now=None,
    batch: "WriteBatch | None" = None,
) -> list[tuple]:
    """Insert `rows` (tuples of the `columns`' values, by attname) into `model`'s table in
    one statement, with no model instances: every other field takes its default
    (auto_now and auto_now_add fields: `now`, else the time of the call). JSON columns take
    Python values or JsonText. Returns the `returning` columns of each row inserted, in no
    particular order (with `ignore_conflicts`, only of the rows inserted; PostgreSQL only).

    PostgreSQL: INSERT ... SELECT FROM unnest(one array literal per column) (pg_array), the
    other fields as one typed parameter each. Elsewhere (SQLite, the embedded demo): the
    ORM's bulk_create of the same values, in batches. With a `batch` (PostgreSQL), the
    statement is added to it instead of run (and nothing is returned)."""
    if not rows:
        return []
    meta = model._meta
    by_name = {f.attname: f for f in meta.concrete_fields}
    fields = [by_name[c] for c in columns]
    others = [f for f in meta.concrete_fields if f.attname not in columns and not f.primary_key]
    now = now or timezone.now()
    constants = {}
    for f in others:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            constants[f.attname] = now
        else:  # what the model's constructor gives it ("" for text without a default)
            constants[f.attname] = f.get_default()
    if connection.vendor != "postgresql":
        return _rows_insert_orm(model, fields, rows, constants, returning, ignore_conflicts)
    table = connection.ops.quote_name(meta.db_table)
    names = [connection.ops.quote_name(f.column) for f in fields]
    select, params = [], []
    for f in others:
        value = constants[f.attname]
        if f.get_internal_type() == "JSONField":
            value = _json_text(value, f)
        select.append(f"CAST(%s AS {f.db_type(connection)})")
        params.append(value)
        names.append(connection.ops.quote_name(f.column))
    arrays = []
    for i, f in enumerate(fields):
        column = [row[i] for row in rows]
        if f.get_internal_type() == "JSONField":
            column = [None if v is None else _json_text(v, f) for v in column]
        arrays.append(f"%s::{f.db_type(connection)}[]")
        params.append(pg_array(column))
    aliases = [f"c{i}" for i in range(len(fields))]
    sql = (
        f"INSERT INTO {table} ({', '.join(names)}) "  # noqa: S608 - names from the model
        f"SELECT {', '.join([*aliases, *select])} "
        f"FROM unnest({', '.join(arrays)}) AS u({', '.join(aliases)})"
    )
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(
            connection.ops.quote_name(by_name[c].column) for c in returning
        )
    if batch is not None:
        if returning:
            raise ValueError("a batched insert returns nothing")
        batch.add(sql, params)
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()] if returning else []


def _rows_insert_orm(model, fields, rows, constants, returning, ignore_conflicts):
    objs = []
    for row in rows:
        values = dict(constants)
        for f, value in zip(fields, row, strict=True):
            if isinstance(value, JsonText):
                value = json.loads(value)
            values[f.attname] = value
        objs.append(model(**values))
    model.objects.bulk_create(objs, batch_size=ORM_BATCH_SIZE, ignore_conflicts=ignore_conflicts)
    return [tuple(getattr(o, c) for c in returning) for o in objs] if returning else []


class AnyOf(Lookup):
    """`lhs` is one of `values`, the values sent as one parameter: a filter expression,
    `Model.objects.filter(AnyOf(F("patient_id"), ids))`.

    `patient_id__in=ids` sends (and the ORM prepares) one parameter per value; for a batch of
    500 patients that preparation is most of the query's cost. PostgreSQL: `= ANY(one array
    literal)` (pg_array); elsewhere (SQLite): `IN (SELECT value FROM json_each(one JSON
    array))`. Values are numbers or text."""

    lookup_name = "any_of"
    prepare_rhs = False

    def __init__(self, lhs, values):
        super().__init__(lhs, list(values))

    def get_prep_lookup(self):
        return self.rhs

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            array = f"{self.lhs.output_field.db_type(connection)}[]"
            return f"{lhs} = ANY(%s::{array})", [*params, pg_array(self.rhs)]
        sql = f"{lhs} IN (SELECT value FROM json_each(%s))"  # noqa: S608 - a column name
        return sql, [*params, json.dumps(self.rhs)]


class WriteBatch:
    """Writes whose answers are not needed at once, sent to PostgreSQL in one round trip by
    `run` (the parameters interpolated by the driver, the statements joined by ";"), in the
    order added; the one statement added with `then` runs last and `then` gets its rows.

    `write_batch()` gives one on PostgreSQL and None elsewhere (SQLite, the embedded demo),
    where the writers given None execute at once: the same statements, one by one."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, list]] = []
        self.last: tuple[str, list, object] | None = None

    def add(self, sql: str, params, *, then=None) -> None:
        if then is None:
            self.statements.append((sql, params))
            return
        if self.last is not None:
            raise ValueError("only one statement of a batch can return rows")
        self.last = (sql, params, then)

    def run(self) -> None:
        statements = list(self.statements)
        if self.last is not None:
            statements.append(self.last[:2])
        self.statements, last, self.last = [], self.last, None
        if not statements:
            return
        sql = ";\n".join(connection.ops.compose_sql(s, p) for s, p in statements)
        with connection.cursor() as cursor:
            cursor.execute(sql)
            if last is not None:
                last[2](cursor.fetchall())


def write_batch() -> WriteBatch | None:
    return WriteBatch() if connection.vendor == "postgresql" else None
