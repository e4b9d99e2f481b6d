"""The cohort dashboard (oncologists, admins) and its CSV exports (audited)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import plotly
import plotly.graph_objects as go
from django.contrib.auth import get_user_model
from django.db.models import Count, Q, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import render

from accounts.roles import Role, role_required
from audit.services import audit_record
from clinic.metrics import Filters, cohort_metrics
from core.clock import clinic_today
from patients import selectors as patient_selectors
from patients.models import Patient

DASHBOARD_ROLES = (Role.ONCOLOGIST, Role.ADMIN)
TABLES = ("states", "adherence", "detection", "decisions", "lead_time")


def _filters(request) -> Filters:
    today = clinic_today()

    def day(name, default):
        try:
            return (
                dt.date.fromisoformat(request.GET.get(name, ""))
                if request.GET.get(name)
                else default
            )
        except ValueError:
            return default

    try:
        oncologist_id = int(request.GET.get("oncologist") or 0) or None
    except ValueError:
        oncologist_id = None
    return Filters(
        date_from=day("from", today - dt.timedelta(days=365)),
        date_to=day("to", today),
        oncologist_id=oncologist_id,
    )


def _chart(fig: go.Figure, title: str) -> dict:
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        height=280,
        margin={"l": 50, "r": 10, "t": 40, "b": 40},
        template="plotly_white",
        showlegend=False,
    )
    return json.loads(fig.to_json())  # plotly's encoder turns numpy/pandas values into JSON


@role_required(*DASHBOARD_ROLES)
def dashboard(request):
    filters = _filters(request)
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
    charts = {
        "states": _chart(
            go.Figure(go.Bar(x=m.states["state"], y=m.states["patients"])),
            "Patients by surveillance state",
        ),
        "adherence": _chart(
            go.Figure(
                go.Bar(
                    x=[d.strftime("%Y-%m") for d in m.adherence["month"]],
                    y=(m.adherence["share"] * 100).tolist(),
                    hovertemplate="%{x}: %{y:.1f}% collected in window<extra></extra>",
                )
            ).update_yaxes(range=[0, 100], title="% in window"),
            "Draws collected inside the window, by month",
        ),
        "detection": _chart(
            go.Figure(go.Bar(x=m.detection["kind"], y=m.detection["patients"])),
            "First ESR1 detection",
        ),
        "lead_time": _chart(
            go.Figure(go.Histogram(x=m.lead_time["lead_days"], nbinsx=12)).update_xaxes(
                title="days"
            ),
            "Lead time: first ESR1 to progression scan",
        ),
    }
    oncologists = (
        get_user_model()
        .objects.filter(groups__name=Role.ONCOLOGIST, is_active=True)
        .order_by("last_name")
    )
    return render(
        request,
        "clinic/dashboard.html",
        {
            "m": m,
            "charts": charts,
            "filters": filters,
            "oncologists": list(oncologists),
            "query": request.GET.urlencode(),
            "plotly_version": plotly.__version__,
            "adherence_rows": [
                (r.month.strftime("%Y-%m"), r.draws_due, r.collected_in_window, r.share * 100)
                for r in m.adherence.itertuples()
            ],
        },
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
                esr1_reports=Count(
                    "reports",
                    filter=Q(reports__variants__gene="ESR1", reports__is_current=True),
                    distinct=True,
                ),
                switches=Count("alerts", filter=Q(alerts__state="accepted"), distinct=True),
                declines=Count("alerts", filter=Q(alerts__state="declined"), distinct=True),
            )
            .values_list("id", "esr1_reports", "switches", "declines")
        ),
        columns=["patient_id", "esr1_reports", "switches", "declines"],
    )
    return frame.merge(draws, on="patient_id").merge(alerts, on="patient_id")


@role_required(*DASHBOARD_ROLES)
def dashboard_export(request, name: str):
    filters = _filters(request)
    if name == "patients":
        frame = _patient_export(filters)
    elif name in TABLES:
        frame = getattr(cohort_metrics(filters), name)
    else:
        raise Http404
    audit_record(
        action="dashboard.export",
        acting_user=request.user,
        detail={
            "table": name,
            "rows": len(frame),
            "from": filters.date_from.isoformat(),
            "to": filters.date_to.isoformat(),
        },
    )
    response = HttpResponse(frame.to_csv(index=False), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="surveillance-{name}-{clinic_today()}.csv"'
    )
    return response
