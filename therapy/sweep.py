"""The hourly sweep: deferred alerts come back on their date; unacknowledged alerts escalate.

Idempotent: each change is a conditional UPDATE and each notice has a unique key. A reopened
alert starts a new episode (episode + 1, escalation level 0, a new SLA clock), so it escalates
and notifies afresh; within one episode each level is delivered exactly once, however often
the sweep runs.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.roles import Role
from audit.services import AuditRow, audit_bulk
from therapy.models import Alert
from therapy.notify import alert_notify, noun


def _escalation_contacts():
    users = get_user_model().objects.filter(is_active=True)
    if settings.ALERT_ESCALATION_CONTACTS:
        return list(users.filter(username__in=settings.ALERT_ESCALATION_CONTACTS))
    return list(users.filter(groups__name=Role.ADMIN))


def alerts_sweep(*, now=None) -> dict[str, int]:
    now = now or timezone.now()
    today = timezone.localdate(now)
    sla = dt.timedelta(hours=settings.ALERT_ACK_SLA_HOURS)
    counts = {"reopened": 0, "escalated": 0}
    with transaction.atomic():
        back = list(
            Alert.objects.filter(state=Alert.State.DEFERRED, defer_until__lte=today).values_list(
                "pk", flat=True
            )
        )
        if back:
            counts["reopened"] = Alert.objects.filter(
                pk__in=back, state=Alert.State.DEFERRED
            ).update(
                state=Alert.State.OPEN,
                opened_at=now,
                escalation_level=0,
                episode=F("episode") + 1,
                revision=F("revision") + 1,
                updated_at=now,
            )
            reopened = list(
                Alert.objects.filter(pk__in=back, state=Alert.State.OPEN).select_related(
                    "patient__oncologist"
                )
            )
            audit_bulk(
                action="alert.reopen",
                rows=[
                    AuditRow("therapy.alert", str(a.pk), a.patient_id, {"episode": a.episode})
                    for a in reopened
                ],
                system="sweep",
            )
            for alert in reopened:
                alert_notify(
                    alert, f"e{alert.episode}:reopened", f"A deferred {noun(alert)} is back"
                )
    contacts = _escalation_contacts()
    for level, age in ((1, sla), (2, 2 * sla)):
        with transaction.atomic():
            due = list(
                Alert.objects.filter(
                    state=Alert.State.OPEN, escalation_level__lt=level, opened_at__lte=now - age
                ).values_list("pk", flat=True)
            )
            if not due:
                continue
            Alert.objects.filter(pk__in=due, escalation_level__lt=level).update(
                escalation_level=level, revision=F("revision") + 1, updated_at=now
            )
            counts["escalated"] += len(due)
            escalated = list(Alert.objects.filter(pk__in=due).select_related("patient__oncologist"))
            audit_bulk(
                action="alert.escalate",
                rows=[
                    AuditRow(
                        "therapy.alert",
                        str(a.pk),
                        a.patient_id,
                        {"level": level, "episode": a.episode},
                    )
                    for a in escalated
                ],
                system="sweep",
            )
            hours = int(age.total_seconds() // 3600)
            for alert in escalated:
                subject = f"A {noun(alert)} has been waiting {hours} h for a decision"
                alert_notify(alert, f"e{alert.episode}:escalated:{level}", subject)
                alert_notify(
                    alert,
                    f"e{alert.episode}:escalated:{level}:contact",
                    f"{subject}; please make sure it is seen",
                    recipients=contacts,
                )
    return counts
