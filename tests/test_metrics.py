"""Cohort metrics on a small hand-built cohort whose answers are known."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.metrics import Filters, cohort_metrics
from tests.builders import LONDON, draw, metrics_cohort
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def cohort(oncologist):
    return metrics_cohort(oncologist)


def test_metrics_on_a_known_cohort(cohort):
    m = cohort_metrics(Filters(date_from=D(2026, 1, 1), date_to=D(2026, 12, 31)))
    assert dict(zip(m.states["state"], m.states["patients"], strict=True)) == {
        "active": 2,
        "progressed": 1,
    }
    rows = {
        r.month.strftime("%Y-%m"): (r.draws_due, r.collected_in_window, r.share)
        for r in m.adherence.itertuples()
    }
    assert rows == {"2026-01": (3, 1, 0.333), "2026-03": (2, 2, 1.0)}
    assert dict(zip(m.detection["kind"], m.detection["patients"], strict=True)) == {
        "first draw": 1,
        "emergent": 1,
    }
    assert m.response_hours == {"median": 20.0, "p90": 28.0, "n": 2}
    decisions = {(r.kind, r.decision, r.reason_code): r.alerts for r in m.decisions.itertuples()}
    assert decisions == {
        ("switch_recommended", "decline", "patient_preference"): 1,
        ("switch_recommended", "switch", ""): 1,
    }
    assert (m.alerts_open, m.alerts_escalated) == (1, 1)
    assert m.lead_time_summary == {"median_days": 60.0, "n": 1}


def test_oncologist_filter(cohort, other_oncologist):
    m = cohort_metrics(
        Filters(date_from=D(2026, 1, 1), date_to=D(2026, 12, 31), oncologist_id=other_oncologist.pk)
    )
    assert m.states.empty
    assert m.adherence.empty
    assert m.response_hours["n"] == 0


def test_date_range_filter(cohort):
    m = cohort_metrics(Filters(date_from=D(2026, 3, 1), date_to=D(2026, 3, 31)))
    assert list(m.adherence["draws_due"]) == [2]
    assert dict(zip(m.detection["kind"], m.detection["patients"], strict=True)) == {
        "first draw": 0,
        "emergent": 1,
    }


def test_metrics_run_a_fixed_number_of_queries(cohort, oncologist):
    with CaptureQueriesContext(connection) as small:
        cohort_metrics(Filters(date_from=D(2026, 1, 1), date_to=D(2026, 12, 31)))
    for _ in range(20):
        p = PatientFactory(oncologist=oncologist)
        draw(p, D(2026, 2, 10), D(2026, 2, 10))
    with CaptureQueriesContext(connection) as large:
        cohort_metrics(Filters(date_from=D(2026, 1, 1), date_to=D(2026, 12, 31)))
    assert len(small.captured_queries) == len(large.captured_queries) <= 8


def test_overdue_uncollected_draws_count_against_adherence(cohort, oncologist):
    import time_machine

    late = PatientFactory(oncologist=oncologist)
    draw(late, D(2026, 3, 1), state="scheduled")  # window closed 8 March, never collected
    draw(PatientFactory(oncologist=oncologist), D(2026, 12, 1), state="scheduled")  # not due yet
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, tzinfo=LONDON), tick=False):
        m = cohort_metrics(Filters(date_from=D(2026, 1, 1), date_to=D(2026, 12, 31)))
    rows = {
        r.month.strftime("%Y-%m"): (r.draws_due, r.collected_in_window)
        for r in m.adherence.itertuples()
    }
    assert rows == {"2026-01": (3, 1), "2026-03": (3, 2)}
