"""Reads for the switch rule and the alert pages."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from liquidbiopsy.models import VariantCall
from patients import selectors as patient_selectors
from therapy.models import Alert, AlertEvidence


def alert_list(*, patient_id=None, state="", kind="") -> QuerySet[Alert]:
    qs = Alert.objects.select_related(
        "patient", "patient__oncologist", "reviewed_by"
    ).prefetch_related(
        Prefetch(
            "evidence",
            queryset=AlertEvidence.objects.select_related("report").prefetch_related(
                Prefetch("report__variants", queryset=VariantCall.objects.order_by("gene", "id"))
            ),
        )
    )
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("opened_at", "id")


def alerts_with_context(qs: QuerySet[Alert]) -> QuerySet[Alert]:
    """Alerts with their patient, the current regimen and the latest scan joined in (one query)."""
    return patient_selectors.with_current_regimen_and_latest_scan(
        qs.select_related("patient", "patient__oncologist"), patient_ref="patient_id"
    )


def patient_alerts(*, patient_id: int) -> list[Alert]:
    """Every alert of one patient, newest first, with who decided (one query)."""
    return list(
        Alert.objects.filter(patient_id=patient_id)
        .select_related("decided_by")
        .order_by("-opened_at", "-id")
    )


INBOX_SORTS = {
    "oldest": ("opened_at", "id"),
    "newest": ("-opened_at", "-id"),
    "escalated": ("-escalation_level", "opened_at", "id"),
}


def inbox_alerts(*, user_id: int | None, kind: str = "", sort: str = "oldest"):
    """The inbox's three lists (open, deferred, decided in the last 30 days), each with the
    patient, current regimen, latest scan and whether a newer sample awaits its result
    joined in: a constant number of queries whatever the number of alerts."""
    import datetime as dt

    from django.db.models import Exists, OuterRef, Q
    from django.utils import timezone

    from patients.models import Draw

    base = Alert.objects.all()
    if user_id is not None:
        base = base.filter(patient__oncologist_id=user_id)
    if kind:
        base = base.filter(kind=kind)
    base = alerts_with_context(base).annotate(
        sample_pending=Exists(
            Draw.objects.filter(patient_id=OuterRef("patient_id"), state=Draw.State.COLLECTED)
        )
    )
    since = timezone.now() - dt.timedelta(days=30)
    return (
        base.filter(state=Alert.State.OPEN).order_by(*INBOX_SORTS.get(sort, INBOX_SORTS["oldest"])),
        base.filter(state=Alert.State.DEFERRED).order_by("defer_until", "id"),
        base.exclude(state__in=Alert.PENDING_STATES)
        # A flagged decision stays until it is reviewed (decisions.alert_review), whatever
        # its age: a switch made on a report since corrected away must not scroll out of view.
        .filter(Q(updated_at__gte=since) | Q(flagged_for_review=True))
        .select_related("decided_by")
        .order_by("-flagged_for_review", "-updated_at"),
    )
