"""The oncologist's inbox and the alert page (nurses and admins read; oncologists decide)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from accounts.roles import Role, has_role, role_required
from audit.services import audit_record
from therapy import selectors
from therapy.models import Alert

READERS = (Role.ONCOLOGIST, Role.ADMIN, Role.NURSE)


@role_required(*READERS)
def inbox(request):
    """Open alerts first (oldest first, or as sorted), with the time left before escalation;
    then deferred ones and what was decided or withdrawn in the last 30 days."""
    mine = request.GET.get("all") != "1" and has_role(request.user, Role.ONCOLOGIST)
    kind = request.GET.get("kind", "")
    kind = kind if kind in Alert.Kind.values else ""
    sort = request.GET.get("sort", "oldest")
    sort = sort if sort in selectors.INBOX_SORTS else "oldest"
    open_qs, deferred_qs, decided_qs = selectors.inbox_alerts(
        user_id=request.user.pk if mine else None, kind=kind, sort=sort
    )
    open_alerts = Paginator(open_qs, 25).get_page(request.GET.get("page"))
    deferred = list(deferred_qs[:50])
    decided = list(decided_qs[:20])
    shown = [*open_alerts.object_list, *deferred, *decided]
    audit_record(
        action="alert.inbox",
        acting_user=request.user,
        detail={"patient_ids": sorted({a.patient_id for a in shown})},
    )
    now = timezone.now()
    sla = dt.timedelta(hours=settings.ALERT_ACK_SLA_HOURS)
    for alert in shown:
        # Time on the therapy line at the blood test, as the rule saw it (not to today).
        alert.collected_on = alert.facts_snapshot.get("collected_on")
        alert.months_on = alert.facts_snapshot.get("months_on_line")
        alert.variant_rows = [(protein, float(vaf)) for protein, vaf in alert.variants]
        left = alert.opened_at + sla * (alert.escalation_level + 1) - now
        alert.sla_hours = int(left.total_seconds() // 3600)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "therapy/inbox.html",
        {
            "open": open_alerts,
            "deferred": deferred,
            "decided": decided,
            "mine": mine,
            "is_oncologist": has_role(request.user, Role.ONCOLOGIST),
            "page": open_alerts,
            "kind": kind,
            "sort": sort,
            "kinds": Alert.Kind.choices,
            "sla_hours": settings.ALERT_ACK_SLA_HOURS,
            "query": query.urlencode(),
        },
    )
