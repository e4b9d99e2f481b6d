from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """One thing someone did or saw: append-only (a database trigger refuses changes).

    The text holds identifiers only, never names or other PHI. `patient_id` is a plain
    column rather than a foreign key so the trail outlives any record it mentions.
    A bulk write is one event per affected row, inserted in one statement.
    """

    class Channel(models.TextChoices):
        WEB = "web", "Web page"
        API = "api", "REST API"
        ADMIN = "admin", "Admin site"
        TASK = "task", "Background task"
        CLI = "cli", "Command line"

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # never filtered on; the admin searches actor_label
    )
    actor_label = models.CharField(max_length=150)
    channel = models.CharField(max_length=8, choices=Channel, default=Channel.TASK)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.BigIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # The admin's "everything about patient N" filter and the patient page history.
            models.Index(fields=["patient_id", "-at"], name="audit_patient_at"),
            # The admin's filter by action and date.
            models.Index(fields=["action", "-at"], name="audit_action_at"),
            models.Index(fields=["-at"], name="audit_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"
