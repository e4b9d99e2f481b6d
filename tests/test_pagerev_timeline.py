"""The timeline never draws a filtered call as a detection (page review, pagerev).

DESIGN §6: a call the variant caller did not PASS is stored with its filter, shown on the
report and never used by the rule. On the chart it must not join the ESR1 line as if it
were a detection: it gets its own, hollow, "filtered" series that says its filter.
No database.
"""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace as NS

from clinic.timeline import patient_timeline_figure

D = dt.date


class _Calls(list):
    def all(self):
        return self


def _report(day, calls, pk):
    return NS(
        pk=pk,
        draw_id=None,
        report_id=f"R-{pk}",
        version=1,
        assay="Guardant360",
        tumor_fraction=Decimal("0.05"),
        collected_on=day,
        qc_status="pass",
        status="final",
        is_current=True,
        variants=_Calls(calls),
    )


def _call(vaf, filter_=""):
    return NS(gene="ESR1", hgvs_p="p.Asp538Gly", chrom="6", pos=1, vaf=Decimal(vaf), filter=filter_)


def _traces():
    reports = [
        _report(D(2026, 3, 1), [_call("0.004")], pk=1),
        _report(D(2026, 5, 1), [_call("0.02", "weak_evidence")], pk=2),
    ]
    fig = patient_timeline_figure(reports=reports, regimens=[], scans=[], draws=[])
    return {t.get("name"): t for t in fig["data"]}


def test_a_filtered_esr1_call_is_not_drawn_on_the_detection_line():
    traces = _traces()
    detected = traces["ESR1 p.Asp538Gly"]
    assert detected["x"] == ["2026-03-01"]  # the PASS call only
    filtered = traces["ESR1 p.Asp538Gly (filtered call, not used)"]
    assert filtered["x"] == ["2026-05-01"]
    assert filtered["mode"] == "markers"  # not joined to the line
    assert filtered["marker"]["symbol"].endswith("-open")
    assert "filter weak_evidence" in filtered["customdata"][0]
