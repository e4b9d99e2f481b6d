"""The hourly sweep: deferred alerts come back on their date; unacknowledged alerts escalate.

Idempotent: each change locks the rows that still meet its whole condition and changes,
counts, audits and tells only those, and each notice has a unique key. A reopened
alert starts a new episode (episode + 1, escalation level 0, a new SLA clock), so it escalates
and notifies afresh; within one episode each level is delivered exactly once, however often
the sweep runs.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.services import AuditRow, audit_bulk
from therapy.models import Alert
from therapy.notify import alert_notify, escalation_contacts, noun, noun_with_article


def alerts_sweep(*, now=None) -> dict[str, int]:
    now = now or timezone.now()
    today = timezone.localdate(now)
    sla = dt.timedelta(hours=settings.ALERT_ACK_SLA_HOURS)
    counts = {"reopened": 0, "escalated": 0}
    with transaction.atomic():
        # Locked with the whole condition: PostgreSQL re-checks it on a row that another
        # transaction (a decision, a second sweep) changed while this one waited for it, so
        # `back` is exactly the alerts this sweep reopens and audits.
        back = list(
            Alert.objects.select_for_update()
            .filter(state=Alert.State.DEFERRED, defer_until__lte=today)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if back:
            counts["reopened"] = Alert.objects.filter(pk__in=back).update(
                state=Alert.State.OPEN,
                opened_at=now,
                escalation_level=0,
                episode=F("episode") + 1,
                revision=F("revision") + 1,
                updated_at=now,
            )
            reopened = list(Alert.objects.filter(pk__in=back).select_related("patient__oncologist"))
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
    contacts = escalation_contacts()
    for level, age in ((1, sla), (2, 2 * sla)):
        with transaction.atomic():
            # Locked with the whole condition (as above): an alert declined, deferred or
            # escalated by another sweep while this one waited for its row is not in `due`,
            # so it is neither escalated nor counted, audited or told.
            due = list(
                Alert.objects.select_for_update()
                .filter(
                    state=Alert.State.OPEN, escalation_level__lt=level, opened_at__lte=now - age
                )
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            if not due:
                continue
            Alert.objects.filter(pk__in=due).update(
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
                subject = f"{noun_with_article(alert, capital=True)} has been waiting {hours} h for a decision"
                alert_notify(alert, f"e{alert.episode}:escalated:{level}", subject)
                alert_notify(
                    alert,
                    f"e{alert.episode}:escalated:{level}:contact",
                    f"{subject}; please make sure it is seen",
                    recipients=contacts,
                )
    return counts
