"""The only way anything is written to the audit trail.

Call these inside the service's transaction, so the audit row and the change commit or
roll back together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from audit.context import current_channel
from audit.models import AuditEvent

BULK_BATCH_SIZE = 5000


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
) -> int:
    """Record one event per row of a bulk write, in batched INSERTs; returns the count."""
    label = _actor_label(acting_user, system)
    channel = current_channel()
    events = [
        AuditEvent(
            actor=acting_user,
            actor_label=label,
            channel=channel,
            action=action,
            object_type=row.object_type,
            object_id=row.object_id,
            patient_id=row.patient_id,
            detail=row.detail,
        )
        for row in rows
    ]
    AuditEvent.objects.bulk_create(events, batch_size=BULK_BATCH_SIZE)
    return len(events)
