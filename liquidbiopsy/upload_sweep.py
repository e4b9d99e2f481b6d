"""Uploads owed work that is not progressing (DESIGN: the database is the system of record).

A worker may die (SIGKILL, OOM, a host restart) holding an upload in `processing`, and the
broker may lose the message of a `queued` one (flushed, or down when it was posted). The
upload row records the work; this sweep finds what stalled:
1. `processing` with no change for longer than UPLOAD_STALLED_MINUTES (more than the task's
   hard time limit, so no live worker can still hold it) goes back to `queued`;
2. `queued` for longer than UPLOAD_QUEUED_GRACE_MINUTES is handed back to be enqueued again
   (its clock reset: once per grace period, not on every beat);
3. an upload still unfinished UPLOAD_GIVE_UP_HOURS after a worker first claimed it ends
   `failed` with an error saying so, its raw content wiped: a file that kills every worker
   cannot loop. The hours count from the first claim (`first_claimed_at`: set by the claim
   in liquidbiopsy.uploads; step 0 below fills it for an upload claimed before that column
   existed), not from the file's arrival: a file that waited in a long queue is tried
   before it can be given up.
Each step locks the rows that meet its whole condition (skipping rows held elsewhere) and
changes, audits and returns exactly those, so two sweeps at once do each thing once.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
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
    processing = Upload.objects.select_for_update(skip_locked=True).filter(
        state=Upload.State.PROCESSING
    )
    # 0. A claim seen for the first time: its time (the claim sets updated_at, which nothing
    # else changes while a worker holds it) is the upload's first try. Not updated_at: the
    # worker's fencing token is left as it is.
    seen = _locked(processing.filter(first_claimed_at__isnull=True))
    if seen:
        Upload.objects.filter(pk__in=seen).update(first_claimed_at=F("updated_at"))
    give_up = now - dt.timedelta(hours=settings.UPLOAD_GIVE_UP_HOURS)
    failed = _locked(
        Upload.objects.select_for_update(skip_locked=True).filter(
            state__in=[Upload.State.QUEUED, Upload.State.PROCESSING],
            first_claimed_at__lt=give_up,
        )
    )
    if failed:
        Upload.objects.filter(pk__in=failed).update(
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
    reset = _locked(processing.filter(updated_at__lt=stalled))
    if reset:
        Upload.objects.filter(pk__in=reset).update(
            state=Upload.State.QUEUED,
            rows_done=0,
            first_claimed_at=Coalesce("first_claimed_at", "updated_at"),  # the old updated_at
            updated_at=now,
        )
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
    lost = _locked(
        Upload.objects.select_for_update(skip_locked=True).filter(
            state=Upload.State.QUEUED, updated_at__lt=grace
        )
    )
    if lost:
        Upload.objects.filter(pk__in=lost).update(updated_at=now)
    return sorted({*reset, *lost})


def _locked(uploads) -> list[int]:
    """The ids of `uploads` (a select_for_update(skip_locked=True) queryset), locked in id
    order: each step changes, audits and returns exactly these, and a row another sweep, a
    claim or a worker's storing transaction holds is left to the next beat."""
    return list(uploads.order_by("pk").values_list("pk", flat=True))
