"""What the oncologist (and the escalation contacts) are told about an alert.

One notification per alert, event and episode: the key makes a repeat a no-op, and a reopened
alert (a new episode) is told afresh. E-mails name no patient: they carry only a link.
"""

from __future__ import annotations

from core.queue import enqueue_on_commit
from notifications.services import Message, notifications_publish
from therapy.models import Alert

KIND_NOUN = {
    Alert.Kind.SWITCH_RECOMMENDED: "switch alert",
    Alert.Kind.REVIEW: "early-ESR1 review alert",
    Alert.Kind.ESR1_WITH_PROGRESSION: "ESR1-with-progression alert",
}


def noun(alert: Alert) -> str:
    return KIND_NOUN.get(alert.kind, "alert")


def alert_notify(
    alert: Alert, event: str, subject: str, *, recipients=None, replace: bool = False
) -> None:
    """Publish one notice for `event` (a key fragment) to the patient's oncologist.

    The e-mail says what happened and links to the alert; the in-app notice also names the
    patient. `replace` keeps one notice per alert for a repeating event kind (new evidence, a
    changed decision's evidence), updated in place."""
    alerts_notify([(alert, event, subject, replace)], recipients=recipients)


def alerts_notify(notices, *, recipients=None) -> None:
    """`alert_notify` for many (alert, event, subject, replace) at once: constant queries."""
    rows = []
    for alert, event, subject, replace in notices:
        patient = alert.patient
        name = getattr(patient, "display_name", "") if patient.family_name else ""
        to = recipients if recipients is not None else [patient.oncologist]
        rows.append((alert.pk, event, subject, replace, name, to))
    alert_notices_publish(rows)


def alert_notices_publish(rows, *, batch=None) -> None:
    """Publish (alert id, event, subject, replace, patient's display name or "", recipients)
    rows: the reconcile, which has the names and the oncologists at hand, calls this (with
    its core.db.WriteBatch: the notices are written when the batch runs)."""
    messages = [
        (
            Message(
                key=f"alert:{alert_id}:{event}",
                subject=subject,
                body=f"{subject}.\nOpen the alert to review the evidence and record your decision.",
                link=f"/alerts/{alert_id}/",
                in_app_subject=f"{subject}: {name}" if name else subject,
                replace=replace,
            ),
            recipients,
        )
        for alert_id, event, subject, replace, name, recipients in rows
    ]
    if messages:
        notifications_publish(notices=messages, batch=batch, then=_send_later)


def _send_later(ids: list[int]) -> None:
    if ids:
        from notifications.tasks import notifications_send

        enqueue_on_commit(notifications_send, ids)  # best effort: the pending rows are owed
