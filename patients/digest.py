"""The nurses' daily digest of overdue and due-today draws (in-app and e-mail).

Counts and a link only: nothing that identifies a patient leaves the product by e-mail.
The event key holds the clinic date, so a second run on the same day sends nothing.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model

from accounts.roles import Role
from audit.services import audit_record
from core.clock import clinic_today
from notifications.services import Message, notification_publish, notification_send_emails
from patients.models import Draw


def digest_message(*, today: dt.date) -> Message:
    open_regular = Draw.objects.filter(state=Draw.State.SCHEDULED, is_redraw=False)
    overdue = open_regular.filter(window_closes_on__lt=today).count()
    due_today = Draw.objects.filter(state=Draw.State.SCHEDULED, due_on=today).count()
    return Message(
        key=f"nurse-digest:{today.isoformat()}",
        subject=f"ctDNA draws {today:%d %b %Y}: {overdue} overdue, {due_today} due today",
        body=(
            f"Draw worklist for {today:%A %d %B %Y}:\n"
            f"- {overdue} overdue (window closed)\n"
            f"- {due_today} due today\n"
            "Open the worklist to record collections, missed draws and reschedules."
        ),
        link="/worklist/",
    )


def nurse_digest_send(*, today: dt.date | None = None) -> int:
    """Publish today's digest to every active nurse and send its e-mails; returns e-mails sent."""
    today = today or clinic_today()
    nurses = list(
        get_user_model().objects.filter(is_active=True, groups__name=Role.NURSE).order_by("pk")
    )
    message = digest_message(today=today)
    new_emails = notification_publish(message=message, recipients=nurses)
    if new_emails:
        audit_record(
            action="digest.publish",
            system="digest",
            detail={"key": message.key, "recipients": len(nurses)},
        )
    return notification_send_emails(notification_ids=new_emails)
