"""The patient's ctDNA timeline as a plotly figure (built on the server, drawn by plotly.js).

Three rows on one date axis:
1. allele fractions of each variant (log axis in %, fitted to the values drawn: ctDNA is
   usually under 5%, so a fixed 0.01-100% axis left most of the plot empty);
2. samples without a value, each for what it is, never as zero: ESR1 not detected
   (informative: tumour fraction at least 1%), not detected but non-informative (tumour
   fraction under 1% or not reported: DESIGN §1, a "not detected" is not a negative),
   failed (QC fail or insufficient), not tested (missed or cancelled), awaiting a result,
   and the next draw due;
3. scans, one marker per outcome with its legend entry (they are events, not data points).
Therapy bands show the regimens and the switch; today and any alerts are marked. Other
genes are listed but hidden until clicked.

Everything a lab sent (assay, gene, HGVS, report id) is HTML-escaped before it reaches a
trace name or hover text: plotly renders a subset of HTML there, links included.
"""

from __future__ import annotations

import html
import json
import math
from collections import defaultdict
from decimal import Decimal

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.clock import clinic_date, clinic_today
from liquidbiopsy.models import INFORMATIVE_TUMOUR_FRACTION, LabReport
from patients.formulary import get_formulary
from patients.models import Draw, ImagingAssessment, Regimen
from therapy.rules import FILTER_PASS

AXIS_MIN_PERCENT = 0.001
AXIS_MAX_PERCENT = 100.0
EMPTY_AXIS = (-2.0, 1.0)  # 0.01% to 10% when there is no value to fit
BAND_COLOURS = {
    "aromatase_inhibitor": "rgba(31, 78, 140, 0.10)",
    "oral_serd": "rgba(29, 107, 56, 0.12)",
}
SCAN_STYLES = {
    ImagingAssessment.Outcome.PROGRESSION: ("Scan: progression", "#b0242b", "square"),
    ImagingAssessment.Outcome.INDETERMINATE: ("Scan: indeterminate", "#8a5300", "square-x-open"),
    ImagingAssessment.Outcome.NO_PROGRESSION: ("Scan: no progression", "#1d6b38", "square-open"),
}
SAMPLE_ROW, SCAN_ROW = 2, 3
# Toolbar buttons that select points: no use here, and a lasso drawn by mistake hides data.
MODEBAR_REMOVE = ["select2d", "lasso2d", "select", "lasso", "autoScale2d", "toImage"]


def _text(value) -> str:
    """Lab-sent text, safe for plotly's HTML-like labels (no tag, no link, no template)."""
    return html.escape(str(value or ""), quote=True).replace("%{", "%&#123;")


def _hover(report: LabReport) -> str:
    tf = (
        f"{float(report.tumor_fraction) * 100:.3g}%"
        if report.tumor_fraction is not None
        else "not reported"
    )
    return (
        f"{_text(report.report_id)} v{int(report.version)} · {_text(report.assay)}"
        f"<br>tumour fraction {tf}"
    )


def _informative(report: LabReport) -> bool:
    tf = report.tumor_fraction
    return tf is not None and Decimal(str(tf)) >= INFORMATIVE_TUMOUR_FRACTION


def _fitted_range(values: list[float]) -> list[float]:
    """log10 range around the values drawn, with half a decade of margin, within 0.001-100%."""
    values = [v for v in values if v and v > 0]
    if not values:
        return list(EMPTY_AXIS)
    lo = max(math.log10(min(values)) - 0.5, math.log10(AXIS_MIN_PERCENT))
    hi = min(math.log10(max(values)) + 0.5, math.log10(AXIS_MAX_PERCENT) + 0.05)
    if hi - lo < 1.5:  # at least a decade and a half, so a single value is not a flat line
        floor, ceil = math.log10(AXIS_MIN_PERCENT), math.log10(AXIS_MAX_PERCENT) + 0.05
        mid = (hi + lo) / 2
        lo, hi = mid - 0.75, mid + 0.75
        if lo < floor:
            lo, hi = floor, hi + (floor - lo)
        if hi > ceil:
            lo, hi = lo - (hi - ceil), ceil
    return [lo, hi]


def _ticks(axis_range: list[float]) -> tuple[list[float], list[str]]:
    vals, text = [], []
    for exp in range(math.floor(axis_range[0]), math.ceil(axis_range[1]) + 1):
        for mult in (1, 3):
            v = mult * 10**exp
            if axis_range[0] <= math.log10(v) <= axis_range[1] and v <= AXIS_MAX_PERCENT:
                vals.append(v)
                text.append(f"{v:g}%")
    return vals, text


def _row_marker(fig, *, x, label, symbol, colour, hover, customdata=None, row=SAMPLE_ROW):
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[0] * len(x),
            mode="markers",
            name=label,
            marker={"symbol": symbol, "size": 12, "color": colour, "line": {"width": 2}},
            customdata=customdata,
            hovertemplate=hover,
        ),
        row=row,
        col=1,
    )


def patient_timeline_figure(*, reports, regimens, scans, draws, alerts=None) -> dict:
    """The figure as a plain dict (plotly JSON), from what the patient page already read:
    reports (with variants prefetched), regimens, scans, draws and, optionally, the
    patient's alerts (anything with `opened_at` and `get_kind_display()`). No query."""
    reports = sorted(
        (r for r in reports if r.is_current and r.status != LabReport.Status.CANCELLED),
        key=lambda r: (r.collected_on, r.pk),
    )
    regimens = sorted(regimens, key=lambda r: r.started_on)
    scans = sorted(scans, key=lambda s: s.performed_on)
    draws = list(draws)
    missed = [
        d
        for d in draws
        if d.state in (Draw.State.MISSED, Draw.State.CANCELLED)
        and d.reason_code not in ("surveillance_ended", "replaced_by_redraw", "replanned")
    ]
    reported_draws = {r.draw_id for r in reports if getattr(r, "draw_id", None)}
    pending = [d for d in draws if d.state == Draw.State.COLLECTED and d.pk not in reported_draws]
    next_due = [d for d in draws if d.state == Draw.State.SCHEDULED]
    formulary = get_formulary()
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.74, 0.13, 0.13],
        vertical_spacing=0.03,
    )

    esr1: dict[str, list] = defaultdict(list)
    others: dict[str, list] = defaultdict(list)
    # Calls the caller did not PASS: their own hollow markers, never on a detection line.
    filtered: dict[str, list] = defaultdict(list)
    informative, non_informative, failed = [], [], []
    for report in reports:
        if report.qc_status != LabReport.QcStatus.PASS:
            failed.append(report)
            continue
        calls = list(report.variants.all())
        if not any(c.gene == "ESR1" for c in calls):
            (informative if _informative(report) else non_informative).append(report)
        for call in calls:
            name = f"{call.gene} {call.hgvs_p or f'chr{call.chrom}:{call.pos}'}"
            if (getattr(call, "filter", "") or "") not in FILTER_PASS:
                filtered[f"{name} (filtered call, not used)"].append((report, call))
                continue
            (esr1 if call.gene == "ESR1" else others)[name].append((report, call))

    drawn_values = []
    for group, visible in ((esr1, True), (others, "legendonly")):
        for name, points in sorted(group.items()):
            values = [float(c.vaf) * 100 for _, c in points]
            if visible is True:
                drawn_values += values
            fig.add_trace(
                go.Scatter(
                    x=[r.collected_on.isoformat() for r, _ in points],
                    y=values,
                    mode="lines+markers",
                    name=_text(name),
                    visible=visible,
                    marker={"size": 9 if visible is True else 6},
                    customdata=[_hover(r) for r, _ in points],
                    hovertemplate=(
                        "%{y:.3g}% on %{x}<br>%{customdata}<extra>%{fullData.name}</extra>"
                    ),
                ),
                row=1,
                col=1,
            )
    for name, points in sorted(filtered.items()):
        values = [float(c.vaf) * 100 for _, c in points]
        visible = True if name.startswith("ESR1 ") else "legendonly"
        if visible is True:
            drawn_values += values
        fig.add_trace(
            go.Scatter(
                x=[r.collected_on.isoformat() for r, _ in points],
                y=values,
                mode="markers",
                name=_text(name),
                visible=visible,
                marker={"size": 9, "symbol": "diamond-open"},
                customdata=[f"{_hover(r)}<br>filter {_text(c.filter)}" for r, c in points],
                hovertemplate="%{y:.3g}% on %{x}<br>%{customdata}<extra>%{fullData.name}</extra>",
            ),
            row=1,
            col=1,
        )
    axis_range = _fitted_range(drawn_values)

    for label, items, symbol, colour in (
        ("ESR1 not detected (tumour fraction ≥ 1%)", informative, "circle", "#555f70"),
        (
            "ESR1 not detected, non-informative (tumour fraction < 1% or unknown)",
            non_informative,
            "circle-open-dot",
            "#8a94a6",
        ),
        ("Sample failed (no result)", failed, "x-thin-open", "#b0242b"),
    ):
        if items:
            _row_marker(
                fig,
                x=[r.collected_on.isoformat() for r in items],
                label=label,
                symbol=symbol,
                colour=colour,
                customdata=[_hover(r) for r in items],
                hover=f"{html.escape(label)} on %{{x}}<br>%{{customdata}}<extra></extra>",
            )
    if missed:
        _row_marker(
            fig,
            x=[d.planned_on.isoformat() for d in missed],
            label="Not tested (missed or cancelled draw)",
            symbol="triangle-down-open",
            colour="#8a5300",
            hover="Not tested: draw due %{x}<extra></extra>",
        )
    if pending:
        _row_marker(
            fig,
            x=[d.collected_on.isoformat() for d in pending],
            label="Sample awaiting its result",
            symbol="hourglass",
            colour="#1f4e8c",
            hover="Collected %{x}: awaiting the lab's result<extra></extra>",
        )
    if next_due:
        _row_marker(
            fig,
            x=[d.due_on.isoformat() for d in next_due],
            label="Next draw due",
            symbol="circle-open",
            colour="#1f4e8c",
            hover="Next draw due %{x}<extra></extra>",
        )
    for outcome, (label, colour, symbol) in SCAN_STYLES.items():
        of_kind = [s for s in scans if s.outcome == outcome]
        if of_kind:
            _row_marker(
                fig,
                x=[s.performed_on.isoformat() for s in of_kind],
                label=label,
                symbol=symbol,
                colour=colour,
                customdata=[_text(s.get_modality_display()) for s in of_kind],
                hover=f"{label} %{{x}} (%{{customdata}})<extra></extra>",
                row=SCAN_ROW,
            )
    for alert in alerts or ():
        day = clinic_date(alert.opened_at).isoformat()
        fig.add_trace(
            go.Scatter(
                x=[day],
                y=[10 ** (axis_range[1] - 0.08)],
                mode="markers",
                name="Alert",
                legendgroup="alerts",
                showlegend=False,
                marker={"symbol": "star", "size": 14, "color": "#b0242b"},
                customdata=[_text(alert.get_kind_display())],
                hovertemplate="Alert opened %{x}: %{customdata}<extra></extra>",
            ),
            row=1,
            col=1,
        )
        fig.add_vline(x=day, line_dash="dot", line_color="#b0242b", line_width=1)
    if alerts:
        fig.data[-1].showlegend = True

    today = clinic_today().isoformat()
    # An invisible trace on the top row: plotly.py adds no shape (therapy bands, today) to a
    # subplot without a trace, and the date axis must span the regimens too.
    span = [d for d in (regimens[0].started_on.isoformat() if regimens else None, today) if d]
    mid = 10 ** ((axis_range[0] + axis_range[1]) / 2)
    fig.add_trace(
        go.Scatter(
            x=span,
            y=[mid] * len(span),
            mode="markers",
            marker={"opacity": 0},
            hoverinfo="skip",
            showlegend=False,
            name="",
        ),
        row=1,
        col=1,
    )
    for regimen in regimens:
        agent = formulary.endocrine_agents.get(regimen.endocrine_agent)
        colour = BAND_COLOURS.get(agent.drug_class if agent else "", "rgba(120,120,120,0.08)")
        label = formulary.label(regimen.endocrine_agent)
        if regimen.cdk46_inhibitor:
            label += " + " + formulary.label(regimen.cdk46_inhibitor)
        fig.add_vrect(
            x0=regimen.started_on.isoformat(),
            x1=(regimen.ended_on.isoformat() if regimen.ended_on else today),
            fillcolor=colour,
            line_width=0,
            layer="below",
            row=1,
            col=1,
            annotation_text=_text(label),
            # At the band's foot: the top row holds the alert stars.
            annotation_position="bottom left",
            annotation_font_size=11,
        )
        if regimen.end_reason == Regimen.EndReason.CTDNA_GUIDED_SWITCH and regimen.ended_on:
            fig.add_vline(x=regimen.ended_on.isoformat(), line_dash="dash", line_color="#1d6b38")
            fig.add_annotation(
                x=regimen.ended_on.isoformat(),
                y=1,
                yref="paper",
                text="ctDNA-guided switch",
                showarrow=False,
                yanchor="bottom",
                yshift=14,  # a line above "today", which a switch made today would cover
                font={"color": "#1d6b38", "size": 11},
            )
    fig.add_vline(x=today, line_dash="dash", line_color="#1d2433", line_width=1)
    fig.add_annotation(
        x=today,
        y=1,
        yref="paper",
        text="today",
        showarrow=False,
        yanchor="bottom",
        font={"size": 11, "color": "#1d2433"},
    )

    tickvals, ticktext = _ticks(axis_range)
    fig.update_layout(
        height=460,
        margin={"l": 70, "r": 20, "t": 44, "b": 40},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.12},
        hovermode="closest",
        dragmode="zoom",
        modebar={"remove": MODEBAR_REMOVE},
    )
    fig.update_yaxes(
        type="log",
        title="Allele fraction (%)",
        range=axis_range,
        tickvals=tickvals,
        ticktext=ticktext,
        row=1,
        col=1,
    )
    for row, title in ((SAMPLE_ROW, "Samples"), (SCAN_ROW, "Scans")):
        # Named by a level tick label: a rotated axis title is taller than its short row
        # and runs into the next row's at tablet width.
        fig.update_yaxes(
            range=[-1, 1],
            tickvals=[0],
            ticktext=[title],
            ticks="",
            showgrid=False,
            zeroline=False,
            fixedrange=True,
            row=row,
            col=1,
        )
    fig.update_xaxes(type="date", row=SCAN_ROW, col=1, title="Date")
    return json.loads(fig.to_json())  # plotly's encoder turns numpy/pandas values into JSON
