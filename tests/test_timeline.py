"""The ctDNA timeline figure (issue 13): fitted log axis, scans on their own row with an
outcome legend, markers for today / pending samples / alerts, no selection tools, lab text
escaped, non-informative "not detected" distinct from an informative one. No database."""

import datetime as dt
import json
from decimal import Decimal
from types import SimpleNamespace as NS

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.timeline import _fitted_range, patient_timeline_figure

D = dt.date


class _Calls(list):
    def all(self):
        return self


def report(day, *, calls=(), tf="0.05", qc="pass", assay="Guardant360", pk=1, draw_id=None):
    return NS(
        pk=pk,
        draw_id=draw_id,
        report_id=f"R-{pk}",
        version=1,
        assay=assay,
        tumor_fraction=None if tf is None else Decimal(tf),
        collected_on=day,
        qc_status=qc,
        status="final",
        is_current=True,
        variants=_Calls(calls),
    )


def call(vaf, gene="ESR1", hgvs_p="p.Asp538Gly"):
    return NS(gene=gene, hgvs_p=hgvs_p, chrom="6", pos=1, vaf=Decimal(vaf))


def scan(day, outcome):
    return NS(
        performed_on=day,
        outcome=outcome,
        get_outcome_display=lambda: outcome,
        get_modality_display=lambda: "CT",
    )


def draw(state, *, pk, due=None, collected_on=None, reason_code=""):
    due = due or D(2026, 6, 1)
    return NS(
        pk=pk,
        state=state,
        planned_on=due,
        due_on=due,
        collected_on=collected_on,
        reason_code=reason_code,
    )


def figure(**kwargs):
    args = {"reports": [], "regimens": [], "scans": [], "draws": []}
    args.update(kwargs)
    return patient_timeline_figure(**args)


def names(fig):
    return [t.get("name") for t in fig["data"]]


def test_the_y_axis_fits_the_values_not_100_percent():
    fig = figure(
        reports=[
            report(D(2026, 1, 5), calls=[call("0.0042")], pk=1),
            report(D(2026, 3, 5), calls=[call("0.012")], pk=2),
        ]
    )
    lo, hi = fig["layout"]["yaxis"]["range"]
    assert fig["layout"]["yaxis"]["type"] == "log"
    assert 10**lo < 0.42
    assert 10**hi > 1.2
    assert 10**hi < 10  # 100% is far above ctDNA values: not on the axis


@given(st.lists(st.floats(min_value=0.001, max_value=100), min_size=1, max_size=20))
def test_every_value_drawn_is_inside_the_fitted_axis(values):
    lo, hi = _fitted_range(values)
    assert all(lo <= __import__("math").log10(v) <= hi for v in values)
    assert hi - lo >= 1.5 - 1e-9


def test_scans_have_their_own_row_and_a_legend_entry_per_outcome():
    fig = figure(scans=[scan(D(2026, 2, 1), "no_progression"), scan(D(2026, 5, 1), "progression")])
    scan_traces = [t for t in fig["data"] if t["name"].startswith("Scan: ")]
    assert sorted(t["name"] for t in scan_traces) == ["Scan: no progression", "Scan: progression"]
    assert {t["yaxis"] for t in scan_traces} == {"y3"}  # the bottom row, not the 100% line
    assert all(t["y"] == [0] for t in scan_traces)


def test_non_informative_not_detected_is_drawn_apart_from_informative():
    fig = figure(
        reports=[
            report(D(2026, 1, 5), tf="0.05", pk=1),
            report(D(2026, 2, 5), tf="0.004", pk=2),
            report(D(2026, 3, 5), tf=None, pk=3),
            report(D(2026, 4, 5), qc="fail", pk=4),
        ]
    )
    by_name = {t["name"]: t for t in fig["data"]}
    informative = by_name["ESR1 not detected (tumour fraction ≥ 1%)"]
    non_inf = by_name["ESR1 not detected, non-informative (tumour fraction < 1% or unknown)"]
    assert informative["x"] == ["2026-01-05"]
    assert non_inf["x"] == ["2026-02-05", "2026-03-05"]
    assert informative["marker"]["symbol"] != non_inf["marker"]["symbol"]
    assert by_name["Sample failed (no result)"]["x"] == ["2026-04-05"]


def test_today_pending_sample_next_draw_and_alert_markers():
    alert = NS(
        opened_at=dt.datetime(2026, 3, 6, 9, tzinfo=dt.UTC),
        get_kind_display=lambda: "Consider switching to camizestrant",
    )
    fig = figure(
        reports=[report(D(2026, 3, 5), calls=[call("0.01")], pk=1, draw_id=10)],
        draws=[
            draw("resulted", pk=10, collected_on=D(2026, 3, 5)),
            draw("collected", pk=11, collected_on=D(2026, 5, 1)),
            draw("scheduled", pk=12, due=D(2026, 6, 26)),
        ],
        alerts=[alert],
    )
    by_name = {t["name"]: t for t in fig["data"]}
    assert by_name["Sample awaiting its result"]["x"] == ["2026-05-01"]
    assert by_name["Next draw due"]["x"] == ["2026-06-26"]
    assert by_name["Alert"]["x"] == ["2026-03-06"]
    texts = [a.get("text") for a in fig["layout"]["annotations"]]
    assert "today" in texts


def test_no_selection_tools_in_the_toolbar():
    fig = figure()
    remove = fig["layout"]["modebar"]["remove"]
    assert {"lasso2d", "select2d"} <= set(remove)
    assert fig["layout"]["dragmode"] != "select"


@pytest.mark.parametrize(
    "evil",
    [
        '<a href="javascript:alert(1)">click</a>',
        "<b onmouseover=alert(1)>x</b>",
        "%{y} <br>",
    ],
)
def test_lab_text_cannot_draw_a_link_or_markup(evil):
    fig = figure(
        reports=[
            report(D(2026, 1, 5), calls=[call("0.01", gene=evil, hgvs_p=evil)], assay=evil),
            report(D(2026, 2, 5), calls=[call("0.02", hgvs_p=evil)], assay=evil, pk=2),
        ]
    )
    text = json.dumps(
        [[t.get("name"), t.get("customdata"), t.get("hovertemplate")] for t in fig["data"]]
    )
    assert "<a" not in text
    assert "<b " not in text
    assert "%{y} &lt;br" not in text.replace("%&#123;y}", "")  # no template from lab text
