"""The oncologist's inbox and the alert page (nurses and admins read; oncologists decide)."""

from __future__ import annotations

import datetime as dt

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
    mine = request.GET.get("all") != "1" and has_role(request.user, Role.ONCOLOGIST)
    base = Alert.objects.all()
    if mine:
        base = base.filter(patient__oncologist=request.user)
    open_alerts = Paginator(
        selectors.alerts_with_context(base.filter(state=Alert.State.OPEN)).order_by(
            "opened_at", "id"
        ),
        20,
    ).get_page(request.GET.get("page"))
    deferred = list(
        selectors.alerts_with_context(base.filter(state=Alert.State.DEFERRED)).order_by(
            "defer_until", "id"
        )[:50]
    )
    since = timezone.now() - dt.timedelta(days=30)
    decided = list(
        selectors.alerts_with_context(
            base.exclude(state__in=Alert.PENDING_STATES).filter(updated_at__gte=since)
        ).order_by("-flagged_for_review", "-updated_at")[:20]
    )
    shown = [*open_alerts.object_list, *deferred, *decided]
    audit_record(
        action="alert.inbox",
        acting_user=request.user,
        detail={"patient_ids": sorted({a.patient_id for a in shown})},
    )
    for alert in shown:
        # Time on the therapy line at the blood test, as the rule saw it (not to today).
        alert.collected_on = alert.facts_snapshot.get("collected_on")
        alert.months_on = alert.facts_snapshot.get("months_on_line")
        alert.variant_rows = [(protein, float(vaf)) for protein, vaf in alert.variants]
    return render(
        request,
        "therapy/inbox.html",
        {
            "open": open_alerts,
            "deferred": deferred,
            "decided": decided,
            "mine": mine,
            "page": open_alerts,
        },
    )
