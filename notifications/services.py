"""Writing and sending notifications, idempotently.

1. `notification_publish` inserts one row per recipient and channel with ON CONFLICT DO
   NOTHING (the unique key makes a repeated event a no-op) and returns the new e-mail ids.
2. `notification_send_emails` claims each pending e-mail that is due with a conditional
   UPDATE (pending -> sending, one more attempt) before sending, so two workers never send
   the same one; the outcome is recorded as sent, or, when the mail server refused it (down,
   restarting, a network blip), as pending again, due after a wait that doubles with each
   try (the next work sweep, then 1, 2, 4 ... minutes, at most RETRY_MAX_WAIT), and failed
   for good after EMAIL_MAX_ATTEMPTS tries. A claim is a lease (SEND_LEASE, kept in
   next_attempt_at): a worker killed mid-send leaves the e-mail "sending", and once the lease
   has run out the work sweep tries it again (notifications.sweep), or fails it if that was
   the last try. A second copy of an alert e-mail is possible; an alert e-mail lost is not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.db import WriteBatch, pg_array
from notifications.models import Notification


@dataclass(frozen=True)
class Message:
    """One event's notice. E-mail carries `subject`/`body` (never a patient's name: e-mail is
    not a safe place for PHI); the in-app notice may name the patient (`in_app_subject`,
    `in_app_body`), since it is read inside the product. With `replace`, a repeat of the
    event kind updates the in-app notice in place (and marks it unread) instead of adding
    one; its e-mail is still sent once."""

    key: str
    subject: str
    body: str
    link: str = ""
    in_app_subject: str = ""
    in_app_body: str = ""
    replace: bool = False


# savepoint=False: nothing here is caught and retried inside a caller's transaction, so a
# savepoint (two statements) per call would buy nothing.
@transaction.atomic(savepoint=False)
def notification_publish(*, message: Message, recipients: Iterable) -> list[int]:
    """Write the in-app notice and a pending e-mail (when the person has an address).

    Returns the ids of e-mails created now (not those that already existed).
    """
    return notifications_publish(notices=[(message, list(recipients))])


@transaction.atomic(savepoint=False)
def notifications_publish(
    *, notices: Iterable[tuple[Message, Iterable]], batch: WriteBatch | None = None, then=None
) -> list[int]:
    """`notification_publish` for many messages at once, in a constant number of statements
    (a reconcile that opens 20,000 alerts tells 20,000 oncologist inboxes in three).

    With a `batch` (core.db.WriteBatch, PostgreSQL) the statements are added to it and
    `then` gets the new e-mail ids when it runs (nothing is returned now)."""
    now = timezone.now()
    in_app: dict[bool, list[tuple]] = {True: [], False: []}  # (recipient id, key, subject...)
    email: list[tuple] = []
    for message, recipients in notices:
        for user in recipients:
            in_app[message.replace].append(
                (
                    user.pk,
                    message.key,
                    (message.in_app_subject or message.subject)[:200],
                    message.in_app_body or message.body,
                    message.link,
                )
            )
            if user.email:
                email.append(
                    (user.pk, message.key, message.subject[:200], message.body, message.link)
                )
    if connection.vendor != "postgresql":
        ids = _publish_orm(in_app, email, now)
        if then is not None:
            then(ids)
        return ids
    own = batch is None
    batch = batch or WriteBatch()
    created: list[int] = []
    for replace, rows in in_app.items():
        if not rows:
            continue
        if replace:  # one row may be touched once per statement: the last notice wins
            rows = list({(r[0], r[1]): r for r in rows}.values())
        on_conflict = (
            "(recipient_id, key, channel) DO UPDATE SET subject = EXCLUDED.subject, "
            "body = EXCLUDED.body, link = EXCLUDED.link, created_at = EXCLUDED.created_at, "
            "sent_at = EXCLUDED.sent_at, read_at = NULL"
            if replace
            else "DO NOTHING"
        )
        batch.add(
            _INSERT + f" ON CONFLICT {on_conflict}",
            [Notification.Channel.IN_APP, Notification.State.DELIVERED, now, now, *_columns(rows)],
        )
    if email:

        def emails_created(rows) -> None:
            created.extend(row[0] for row in rows)
            if then is not None:
                then(created)

        # RETURNING gives only the rows inserted now: the e-mails this call created.
        batch.add(
            _INSERT + " ON CONFLICT DO NOTHING RETURNING id",
            [Notification.Channel.EMAIL, Notification.State.PENDING, now, None, *_columns(email)],
            then=emails_created,
        )
    if own:  # the in-app notices and the e-mails in one round trip
        batch.run()
    return created


_INSERT = (
    "INSERT INTO notifications_notification (recipient_id, key, channel, subject, body, link, "
    "state, created_at, sent_at, read_at, error) "
    "SELECT r, k, %s, s, b, l, %s, %s, %s, NULL, '' FROM unnest("
    "%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[]) AS u(r, k, s, b, l)"
)


def _columns(rows: list[tuple]) -> list[str]:
    """Each column as one array literal (core.db.pg_array: parsed by the array type's input
    function, not as one expression per element)."""
    return [pg_array(column) for column in zip(*rows, strict=True)]


def _publish_orm(in_app: dict[bool, list[tuple]], email: list[tuple], now) -> list[int]:
    """SQLite (the embedded demo): the same rows through bulk_create."""

    def notice(row, channel, state, sent_at):
        recipient_id, key, subject, body, link = row
        return Notification(
            recipient_id=recipient_id,
            key=key,
            subject=subject,
            body=body,
            link=link,
            channel=channel,
            state=state,
            sent_at=sent_at,
            created_at=now,
        )

    app, delivered = Notification.Channel.IN_APP, Notification.State.DELIVERED
    if in_app[True]:
        rows = list({(r[0], r[1]): r for r in in_app[True]}.values())
        Notification.objects.bulk_create(
            [notice(r, app, delivered, now) for r in rows],
            update_conflicts=True,
            unique_fields=["recipient", "key", "channel"],
            update_fields=["subject", "body", "link", "created_at", "sent_at", "read_at"],
        )
    if in_app[False]:
        Notification.objects.bulk_create(
            [notice(r, app, delivered, now) for r in in_app[False]], ignore_conflicts=True
        )
    if not email:
        return []
    mine = {
        "recipient_id__in": {r[0] for r in email},
        "key__in": {r[1] for r in email},
        "channel": Notification.Channel.EMAIL,
    }
    before = set(Notification.objects.filter(**mine).values_list("id", flat=True))
    Notification.objects.bulk_create(
        [notice(r, Notification.Channel.EMAIL, Notification.State.PENDING, None) for r in email],
        ignore_conflicts=True,
    )
    after = Notification.objects.filter(**mine, state=Notification.State.PENDING).values_list(
        "id", flat=True
    )
    return [pk for pk in after if pk not in before]


RETRY_FIRST_WAIT = dt.timedelta(minutes=1)
RETRY_MAX_WAIT = dt.timedelta(hours=1)
# How long a claimed e-mail is the claiming worker's: far beyond an SMTP send's timeouts.
SEND_LEASE = dt.timedelta(minutes=10)
STOPPED_MID_SEND = (
    "The worker sending this e-mail stopped before recording the outcome; it may or may not "
    "have been delivered."
)


def retry_wait(attempts: int) -> dt.timedelta:
    """How long an e-mail refused on its `attempts`-th try waits for the next: none after
    the first (the next work sweep, a minute at most, tries it), then 1, 2, 4 ... minutes,
    at most RETRY_MAX_WAIT."""
    if attempts <= 1:
        return dt.timedelta(0)
    return min(RETRY_FIRST_WAIT * 2 ** min(attempts - 2, 16), RETRY_MAX_WAIT)


def email_due(now) -> Q:
    """Pending e-mails whose next try has come (a new one has no wait)."""
    return Q(state=Notification.State.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def _claim(notification: Notification, now) -> bool:
    """Pending, due and as read -> sending, counting the try (`notification.attempts` is
    then this try's number); False if another worker has it or has tried it since."""
    claimed = Notification.objects.filter(
        email_due(now), pk=notification.pk, attempts=notification.attempts
    ).update(
        state=Notification.State.SENDING,
        attempts=F("attempts") + 1,
        next_attempt_at=now + SEND_LEASE,  # the lease: the sweep's after it runs out
    )
    notification.attempts += 1
    return claimed == 1


def _refused(notification: Notification, exc: Exception, now) -> None:
    attempts = notification.attempts
    if attempts >= settings.EMAIL_MAX_ATTEMPTS:
        change = {"state": Notification.State.FAILED, "next_attempt_at": None}
    else:
        change = {
            "state": Notification.State.PENDING,
            "next_attempt_at": now + retry_wait(attempts),
        }
    Notification.objects.filter(pk=notification.pk, state=Notification.State.SENDING).update(
        error=str(exc)[:500], **change
    )


def notification_send_emails(*, notification_ids: Iterable[int]) -> int:
    """Send the given pending e-mails that are due; returns how many this call sent."""
    sent = 0
    now = timezone.now()
    for notification in Notification.objects.filter(
        email_due(now), pk__in=list(notification_ids)
    ).select_related("recipient"):
        if not _claim(notification, now):
            continue  # another worker has it
        link = f"\n\n{settings.SITE_URL}{notification.link}" if notification.link else ""
        try:
            send_mail(
                notification.subject,
                notification.body + link,
                settings.DEFAULT_FROM_EMAIL,
                [notification.recipient.email],
            )
        except Exception as exc:  # any transport error is recorded, not raised
            _refused(notification, exc, timezone.now())
            continue
        Notification.objects.filter(pk=notification.pk).update(
            state=Notification.State.SENT, sent_at=timezone.now(), next_attempt_at=None, error=""
        )
        sent += 1
    return sent


def notification_mark_read(*, user, notification_id: int | None = None) -> int:
    qs = Notification.objects.filter(
        recipient=user, channel=Notification.Channel.IN_APP, read_at__isnull=True
    )
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
