"""Alert reconciles owed to patients whose evidence a worker stores (a lab file).

`reconcile_owed_add` records the debt in the caller's transaction; `reconcile_owed_run`
pays it in batches. The row lock is the claim: a batch is selected FOR UPDATE SKIP LOCKED, so
two workers never take the same patient, and a worker that dies rolls back and leaves its batch
owed. Paying twice is harmless: the reconcile is idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from therapy.models import ReconcileOwed
from therapy.reconcile import alerts_reconcile

BATCH = 500


def reconcile_owed_add(*, patient_ids: Iterable[int]) -> int:
    """Record that these patients' alerts need reconciling (set-based, idempotent)."""
    rows = [ReconcileOwed(patient_id=pid) for pid in sorted(set(patient_ids))]
    ReconcileOwed.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def reconcile_owed_run(*, batch: int = BATCH, max_batches: int | None = None) -> int:
    """Reconcile owed patients, a batch per transaction, until none is left; returns how
    many patients were reconciled."""
    done = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            claimed = list(
                ReconcileOwed.objects.select_for_update(skip_locked=True)
                .order_by("id")
                .values_list("id", "patient_id")[:batch]
            )
            if not claimed:
                break
            alerts_reconcile([pid for _, pid in claimed])
            ReconcileOwed.objects.filter(pk__in=[pk for pk, _ in claimed]).delete()
        done += len(claimed)
        batches += 1
    return done
