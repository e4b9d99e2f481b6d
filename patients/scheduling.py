"""The draw schedule: the planner and every change to a draw (DESIGN.md §4).

One function, `draws_plan`, keeps "exactly one open draw for every patient that should
have one". Beat runs it daily for everyone; services run it for one patient in their own
transaction, so the next draw is visible at once. It is set-based (a constant number of
queries whatever the number of patients) and idempotent: the partial unique index
`one_open_draw_per_patient` makes a second open draw impossible, and the insert skips
conflicts, so two planners at once create nothing twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from audit.services import AuditRow, audit_bulk, audit_bulk_sql, audit_record
from core.clock import clinic_date, clinic_today
from core.db import pg_array
from core.exceptions import NotEligible
from patients import rules
from patients.models import Draw, Patient

logger = logging.getLogger(__name__)

# A constant key for PostgreSQL's advisory lock: full planner runs queue behind each other.
PLANNER_LOCK_KEY = 7_318_422_001
# Session settings of a full run (SET LOCAL: they end with its transaction).
FULL_RUN_SETTINGS = "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off"
SQLITE_INSERT_BATCH = 2000  # 12 columns a row stays under SQLite's 32,766 parameters

NURSE_CANCEL_REASONS = frozenset(
    {
        Draw.CancelReason.DUPLICATE,
        Draw.CancelReason.CLINICIAN_REQUEST,
        Draw.CancelReason.PATIENT_REQUEST,
        Draw.CancelReason.OTHER,
    }
)
ACCESSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
COLLECTION_CLOCK_SKEW = dt.timedelta(minutes=5)

DRAW_NOT_OPEN = "This draw is {state}; only a scheduled draw can be {action}."
ACCESSION_TAKEN = "This accession is already used by another draw."
ACCESSION_FORMAT = (
    "Accession must be 3-64 letters, digits, '.', '_' or '-', starting with a letter or digit."
)
COLLECTED_FUTURE = "Collection time cannot be in the future."
COLLECTED_NAIVE = "Collection time must include a time zone."
COLLECTED_BEFORE_PREVIOUS = "Collection time is before this patient's previous collection ({day})."
REASON_INVALID = "Unknown reason '{reason}'; choose one of: {choices}."
NOTE_REQUIRED = "A comment is required when the reason is 'other'."
RESCHEDULE_OUTSIDE = "The new date must be inside the draw's window, {opens} to {closes}."
RESCHEDULE_PAST = "The new date cannot be in the past."
RESCHEDULE_REASON_REQUIRED = (
    "A date outside the window ({opens} to {closes}) needs a reason for the change."
)
RESCHEDULE_TOO_FAR = (
    "A draw can move at most {weeks} weeks from its planned date ({planned}); "
    "mark it missed instead."
)
ACCESSION_IS_MRN = (
    "This is a patient's MRN (a wristband barcode), not a tube accession: scan the tube."
)
UNDO_TOO_LATE = "This collection can no longer be undone (only within {minutes} minutes)."
UNDO_NOT_YOURS = "Only the nurse who recorded this collection can undo it."
UNDO_NOT_COLLECTED = "This draw is {state}; only a collection awaiting its result can be undone."
UNDO_NEXT_DRAW_USED = "The next draw planned by this collection has changed; undo is not possible."
NOT_LOSABLE = "Only a collected draw awaiting its result can be reported as a lost sample."

# A nurse may undo her own collection for this long (a wrong tube or patient seen at once).
COLLECT_UNDO_MINUTES = 10
# Reasons for moving a draw outside its window (kept in the audit row; the draw keeps none).
RESCHEDULE_REASONS = {
    "patient_request": "Patient request",
    "patient_unwell": "Patient unwell",
    "align_with_visit": "Aligned with a clinic visit or scan",
    "clinic_capacity": "Clinic capacity",
    "other": "Other (comment required)",
}
SAMPLE_LOST_REASON = "sample_lost"
NOT_FAILABLE = "Only a collected or resulted draw can be marked as a failed sample."
NOT_RESULTABLE = "Only a collected draw (or one whose sample had failed) can receive a result."


@dataclass
class PlanResult:
    activated: int = 0
    activated_ids: tuple[int, ...] = ()  # for the caller that reconciles their alerts
    cancelled: int = 0
    created: int = 0
    replanned: int = 0


def _in_clause(column: str, ids: Sequence[int] | None) -> tuple[str, list]:
    if ids is None:
        return "", []
    return f" AND {column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _activate(today: dt.date, ids: Sequence[int] | None, now: dt.datetime) -> list[int]:
    """Awaiting patients whose start date has come become active."""
    where, params = _in_clause("id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE patients_patient SET surveillance_state = %s, updated_at = %s "  # noqa: S608 - placeholders only
            "WHERE surveillance_state = %s AND surveillance_start_on <= %s"
            + where
            + " RETURNING id",
            [rules.S.ACTIVE, now, rules.S.AWAITING_MINIMUM_DURATION, today, *params],
        )
        return [row[0] for row in cursor.fetchall()]


def _cancel_for_ended(ids: Sequence[int] | None, now: dt.datetime) -> list[tuple[int, int]]:
    """Open draws of patients whose surveillance has ended (or never had a start date)."""
    where, params = _in_clause("p.id", ids)
    drawing = sorted(rules.DRAWING_STATES)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE patients_draw SET state = %s, reason_code = %s, updated_at = %s "  # noqa: S608 - placeholders only
            "WHERE state = %s AND patient_id IN (SELECT p.id FROM patients_patient p WHERE "
            "(p.surveillance_state NOT IN (%s, %s, %s) OR p.surveillance_start_on IS NULL)"
            + where
            + ") RETURNING id, patient_id",
            [
                Draw.State.CANCELLED,
                Draw.CancelReason.SURVEILLANCE_ENDED,
                now,
                Draw.State.SCHEDULED,
                *drawing,
                *params,
            ],
        )
        return [(row[0], row[1]) for row in cursor.fetchall()]


def _anchor_filters() -> dict[str, Q]:
    """Which past draws anchor the schedule (DESIGN.md §4): good collections, missed draws
    (and draws a nurse cancelled), failed samples."""
    return {
        "good": Q(state__in=[Draw.State.COLLECTED, Draw.State.RESULTED]),
        "missed": Q(state=Draw.State.MISSED)
        | Q(state=Draw.State.CANCELLED, reason_code__in=NURSE_CANCEL_REASONS),
        "failed": Q(state=Draw.State.FAILED),
    }


def _anchors_grouped(patients: QuerySet) -> dict[int, tuple]:
    """The anchors of `patients` (a queryset of them) as one grouped aggregate over their
    past draws: (last good collection, last missed planned date, last failed collection,
    last failed draw id) by patient id. SQLite's way (the embedded demo), and the
    definition `_anchors` is held equal to (tests/patients/test_planner_anchors.py)."""
    f = _anchor_filters()
    return {
        pid: (last_ok, last_missed, last_failed, last_failed_id)
        for pid, last_ok, last_missed, last_failed, last_failed_id in Draw.objects.filter(
            patient_id__in=patients.values("id")
        )
        .exclude(state=Draw.State.SCHEDULED)
        .order_by()
        .values("patient_id")
        .annotate(
            last_ok=Max("collected_on", filter=f["good"]),
            last_missed=Max("planned_on", filter=f["missed"]),
            last_failed=Max("collected_on", filter=f["failed"]),
            last_failed_id=Max("id", filter=f["failed"]),  # ids grow: the newest failed draw
        )
        .values_list("patient_id", "last_ok", "last_missed", "last_failed", "last_failed_id")
    }


# The same aggregate, one patient at a time: for each id of the array (one literal), an
# index-only lookup in draw_patient_anchors (the partial index holds exactly the past
# draws and every column read). A grouped aggregate over a catch-up's 100,000 patients
# reads and hashes their 1,000,000 past draws; this reads each patient's ten from the
# index, in id order, and costs a day's 2,000 patients a few milliseconds.
_ANCHORS_SQL = """
    SELECT c.id, a.last_ok, a.last_missed, a.last_failed, a.last_failed_id
    FROM unnest(%s::bigint[]) AS c(id)
    CROSS JOIN LATERAL (
        SELECT max(d.collected_on) FILTER (WHERE d.state IN (%s, %s)) AS last_ok,
            max(d.planned_on) FILTER (
                WHERE d.state = %s OR (d.state = %s AND d.reason_code = ANY(%s::text[]))
            ) AS last_missed,
            max(d.collected_on) FILTER (WHERE d.state = %s) AS last_failed,
            max(d.id) FILTER (WHERE d.state = %s) AS last_failed_id
        FROM patients_draw d
        WHERE d.patient_id = c.id AND d.state <> %s
    ) AS a
"""


def _anchors(ids: list[int], patients: QuerySet) -> dict[int, tuple]:
    """The anchors of the patients `ids` (`patients`: the same patients as a queryset),
    by patient id; a patient with no past draw may be missing or all None."""
    if connection.vendor != "postgresql":
        return _anchors_grouped(patients)
    with connection.cursor() as cursor:
        cursor.execute(
            _ANCHORS_SQL,
            [
                pg_array(ids),
                Draw.State.COLLECTED,
                Draw.State.RESULTED,
                Draw.State.MISSED,
                Draw.State.CANCELLED,
                pg_array(sorted(NURSE_CANCEL_REASONS)),
                Draw.State.FAILED,
                Draw.State.FAILED,
                Draw.State.SCHEDULED,
            ],
        )
        return {row[0]: row[1:] for row in cursor.fetchall()}


def _schedule_candidates(ids: Sequence[int] | None, *, with_open: bool) -> list[tuple]:
    """Drawing patients (with or without an open draw) and the facts the rule needs.

    Two queries whatever the number of patients: the patients, then their anchors
    (DESIGN.md §4) from their past draws.
    """
    open_draw = Draw.objects.filter(patient=OuterRef("pk"), state=Draw.State.SCHEDULED)
    patients = Patient.objects.filter(
        surveillance_state__in=rules.DRAWING_STATES, surveillance_start_on__isnull=False
    )
    patients = (
        patients.filter(Exists(open_draw)) if with_open else patients.filter(~Exists(open_draw))
    )
    if ids is not None:
        patients = patients.filter(pk__in=ids)
    # In id order, not Patient's default (names): no sort by name spilling to disk, and the
    # draws go in in patient order (their indexes on patient_id and the foreign-key checks
    # at commit then touch neighbouring pages).
    rows = list(
        patients.order_by("pk").values_list(
            "id", "surveillance_start_on", "surveillance_interval_weeks"
        )
    )
    if not rows:
        return []
    anchors = _anchors([pid for pid, _, _ in rows], patients)
    none = (None, None, None, None)
    return [(pid, start, weeks, *anchors.get(pid, none)) for pid, start, weeks in rows]


def _plan_rows(candidates, today: dt.date):
    window_days = settings.DRAW_WINDOW_DAYS
    clinic_days = settings.CLINIC_DAYS  # read once, not once a patient (LazySettings)
    next_draw, draw_window = rules.next_draw, rules.draw_window
    for pid, start_on, weeks, last_ok, last_missed, last_failed, last_failed_id in candidates:
        planned = next_draw(
            start_on, weeks, last_ok, last_missed, last_failed, today=today, clinic_days=clinic_days
        )
        if planned is None:
            continue
        due_on, is_redraw = planned
        opens, closes = draw_window(due_on, window_days)
        yield (
            pid,
            due_on,
            opens,
            closes,
            is_redraw,
            last_failed_id if is_redraw else None,
        )


_INSERT_COLUMNS = (
    "patient_id, planned_on, due_on, window_opens_on, window_closes_on, state, is_redraw, "
    "redraw_of_id, reason_code, reason_note, created_at, updated_at"
)
_INSERT_TAIL = " ON CONFLICT DO NOTHING RETURNING id, patient_id, due_on, is_redraw"


def _insert_open_draws(
    rows: list[tuple], now: dt.datetime, acting_user, system: str | None
) -> tuple[int, list[tuple[int, int]]]:
    """INSERT ... ON CONFLICT DO NOTHING: a conflict with the one-open-draw index (a
    concurrent planner or service got there first) is skipped, not an error. Each draw
    created gets its `draw.plan` audit event in the same statement. Returns the number
    created and the (draw id, patient id) of the redraws among them.

    PostgreSQL: one statement, the rows as array literals (unnest) whatever their number,
    the audit events inserted from the INSERT's RETURNING (a data-modifying WITH): the
    rows never come back to Python. SQLite (the embedded demo): VALUES lists in batches
    under its parameter limit, then audit_bulk.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = list(zip(*rows, strict=True))
            audit_sql, audit_params = audit_bulk_sql(
                action="draw.plan",
                source=(
                    "(SELECT 'patients.draw' AS object_type, id::text AS object_id, patient_id,"
                    " jsonb_build_object('due_on', to_char(due_on, 'YYYY-MM-DD'),"
                    " 'is_redraw', is_redraw) AS detail FROM created) AS a"
                ),
                acting_user=acting_user,
                system=system,
            )
            insert = (
                f"INSERT INTO patients_draw ({_INSERT_COLUMNS}) "  # noqa: S608 - constants only
                "SELECT p, d, d, o, c, %s, r, f, '', '', %s, %s FROM unnest("
                "%s::bigint[], %s::date[], %s::date[], %s::date[], %s::bool[], %s::bigint[]"
                ") AS t(p, d, o, c, r, f)" + _INSERT_TAIL
            )
            cursor.execute(
                f"WITH created AS ({insert}), audited AS ({audit_sql}) "  # noqa: S608 - constants
                "SELECT (SELECT count(*) FROM created), "
                "(SELECT coalesce(json_agg(json_build_array(id, patient_id)), '[]') "
                "FROM created WHERE is_redraw)",
                [
                    Draw.State.SCHEDULED,
                    now,
                    now,
                    *(pg_array(col) for col in columns),
                    *audit_params,
                ],
            )
            count, redraws = cursor.fetchone()
            return count, [tuple(pair) for pair in redraws]
        created: list[tuple] = []
        one = "(" + ", ".join(["%s"] * 12) + ")"
        for start in range(0, len(rows), SQLITE_INSERT_BATCH):
            chunk = rows[start : start + SQLITE_INSERT_BATCH]
            params: list = []
            for pid, due_on, opens, closes, is_redraw, redraw_of in chunk:
                params += [pid, due_on, due_on, opens, closes, Draw.State.SCHEDULED]
                params += [is_redraw, redraw_of, "", "", now, now]
            cursor.execute(
                f"INSERT INTO patients_draw ({_INSERT_COLUMNS}) VALUES "  # noqa: S608
                + ", ".join([one] * len(chunk))
                + _INSERT_TAIL,
                params,
            )
            created += cursor.fetchall()
    audit_bulk(
        action="draw.plan",
        rows=[
            AuditRow(
                "patients.draw",
                str(did),
                pid,
                {"due_on": str(due_on), "is_redraw": bool(is_redraw)},
            )
            for did, pid, due_on, is_redraw in created
        ],
        acting_user=acting_user,
        system=system,
    )
    return len(created), [(did, pid) for did, pid, _due, is_redraw in created if is_redraw]


def _replan_open(ids: Sequence[int], today: dt.date, now: dt.datetime) -> list[tuple]:
    """After a change of interval or start date: move open regular draws to the new date."""
    replanned = []
    open_draws = {
        d.patient_id: d
        for d in Draw.objects.filter(
            patient_id__in=ids, state=Draw.State.SCHEDULED, is_redraw=False
        )
    }
    for pid, due_on, opens, closes, is_redraw, _ in _plan_rows(
        _schedule_candidates(ids, with_open=True), today
    ):
        draw = open_draws.get(pid)
        if draw is None or is_redraw or draw.planned_on == due_on:
            continue
        Draw.objects.filter(pk=draw.pk, state=Draw.State.SCHEDULED).update(
            planned_on=due_on,
            due_on=due_on,
            window_opens_on=opens,
            window_closes_on=closes,
            updated_at=now,
        )
        replanned.append((draw.pk, pid, due_on))
    return replanned


REDRAW_SUBJECT = "Redraw needed: a sample failed or was lost"


def _notify_redraws(redraws: list[tuple[int, int]]) -> None:
    """Tell the nurses of each new redraw (due at once): in the app with the patient's name,
    by e-mail with a link only. One notice per redraw, however often the planner runs."""
    if not redraws:
        return
    from django.contrib.auth import get_user_model

    from accounts.roles import Role
    from notifications.services import Message, notification_publish
    from notifications.tasks import notifications_send

    nurses = list(
        get_user_model().objects.filter(is_active=True, groups__name=Role.NURSE).distinct()
    )
    if not nurses:
        return
    names = {
        p.pk: p.display_name
        for p in Patient.objects.filter(pk__in=[pid for _, pid in redraws]).only(
            "given_name", "family_name"
        )
    }
    ids: list[int] = []
    for draw_id, patient_id in redraws:
        ids += notification_publish(
            message=Message(
                key=f"draw:{draw_id}:redraw",
                subject=REDRAW_SUBJECT,
                body="A redraw is due now. Open the worklist's 'Redraw needed' section.",
                link="/worklist/",
                in_app_subject=f"{REDRAW_SUBJECT}: {names.get(patient_id, '')}",
            ),
            recipients=nurses,
        )
    if ids:
        from core.queue import enqueue_on_commit

        enqueue_on_commit(notifications_send, ids)


@contextlib.contextmanager
def _gc_paused(pause: bool):
    """Python's cycle collector off while a full run builds its rows. A catch-up allocates
    some 500,000 row tuples (none in a reference cycle): the collector's passes over the
    growing heap cost 0.3-0.4 s at 100,000 patients, superlinearly (nothing at 10,000).
    The worker runs one task at a time; collection resumes, and catches up, at the end."""
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@transaction.atomic
def draws_plan(
    *,
    today: dt.date | None = None,
    patient_ids: Sequence[int] | None = None,
    replan: bool = False,
    acting_user=None,
    activate: bool | None = None,
) -> PlanResult:
    """Make every drawing patient (or only `patient_ids`) have exactly one open draw.

    1. Awaiting patients whose start date has come become active: on a full run, or when
       the caller asks (`activate`) because it reconciles her alerts afterwards (her earlier
       results are judged once she is active). A nurse's draw action re-plans one patient
       without activating her: the planner's next run does, and reconciles.
    2. Open draws of patients who no longer draw are cancelled (surveillance ended).
    3. Patients with no open draw get one, dated by `rules.plan_next_draw`.
    4. With `replan` (a service changed the interval or start date), open regular draws
       move to the date the rule now gives.
    Every change is audited, one event per row, in the same transaction.
    """
    today = today or clinic_today()
    now = timezone.now()
    if patient_ids is None and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PLANNER_LOCK_KEY])
            # A full run is a bulk job: its sorts, hashes and the triggers' transition
            # tables fit in memory instead of spilling to disk, and it does not pay JIT
            # compilation (about 0.1 s) for statements that run once. For this transaction.
            cursor.execute(FULL_RUN_SETTINGS)
            # The worklist's count rows of past days that no draw is in any more.
            cursor.execute("DELETE FROM patients_worklistcount WHERE n = 0")
    if patient_ids is not None and not patient_ids:
        return PlanResult()

    if activate is None:
        activate = patient_ids is None
    activated = _activate(today, patient_ids, now) if activate else []
    cancelled = _cancel_for_ended(patient_ids, now)
    system = None if acting_user else "planner"
    with _gc_paused(patient_ids is None):
        rows = list(_plan_rows(_schedule_candidates(patient_ids, with_open=False), today))
        created, redraws = _insert_open_draws(rows, now, acting_user, system) if rows else (0, [])
    _notify_redraws(redraws)
    replanned = _replan_open(patient_ids, today, now) if replan and patient_ids else []

    audit_rows = {
        "patient.activate": [
            AuditRow("patients.patient", str(pid), pid, {"state": "active"}) for pid in activated
        ],
        "draw.cancel": [
            AuditRow("patients.draw", str(did), pid, {"reason": "surveillance_ended"})
            for did, pid in cancelled
        ],
        "draw.replan": [
            AuditRow("patients.draw", str(did), pid, {"due_on": str(due_on)})
            for did, pid, due_on in replanned
        ],
    }
    for action, audit in audit_rows.items():
        if audit:
            audit_bulk(action=action, rows=audit, acting_user=acting_user, system=system)
    return PlanResult(
        activated=len(activated),
        activated_ids=tuple(activated),
        cancelled=len(cancelled),
        created=created,
        replanned=len(replanned),
    )


# --- Changes to one draw ---------------------------------------------------------------------


def _lock_patient_and_draw(draw: Draw) -> Draw:
    """Lock the draw's patient, then the draw (DESIGN §5: every path locks the patient's row
    first, so a draw action and a scan, a report or a change of state for the same patient
    queue behind each other instead of deadlocking). The draw comes back with its patient."""
    patient = Patient.objects.select_for_update().get(
        pk=Subquery(Draw.objects.filter(pk=draw.pk).values("patient_id")[:1])
    )
    locked = Draw.objects.select_for_update().get(pk=draw.pk)
    locked.patient = patient
    return locked


# The draws of a set of results, locked after their patients (DESIGN §5) in one statement:
# the sub-select locks the patients in id order before the outer query locks any draw (a
# locking sub-select is not pulled up into a join; it runs first), and the outer FOR UPDATE
# returns each draw's latest state even if it changed while the patients were awaited.
_LOCK_DRAWS_AFTER_PATIENTS_SQL = """
    SELECT d.id, d.state, d.patient_id FROM patients_draw d
    WHERE d.id = ANY(%s::bigint[]) AND d.patient_id IN (
        SELECT p.id FROM patients_patient p
        WHERE p.id IN (SELECT patient_id FROM patients_draw WHERE id = ANY(%s::bigint[]))
        ORDER BY p.id FOR UPDATE OF p
    )
    ORDER BY d.id FOR UPDATE OF d
"""


def _lock_draws_after_patients(draw_ids: list[int]) -> dict[int, tuple[str, int]]:
    """(state, patient id) of the draws `draw_ids`, the patients locked first, then the draws."""
    if connection.vendor != "postgresql":  # SQLite (the embedded demo) has no row locks
        rows = Draw.objects.filter(pk__in=draw_ids).values_list("pk", "state", "patient_id")
    else:
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_DRAWS_AFTER_PATIENTS_SQL, [pg_array(draw_ids)] * 2)
            rows = cursor.fetchall()
    return {pk: (state, patient_id) for pk, state, patient_id in rows}


def _lock_open(draw: Draw, action: str) -> Draw:
    draw = _lock_patient_and_draw(draw)
    if draw.state != Draw.State.SCHEDULED:
        raise NotEligible(
            DRAW_NOT_OPEN.format(state=draw.get_state_display().lower(), action=action),
            extra={"state": draw.state},
        )
    return draw


def _check_reason(reason: str, note: str, allowed, errors: dict) -> None:
    if reason not in allowed:
        errors["reason"] = [
            REASON_INVALID.format(reason=reason, choices=", ".join(sorted(allowed)))
        ]
    elif reason == "other" and not note.strip():
        errors["comment"] = [NOTE_REQUIRED]


@transaction.atomic
def draw_collect(
    *, draw: Draw, collected_at: dt.datetime, accession: str, acting_user, lab: str = ""
) -> Draw:
    """Record a collection; the next draw is planned at once (collection date + interval).

    `lab` is the lab the sample is sent to (a code of LAB_ACCOUNTS); DEFAULT_LAB when empty.
    """
    draw = _lock_open(draw, "collected")
    accession = (accession or "").strip()
    errors: dict[str, list[str]] = {}
    if not ACCESSION_RE.match(accession):
        errors["accession"] = [ACCESSION_FORMAT]
    elif Patient.objects.filter(mrn=accession).exists():
        errors["accession"] = [ACCESSION_IS_MRN]
    elif Draw.objects.filter(accession=accession).exists():
        errors["accession"] = [ACCESSION_TAKEN]
    if timezone.is_naive(collected_at):
        errors["collected_at"] = [COLLECTED_NAIVE]
    elif collected_at > timezone.now() + COLLECTION_CLOCK_SKEW:
        errors["collected_at"] = [COLLECTED_FUTURE]
    else:
        previous = (
            Draw.objects.filter(patient_id=draw.patient_id, collected_at__isnull=False)
            .order_by("-collected_at")
            .values_list("collected_at", flat=True)
            .first()
        )
        if previous is not None and collected_at < previous:
            errors["collected_at"] = [
                COLLECTED_BEFORE_PREVIOUS.format(day=clinic_date(previous).isoformat())
            ]
    if errors:
        raise ValidationError(errors)

    draw.state = Draw.State.COLLECTED
    draw.collected_at = collected_at
    draw.collected_on = clinic_date(collected_at)
    draw.collected_by = acting_user
    draw.accession = accession
    draw.lab = lab_code(lab)
    try:
        with transaction.atomic():
            draw.save(
                update_fields=[
                    "state",
                    "collected_at",
                    "collected_on",
                    "collected_by",
                    "accession",
                    "lab",
                    "updated_at",
                ]
            )
    except IntegrityError as exc:  # a concurrent collection took the accession
        raise ValidationError({"accession": [ACCESSION_TAKEN]}) from exc
    audit_record(
        action="draw.collect",
        acting_user=acting_user,
        obj=draw,
        patient_id=draw.patient_id,
        detail={
            "accession": accession,
            "on_time": draw.window_opens_on <= draw.collected_on <= draw.window_closes_on,
        },
    )
    draws_plan(patient_ids=[draw.patient_id], acting_user=acting_user)
    return draw


UNKNOWN_LAB = "Unknown lab '{lab}'; choose one of: {choices}."


def lab_code(lab: str = "") -> str:
    """The lab a sample goes to: the one named (a code of LAB_ACCOUNTS) or DEFAULT_LAB."""
    lab = (lab or "").strip()
    if not lab:
        return settings.DEFAULT_LAB
    known = {settings.DEFAULT_LAB, *settings.LAB_ACCOUNTS}
    if lab not in known:
        raise ValidationError(
            {"lab": [UNKNOWN_LAB.format(lab=lab, choices=", ".join(sorted(known)))]}
        )
    return lab


LAB_ACCOUNT_UNASSIGNED_LOG = (
    "Lab account '%s' is listed in no lab of LAB_ACCOUNTS (labs: %s): it sees and reports on "
    "no draw until an administrator adds it to its lab's entry."
)


def lab_of_account(user) -> str | None:
    """The lab a lab account belongs to: the LAB_ACCOUNTS code listing it.

    Fails closed: once LAB_ACCOUNTS names labs, an account listed in none of them belongs to
    no lab (None: it sees and reports on no draw, and the log tells the administrator), not
    to DEFAULT_LAB. With LAB_ACCOUNTS empty there is one lab, and every lab account is
    DEFAULT_LAB's.
    """
    if not settings.LAB_ACCOUNTS:
        return settings.DEFAULT_LAB
    username = user.get_username()
    for code, usernames in settings.LAB_ACCOUNTS.items():
        if username in usernames:
            return code
    logger.warning(LAB_ACCOUNT_UNASSIGNED_LOG, username, ", ".join(sorted(settings.LAB_ACCOUNTS)))
    return None


def lab_draws(user, lab: str | None = None) -> Q:
    """The draws a lab account may see and report on: those sent to its lab (a draw without
    a lab, collected before labs were recorded, is DEFAULT_LAB's); none for an account in
    no lab. `lab`: the account's lab, when the caller has it already."""
    lab = lab or lab_of_account(user)
    if lab is None:
        return Q(pk__in=[])
    mine = Q(lab=lab)
    if lab == settings.DEFAULT_LAB:
        mine |= Q(lab="")
    return mine


def _close_open_draw(
    *, draw: Draw, state: str, reason: str, comment: str, allowed, verb: str, acting_user
) -> Draw:
    """Close an open draw as missed or cancelled with a coded reason; plan the next one."""
    draw = _lock_open(draw, verb)
    errors: dict[str, list[str]] = {}
    _check_reason(reason, comment, allowed, errors)
    if errors:
        raise ValidationError(errors)
    draw.state = state
    draw.reason_code = reason
    draw.reason_note = comment.strip()
    draw.save(update_fields=["state", "reason_code", "reason_note", "updated_at"])
    audit_record(
        action=f"draw.{'miss' if state == Draw.State.MISSED else 'cancel'}",
        acting_user=acting_user,
        obj=draw,
        patient_id=draw.patient_id,
        detail={"reason": reason},
    )
    draws_plan(patient_ids=[draw.patient_id], acting_user=acting_user)
    return draw


@transaction.atomic
def draw_mark_missed(*, draw: Draw, reason: str, comment: str = "", acting_user) -> Draw:
    """A draw that did not happen; the next is due its planned date + the interval."""
    return _close_open_draw(
        draw=draw,
        state=Draw.State.MISSED,
        reason=reason,
        comment=comment,
        allowed=set(Draw.MissReason.values),
        verb="marked missed",
        acting_user=acting_user,
    )


@transaction.atomic
def draw_cancel(*, draw: Draw, reason: str, comment: str = "", acting_user) -> Draw:
    """Cancel an open draw with a reason; the schedule continues from its planned date."""
    return _close_open_draw(
        draw=draw,
        state=Draw.State.CANCELLED,
        reason=reason,
        comment=comment,
        allowed=NURSE_CANCEL_REASONS,
        verb="cancelled",
        acting_user=acting_user,
    )


def _window_around(due_on: dt.date) -> tuple[dt.date, dt.date]:
    days = dt.timedelta(days=settings.DRAW_WINDOW_DAYS)
    return due_on - days, due_on + days


@transaction.atomic
def draw_reschedule(
    *, draw: Draw, due_on: dt.date, reason: str = "", comment: str = "", acting_user
) -> Draw:
    """Move an open draw to another day (not into the past).

    Inside the draw's window nothing else changes. Outside it (a patient away for the
    window, a visit to align with) a coded reason is required, the window moves with the
    new date (so the draw is not at once overdue), and the move is limited to one
    surveillance interval from the planned date: further than that is a missed draw.
    """
    draw = _lock_open(draw, "rescheduled")
    errors: dict[str, list[str]] = {}
    comment = (comment or "").strip()
    inside = draw.window_opens_on <= due_on <= draw.window_closes_on
    max_shift = dt.timedelta(weeks=draw.patient.surveillance_interval_weeks)
    if due_on < clinic_today():
        errors["due_on"] = [RESCHEDULE_PAST]
    elif abs(due_on - draw.planned_on) > max_shift:
        errors["due_on"] = [
            RESCHEDULE_TOO_FAR.format(
                weeks=draw.patient.surveillance_interval_weeks,
                planned=draw.planned_on.isoformat(),
            )
        ]
    if not inside and not errors:
        if not reason:
            errors["reason"] = [
                RESCHEDULE_REASON_REQUIRED.format(
                    opens=draw.window_opens_on.isoformat(),
                    closes=draw.window_closes_on.isoformat(),
                )
            ]
        else:
            _check_reason(reason, comment, RESCHEDULE_REASONS, errors)
    elif reason:
        _check_reason(reason, comment, RESCHEDULE_REASONS, errors)
    if errors:
        raise ValidationError(errors)
    previous = draw.due_on
    draw.due_on = due_on
    fields = ["due_on", "updated_at"]
    if not inside:
        draw.window_opens_on, draw.window_closes_on = _window_around(due_on)
        fields += ["window_opens_on", "window_closes_on"]
    draw.save(update_fields=fields)
    detail = {"from": previous.isoformat(), "to": due_on.isoformat()}
    if reason:
        detail["reason"] = reason
    if not inside:
        detail["window"] = [draw.window_opens_on.isoformat(), draw.window_closes_on.isoformat()]
    audit_record(
        action="draw.reschedule",
        acting_user=acting_user,
        obj=draw,
        patient_id=draw.patient_id,
        detail=detail,
    )
    return draw


@transaction.atomic
def draw_collect_undo(*, draw: Draw, acting_user) -> Draw:
    """Take back a collection just recorded (the wrong tube or patient, seen at once).

    Only the nurse who recorded it, within COLLECT_UNDO_MINUTES, and only while the sample
    awaits its result. The next draw that the collection planned is removed (it was never
    worked) and the draw is open again exactly as before, without its accession.
    """
    draw = _lock_patient_and_draw(draw)
    if draw.state != Draw.State.COLLECTED:
        raise NotEligible(
            UNDO_NOT_COLLECTED.format(state=draw.get_state_display().lower()),
            extra={"state": draw.state},
        )
    if acting_user is None or draw.collected_by_id != acting_user.pk:
        raise NotEligible(UNDO_NOT_YOURS)
    now = timezone.now()
    if now - draw.updated_at > dt.timedelta(minutes=COLLECT_UNDO_MINUTES):
        raise NotEligible(UNDO_TOO_LATE.format(minutes=COLLECT_UNDO_MINUTES))
    planned = list(
        Draw.objects.select_for_update().filter(
            patient_id=draw.patient_id, state=Draw.State.SCHEDULED
        )
    )
    if any(d.is_redraw or d.created_at < draw.updated_at - COLLECTION_CLOCK_SKEW for d in planned):
        raise NotEligible(UNDO_NEXT_DRAW_USED)
    removed = [d.pk for d in planned]
    Draw.objects.filter(pk__in=removed).delete()
    accession = draw.accession
    draw.state = Draw.State.SCHEDULED
    draw.collected_at = None
    draw.collected_on = None
    draw.collected_by = None
    draw.accession = None
    draw.save(
        update_fields=[
            "state",
            "collected_at",
            "collected_on",
            "collected_by",
            "accession",
            "updated_at",
        ]
    )
    audit_record(
        action="draw.collect_undo",
        acting_user=acting_user,
        obj=draw,
        patient_id=draw.patient_id,
        detail={"accession": accession, "removed_draws": removed},
    )
    return draw


@transaction.atomic
def draw_mark_sample_lost(*, draw: Draw, comment: str = "", acting_user) -> Draw:
    """The lab never received (or lost) a collected sample: a redraw is due at once.

    The draw becomes a failed sample with reason `sample_lost`; `draw_mark_failed` plans
    the redraw. A result that arrives later for the accession is still accepted.
    """
    locked = _lock_patient_and_draw(draw)
    if locked.state != Draw.State.COLLECTED:
        raise NotEligible(NOT_LOSABLE, extra={"state": locked.state})
    draw = draw_mark_failed(draw=locked, reason=SAMPLE_LOST_REASON, acting_user=acting_user)
    comment = (comment or "").strip()[:2000]
    if comment:
        draw.reason_note = comment
        draw.save(update_fields=["reason_note", "updated_at"])
    audit_record(
        action="draw.sample_lost",
        acting_user=acting_user,
        obj=draw,
        patient_id=draw.patient_id,
        detail={"commented": bool(comment)},
    )
    return draw


# --- What a lab result does to its draw (one state machine, set-based) ----------------------

RESULTED = "resulted"
FAILED = "failed"
RETRACTED = "retracted"


@dataclass(frozen=True)
class DrawResult:
    """What one stored report means for its draw: resulted (QC pass), failed (QC fail or
    insufficient, with the reason) or retracted (no passing result is left)."""

    draw_id: int
    outcome: str
    reason: str = ""


@dataclass
class ResultsApplied:
    resulted: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    retracted: list[int] = field(default_factory=list)
    redraws_cancelled: list[int] = field(default_factory=list)


@transaction.atomic(savepoint=False)  # its callers' transaction; none recovers from its errors
def draws_apply_results(*, results: Sequence[DrawResult], acting_user) -> ResultsApplied:
    """Move draws as their lab results say, for one report or a file of them.

    Set-based (a constant number of queries for any number of draws), with one audit row
    per changed draw, used by the JSON and the file path alike:
    1. lock the draws' patients (in id order), then the draws;
    2. resulted: collected or failed -> resulted. A draw that had failed and now has a
       passing result (a QC-pass correction) no longer needs its redraw: a redraw planned
       for it and not yet collected is cancelled (`redraw_not_needed`);
    3. failed: collected or resulted -> failed with the QC reason. Where that makes a redraw
       due (`rules.redraw_due`: the failure is newer than any good collection or missed
       draw), the patient's open regular draw is cancelled (`replaced_by_redraw`) and the
       planner plans the redraw, due at once; a late failure of an old draw changes no
       open draw;
    4. retracted: resulted or failed -> collected (awaiting a result again). A failure
       withdrawn (its report cancelled or corrected to another draw) no longer calls for
       its redraw: one planned for it and not yet collected is cancelled
       (`failure_retracted`);
    5. the planner runs for every patient touched, so each has its right open draw.
    """
    done = ResultsApplied()
    if not results:
        return done
    now = timezone.now()
    by_draw = {r.draw_id: r for r in results}  # the last word on a draw wins
    draws = _lock_draws_after_patients(sorted(by_draw))
    audit: dict[str, list[AuditRow]] = {
        "draw.result": [],
        "draw.fail": [],
        "draw.result_retracted": [],
        "draw.cancel": [],
    }
    resulted = [
        pk
        for pk, (state, _) in draws.items()
        if by_draw[pk].outcome == RESULTED and state in (Draw.State.COLLECTED, Draw.State.FAILED)
    ]
    was_failed = [pk for pk in resulted if draws[pk][0] == Draw.State.FAILED]
    if resulted:
        Draw.objects.filter(pk__in=resulted).update(
            state=Draw.State.RESULTED, reason_code="", updated_at=now
        )
        audit["draw.result"] = [
            AuditRow("patients.draw", str(pk), draws[pk][1], {"from": draws[pk][0]})
            for pk in resulted
        ]
        done.resulted = resulted
    if was_failed:
        done.redraws_cancelled = _redraws_cancel(
            was_failed, Draw.CancelReason.REDRAW_NOT_NEEDED, now, audit["draw.cancel"]
        )

    failed = [
        pk
        for pk, (state, _) in draws.items()
        if by_draw[pk].outcome == FAILED and state in (Draw.State.COLLECTED, Draw.State.RESULTED)
    ]
    for reason in sorted({by_draw[pk].reason[:32] for pk in failed}):
        Draw.objects.filter(
            pk__in=[pk for pk in failed if by_draw[pk].reason[:32] == reason]
        ).update(state=Draw.State.FAILED, reason_code=reason, updated_at=now)
    if failed:
        audit["draw.fail"] = [
            AuditRow("patients.draw", str(pk), draws[pk][1], {"reason": by_draw[pk].reason})
            for pk in failed
        ]
        # The planner's own rule decides whether a redraw is due: a failure newer than any
        # good collection or missed draw. A late failure of an old draw, after a newer
        # sample was collected, calls for none; her open draw (maybe moved by a nurse) stays.
        failed_patients = sorted({draws[pk][1] for pk in failed})
        anchors = _anchors(failed_patients, Patient.objects.filter(pk__in=failed_patients))
        redraw_due = [
            pid
            for pid in failed_patients
            if rules.redraw_due(*anchors.get(pid, (None, None, None))[:3])
        ]
        replaced = list(
            Draw.objects.filter(
                patient_id__in=redraw_due,
                state=Draw.State.SCHEDULED,
                is_redraw=False,
            )
            .order_by("pk")
            .values_list("pk", "patient_id")
        )
        Draw.objects.filter(pk__in=[pk for pk, _ in replaced]).update(
            state=Draw.State.CANCELLED,
            reason_code=Draw.CancelReason.REPLACED_BY_REDRAW,
            updated_at=now,
        )
        audit["draw.cancel"] += [
            AuditRow("patients.draw", str(pk), pid, {"reason": "replaced_by_redraw"})
            for pk, pid in replaced
        ]
        done.failed = failed

    retracted = [
        pk
        for pk, (state, _) in draws.items()
        if by_draw[pk].outcome == RETRACTED and state in (Draw.State.RESULTED, Draw.State.FAILED)
    ]
    retracted_failed = [pk for pk in retracted if draws[pk][0] == Draw.State.FAILED]
    if retracted:
        Draw.objects.filter(pk__in=retracted).update(
            state=Draw.State.COLLECTED, reason_code="", updated_at=now
        )
        audit["draw.result_retracted"] = [
            AuditRow("patients.draw", str(pk), draws[pk][1], {"from": draws[pk][0]})
            for pk in retracted
        ]
        done.retracted = retracted
    if retracted_failed:
        # The failure no longer stands: the redraw it caused, not yet collected, goes; the
        # planner (step 5) then plans what the patient's draws now call for.
        done.redraws_cancelled += _redraws_cancel(
            retracted_failed, Draw.CancelReason.FAILURE_RETRACTED, now, audit["draw.cancel"]
        )

    for action, rows in audit.items():
        if rows:
            audit_bulk(action=action, rows=rows, acting_user=acting_user)
    touched = sorted({draws[pk][1] for pk in (*failed, *was_failed, *retracted_failed)})
    if touched:
        draws_plan(patient_ids=touched, acting_user=acting_user)
    return done


def _redraws_cancel(failed_draw_ids, reason: str, now, audit_rows: list) -> list[int]:
    """Cancel the not-yet-collected redraws planned for these failed draws, with `reason`;
    their audit rows are added to `audit_rows`. Returns the redraws cancelled."""
    cancelled = list(
        Draw.objects.filter(redraw_of_id__in=failed_draw_ids, state=Draw.State.SCHEDULED)
        .order_by("pk")
        .values_list("pk", "patient_id")
    )
    Draw.objects.filter(pk__in=[pk for pk, _ in cancelled]).update(
        state=Draw.State.CANCELLED, reason_code=reason, updated_at=now
    )
    audit_rows += [
        AuditRow("patients.draw", str(pk), pid, {"reason": str(reason)}) for pk, pid in cancelled
    ]
    return [pk for pk, _ in cancelled]


@transaction.atomic
def draw_mark_failed(*, draw: Draw, reason: str, acting_user) -> Draw:
    """A sample failed (QC fail, insufficient, lost): a redraw is due at once, marked as such.

    The redraw replaces the patient's open draw; the regular interval resumes from the
    redraw's collection.
    """
    locked = _lock_patient_and_draw(draw)
    if locked.state not in (Draw.State.COLLECTED, Draw.State.RESULTED):
        raise NotEligible(NOT_FAILABLE, extra={"state": locked.state})
    draws_apply_results(results=[DrawResult(draw.pk, FAILED, reason)], acting_user=acting_user)
    locked.refresh_from_db()
    return locked


@transaction.atomic
def draw_mark_resulted(*, draw: Draw, acting_user) -> Draw:
    """A passing lab result arrived for the sample (also after a corrected failure)."""
    locked = _lock_patient_and_draw(draw)
    if locked.state == Draw.State.RESULTED:
        return locked
    if locked.state not in (Draw.State.COLLECTED, Draw.State.FAILED):
        raise NotEligible(NOT_RESULTABLE, extra={"state": locked.state})
    draws_apply_results(results=[DrawResult(draw.pk, RESULTED)], acting_user=acting_user)
    locked.refresh_from_db()
    return locked


@transaction.atomic
def draw_mark_awaiting_result(*, draw: Draw, acting_user) -> Draw:
    """The lab retracted the result: the sample awaits a result again."""
    draws_apply_results(results=[DrawResult(draw.pk, RETRACTED)], acting_user=acting_user)
    return Draw.objects.get(pk=draw.pk)
