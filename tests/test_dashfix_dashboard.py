"""Dashboard figures say what they count: today's states, partial months, pending alerts
(open or deferred), decisions without deferrals, units on the axes, whole days, percent in the
adherence CSV, and a patients export that carries no date range it would ignore."""

import csv
import datetime as dt
import io
import json
import re

import pytest
import time_machine

from clinic.metrics import Filters, cohort_metrics, cohort_metrics_from_scratch
from tests.builders import LONDON, metrics_cohort
from therapy.models import Alert

pytestmark = pytest.mark.django_db
D = dt.date
TODAY = dt.datetime(2026, 12, 3, 12, 0, tzinfo=LONDON)
YEAR = Filters(date_from=D(2026, 1, 1), date_to=D(2026, 12, 31))


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def cohort(oncologist):
    a, b, c = metrics_cohort(oncologist)
    t0 = dt.datetime(2026, 3, 20, 9, 0, tzinfo=dt.UTC)
    # A deferred alert: acknowledged (decided_at set) but still pending, not a decision.
    Alert.objects.create(
        patient=c,
        kind="switch_recommended",
        state="deferred",
        decision="defer",
        reason_code="awaiting_imaging",
        rule_version="serena6-v2",
        facts_snapshot={},
        opened_at=t0,
        defer_until=D(2026, 12, 20),
        decided_at=t0 + dt.timedelta(hours=1),
    )
    return a, b, c


def _page(client, user, query="?from=2026-01-01&to=2026-12-31"):
    client.force_login(user)
    response = client.get(f"/dashboard/{query}")
    assert response.status_code == 200
    return response.content.decode()


def test_pending_counts_open_and_deferred_and_deferrals_are_not_decisions(cohort):
    for m in (cohort_metrics(YEAR), cohort_metrics_from_scratch(YEAR)):
        assert (m.alerts_pending, m.alerts_open) == (2, 1)
        # the 1-hour deferral is not a decision: the two decisions took 10 h and 30 h
        assert m.response_hours == {"median": 20.0, "p90": 28.0, "n": 2}


def test_the_kpis_say_what_they_count(client, oncologist, cohort):
    html = _page(client, oncologist)
    assert re.search(r'kpi-n">2</span> pending alerts', html)
    assert "open or deferred" in html
    assert "deferrals are not decisions" in html
    assert "open alerts" not in html


def test_the_states_are_todays_and_say_so(client, oncologist, cohort):
    html = _page(client, oncologist)
    assert re.search(r"<h2[^>]*>Patients by surveillance state, today</h2>", html)


def test_a_partial_month_is_marked(client, oncologist, cohort):
    from tests.builders import draw

    a, _, _ = cohort
    draw(a, D(2026, 11, 20), D(2026, 11, 21))  # window closes 27 Nov
    draw(a, D(2026, 11, 25), D(2026, 11, 25))  # window closes 2 Dec: this month, partial
    html = _page(client, oncologist)
    assert "<td>Nov 2026</td>" in html
    assert re.search(r"<td>Dec 2026 <span[^>]*>\(partial: 1\N{EN DASH}3 Dec\)</span></td>", html)


def test_a_range_starting_mid_month_marks_its_first_month_partial(client, oncologist, cohort):
    html = _page(client, oncologist, "?from=2026-01-11&to=2026-03-31")
    assert re.search(r"Jan 2026 <span[^>]*>\(partial: 11\N{EN DASH}31 Jan\)</span>", html)
    assert "<td>Mar 2026</td>" in html


def test_every_count_chart_names_its_unit(client, oncologist, cohort):
    from tests.factories import bulk_patients

    bulk_patients(6, oncologist, "U")  # enough patients for the states chart
    html = _page(client, oncologist)
    fig = json.loads(
        re.search(r'<script id="states" type="application/json">(.*?)</script>', html, re.S)[1]
    )
    assert fig["layout"]["yaxis"]["title"]["text"] == "patients"


def test_whole_days_have_no_decimals(client, oncologist, cohort):
    html = _page(client, oncologist)
    assert re.search(r'kpi-n">60</span> days median lead time', html)


def test_the_adherence_csv_gives_percent_and_says_so(client, oncologist, cohort):
    client.force_login(oncologist)
    body = client.get("/dashboard/export/adherence.csv?from=2026-01-01&to=2026-12-31")
    rows = list(csv.DictReader(io.StringIO(body.content.decode())))
    assert "share" not in rows[0]
    assert [r["share_percent"] for r in rows] == ["33.3", "100.0"]


@pytest.mark.parametrize("table", ["patients", "states"])
def test_the_exports_as_of_today_carry_no_date_range(client, oncologist, cohort, table):
    html = _page(client, oncologist)
    link = re.search(rf'href="(/dashboard/export/{table}\.csv[^"]*)"', html)[1]
    assert "from=" not in link
    assert "to=" not in link
    assert 'href="/dashboard/export/adherence.csv?from=2026-01-01' in html
