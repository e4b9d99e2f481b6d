"""Cohort metrics on a small hand-built cohort whose answers are known."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from liquidbiopsy.models import LabReport, VariantCall
from patients.models import Draw
from surveillance.metrics import Filters, cohort_metrics
from tests.factories import PatientFactory, ScanFactory, UserFactory
from therapy.models import Alert

pytestmark = pytest.mark.django_db
LONDON = zoneinfo.ZoneInfo("Europe/London")
D = dt.date


def draw(patient, due, collected=None, state="resulted", n=[0]):  # noqa: B006 - a counter
    n[0] += 1
    return Draw.objects.create(
        patient=patient,
        planned_on=due,
        due_on=due,
        window_opens_on=due - dt.timedelta(days=7),
        window_closes_on=due + dt.timedelta(days=7),
        state=state,
        collected_on=collected,
        collected_at=dt.datetime.combine(collected, dt.time(9), LONDON) if collected else None,
        accession=f"M-{n[0]}" if collected else None,
        reason_code="did_not_attend" if state == "missed" else "",
    )


def report(d, lab, esr1_vaf=None, qc="pass"):
    r = LabReport.objects.create(
        lab_account=lab,
        report_id=f"R-{d.pk}",
        version=1,
        status="final",
        draw=d,
        patient=d.patient,
        assay="G360",
        qc_status=qc,
        collected_on=d.collected_on,
        reported_on=d.collected_on,
        payload={},
        payload_sha256="x",
        received_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    if esr1_vaf:
        VariantCall.objects.create(
            report=r, gene="ESR1", hgvs_p="p.Asp538Gly", vaf=Decimal(esr1_vaf)
        )
    return r


@pytest.fixture
def cohort(oncologist):
    lab = UserFactory(username="m_lab", role="lab")
    a = PatientFactory(oncologist=oncologist)  # ESR1 on the first tested draw
    b = PatientFactory(
        oncologist=oncologist
    )  # ESR1 emerges on the second; progresses 60 days later
    c = PatientFactory(oncologist=oncologist, surveillance_state="progressed")  # never ESR1
    # January: 3 draws due, 2 in window (one collected late, one in window), one missed.
    report(draw(a, D(2026, 1, 10), D(2026, 1, 12)), lab, esr1_vaf="0.01")
    report(draw(b, D(2026, 1, 12), D(2026, 1, 30)), lab)  # late: outside the window
    draw(c, D(2026, 1, 15), state="missed")
    # March: 2 draws due, both in window.
    report(draw(b, D(2026, 3, 10), D(2026, 3, 10)), lab, esr1_vaf="0.02")
    report(draw(c, D(2026, 3, 12), D(2026, 3, 13)), lab)
    ScanFactory(patient=b, performed_on=D(2026, 5, 9), outcome="progression")
    t0 = dt.datetime(2026, 3, 20, 9, 0, tzinfo=dt.UTC)
    for patient, kind, state, decision, reason, hours, level in [
        (a, "switch_recommended", "accepted", "switch", "", 10, 0),
        (b, "switch_recommended", "declined", "decline", "patient_preference", 30, 0),
        (c, "review", "open", "", "", None, 1),
    ]:
        Alert.objects.create(
            patient=patient,
            kind=kind,
            state=state,
            decision=decision,
            reason_code=reason,
            rule_version="serena6-v1",
            facts_snapshot={},
            opened_at=t0,
            escalation_level=level,
            decided_at=t0 + dt.timedelta(hours=hours) if hours else None,
        )
    return a, b, c


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
