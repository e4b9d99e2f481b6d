"""What the oncologist (and the escalation contacts) are told about an alert.

One notification per alert, event and episode: the key makes a repeat a no-op, and a reopened
alert (a new episode) is told afresh. E-mails name no patient: they carry only a link.
"""

from __future__ import annotations

import logging

from django.db import transaction

from notifications.services import Message, notification_publish
from therapy.models import Alert

logger = logging.getLogger(__name__)

KIND_NOUN = {
    Alert.Kind.SWITCH_RECOMMENDED: "switch alert",
    Alert.Kind.REVIEW: "early-ESR1 review alert",
    Alert.Kind.ESR1_WITH_PROGRESSION: "ESR1-with-progression alert",
}


def noun(alert: Alert) -> str:
    return KIND_NOUN.get(alert.kind, "alert")


def alert_notify(alert: Alert, event: str, subject: str, *, recipients=None) -> None:
    """Publish one notice for `event` (a key fragment) to the patient's oncologist."""
    if recipients is None:
        recipients = [alert.patient.oncologist]
    ids = notification_publish(
        message=Message(
            key=f"alert:{alert.pk}:{event}",
            subject=subject,
            body=(f"{subject}.\nOpen the alert to review the evidence and record your decision."),
            link=f"/alerts/{alert.pk}/",
        ),
        recipients=recipients,
    )
    if ids:
        from notifications.tasks import notifications_send

        def send(ids=ids) -> None:
            try:  # best effort: the pending row is what counts; the sweep sends it later
                notifications_send.delay(ids)
            except Exception:  # a broker outage must not turn a stored alert into a 500
                logger.warning("notification enqueue failed; the pending e-mails stay owed")

        transaction.on_commit(send)
