from __future__ import annotations

from django.conf import settings
from django.db import models


class Notification(models.Model):
    """One delivery of one event to one person on one channel.

    `key` names the event (e.g. "digest:2026-11-24"); (recipient, key, channel) is unique,
    so the same event is never delivered twice on a channel, however often a task runs.
    Texts carry counts and links only, never PHI: e-mail is not a safe place for it.
    """

    class Channel(models.TextChoices):
        IN_APP = "in_app", "In the app"
        EMAIL = "email", "E-mail"

    class State(models.TextChoices):
        DELIVERED = "delivered", "Delivered"  # in-app: visible as soon as it is written
        PENDING = "pending", "Waiting to be sent"  # or to be tried again (next_attempt_at)
        SENDING = "sending", "Being sent"  # claimed by a worker; never picked up twice
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"  # refused EMAIL_MAX_ATTEMPTS times

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications"
    )
    key = models.CharField(max_length=200)
    channel = models.CharField(max_length=8, choices=Channel)
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=4000)
    link = models.CharField(max_length=300, blank=True)  # a path inside the product
    state = models.CharField(max_length=16, choices=State)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)  # the last try's, if it failed
    # E-mail: tries so far (each one claimed first), and when a refused one is due again.
    attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key", "channel"], name="one_delivery_per_event_channel"
            ),
        ]
        indexes = [
            # The in-app list and the unread badge.
            models.Index(
                fields=["recipient", "-created_at"],
                condition=models.Q(channel="in_app"),
                name="notification_inbox",
            ),
            # The sender's queue of e-mails still to send.
            models.Index(
                fields=["state"], condition=models.Q(state="pending"), name="notification_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"Notification {self.pk} ({self.channel})"
