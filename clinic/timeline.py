"""The patient's ctDNA timeline as a plotly figure (built on the server, drawn by plotly.js).

ESR1 allele fractions over time on a log axis (in %, legible from 0.01%); draws without an
ESR1 result are drawn for what they are, on their own row under the axis, never as zero:
"not detected" (QC pass, no variant), "failed" (QC fail or insufficient), "not tested"
(missed or cancelled). Therapy bands show the regimens and the switch date; scans are marked
(progression in red). Other genes are listed but hidden until clicked.
"""

from __future__ import annotations

import json
from collections import defaultdict

import plotly.graph_objects as go

from core.clock import clinic_today
from liquidbiopsy.models import LabReport
from patients.formulary import get_formulary
from patients.models import Draw, ImagingAssessment, Regimen

FLOOR_PERCENT = 0.005  # the "no ESR1 result" row sits under 0.01%
BAND_COLOURS = {
    "aromatase_inhibitor": "rgba(31, 78, 140, 0.10)",
    "oral_serd": "rgba(29, 107, 56, 0.12)",
}


def _hover(report: LabReport) -> str:
    tf = (
        f"{float(report.tumor_fraction) * 100:.3g}%"
        if report.tumor_fraction is not None
        else "not reported"
    )
    return f"{report.report_id} v{report.version} · {report.assay}<br>tumour fraction {tf}"


def patient_timeline_figure(*, reports, regimens, scans, draws) -> dict:
    """The figure as a plain dict (plotly JSON), from what the patient page already read:
    reports (with variants prefetched), regimens, scans and draws. No query of its own."""
    reports = sorted(
        (r for r in reports if r.is_current and r.status != LabReport.Status.CANCELLED),
        key=lambda r: (r.collected_on, r.pk),
    )
    regimens = sorted(regimens, key=lambda r: r.started_on)
    scans = sorted(scans, key=lambda s: s.performed_on)
    missed = [
        d
        for d in draws
        if d.state in (Draw.State.MISSED, Draw.State.CANCELLED)
        and d.reason_code not in ("surveillance_ended", "replaced_by_redraw")
    ]
    formulary = get_formulary()
    fig = go.Figure()

    esr1: dict[str, list] = defaultdict(list)
    others: dict[str, list] = defaultdict(list)
    not_detected, failed = [], []
    for report in reports:
        if report.qc_status != LabReport.QcStatus.PASS:
            failed.append(report)
            continue
        calls = list(report.variants.all())
        if not any(c.gene == "ESR1" for c in calls):
            not_detected.append(report)
        for call in calls:
            name = f"{call.gene} {call.hgvs_p or f'chr{call.chrom}:{call.pos}'}"
            (esr1 if call.gene == "ESR1" else others)[name].append((report, call))

    for group, visible in ((esr1, True), (others, "legendonly")):
        for name, points in sorted(group.items()):
            fig.add_trace(
                go.Scatter(
                    x=[r.collected_on.isoformat() for r, _ in points],
                    y=[float(c.vaf) * 100 for _, c in points],
                    mode="lines+markers",
                    name=name,
                    visible=visible,
                    marker={"size": 9 if visible is True else 6},
                    customdata=[_hover(r) for r, _ in points],
                    hovertemplate="%{y:.3g}% on %{x}<br>%{customdata}<extra>" + name + "</extra>",
                )
            )
    for label, items, symbol, colour in (
        ("ESR1 not detected", not_detected, "circle-open", "#555f70"),
        ("Sample failed (no result)", failed, "x", "#b0242b"),
    ):
        if items:
            fig.add_trace(
                go.Scatter(
                    x=[r.collected_on.isoformat() for r in items],
                    y=[FLOOR_PERCENT] * len(items),
                    mode="markers",
                    name=label,
                    marker={"symbol": symbol, "size": 11, "color": colour},
                    customdata=[_hover(r) for r in items],
                    hovertemplate=label + " on %{x}<br>%{customdata}<extra></extra>",
                )
            )
    if missed:
        fig.add_trace(
            go.Scatter(
                x=[d.planned_on.isoformat() for d in missed],
                y=[FLOOR_PERCENT] * len(missed),
                mode="markers",
                name="Not tested (missed or cancelled draw)",
                marker={"symbol": "triangle-down-open", "size": 11, "color": "#8a5300"},
                hovertemplate="Not tested: draw due %{x}<extra></extra>",
            )
        )

    today = clinic_today().isoformat()
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
            annotation_text=label,
            annotation_position="top left",
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
                font={"color": "#1d6b38", "size": 11},
            )
    if scans:
        fig.add_trace(
            go.Scatter(
                x=[s.performed_on.isoformat() for s in scans],
                y=[100] * len(scans),
                mode="markers",
                name="Scans",
                marker={
                    "symbol": "diamond",
                    "size": 10,
                    "color": [
                        "#b0242b"
                        if s.outcome == ImagingAssessment.Outcome.PROGRESSION
                        else "#8a5300"
                        if s.outcome == ImagingAssessment.Outcome.INDETERMINATE
                        else "#8a94a6"
                        for s in scans
                    ],
                },
                customdata=[
                    s.get_outcome_display() + " (" + s.get_modality_display() + ")" for s in scans
                ],
                hovertemplate="Scan %{x}: %{customdata}<extra></extra>",
            )
        )
    fig.update_layout(
        height=380,
        margin={"l": 60, "r": 20, "t": 30, "b": 40},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.18},
        yaxis={
            "type": "log",
            "title": "Allele fraction (%)",
            "range": [-2.5, 2.05],  # 0.003% to 110%
            "tickvals": [0.005, 0.01, 0.1, 1, 10, 100],
            "ticktext": ["no ESR1 result", "0.01%", "0.1%", "1%", "10%", "100%"],
        },
        xaxis={"title": "Collection date", "type": "date"},
        hovermode="closest",
    )
    return json.loads(fig.to_json())  # plotly's encoder turns numpy/pandas values into JSON
