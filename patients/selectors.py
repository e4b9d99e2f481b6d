"""Reads on patients. Role checks happen in the view layer (accounts.roles); these return
querysets with everything a page needs joined in, so pages run a constant number of queries.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connection, models
from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404

from audit.services import audit_record
from notifications.selectors import unread_qs
from patients.models import Draw, ImagingAssessment, Patient, Regimen


def current_regimen_qs(patient_ref: str = "pk") -> QuerySet[Regimen]:
    """The current regimen (the one without an end date) of the patient at `OuterRef`."""
    return Regimen.objects.filter(patient=OuterRef(patient_ref), ended_on__isnull=True)


# Newest first; a day's scans by the worse outcome (progression, then indeterminate), as the
# switch rule reads them (therapy.rules): a CT showing progression and an MRI without, on one
# day, is her latest imaging showing progression, whichever was recorded last.
_OUTCOME_RANK = Case(
    When(outcome=ImagingAssessment.Outcome.PROGRESSION, then=Value(0)),
    When(outcome=ImagingAssessment.Outcome.INDETERMINATE, then=Value(1)),
    default=Value(2),
)
NEWEST_SCAN_FIRST = (F("performed_on").desc(), _OUTCOME_RANK.asc(), F("id").desc())


def latest_scan_qs(patient_ref: str = "pk") -> QuerySet[ImagingAssessment]:
    """The patient's scans at `OuterRef`, newest first, a day's worst first."""
    return ImagingAssessment.objects.filter(patient=OuterRef(patient_ref)).order_by(
        *NEWEST_SCAN_FIRST
    )


def with_current_regimen_and_latest_scan(qs: QuerySet, *, patient_ref: str = "pk") -> QuerySet:
    """Annotate each row with its patient's current regimen and latest scan, in the same query:
    `current_endocrine_agent`, `current_cdk46_inhibitor`, `current_started_on`,
    `latest_scan_on`, `latest_scan_outcome`. `patient_ref` names the patient id in `qs`."""
    current = current_regimen_qs(patient_ref)
    scans = latest_scan_qs(patient_ref)
    return qs.annotate(
        current_endocrine_agent=Subquery(current.values("endocrine_agent")[:1]),
        current_cdk46_inhibitor=Subquery(current.values("cdk46_inhibitor")[:1]),
        current_started_on=Subquery(current.values("started_on")[:1]),
        latest_scan_on=Subquery(scans.values("performed_on")[:1]),
        latest_scan_outcome=Subquery(scans.values("outcome")[:1]),
    )


def patient_search_q(search: str, prefix: str = "") -> Q:
    """Name or MRN search: an exact MRN, or a prefix of the MRN or either name."""
    search = search.replace("\x00", "")  # PostgreSQL refuses NUL in strings
    return (
        Q(**{f"{prefix}mrn__iexact": search})
        | Q(**{f"{prefix}mrn__istartswith": search})
        | Q(**{f"{prefix}family_name__istartswith": search})
        | Q(**{f"{prefix}given_name__istartswith": search})
    )


def patient_list(
    *, search: str = "", oncologist_id: int | None = None, state: str = ""
) -> QuerySet[Patient]:
    """Patients with their current regimen and latest scan annotated (one query)."""
    qs = with_current_regimen_and_latest_scan(Patient.objects.select_related("oncologist"))
    search = search.strip()
    if search:
        qs = qs.filter(patient_search_q(search))
    if oncologist_id:
        qs = qs.filter(oncologist_id=oncologist_id)
    if state:
        qs = qs.filter(surveillance_state=state)
    return qs.order_by("family_name", "given_name", "id")


def patient_get(*, patient_id: int) -> Patient:
    """The patient or 404 (list annotations included)."""
    return get_object_or_404(patient_list(), pk=patient_id)


def patient_view(*, patient_id: int, user, what: str = "record") -> Patient:
    """Fetch a patient for display and leave the audit event every view of a record needs."""
    patient = patient_get(patient_id=patient_id)
    audit_record(action="patient.view", acting_user=user, obj=patient, detail={"view": what})
    return patient


def regimen_list(*, patient: Patient) -> list[Regimen]:
    return list(Regimen.objects.filter(patient=patient).order_by("-started_on", "-id"))


def scan_list(*, patient: Patient) -> list[ImagingAssessment]:
    return list(ImagingAssessment.objects.filter(patient=patient).order_by(*NEWEST_SCAN_FIRST))


def current_regimen(*, patient: Patient) -> Regimen | None:
    """The patient's current regimen: the one without an end date (at most one, by constraint)."""
    return Regimen.objects.filter(patient=patient, ended_on__isnull=True).first()


def latest_scan(*, patient: Patient) -> ImagingAssessment | None:
    return ImagingAssessment.objects.filter(patient=patient).order_by(*NEWEST_SCAN_FIRST).first()


# --- Draws and the nurses' worklist ----------------------------------------------------------


class Section(models.TextChoices):
    OVERDUE = "overdue", "Overdue"
    DUE = "due", "Due now"
    UPCOMING = "upcoming", "Upcoming"
    AWAITING = "awaiting", "Awaiting result"
    REDRAW = "redraw", "Redraw needed"


def _section_filters(today: dt.date) -> dict[str, Q]:
    """The worklist sections as filters; the same comparisons as rules.draw_timing."""
    open_regular = Q(state=Draw.State.SCHEDULED, is_redraw=False)
    upcoming_until = today + dt.timedelta(days=settings.WORKLIST_UPCOMING_DAYS)
    return {
        Section.OVERDUE: open_regular & Q(window_closes_on__lt=today),
        Section.DUE: open_regular & Q(window_opens_on__lte=today, window_closes_on__gte=today),
        Section.UPCOMING: open_regular & Q(window_opens_on__gt=today, due_on__lte=upcoming_until),
        Section.AWAITING: Q(state=Draw.State.COLLECTED),
        Section.REDRAW: Q(state=Draw.State.SCHEDULED, is_redraw=True),
    }


# Each order matches a partial index (patients.models.Draw.Meta.indexes), so a page reads
# its rows straight from the index.
SECTION_ORDER = {
    Section.OVERDUE: ("window_closes_on", "due_on", "id"),  # most overdue first
    Section.DUE: ("window_closes_on", "due_on", "id"),  # the window that closes soonest first
    Section.UPCOMING: ("window_opens_on", "due_on", "id"),  # the window that opens soonest first
    Section.AWAITING: ("collected_on", "id"),  # waiting longest first
    Section.REDRAW: ("due_on", "id"),
}


def _worklist_base(*, search: str, oncologist_id: int | None) -> QuerySet[Draw]:
    qs = Draw.objects.all()
    search = search.strip()
    if search:
        qs = qs.filter(patient_search_q(search, prefix="patient__"))
    if oncologist_id:
        qs = qs.filter(patient__oncologist_id=oncologist_id)
    return qs


def worklist_counts(
    *, today: dt.date, search: str = "", oncologist_id: int | None = None
) -> dict[str, int]:
    """Every section's size and the long-waiting results, in one query.

    One SELECT of scalar COUNT subqueries, one per section, each built from the section's
    queryset: PostgreSQL counts each from its own partial index over a date range (index
    only), instead of evaluating every section's filter on every open draw.
    """
    base = _worklist_base(search=search, oncologist_id=oncologist_id)
    flag_before = today - dt.timedelta(days=settings.AWAITING_RESULT_FLAG_DAYS)
    sections = {
        **{section.value: condition for section, condition in _section_filters(today).items()},
        "awaiting_flagged": Q(state=Draw.State.COLLECTED, collected_on__lt=flag_before),
    }
    parts, params = [], []
    for condition in sections.values():
        sql, sql_params = base.filter(condition).order_by().values("pk").query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS s)")  # noqa: S608 - ORM-compiled
        params.extend(sql_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        values = cursor.fetchone()
    return dict(zip(sections, values, strict=True))


def worklist_rows(
    *, section: str, today: dt.date, search: str = "", oncologist_id: int | None = None
) -> QuerySet[Draw]:
    """One section's draws, with patient and oncologist joined in (sliced by the caller)."""
    return (
        _worklist_base(search=search, oncologist_id=oncologist_id)
        .filter(_section_filters(today)[section])
        .select_related("patient", "patient__oncologist")
        .order_by(*SECTION_ORDER[section])
    )


# The sections in the order the page picks the first non-empty one when none is asked for.
SECTION_DEFAULT_ORDER = (
    Section.OVERDUE,
    Section.DUE,
    Section.REDRAW,
    Section.UPCOMING,
    Section.AWAITING,
)

# The section counts from the trigger-kept WorklistCount rows (a few hundred, whatever the
# cohort size): the same comparisons as _section_filters.
COUNTS_FROM_TABLE = """
    SELECT
        coalesce(sum(n) FILTER (WHERE kind = 'open' AND closes_on < %s), 0),
        coalesce(sum(n) FILTER (WHERE kind = 'open' AND opens_on <= %s AND closes_on >= %s), 0),
        coalesce(sum(n) FILTER (WHERE kind = 'open' AND opens_on > %s AND due_on <= %s), 0),
        coalesce(sum(n) FILTER (WHERE kind = 'collected'), 0),
        coalesce(sum(n) FILTER (WHERE kind = 'redraw'), 0),
        coalesce(sum(n) FILTER (WHERE kind = 'collected' AND due_on < %s), 0)
    FROM patients_worklistcount
"""
COUNT_KEYS = (*Section.values, "awaiting_flagged")

# What a worklist row shows (one JSON object a row).
ROW_FIELDS = {
    "id": "id",
    "patient_id": "patient_id",
    "due_on": "due_on",
    "window_opens_on": "window_opens_on",
    "window_closes_on": "window_closes_on",
    "is_redraw": "is_redraw",
    "collected_at": "collected_at",
    "collected_on": "collected_on",
    "accession": "accession",
    "given_name": "patient__given_name",
    "family_name": "patient__family_name",
    "mrn": "patient__mrn",
    "date_of_birth": "patient__date_of_birth",
    "onc_first": "patient__oncologist__first_name",
    "onc_last": "patient__oncologist__last_name",
    "onc_username": "patient__oncologist__username",
}


def oncologist_list_qs():
    """Active oncologists, for the filters of the lists (by name)."""
    from django.contrib.auth import get_user_model

    from accounts.roles import Role

    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.ONCOLOGIST)
        .order_by("last_name", "username")
    )


@dataclass
class WorklistPage:
    counts: dict[str, int]
    section: str
    number: int  # the page shown (Paginator.get_page's choice for the page asked for)
    rows: list[dict]  # dates as dt.date, collected_at as an aware datetime
    oncologists: list[dict]  # id, first_name, last_name, username
    unread: int | None = None  # unread_for's unread notifications
    panel_draws: dict[int, Draw] = field(default_factory=dict)  # panel_draw_ids found


def _requested_page(page) -> int:
    try:
        return int(page)
    except (TypeError, ValueError):
        return 1


def _sql(qs: QuerySet) -> tuple[str, list]:
    sql, params = qs.query.sql_with_params()
    return sql, list(params)


def worklist_page(
    *,
    today: dt.date,
    section: str = "",
    page=1,
    page_size: int = 25,
    search: str = "",
    oncologist_id: int | None = None,
    unread_for=None,
    panel_draw_ids=(),
) -> WorklistPage:
    """Every section's count, one page of one section's rows, the oncologists of the
    filter, (`unread_for`: a user) her unread notifications and the draws of
    `panel_draw_ids` (with patient and oncologist, as Draw instances): one statement.

    Unfiltered, the counts are sums over WorklistCount (PostgreSQL; kept by triggers), so
    they cost the same at any cohort size; a search or an oncologist filter counts the
    matching draws. `section` empty or unknown: the first non-empty section in the page's
    default order (overdue, due, redraw, upcoming, awaiting), chosen inside the statement.
    The page number follows Paginator.get_page (not a number: 1; out of range: the last).
    Each section's rows are read from its own partial index in its order; the sections
    not shown are skipped by a one-time filter.
    """
    if connection.vendor != "postgresql":
        return _worklist_page_in_steps(
            today=today,
            section=section,
            page=page,
            page_size=page_size,
            search=search,
            oncologist_id=oncologist_id,
            unread_for=unread_for,
            panel_draw_ids=panel_draw_ids,
        )
    number = _requested_page(page)
    requested = section if section in Section.values else ""
    key = (
        today,
        search.strip(),
        oncologist_id or 0,
        settings.AWAITING_RESULT_FLAG_DAYS,
        settings.WORKLIST_UPCOMING_DAYS,
        requested,
        number != 1,  # page 1 always exists; another may be past the end
    )
    # Only unfiltered statements are kept (search terms are names: not kept in memory).
    build = _worklist_statement if not key[1] and not key[2] else _worklist_statement.__wrapped__
    statement, params = build(*key)
    # The page asked for, written in as literals so that the planner sees the LIMIT and
    # OFFSET it reads with.
    extra_ids = [int(pk) for pk in panel_draw_ids if pk]
    if extra_ids:  # the draws the page's panels show (a scan to confirm, a collection to undo)
        panel_sql, panel_params = _sql(_panel_values(Draw.objects.filter(pk__in=extra_ids)))
        statement = statement.replace(
            "__PANELS__",
            f", (SELECT coalesce(json_agg(d), '[]') FROM ({panel_sql}) AS d)",  # noqa: S608
        )
        params = (*params, *panel_params)
    else:
        statement = statement.replace("__PANELS__", ", '[]'::json")
    if unread_for is not None:  # the navigation's unread badge, in the same statement
        # Counted, not listed: no ORDER BY (Notification's default ordering sorted every
        # unread notice of the nurse, some 0.6 ms for 500 of them, on every page).
        unread_sql, unread_params = _sql(unread_qs(user=unread_for).order_by().values("pk"))
        statement = statement.replace(
            "__EXTRA__",
            f", (SELECT count(*) FROM ({unread_sql}) AS u)",  # noqa: S608
        )
        params = (*params, *unread_params)
    else:
        statement = statement.replace("__EXTRA__", ", NULL")
    statement = (
        statement.replace("__NUMBER__", str(number))
        .replace("__SIZE__", str(int(page_size)))
        .replace("__OFFSET__", str((max(number, 1) - 1) * int(page_size)))
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        *values, shown, number, rows, oncologists, panels, unread = cursor.fetchone()
    for row in rows:
        for name in (
            "due_on",
            "window_opens_on",
            "window_closes_on",
            "collected_on",
            "date_of_birth",
            "retracted_on",
            "failed_on",
        ):
            if row[name]:
                row[name] = dt.date.fromisoformat(row[name][:10])
        if row["collected_at"]:
            row["collected_at"] = dt.datetime.fromisoformat(row["collected_at"])
    counts = dict(zip(COUNT_KEYS, (int(v) for v in values), strict=True))
    return WorklistPage(
        panel_draws={d["id"]: _panel_draw(d) for d in panels},
        counts=counts,
        section=shown,
        number=number,
        rows=rows,
        oncologists=oncologists,
        unread=unread,
    )


@functools.lru_cache(maxsize=64)
def _worklist_statement(
    today: dt.date,
    search: str,
    oncologist_id: int,
    flag_days: int,
    upcoming_days: int,
    requested: str,
    maybe_past_end: bool,
) -> tuple[str, tuple]:
    """worklist_page's statement (__NUMBER__, __SIZE__ and __OFFSET__ to fill in) and its
    parameters. Unfiltered ones are compiled once a day: compiling the sections' querysets
    costs more than running the statement.

    The rows: one branch per section that may be shown (only the one asked for, or all
    five when the statement picks it), each skipped unless its section is the one shown
    (a one-time filter). A page after the first may be past the end: a second branch reads
    the last page then, at an offset the planner cannot see (it runs only in that case).
    """
    flag_before = today - dt.timedelta(days=flag_days)
    upcoming = today + dt.timedelta(days=upcoming_days)
    params: list = []
    if not search and not oncologist_id:
        counts_sql = COUNTS_FROM_TABLE
        params += [today, today, today, today, upcoming, flag_before]
    else:
        counts_sql, counts_params = _live_counts_sql(
            today=today, search=search, oncologist_id=oncologist_id or None
        )
        params += counts_params
    index = {key: i for i, key in enumerate(COUNT_KEYS)}
    if requested:
        chosen = f"'{requested}'"
    else:
        chosen = (
            "CASE "
            + " ".join(f"WHEN c{index[s]} > 0 THEN '{s}'" for s in SECTION_DEFAULT_ORDER)
            + " ELSE 'overdue' END"
        )
    count_of_chosen = (
        "CASE s " + " ".join(f"WHEN '{s}' THEN c{index[s]}" for s in Section.values) + " END"
    )
    # c0..c5: the counts; s: the section shown; pages: its number of pages; page: the page.
    # Every piece below is a constant or ORM-compiled SQL; values go in as parameters.
    head = (
        f"WITH k AS (SELECT * FROM ({counts_sql}) AS k0(c0, c1, c2, c3, c4, c5)), "  # noqa: S608
        f"ks AS (SELECT k.*, {chosen}::text AS s FROM k), "
        f"kp AS (SELECT ks.*, greatest(ceil(({count_of_chosen})::numeric / __SIZE__), 1)::int "
        "AS pages FROM ks), "
        "pg AS (SELECT kp.*, CASE WHEN __NUMBER__ < 1 OR __NUMBER__ > pages THEN pages "
        "ELSE __NUMBER__ END AS page FROM kp) "
    )
    offsets = ["= __NUMBER__ LIMIT __SIZE__ OFFSET __OFFSET__"]
    if maybe_past_end:
        offsets.append("<> __NUMBER__ LIMIT __SIZE__ OFFSET (SELECT (page - 1) * __SIZE__ FROM pg)")
    branches = []
    for key in [requested] if requested else Section.values:
        rows = worklist_rows(
            section=key, today=today, search=search, oncologist_id=oncologist_id or None
        )
        sql, row_params = _sql(_row_values(rows, key))
        for offset in offsets:
            branches.append(
                f"(SELECT * FROM ({sql}) AS b WHERE (SELECT s FROM pg) = '{key}' "  # noqa: S608
                f"AND (SELECT page FROM pg) {offset})"
            )
            params += row_params
    onc_sql, onc_params = _sql(
        oncologist_list_qs().values("id", "first_name", "last_name", "username")
    )
    params += onc_params
    statement = (
        head  # noqa: S608
        + "SELECT pg.c0, pg.c1, pg.c2, pg.c3, pg.c4, pg.c5, pg.s, pg.page, "
        + "(SELECT coalesce(json_agg(r), '[]') FROM ("
        + " UNION ALL ".join(branches)
        + ") AS r), "
        + f"(SELECT coalesce(json_agg(o), '[]') FROM ({onc_sql}) AS o)__PANELS____EXTRA__ FROM pg"  # noqa: S608
    )
    return statement, tuple(params)


PANEL_DRAW_FIELDS = (
    "id",
    "state",
    "planned_on",
    "due_on",
    "window_opens_on",
    "window_closes_on",
    "is_redraw",
    "collected_at",
    "collected_on",
    "accession",
    "patient_id",
    "collected_by_id",
    "updated_at",
)
PANEL_PATIENT_FIELDS = ("given_name", "family_name", "mrn", "date_of_birth", "oncologist_id")
PANEL_USER_FIELDS = ("first_name", "last_name", "username")


def _panel_values(draws: QuerySet[Draw]) -> QuerySet:
    return draws.values(
        *PANEL_DRAW_FIELDS,
        **{f"p_{name}": models.F(f"patient__{name}") for name in PANEL_PATIENT_FIELDS},
        **{f"u_{name}": models.F(f"patient__oncologist__{name}") for name in PANEL_USER_FIELDS},
    )


def _panel_draw(row: dict) -> Draw:
    """A Draw (with its patient and oncologist) from the statement's JSON of it."""
    from django.contrib.auth import get_user_model

    dates = ("planned_on", "due_on", "window_opens_on", "window_closes_on", "collected_on")
    for name in (*dates, "p_date_of_birth"):
        if row[name]:
            row[name] = dt.date.fromisoformat(row[name][:10])
    for name in ("collected_at", "updated_at"):
        if row[name]:
            row[name] = dt.datetime.fromisoformat(row[name])
    oncologist = get_user_model()(
        id=row["p_oncologist_id"], **{n: row[f"u_{n}"] for n in PANEL_USER_FIELDS}
    )
    patient = Patient(
        id=row["patient_id"],
        **{n: row[f"p_{n}"] for n in PANEL_PATIENT_FIELDS if n != "oncologist_id"},
        oncologist=oncologist,
    )
    return Draw(**{n: row[n] for n in PANEL_DRAW_FIELDS if n != "patient_id"}, patient=patient)


def _section_columns(section: str) -> dict:
    """The columns only one section fills (NULL in the others, so that every section's
    branch of the page's UNION has the same columns):
    - awaiting: the lab's cancelled report, when the draw's current report is a
      cancellation (the draw went back to awaiting a result): `retracted_on` (the date the
      lab gave it) and `retracted_report` (its report id);
    - redraw: the failed sample the redraw replaces: `failed_on`, `failed_accession`,
      `failed_reason` (qc_fail, insufficient, sample_lost).
    Both are read per row of the page only (a subquery on the draw's reports, a join on
    the failed draw), in the same statement."""
    # Typed NULLs: PostgreSQL matches the UNION's columns by type.
    no_date = Cast(models.Value(None), output_field=models.DateField())
    no_text = Cast(models.Value(None), output_field=models.CharField())
    awaiting, redraw = section == Section.AWAITING, section == Section.REDRAW
    # Through the draw's reverse relation: patients does not import liquidbiopsy.
    cancelled = Draw.objects.filter(
        pk=OuterRef("pk"), reports__is_current=True, reports__status="cancelled"
    ).order_by("-reports__reported_on", "-reports__id")
    return {
        "retracted_on": Subquery(cancelled.values("reports__reported_on")[:1])
        if awaiting
        else no_date,
        "retracted_report": Subquery(cancelled.values("reports__report_id")[:1])
        if awaiting
        else no_text,
        "failed_on": models.F("redraw_of__collected_on") if redraw else no_date,
        "failed_accession": models.F("redraw_of__accession") if redraw else no_text,
        "failed_reason": models.F("redraw_of__reason_code") if redraw else no_text,
    }


def _row_values(rows: QuerySet[Draw], section: str = "") -> QuerySet:
    own = [alias for alias, path in ROW_FIELDS.items() if alias == path]
    joined = {alias: models.F(path) for alias, path in ROW_FIELDS.items() if alias != path}
    return rows.values(*own, **joined, **_section_columns(section))


def _worklist_page_in_steps(
    *, today, section, page, page_size, search, oncologist_id, unread_for, panel_draw_ids
):
    """The SQLite demo's worklist page: the same answer in a few queries."""
    counts = worklist_counts(today=today, search=search, oncologist_id=oncologist_id)
    if section not in Section.values:
        section = next((s for s in SECTION_DEFAULT_ORDER if counts[s]), Section.OVERDUE)
    paginator = KnownCountPaginator([], page_size, count=counts[section])
    number = paginator.get_page(page).number
    rows = _row_values(
        worklist_rows(section=section, today=today, search=search, oncologist_id=oncologist_id),
        section,
    )
    start = (number - 1) * page_size
    return WorklistPage(
        counts=counts,
        section=section,
        number=number,
        rows=list(rows[start : start + page_size]),
        oncologists=list(oncologist_list_qs().values("id", "first_name", "last_name", "username")),
        unread=unread_qs(user=unread_for).count() if unread_for is not None else None,
        panel_draws={
            d.pk: d
            for d in Draw.objects.select_related("patient", "patient__oncologist").filter(
                pk__in=[int(pk) for pk in panel_draw_ids if pk]
            )
        },
    )


def _live_counts_sql(*, today, search, oncologist_id) -> tuple[str, list]:
    """The counts as one SELECT of COUNT subqueries over the (filtered) draws."""
    base = _worklist_base(search=search, oncologist_id=oncologist_id)
    flag_before = today - dt.timedelta(days=settings.AWAITING_RESULT_FLAG_DAYS)
    sections = {
        **{section.value: condition for section, condition in _section_filters(today).items()},
        "awaiting_flagged": Q(state=Draw.State.COLLECTED, collected_on__lt=flag_before),
    }
    parts, params = [], []
    for key in COUNT_KEYS:
        sql, sql_params = base.filter(sections[key]).order_by().values("pk").query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS s)")  # noqa: S608 - ORM-compiled
        params.extend(sql_params)
    return "SELECT " + ", ".join(parts), params


class KnownCountPaginator(Paginator):
    """A paginator told its count (from worklist_counts) instead of running COUNT again."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count


def draw_list(
    *,
    patient_id: int | None = None,
    state: str = "",
    accession: str = "",
) -> QuerySet[Draw]:
    qs = Draw.objects.all()
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if state:
        qs = qs.filter(state=state)
    if accession:
        qs = qs.filter(accession=accession.replace("\x00", "").strip())
    return qs.order_by("-planned_on", "-id")


def draw_get(*, draw_id: int) -> Draw:
    return get_object_or_404(Draw.objects.select_related("patient"), pk=draw_id)


def draw_history(*, patient: Patient) -> list[Draw]:
    return list(Draw.objects.filter(patient=patient).order_by("-planned_on", "-id"))


def open_draw(*, patient_id: int) -> Draw | None:
    return Draw.objects.filter(patient_id=patient_id, state=Draw.State.SCHEDULED).first()


def draw_collected_on(*, patient_id: int, day: dt.date, exclude_id: int | None = None):
    """The patient's latest collection made on `day` (clinic date), or None: a scan of her
    wristband soon after shows that her open draw is the next one, planned from it."""
    qs = Draw.objects.filter(
        patient_id=patient_id, collected_on=day, state__in=Draw.CLOSED_WITH_SPECIMEN
    )
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    return qs.order_by("-collected_at", "-id").first()


def draw_find_for_scan(*, code: str) -> tuple[Patient | None, Draw | None, str]:
    """What a scanned code names: a tube accession, or a patient's wristband (MRN).

    Returns (patient, draw, matched_by). An accession gives the draw that carries it; an
    MRN gives the patient's open draw (None when she has none). Exact matches only, never a
    prefix: a scan must not land on a similar-looking record. Four queries at most.
    """
    code = code.replace("\x00", "").strip()
    if not code:
        return None, None, ""
    draw = (
        Draw.objects.select_related("patient", "patient__oncologist").filter(accession=code).first()
    )
    if draw is not None:
        return draw.patient, draw, "accession"
    patients = Patient.objects.select_related("oncologist")
    patient = patients.filter(mrn=code).first()
    if patient is None:  # a typed MRN in other case; only if it names exactly one patient
        matches = list(patients.filter(mrn__iexact=code)[:2])
        patient = matches[0] if len(matches) == 1 else None
    if patient is None:
        return None, None, ""
    return patient, open_draw(patient_id=patient.pk), "mrn"
