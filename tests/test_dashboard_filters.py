"""The dashboard never answers 5xx: every filter combination, empty and small cohorts (issue 13).

Also: labels instead of codes, small-n charts replaced by their numbers, validated ranges,
CSV cells that a spreadsheet would run as a formula neutralised.
"""

import csv
import datetime as dt
import io
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.dashboard import csv_safe
from tests.builders import metrics_cohort
from tests.factories import PatientFactory, UserFactory
from therapy.models import Alert

pytestmark = pytest.mark.django_db
EXPORTS = ("patients", "states", "adherence", "detection", "decisions", "lead_time")


@pytest.fixture
def undecided_oncologist(db):
    """An oncologist whose only alert has no decision yet (the reported TypeError)."""
    onc = UserFactory(username="dr_undecided", role="oncologist")
    Alert.objects.create(
        patient=PatientFactory(oncologist=onc),
        kind="switch_recommended",
        state="open",
        rule_version="serena6-v1",
        facts_snapshot={},
        opened_at=dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC),
    )
    return onc


@pytest.mark.parametrize("cohort", ["empty", "small"])
def test_every_filter_combination_answers_without_error(
    client, oncologist, undecided_oncologist, cohort
):
    if cohort == "small":
        metrics_cohort(oncologist)
    else:
        Alert.objects.all().delete()
    client.force_login(oncologist)
    froms = [None, "2026-01-01", "1 Jan 2026", "garbage", "2027-06-01", "\x00"]
    tos = [None, "2026-12-31", "31 Dec 2026", "31/12/2026"]
    oncs = [None, oncologist.pk, undecided_oncologist.pk, 999999, "x", "-1"]
    statuses = set()
    for date_from, date_to, onc in itertools.product(froms, tos, oncs):
        params = {"from": date_from, "to": date_to, "oncologist": onc}
        query = {k: v for k, v in params.items() if v is not None}
        response = client.get("/dashboard/", query)
        assert response.status_code in (200, 400), (query, response.status_code)
        statuses.add(response.status_code)
        if date_from == "2027-06-01" and date_to in ("2026-12-31", "31 Dec 2026"):
            assert response.status_code == 400
            assert "The start date is after the end date." in response.content.decode()
    assert statuses == {200, 400}
    for name, onc in itertools.product(EXPORTS, oncs):
        query = {"from": "2026-01-01", "to": "2026-12-31"}
        if onc is not None:
            query["oncologist"] = onc
        response = client.get(f"/dashboard/export/{name}.csv", query)
        assert response.status_code in (200, 400), (name, query)
    response = client.get(
        "/dashboard/export/adherence.csv", {"from": "2027-01-01", "to": "2026-01-01"}
    )
    assert response.status_code == 400


def test_undecided_alerts_of_one_oncologist_do_not_break_the_hours(
    client, oncologist, undecided_oncologist
):
    client.force_login(oncologist)
    response = client.get(
        "/dashboard/",
        {"from": "2026-01-01", "to": "2026-12-31", "oncologist": undecided_oncologist.pk},
    )
    assert response.status_code == 200
    assert response.context["m"].response_hours == {"median": None, "p90": None, "n": 0}


def test_labels_not_codes_and_small_n_as_numbers(client, oncologist):
    metrics_cohort(oncologist)
    client.force_login(oncologist)
    html = client.get("/dashboard/", {"from": "2026-01-01", "to": "2026-12-31"}).content.decode()
    assert "Patient preference" in html
    assert "patient_preference" not in html.split("<script")[0]
    assert "awaiting_minimum_duration" not in html.split("<script")[0]
    assert "Consider switching to camizestrant" in html
    # One patient with a lead time: no histogram of n = 1, its number instead.
    assert 'id="chart-lead_time"' not in html
    assert "Too few to chart" in html


def test_an_empty_period_draws_no_chart(client, oncologist):
    client.force_login(oncologist)
    html = client.get("/dashboard/", {"from": "2020-01-01", "to": "2020-02-01"}).content.decode()
    assert 'class="chart"' not in html
    assert "Nothing in this period" in html


@pytest.mark.parametrize("first", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_start_a_formula_are_neutralised(first):
    assert csv_safe(f"{first}HYPERLINK(1)") == f"'{first}HYPERLINK(1)"


@given(st.text(max_size=30))
def test_csv_safe_never_leaves_a_formula_trigger_first(text):
    out = csv_safe(text)
    assert not out or out[0] not in "=+-@\t\r"
    assert out.endswith(text)


def test_exported_csv_has_no_formula_cells(client, oncologist):
    PatientFactory(oncologist=oncologist, mrn="=cmd|' /C calc'!A0")
    client.force_login(oncologist)
    body = client.get("/dashboard/export/patients.csv").content.decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[1:]
    for row in rows:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", cell
