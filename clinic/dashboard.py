"""The cohort dashboard (oncologists, admins) and its CSV exports (audited)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from urllib.parse import urlencode

import pandas as pd
import plotly
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Count, Q, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import render

from accounts.roles import Role, role_required
from audit.services import audit_record
from clinic.cohort import CALL_COLUMNS, TESTED_STATUSES, esr1_detected
from clinic.metrics import Filters, cohort_metrics
from core.clock import clinic_today
from liquidbiopsy.models import VariantCall
from patients import selectors as patient_selectors
from patients.forms import ClinicDateField
from patients.models import Patient, SurveillanceState
from therapy.models import Alert
from therapy.reasons import ReasonCode

DASHBOARD_ROLES = (Role.ONCOLOGIST, Role.ADMIN)
TABLES = ("states", "adherence", "detection", "decisions", "lead_time")
TODAY_TABLES = ("patients", "states")  # as of today, whatever the range
# Fewer than this many values: the numbers are shown and no chart is drawn (a histogram of
# one or two values says nothing and looks like a distribution).
SMALL_N = 5
DEFAULT_DAYS = 365
RANGE_REVERSED = "The start date is after the end date."
RANGE_TOO_LONG = "The range can be at most 20 years."
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class DashboardFilterForm(forms.Form):
    """The dashboard's filters: a date range (clinic format or ISO) and an oncologist."""

    date_from = ClinicDateField(label="From", required=False)
    date_to = ClinicDateField(label="To", required=False)
    oncologist = forms.TypedChoiceField(
        label="Oncologist",
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.Select(attrs={"id": "oncologist"}),
    )

    def __init__(self, data, *, oncologists):
        super().__init__(data)
        self.fields["oncologist"].choices = [
            ("", "All"),
            *((o.pk, o.get_full_name() or o.username) for o in oncologists),
        ]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if start > end:
                self.add_error("date_from", RANGE_REVERSED)
            elif (end - start).days > 20 * 366:
                self.add_error("date_from", RANGE_TOO_LONG)
        return data


def _filter_form(request, oncologists) -> tuple[DashboardFilterForm, Filters]:
    """The filters from the query string; a bad value is a form error, never a 5xx."""
    raw = request.GET
    data = {
        "date_from": raw.get("from", "").replace("\x00", ""),
        "date_to": raw.get("to", "").replace("\x00", ""),
        "oncologist": raw.get("oncologist", "").replace("\x00", ""),
    }
    form = DashboardFilterForm(data, oncologists=oncologists)
    today = clinic_today()
    filters = Filters(date_from=today - dt.timedelta(days=DEFAULT_DAYS), date_to=today)
    if form.is_valid():
        clean = form.cleaned_data
        filters = Filters(
            date_from=clean["date_from"] or filters.date_from,
            date_to=clean["date_to"] or filters.date_to,
            oncologist_id=clean["oncologist"] or None,
        )
        if filters.date_from > filters.date_to:  # only one end given, on the wrong side
            form.add_error("date_from" if clean["date_from"] else "date_to", RANGE_REVERSED)
    return form, filters


def _oncologists():
    return list(
        get_user_model()
        .objects.filter(groups__name=Role.ONCOLOGIST, is_active=True)
        .order_by("last_name", "username")
    )


# plotly's "plotly_white" look, written out: building plotly.graph_objects figures and
# serialising them cost ~70 ms a page (issue 14); the page needs only their JSON.
_AXIS = {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zerolinecolor": "#EBF0F8"}
_BAR_COLOUR = "#636efa"
_PARTIAL_COLOUR = "#b8bdfc"  # a month the range or today cuts short: lighter, and labelled
PATIENTS_AXIS = {"title": {"text": "patients"}}


def _chart(
    title: str, x: list, y: list, *, xaxis=None, yaxis=None, hover=None, colours=None
) -> dict:
    """A bar chart as plotly.js reads it (data + layout)."""
    trace = {"type": "bar", "x": x, "y": y, "marker": {"color": colours or _BAR_COLOUR}}
    if hover:
        trace["hovertemplate"] = hover
    return {
        "data": [trace],
        "layout": {
            # The card's heading names the chart; a second title inside it only takes room.
            "meta": {"title": title},
            "height": 280,
            "margin": {"l": 50, "r": 10, "t": 10, "b": 40},
            "showlegend": False,
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "font": {"color": "#2a3f5f"},
            "xaxis": {**_AXIS, "automargin": True, **(xaxis or {})},
            "yaxis": {**_AXIS, "automargin": True, **(yaxis or {})},
        },
    }


LEAD_BIN_DAYS = (7, 14, 30, 60, 90, 180, 365)
LEAD_BINS_MAX = 12
LEAD_LIST_MAX = 20  # up to this many lead times are listed one by one


def lead_bins(days: list[int]) -> list[tuple[str, int]]:
    """Lead times in at most 12 bins of a round width: [("0-29", n), ...] (empty bins kept,
    so the chart's x axis is even)."""
    if not days:
        return []
    top = max(days)
    width = next((w for w in LEAD_BIN_DAYS if top // w < LEAD_BINS_MAX), LEAD_BIN_DAYS[-1])
    counts = [0] * (top // width + 1)
    for d in days:
        counts[d // width] += 1
    return [(f"{i * width}\N{EN DASH}{(i + 1) * width - 1}", n) for i, n in enumerate(counts)]


def _label(choices, code) -> str:
    if code is None or (isinstance(code, float) and pd.isna(code)) or code == "":
        return "—"
    try:
        return choices(code).label
    except ValueError:
        return str(code).replace("_", " ")


def partial_month(month: dt.date, filters: Filters, today: dt.date) -> str:
    """ "" for a month the figures cover whole; else the days they cover ("1-3 Dec", an en dash): the
    range starts after its first day, or ends (or today falls) before its last."""
    last = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    start, end = max(month, filters.date_from), min(last, filters.date_to, today)
    if start == month and end == last:
        return ""
    return f"{start.day}\N{EN DASH}{end.day} {month:%b}"


def labelled(m, filters: Filters | None = None) -> dict:
    """The tables as people read them: labels, not codes (the CSV exports keep the codes).

    Adherence rows are (month, due, in window, percent, partial): `partial` names the days a
    month cut short covers ("1-3 Dec", an en dash), "" for a whole month."""
    today = clinic_today()
    states = [(_label(SurveillanceState, r.state), int(r.patients)) for r in m.states.itertuples()]
    decisions = [
        (
            _label(Alert.Kind, r.kind),
            _label(Alert.Decision, r.decision),
            _label(ReasonCode, r.reason_code),
            int(r.alerts),
        )
        for r in m.decisions.itertuples()
    ]
    adherence = [
        (
            f"{r.month:%b %Y}",
            int(r.draws_due),
            int(r.collected_in_window),
            r.share * 100,
            partial_month(r.month, filters, today) if filters else "",
        )
        for r in m.adherence.itertuples()
    ]
    detection = [(r.kind.capitalize(), int(r.patients)) for r in m.detection.itertuples()]
    return {
        "states": states,
        "decisions": decisions,
        "adherence": adherence,
        "detection": detection,
        "lead_days": m.lead_days,
        "lead_bins": lead_bins(m.lead_days),
        "lead_listed": len(m.lead_days) <= LEAD_LIST_MAX,
    }


def _charts(m, tables) -> dict:
    """One chart per table with enough values; {name: None} where the numbers stand alone."""
    states_n = sum(n for _, n in tables["states"])
    adherence_n = sum(due for _, due, *_ in tables["adherence"])
    detection_n = sum(n for _, n in tables["detection"])
    lead_n = len(tables["lead_days"])
    charts: dict[str, dict | None] = {
        "states": _chart(
            SECTION_TITLES["states"],
            [label for label, _ in tables["states"]],
            [n for _, n in tables["states"]],
            yaxis=PATIENTS_AXIS,
            hover="%{x}: %{y} patients<extra></extra>",
        )
        if states_n >= SMALL_N
        else None,
        "adherence": _chart(
            SECTION_TITLES["adherence"],
            [
                f"{month} (partial)" if partial else month
                for month, *_, partial in tables["adherence"]
            ],
            [pct for *_, pct, _ in tables["adherence"]],
            yaxis={"range": [0, 100], "title": {"text": "% in window"}},
            hover="%{x}: %{y:.1f}% collected in window<extra></extra>",
            colours=[
                _PARTIAL_COLOUR if partial else _BAR_COLOUR for *_, partial in tables["adherence"]
            ],
        )
        if adherence_n >= SMALL_N
        else None,
        "detection": _chart(
            SECTION_TITLES["detection"],
            [k for k, _ in tables["detection"]],
            [n for _, n in tables["detection"]],
            yaxis=PATIENTS_AXIS,
            hover="%{x}: %{y} patients<extra></extra>",
        )
        if detection_n >= SMALL_N
        else None,
        "lead_time": _chart(
            SECTION_TITLES["lead_time"],
            [label for label, _ in tables["lead_bins"]],
            [n for _, n in tables["lead_bins"]],
            xaxis={"title": {"text": "days"}, "type": "category"},
            yaxis=PATIENTS_AXIS,
            hover="%{x} days: %{y} patients<extra></extra>",
        )
        if lead_n >= SMALL_N
        else None,
    }
    return {
        "charts": charts,
        "n": {
            "states": states_n,
            "adherence": adherence_n,
            "detection": detection_n,
            "lead_time": lead_n,
        },
    }


SECTION_TITLES = {
    "states": "Patients by surveillance state, today",
    "adherence": "Draws collected inside the window, by month",
    "detection": "First ESR1 detection",
    "lead_time": "Lead time: first ESR1 to progression scan",
}


@role_required(*DASHBOARD_ROLES)
def dashboard(request):
    oncologists = _oncologists()
    form, filters = _filter_form(request, oncologists)
    m = cohort_metrics(filters)
    audit_record(
        action="dashboard.view",
        acting_user=request.user,
        detail={
            "from": filters.date_from.isoformat(),
            "to": filters.date_to.isoformat(),
            "oncologist": filters.oncologist_id,
        },
    )
    tables = labelled(m, filters)
    drawn = _charts(m, tables)
    sections = [
        {
            "name": name,
            "title": SECTION_TITLES[name],
            "fig": drawn["charts"][name],
            "n": drawn["n"][name],
        }
        for name in ("states", "adherence", "detection", "lead_time")
    ]
    oncologist = {"oncologist": filters.oncologist_id} if filters.oncologist_id else {}
    query = urlencode(
        {"from": filters.date_from.isoformat(), "to": filters.date_to.isoformat(), **oncologist}
    )
    return render(
        request,
        "clinic/dashboard.html",
        {
            "m": m,
            "form": form,
            "tables": tables,
            "sections": sections,
            "small_n": SMALL_N,
            "any_chart": any(s["fig"] for s in sections),
            "filters": filters,
            "query": query,
            # The patients and states exports are as of today: their links carry no range.
            "today_query": urlencode(oncologist),
            "plotly_version": plotly.__version__,
        },
        status=400 if form.errors else 200,
    )


def _patient_export(filters: Filters) -> pd.DataFrame:
    """One row per patient: state, current regimen, draws, ESR1 detections, decisions."""
    current = patient_selectors.current_regimen_qs()
    rows = (
        Patient.objects.filter(filters.patients())
        .annotate(
            endocrine_agent=Subquery(current.values("endocrine_agent")[:1]),
            cdk46_inhibitor=Subquery(current.values("cdk46_inhibitor")[:1]),
            regimen_started_on=Subquery(current.values("started_on")[:1]),
        )
        .values_list(
            "id",
            "mrn",
            "surveillance_state",
            "endocrine_agent",
            "cdk46_inhibitor",
            "regimen_started_on",
        )
    )
    frame = pd.DataFrame(
        list(rows),
        columns=[
            "patient_id",
            "mrn",
            "state",
            "endocrine_agent",
            "cdk46_inhibitor",
            "regimen_started_on",
        ],
    )
    draws = pd.DataFrame(
        list(
            Patient.objects.filter(filters.patients())
            .annotate(
                draws_collected=Count(
                    "draws", filter=Q(draws__state__in=["collected", "resulted", "failed"])
                ),
                draws_missed=Count("draws", filter=Q(draws__state="missed")),
            )
            .values_list("id", "draws_collected", "draws_missed")
        ),
        columns=["patient_id", "draws_collected", "draws_missed"],
    )
    alerts = pd.DataFrame(
        list(
            Patient.objects.filter(filters.patients())
            .annotate(
                switches=Count("alerts", filter=Q(alerts__state="accepted"), distinct=True),
                declines=Count("alerts", filter=Q(alerts__state="declined"), distinct=True),
            )
            .values_list("id", "switches", "declines")
        ),
        columns=["patient_id", "switches", "declines"],
    )
    # ESR1 detections as the rule counts them (clinic.cohort.esr1_detected): tested reports
    # with a counted ESR1 call; a filtered or off-list call is no detection.
    calls = list(
        VariantCall.objects.filter(
            filters.patients("report__patient__"),
            report__is_current=True,
            report__qc_status="pass",
            report__status__in=TESTED_STATUSES,
            gene="ESR1",
        ).values_list("report__patient_id", "report_id", *CALL_COLUMNS)
    )
    detected = esr1_detected(row[1:] for row in calls)
    patient_of = {report_id: pid for pid, report_id, *_ in calls if report_id in detected}
    per_patient = Counter(patient_of.values())
    frame = frame.merge(draws, on="patient_id").merge(alerts, on="patient_id")
    frame.insert(
        frame.columns.get_loc("switches"),
        "esr1_reports",
        [per_patient.get(pk, 0) for pk in frame["patient_id"]],
    )
    return frame


def csv_safe(value):
    """A cell a spreadsheet will not run: text starting with = + - @ tab or CR gets a '.

    OWASP's CSV-injection advice; numbers are left alone (a negative count is a number).
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.columns = [csv_safe(str(c)) for c in frame.columns]
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(csv_safe)
    return frame


@role_required(*DASHBOARD_ROLES)
def dashboard_export(request, name: str):
    if name != "patients" and name not in TABLES:
        raise Http404
    form, filters = _filter_form(request, _oncologists())
    if form.errors:
        problems = "; ".join(" ".join(e) for e in form.errors.values())
        return HttpResponse(
            f"Export refused: {problems}", status=400, content_type="text/plain; charset=utf-8"
        )
    if name == "patients":
        frame = _patient_export(filters)
    else:
        frame = getattr(cohort_metrics(filters, lead_rows=name == "lead_time"), name)
    if name == "adherence":  # percent, as the page shows it, and named so
        frame = frame.assign(share_percent=(frame["share"] * 100).round(1)).drop(columns="share")
    audit_record(
        action="dashboard.export",
        acting_user=request.user,
        detail={
            "table": name,
            "rows": len(frame),
            # the patients and states exports are as of today: no range applies to them
            **(
                {}
                if name in TODAY_TABLES
                else {"from": filters.date_from.isoformat(), "to": filters.date_to.isoformat()}
            ),
        },
    )
    response = HttpResponse(
        neutralised(frame).to_csv(index=False), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="surveillance-{name}-{clinic_today()}.csv"'
    )
    return response
