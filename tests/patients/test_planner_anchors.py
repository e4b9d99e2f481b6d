"""The planner's anchors (PostgreSQL: one index-only lookup a patient) are the grouped
aggregate of DESIGN.md §4 over the patients' past draws, for any history of draws."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patients import scheduling
from patients.models import Draw, Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

START = dt.date(2025, 1, 6)
STATES = ["collected", "resulted", "failed", "missed", "cancelled", "scheduled"]
# The nurse's cancel reasons (they anchor), the system's (they do not), a miss reason.
REASONS = [
    *("", "duplicate", "clinician_request", "patient_request", "other"),
    *("surveillance_ended", "replaced_by_redraw", "replanned", "redraw_not_needed"),
    "did_not_attend",
]

_draw = st.tuples(
    st.sampled_from(STATES),
    st.integers(0, 400),  # planned day
    st.integers(-7, 7),  # collected this many days from it
    st.sampled_from(REASONS),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(histories=st.lists(st.lists(_draw, max_size=8), min_size=1, max_size=4))
def test_anchors_are_the_grouped_aggregate(oncologist, histories):
    Draw.objects.all().delete()
    Patient.objects.all().delete()
    ids = []
    accession = 0
    for history in histories:
        patient = PatientFactory(oncologist=oncologist)
        ids.append(patient.pk)
        open_seen = False
        for state, day, offset, reason in history:
            if state == "scheduled":
                if open_seen:  # one open draw a patient
                    continue
                open_seen = True
            planned = START + dt.timedelta(days=day)
            collected = state in ("collected", "resulted", "failed")
            if state in ("missed", "cancelled") and not reason:
                reason = "other"
            accession += 1
            collected_on = planned + dt.timedelta(days=offset) if collected else None
            Draw.objects.create(
                patient=patient,
                planned_on=planned,
                due_on=planned,
                window_opens_on=planned - dt.timedelta(days=7),
                window_closes_on=planned + dt.timedelta(days=7),
                state=state,
                collected_on=collected_on,
                collected_at=(
                    dt.datetime.combine(collected_on, dt.time(10), tzinfo=dt.UTC)
                    if collected
                    else None
                ),
                accession=f"ACC-{accession:05d}" if collected else None,
                reason_code=reason if state in ("missed", "cancelled", "failed") else "",
            )
    ids.append(10**9)  # no such patient: no anchors
    patients = Patient.objects.filter(pk__in=ids)
    fast = scheduling._anchors(ids, patients)
    grouped = scheduling._anchors_grouped(patients)
    none = (None, None, None, None)
    for pid in ids:
        assert tuple(fast.get(pid, none)) == tuple(grouped.get(pid, none)), pid
