"""Reads on patients. Role checks happen in the view layer (accounts.roles); these return
querysets with everything a page needs joined in, so pages run a constant number of queries.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connection, models
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from audit.services import audit_record
from patients.models import Draw, ImagingAssessment, Patient, Regimen


def current_regimen_qs(patient_ref: str = "pk") -> QuerySet[Regimen]:
    """The current regimen (the one without an end date) of the patient at `OuterRef`."""
    return Regimen.objects.filter(patient=OuterRef(patient_ref), ended_on__isnull=True)


def latest_scan_qs(patient_ref: str = "pk") -> QuerySet[ImagingAssessment]:
    """The patient's scans at `OuterRef`, newest first."""
    return ImagingAssessment.objects.filter(patient=OuterRef(patient_ref)).order_by(
        "-performed_on", "-id"
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
    return list(ImagingAssessment.objects.filter(patient=patient).order_by("-performed_on", "-id"))


def current_regimen(*, patient: Patient) -> Regimen | None:
    """The patient's current regimen: the one without an end date (at most one, by constraint)."""
    return Regimen.objects.filter(patient=patient, ended_on__isnull=True).first()


def latest_scan(*, patient: Patient) -> ImagingAssessment | None:
    return (
        ImagingAssessment.objects.filter(patient=patient).order_by("-performed_on", "-id").first()
    )


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
