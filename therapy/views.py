"""The oncologist's inbox and the alert page (nurses and admins read; oncologists decide)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import Role, has_role, role_required
from audit.services import audit_record
from core.exceptions import ApplicationError
from therapy import selectors
from therapy.decisions import alert_acknowledge
from therapy.forms import AcknowledgeForm
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


@role_required(*READERS)
def alert_detail(request, alert_id: int):
    alert = get_object_or_404(selectors.alerts_with_context(selectors.alert_list()), pk=alert_id)
    audit_record(
        action="alert.view", acting_user=request.user, obj=alert, patient_id=alert.patient_id
    )
    can_decide = has_role(request.user, Role.ONCOLOGIST) and alert.state in Alert.PENDING_STATES
    return render(
        request,
        "therapy/alert.html",
        {
            "alert": alert,
            "evidence": [
                (e.report, [v for v in e.report.variants.all() if v.gene == "ESR1"])
                for e in sorted(
                    alert.evidence.all(), key=lambda e: (e.report.collected_on, e.report.version)
                )
            ],
            "lookback_days": settings.SCAN_LOOKBACK_DAYS,
            "form": AcknowledgeForm(
                initial={"effective_on": timezone.localdate(), "revision": alert.revision}
            )
            if can_decide
            else None,
            "variant_rows": [(protein, float(vaf)) for protein, vaf in alert.variants],
        },
    )


@role_required(Role.ONCOLOGIST)
@require_POST
def alert_decide(request, alert_id: int):
    alert = get_object_or_404(Alert, pk=alert_id)
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        scan = None
        if data.get("scan_performed_on"):
            scan = {
                "performed_on": data["scan_performed_on"],
                "modality": data["scan_modality"],
                "outcome": "no_progression",
            }
        try:
            alert_acknowledge(
                alert=alert,
                revision=data.get("revision"),
                decision=data["decision"],
                reason_code=data.get("reason_code", ""),
                comment=data.get("comment", ""),
                effective_on=data.get("effective_on"),
                defer_until=data.get("defer_until"),
                confirmatory_scan=scan,
                attest_no_progression=data.get("attest_no_progression", False),
                acting_user=request.user,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
    if form.errors:
        text = "; ".join(
            (f"{form.fields[f].label}: " if f in form.fields else "") + " ".join(e)
            for f, e in form.errors.items()
        )
        messages.error(request, f"Decision not recorded. {text}")
    else:
        messages.success(request, "Decision recorded.")
    return redirect("alerts:detail", alert_id=alert.pk)
