"""Uploads owed work that is not progressing (DESIGN: the database is the system of record).

A worker may die (SIGKILL, OOM, a host restart) holding an upload in `processing`, and the
broker may lose the message of a `queued` one (flushed, or down when it was posted). The
upload row records the work; this sweep finds what stalled:
1. `processing` with no change for longer than UPLOAD_STALLED_MINUTES (more than the task's
   hard time limit, so no live worker can still hold it) goes back to `queued`;
2. `queued` for longer than UPLOAD_QUEUED_GRACE_MINUTES is handed back to be enqueued again
   (its clock reset: once per grace period, not on every beat);
3. an upload still unfinished UPLOAD_GIVE_UP_HOURS after it arrived ends `failed` with an
   error saying so, its raw content wiped: a file that kills every worker cannot loop.
Each step is a conditional UPDATE, so two sweeps at once do each thing once.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import AuditRow, audit_bulk
from liquidbiopsy.models import Upload

GAVE_UP = (
    "The file could not be processed (the processing was interrupted repeatedly). Nothing "
    "was stored; send it again, or split it into smaller files."
)


@transaction.atomic
def uploads_stalled_requeue(*, now: dt.datetime | None = None) -> list[int]:
    """Reset stalled uploads; return the ids to enqueue again (see the module docstring)."""
    now = now or timezone.now()
    give_up = now - dt.timedelta(hours=settings.UPLOAD_GIVE_UP_HOURS)
    unfinished = Q(state__in=[Upload.State.QUEUED, Upload.State.PROCESSING])
    failed = list(
        Upload.objects.filter(unfinished, created_at__lt=give_up).values_list("pk", flat=True)
    )
    if failed:
        Upload.objects.filter(unfinished, pk__in=failed).update(
            state=Upload.State.FAILED,
            errors=[{"line": None, "field": "file", "message": GAVE_UP}],
            content=b"",
            finished_at=now,
            updated_at=now,
        )
        audit_bulk(
            action="upload.fail",
            rows=[
                AuditRow("liquidbiopsy.upload", str(pk), None, {"error": "gave_up"})
                for pk in failed
            ],
            system="sweep",
        )
    stalled = now - dt.timedelta(minutes=settings.UPLOAD_STALLED_MINUTES)
    reset = list(
        Upload.objects.filter(state=Upload.State.PROCESSING, updated_at__lt=stalled).values_list(
            "pk", flat=True
        )
    )
    if reset:
        Upload.objects.filter(
            state=Upload.State.PROCESSING, updated_at__lt=stalled, pk__in=reset
        ).update(state=Upload.State.QUEUED, rows_done=0, updated_at=now)
        audit_bulk(
            action="upload.requeue",
            rows=[
                AuditRow("liquidbiopsy.upload", str(pk), None, {"was": "processing"})
                for pk in reset
            ],
            system="sweep",
        )
    grace = now - dt.timedelta(minutes=settings.UPLOAD_QUEUED_GRACE_MINUTES)
    # Handed back with its clock reset, so its new message has a grace period to come (as a
    # reset `processing` one has) instead of one more message on every beat while it waits.
    # Locked with the whole condition, skipping rows another sweep or a claim holds: each
    # is handed back once.
    lost = list(
        Upload.objects.select_for_update(skip_locked=True)
        .filter(state=Upload.State.QUEUED, updated_at__lt=grace)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if lost:
        Upload.objects.filter(pk__in=lost).update(updated_at=now)
    return sorted({*reset, *lost})
