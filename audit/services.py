"""The only way anything is written to the audit trail.

Call these inside the service's transaction, so the audit row and the change commit or
roll back together.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone

from audit.context import current_channel
from audit.models import AuditEvent
from core.db import WriteBatch, pg_array

# SQLite limits the parameters of one statement; PostgreSQL takes any number of rows in one.
SQLITE_BULK_BATCH_SIZE = 3000


def _actor_label(acting_user, system: str | None) -> str:
    if acting_user is not None:
        return acting_user.get_username()
    return f"system:{system or current_channel()}"


def audit_record(
    *,
    action: str,
    acting_user=None,
    obj=None,
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
    system: str | None = None,
) -> AuditEvent:
    """Record one event. `obj` gives the object type and id; never put PHI in `detail`."""
    if patient_id is None and obj is not None and obj.__class__.__name__ == "Patient":
        patient_id = obj.pk
    return AuditEvent.objects.create(
        actor=acting_user,
        actor_label=_actor_label(acting_user, system),
        channel=current_channel(),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        patient_id=patient_id,
        detail=detail or {},
    )


@dataclass(frozen=True)
class AuditRow:
    object_type: str
    object_id: str
    patient_id: int | None
    detail: dict[str, Any] = field(default_factory=dict)


def audit_bulk(
    *,
    action: str,
    rows: Iterable[AuditRow],
    acting_user=None,
    system: str | None = None,
    batch: WriteBatch | None = None,
) -> int:
    """Record one event per row of a bulk write; returns the count.

    PostgreSQL: one INSERT with the rows as arrays (unnest), so 100,000 events cost one
    statement and no model instances; each array is sent as one literal (core.db.pg_array);
    with a `batch` (core.db.WriteBatch) the statement is added to it, to run with it.
    SQLite (the embedded demo): bulk_create in batches.
    """
    rows = list(rows)
    if not rows:
        return 0
    label = _actor_label(acting_user, system)
    channel = current_channel()
    actor_id = acting_user.pk if acting_user is not None else None
    if connection.vendor == "postgresql":
        sql = (
            "INSERT INTO audit_auditevent (at, actor_id, actor_label, channel, action, "
            "object_type, object_id, patient_id, detail) "
            "SELECT %s, %s, %s, %s, %s, t, o, p, d::jsonb FROM unnest("
            "%s::text[], %s::text[], %s::bigint[], %s::text[]) AS u(t, o, p, d)"
        )
        params = [
            timezone.now(),
            actor_id,
            label,
            channel,
            action,
            pg_array(row.object_type for row in rows),
            pg_array(row.object_id for row in rows),
            pg_array(row.patient_id for row in rows),
            pg_array(json.dumps(row.detail) for row in rows),
        ]
        if batch is not None:
            batch.add(sql, params)
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
        return len(rows)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor_id=actor_id,
                actor_label=label,
                channel=channel,
                action=action,
                object_type=row.object_type,
                object_id=row.object_id,
                patient_id=row.patient_id,
                detail=row.detail,
            )
            for row in rows
        ],
        batch_size=SQLITE_BULK_BATCH_SIZE,
    )
    return len(rows)


def audit_bulk_sql(
    *, action: str, source: str, acting_user=None, system: str | None = None
) -> tuple[str, list]:
    """An INSERT of one event per row of `source`, for a caller that writes its rows and
    their audit events in one statement (PostgreSQL; e.g. a data-modifying WITH whose
    RETURNING feeds it). `source` is SQL naming a relation with the columns object_type,
    object_id (text), patient_id (bigint) and detail (jsonb); returns the SQL and its
    parameters (placed before any of `source`'s own)."""
    return (
        "INSERT INTO audit_auditevent (at, actor_id, actor_label, channel, action, "  # noqa: S608 - constants and the caller's SQL
        "object_type, object_id, patient_id, detail) "
        f"SELECT %s, %s, %s, %s, %s, object_type, object_id, patient_id, detail FROM {source}",
        [
            timezone.now(),
            acting_user.pk if acting_user is not None else None,
            _actor_label(acting_user, system),
            current_channel(),
            action,
        ],
    )
