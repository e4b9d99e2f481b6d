"""Queueing work after commit, best effort: the database row is what records the work.

A broker that is down must never turn a stored report into a 500 (issue 12): the row that
records the work (an upload `queued`, a pending e-mail, a reconcile owed) is already
committed, and a beat sweep finds it if this nudge is lost.
"""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args) -> None:
    """`task.delay(*args)` once the transaction commits; a broker error is logged, not raised."""

    def send() -> None:
        try:
            task.delay(*args)
        except Exception:
            logger.warning("could not queue %s; the sweep will pick the work up", task.name)

    transaction.on_commit(send)
