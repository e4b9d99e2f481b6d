import functools
import json
from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
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
    if not any(issubclass(t, str) for t in types):  # numbers, dates, booleans, NULLs
        return "{" + ",".join(["NULL" if v is None else str(v) for v in values]) + "}"
    if len(types) == 1:  # text only: quoted at once
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
    fields, others, sql = _insert_plan(model, tuple(columns), tuple(returning), ignore_conflicts)
    now = now or timezone.now()
    constants = {}
    for f in others:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            constants[f.attname] = now
        else:  # what the model's constructor gives it ("" for text without a default)
            constants[f.attname] = f.get_default()
    if connection.vendor != "postgresql":
        return _rows_insert_orm(model, fields, rows, constants, returning, ignore_conflicts)
    params = [
        _json_text(constants[f.attname], f) if json_field else constants[f.attname]
        for f, json_field in others.items()
    ]
    for i, (f, json_field) in enumerate(fields.items()):
        column = [row[i] for row in rows]
        if json_field:
            column = [None if v is None else _json_text(v, f) for v in column]
        params.append(pg_array(column))
    if batch is not None:
        if returning:
            raise ValueError("a batched insert returns nothing")
        batch.add(sql, params)
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()] if returning else []


@functools.cache
def _insert_plan(model, columns: tuple, returning: tuple, ignore_conflicts: bool):
    """rows_insert's fields (each with whether it is JSON), in the columns' order, the other
    fields, and the PostgreSQL statement: the same for every call with these arguments."""
    meta = model._meta
    by_name = {f.attname: f for f in meta.concrete_fields}
    fields = {by_name[c]: by_name[c].get_internal_type() == "JSONField" for c in columns}
    others = {
        f: f.get_internal_type() == "JSONField"
        for f in meta.concrete_fields
        if f.attname not in columns and not f.primary_key
    }
    if connection.vendor != "postgresql":
        return fields, others, None
    quote = connection.ops.quote_name
    names = [quote(f.column) for f in fields] + [quote(f.column) for f in others]
    select = [f"CAST(%s AS {f.db_type(connection)})" for f in others]
    arrays = [f"%s::{f.db_type(connection)}[]" for f in fields]
    aliases = [f"c{i}" for i in range(len(fields))]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(names)}) "  # noqa: S608 - names from the model
        f"SELECT {', '.join([*aliases, *select])} "
        f"FROM unnest({', '.join(arrays)}) AS u({', '.join(aliases)})"
    )
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(quote(by_name[c].column) for c in returning)
    return fields, others, sql


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
        super().__init__(lhs, values if isinstance(values, Slot) else list(values))

    def get_prep_lookup(self):
        return self.rhs

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        # A Slot stays itself: Prepared puts the values there at each run.
        value = self.rhs if isinstance(self.rhs, Slot) else _any_of_param(self.rhs, connection)
        if connection.vendor == "postgresql":
            array = f"{self.lhs.output_field.db_type(connection)}[]"
            return f"{lhs} = ANY(%s::{array})", [*params, value]
        sql = f"{lhs} IN (SELECT value FROM json_each(%s))"  # noqa: S608 - a column name
        return sql, [*params, value]


def _any_of_param(values, connection) -> str:
    values = list(values)
    return pg_array(values) if connection.vendor == "postgresql" else json.dumps(values)


class Slot:
    """Where a Prepared query's values go: given to its `build` in place of AnyOf's values."""


class Prepared:
    """A values_list() query built and compiled once, then run with other values in its
    AnyOf filters: the same SQL, parameters and converters the ORM would use.

    Django builds and compiles a query afresh at every evaluation, about a millisecond for
    a small one: most of the cost of a one-patient reconcile's reads. `build(*slots)`
    returns the QuerySet with a Slot for each AnyOf's values; `rows(*values)` runs it with
    `values` in the slots' places and returns its rows, as values_list() would (tuples,
    converted by the fields' from_db_value and the backend's converters). Compiled per
    database connection (one per thread)."""

    def __init__(self, build):
        self.build = build
        self._compiled: dict[int, tuple] = {}

    def _compile(self, conn):
        slots = [Slot() for _ in range(self.build.__code__.co_argcount)]
        queryset = self.build(*slots)
        compiler = queryset.query.get_compiler(connection=conn)
        sql, params = compiler.as_sql()
        where = {i: slots.index(p) for i, p in enumerate(params) if isinstance(p, Slot)}
        if len(where) != len(slots):
            raise ValueError("each slot must be one AnyOf's values, used once")
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        converters = compiler.get_converters(fields)
        return conn, sql, list(params), where, compiler, converters

    def rows(self, *values) -> list[tuple]:
        conn = connections[DEFAULT_DB_ALIAS]
        compiled = self._compiled.get(id(conn))
        if compiled is None or compiled[0] is not conn:
            compiled = self._compiled[id(conn)] = self._compile(conn)
        _, sql, params, where, compiler, converters = compiled
        params = list(params)
        for i, slot in where.items():
            params[i] = _any_of_param(values[slot], conn)
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            return [tuple(row) for row in compiler.apply_converters(rows, converters)]
        return [tuple(row) for row in rows]


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
