"""What the oncologist (and the escalation contacts) are told about an alert.

One notification per alert, event and episode: the key makes a repeat a no-op, and a reopened
alert (a new episode) is told afresh. E-mails name no patient: they carry only a link.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model

from accounts.roles import Role
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


def noun_with_article(alert: Alert, *, capital: bool = False) -> str:
    """ "a switch alert", "an ESR1-with-progression alert": the article the noun's sound takes
    (ESR1 is read letter by letter, "ee-ess-ar", so it takes "an")."""
    word = noun(alert)
    article = "an" if word[:1].upper() in "AEIOU" or word.startswith("ESR1") else "a"
    text = f"{article} {word}"
    return text[0].upper() + text[1:] if capital else text


# The closing line of a notice's e-mail: what the oncologist is to do when she opens it. A
# withdrawn alert has nothing left to decide (DESIGN §5: the oncologist is told, that is all).
ACT_CLOSING = "Open the alert to review the evidence and record your decision."
NOTHING_TO_DECIDE_CLOSING = "Open the alert to see why; there is nothing to decide."
NOTHING_TO_DECIDE_EVENTS = frozenset({"withdrawn"})


def closing(event: str) -> str:
    """The e-mail's closing line for an event key fragment ("withdrawn", "e2:reopened")."""
    if event.rsplit(":", 1)[-1] in NOTHING_TO_DECIDE_EVENTS:
        return NOTHING_TO_DECIDE_CLOSING
    return ACT_CLOSING


# Her oncologist's account deactivated (she left; the patient not yet reassigned): the notice
# goes to the escalation contacts at once, not to an account nobody reads until the SLA.
STAND_IN_SUFFIX = "; her oncologist's account is inactive: please make sure it is seen"


def escalation_contacts() -> list:
    """The active users ALERT_ESCALATION_CONTACTS names; the admins when it names none."""
    users = get_user_model().objects.filter(is_active=True)
    if settings.ALERT_ESCALATION_CONTACTS:
        return list(users.filter(username__in=settings.ALERT_ESCALATION_CONTACTS))
    return list(users.filter(groups__name=Role.ADMIN))


class Addressee:
    """Who an alert's notice goes to: the patient's oncologist, or, when her account is
    inactive, the escalation contacts (read once, when first needed) with a subject that
    says why. One instance per batch of notices."""

    def __init__(self):
        self._stand_ins: list | None = None

    def __call__(self, oncologist, subject: str) -> tuple[list, str]:
        if oncologist.is_active:
            return [oncologist], subject
        if self._stand_ins is None:
            self._stand_ins = escalation_contacts()
        return self._stand_ins, subject + STAND_IN_SUFFIX


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
    address = Addressee()
    for alert, event, subject, replace in notices:
        patient = alert.patient
        name = getattr(patient, "display_name", "") if patient.family_name else ""
        to = recipients
        if to is None:
            to, subject = address(patient.oncologist, subject)
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
                body=f"{subject}.\n{closing(event)}",
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
