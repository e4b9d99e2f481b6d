"""Alert reconciles owed to patients whose evidence a worker stores (a lab file).

`reconcile_owed_add` records the debt in the caller's transaction; `reconcile_owed_run`
pays it in batches. The row lock is the claim: a batch is selected FOR UPDATE SKIP LOCKED, so
two workers never take the same patient, and a worker that dies rolls back and leaves its batch
owed. Paying twice is harmless: the reconcile is idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F

from core.db import AnyOf, rows_insert
from therapy.models import ReconcileOwed
from therapy.reconcile import alerts_reconcile

BATCH = 500
logger = logging.getLogger(__name__)


def reconcile_owed_add(*, patient_ids: Iterable[int]) -> int:
    """Record that these patients' alerts need reconciling (set-based, idempotent)."""
    rows = [(pid,) for pid in sorted(set(patient_ids))]
    rows_insert(ReconcileOwed, ["patient_id"], rows, ignore_conflicts=True)  # no instances
    return len(rows)


def reconcile_owed_run(*, batch: int = BATCH, max_batches: int | None = None) -> int:
    """Reconcile owed patients, a batch per transaction, until none is left; returns how
    many patients were reconciled.

    A patient whose reconcile raises (bad data, a bug) must not hold up the others: the
    batch is then redone one patient at a time, each in a savepoint; the others' debts are
    paid and hers stays owed (logged with her internal id only), skipped for the rest of
    this run and tried again by the next. A database outage is not a patient's fault: it
    propagates (the task retries) and every claimed debt stays owed."""
    done = 0
    batches = 0
    failing: set[int] = set()  # owed rows whose reconcile raised in this run
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            claimed = list(
                ReconcileOwed.objects.select_for_update(skip_locked=True)
                .exclude(pk__in=failing)
                .order_by("id")
                .values_list("id", "patient_id")[:batch]
            )
            if not claimed:
                break
            paid = _pay(claimed, failing)
            ReconcileOwed.objects.filter(AnyOf(F("pk"), [pk for pk, _ in paid])).delete()
        done += len(paid)
        batches += 1
    return done


def _pay(claimed: list[tuple[int, int]], failing: set[int]) -> list[tuple[int, int]]:
    """Reconcile the claimed (owed id, patient id) pairs; the pairs that were paid."""
    try:
        with transaction.atomic():  # a savepoint: a failure leaves the claims held
            alerts_reconcile([pid for _, pid in claimed])
        return claimed
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        if len(claimed) == 1:
            logger.exception("alert reconcile failed for patient id %s", claimed[0][1])
            failing.add(claimed[0][0])
            return []
    paid = []
    for pair in claimed:
        paid += _pay([pair], failing)
    return paid
