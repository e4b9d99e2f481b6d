"""The planner and the draw services on PostgreSQL (DESIGN.md §4)."""

import datetime as dt
import threading
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from core.exceptions import NotEligible
from patients import scheduling, services
from patients.models import Draw, Patient, SurveillanceState
from tests.factories import PatientFactory, RegimenFactory

LONDON = zoneinfo.ZoneInfo("Europe/London")
D = dt.date


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=LONDON)


def travel(day: dt.date, hour: int = 10):
    return time_machine.travel(at(day, hour), tick=False)


def open_draw(patient) -> Draw:
    return Draw.objects.get(patient=patient, state=Draw.State.SCHEDULED)


def counts():
    return (Draw.objects.count(), AuditEvent.objects.count(), Patient.objects.count())


@pytest.mark.django_db
def test_one_patient_over_a_year(oncologist, nurse):
    """Enrolment, the start date, collections, a missed draw, a weekend collection, a failed
    sample and its redraw, with the daily planner running every day of the year."""
    events = {}

    def on(day):
        def register(fn):
            events[day] = fn
            return fn

        return register

    with travel(D(2025, 12, 15)):
        patient = services.patient_create(
            mrn="MRN-YEAR",
            given_name="Ada",
            family_name="Year",
            date_of_birth=D(1961, 4, 2),
            oncologist=oncologist,
            surveillance_start_on=D(2026, 1, 5),
            acting_user=nurse,
        )
    assert patient.surveillance_state == SurveillanceState.AWAITING_MINIMUM_DURATION
    assert open_draw(patient).due_on == D(2026, 1, 5)  # planned at once, on the start date

    def collect(day, accession, hour=10):
        scheduling.draw_collect(
            draw=open_draw(patient),
            collected_at=at(day, hour),
            accession=accession,
            acting_user=nurse,
        )

    @on(D(2026, 1, 6))
    def _(day):
        collect(day, "ACC-Y1")

    @on(D(2026, 3, 3))
    def _(day):
        collect(day, "ACC-Y2")

    @on(D(2026, 5, 6))
    def _(day):  # the 28 April draw never happened
        scheduling.draw_mark_missed(
            draw=open_draw(patient), reason="did_not_attend", acting_user=nurse
        )

    @on(D(2026, 6, 27))
    def _(day):  # collected on a Saturday (inpatient), inside the window
        collect(day, "ACC-Y3")

    @on(D(2026, 8, 21))
    def _(day):
        collect(day, "ACC-Y4")

    @on(D(2026, 8, 31))
    def _(day):  # the lab reports the 21 August sample failed QC
        scheduling.draw_mark_failed(
            draw=Draw.objects.get(accession="ACC-Y4"), reason="qc_fail", acting_user=None
        )

    @on(D(2026, 9, 2))
    def _(day):
        collect(day, "ACC-Y5")

    @on(D(2026, 10, 28))
    def _(day):
        collect(day, "ACC-Y6")

    day = D(2025, 12, 16)
    while day <= D(2026, 12, 31):
        with travel(day, hour=6):
            scheduling.draws_plan()  # beat's daily run
        if day in events:
            with travel(day, hour=11):
                events[day](day)
        assert Draw.objects.filter(patient=patient, state=Draw.State.SCHEDULED).count() == 1
        day += dt.timedelta(days=1)

    patient.refresh_from_db()
    assert patient.surveillance_state == SurveillanceState.ACTIVE
    history = [
        (d.planned_on, d.state, d.is_redraw, d.reason_code)
        for d in Draw.objects.filter(patient=patient).order_by("planned_on", "id")
    ]
    assert history == [
        (D(2026, 1, 5), "collected", False, ""),
        (D(2026, 3, 3), "collected", False, ""),  # 6 Jan + 8 weeks
        (D(2026, 4, 28), "missed", False, "did_not_attend"),  # 3 Mar + 8 weeks
        (D(2026, 6, 23), "collected", False, ""),  # the missed date + 8 weeks
        (D(2026, 8, 21), "failed", False, "qc_fail"),  # Sat 22 Aug moved to Fri 21 Aug
        (D(2026, 8, 31), "collected", True, ""),  # the redraw, due at once
        (D(2026, 10, 16), "cancelled", False, "replaced_by_redraw"),
        (D(2026, 10, 28), "collected", False, ""),  # the redraw's collection + 8 weeks
        (D(2026, 12, 23), "scheduled", False, ""),
    ]
    redraw = Draw.objects.get(patient=patient, is_redraw=True)
    assert redraw.redraw_of == Draw.objects.get(accession="ACC-Y4")


@pytest.mark.django_db
def test_planner_twice_creates_nothing_more(oncologist):
    patients = [PatientFactory(oncologist=oncologist) for _ in range(5)]
    first = scheduling.draws_plan()
    second = scheduling.draws_plan()
    assert first.created == 5
    assert second.created == 0
    assert Draw.objects.filter(state="scheduled").count() == len(patients)
    assert AuditEvent.objects.filter(action="draw.plan").count() == 5


@pytest.mark.django_db(transaction=True)
def test_two_planners_at_once_create_no_duplicates(oncologist):
    for _ in range(300):
        PatientFactory(oncologist=oncologist)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(scheduling.draws_plan())
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(r.created for r in results) == [0, 300]
    assert Draw.objects.filter(state="scheduled").count() == 300


@pytest.mark.django_db(transaction=True)
def test_concurrent_per_patient_and_full_runs_keep_one_open_draw(oncologist):
    """Per-patient runs take no advisory lock: the unique index alone keeps one open draw."""
    patients = [PatientFactory(oncologist=oncologist) for _ in range(50)]
    ids = [p.pk for p in patients]
    barrier = threading.Barrier(3)
    errors = []

    def run(kwargs):
        try:
            barrier.wait()
            scheduling.draws_plan(**kwargs)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=({},)),
        threading.Thread(target=run, args=({"patient_ids": ids},)),
        threading.Thread(target=run, args=({"patient_ids": ids[::-1]},)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Draw.objects.filter(state="scheduled").count() == 50


@pytest.mark.django_db
def test_database_refuses_a_second_open_draw(patient):
    scheduling.draws_plan(patient_ids=[patient.pk])
    draw = open_draw(patient)
    with pytest.raises(IntegrityError), transaction.atomic():
        Draw.objects.create(
            patient=patient,
            planned_on=draw.planned_on,
            due_on=draw.due_on,
            window_opens_on=draw.window_opens_on,
            window_closes_on=draw.window_closes_on,
        )


@pytest.mark.django_db
def test_database_refuses_due_date_outside_window(patient):
    with pytest.raises(IntegrityError), transaction.atomic():
        Draw.objects.create(
            patient=patient,
            planned_on=D(2026, 12, 1),
            due_on=D(2026, 12, 20),
            window_opens_on=D(2026, 11, 24),
            window_closes_on=D(2026, 12, 8),
        )


def _bulk_patients(n, oncologist, prefix):
    return Patient.objects.bulk_create(
        Patient(
            mrn=f"{prefix}-{i:05d}",
            given_name="Q",
            family_name=f"P{i:05d}",
            date_of_birth=D(1960, 1, 1),
            oncologist=oncologist,
            surveillance_state="active",
            surveillance_start_on=D(2026, 1, 5),
        )
        for i in range(n)
    )


@pytest.mark.django_db
def test_planner_query_count_does_not_grow(oncologist):
    _bulk_patients(10, oncologist, "S")
    with CaptureQueriesContext(connection) as small:
        assert scheduling.draws_plan().created == 10
    _bulk_patients(1000, oncologist, "L")
    with CaptureQueriesContext(connection) as large:
        assert scheduling.draws_plan().created == 1000
    assert len(small.captured_queries) == len(large.captured_queries)
    assert len(large.captured_queries) <= 10


@pytest.mark.django_db
def test_start_date_arrives_and_patient_becomes_active(oncologist):
    with travel(D(2026, 11, 1)):
        patient = PatientFactory(
            oncologist=oncologist,
            surveillance_state="awaiting_minimum_duration",
            surveillance_start_on=D(2026, 11, 24),
        )
        scheduling.draws_plan()
        assert open_draw(patient).due_on == D(2026, 11, 24)
    with travel(D(2026, 11, 24)):
        result = scheduling.draws_plan()
    patient.refresh_from_db()
    assert result.activated == 1
    assert patient.surveillance_state == "active"
    assert AuditEvent.objects.filter(action="patient.activate", patient_id=patient.pk).exists()


@pytest.mark.django_db
def test_drawing_stops_when_surveillance_ends(oncologist, nurse):
    with travel(D(2026, 11, 24)):
        withdrawn = PatientFactory(oncologist=oncologist)
        progressing = PatientFactory(oncologist=oncologist)
        RegimenFactory(patient=progressing, started_on=D(2025, 1, 1))
        scheduling.draws_plan()
        services.patient_update(
            patient=withdrawn, acting_user=nurse, changes={"surveillance_state": "withdrawn"}
        )
        services.scan_record(
            patient=progressing,
            performed_on=D(2026, 11, 20),
            modality="ct",
            outcome="progression",
            acting_user=oncologist,
        )
        for patient in (withdrawn, progressing):
            assert not Draw.objects.filter(patient=patient, state="scheduled").exists()
            assert Draw.objects.get(patient=patient).reason_code == "surveillance_ended"
        assert scheduling.draws_plan().created == 0  # the safety net agrees


@pytest.mark.django_db
def test_post_switch_monitoring_keeps_drawing(oncologist):
    with travel(D(2026, 11, 24)):
        patient = PatientFactory(oncologist=oncologist, surveillance_state="post_switch")
        assert scheduling.draws_plan().created == 1
        assert open_draw(patient).due_on == D(2026, 11, 24)


@pytest.mark.django_db
def test_interval_change_replans_the_open_draw(oncologist, nurse):
    with travel(D(2026, 11, 2)):
        patient = PatientFactory(oncologist=oncologist)
        scheduling.draws_plan()
        scheduling.draw_collect(
            draw=open_draw(patient),
            collected_at=at(D(2026, 11, 2)),
            accession="ACC-I1",
            acting_user=nurse,
        )
        assert open_draw(patient).due_on == D(2026, 12, 28)
        services.patient_update(
            patient=patient, acting_user=nurse, changes={"surveillance_interval_weeks": 12}
        )
        assert open_draw(patient).due_on == D(2027, 1, 25)
        assert AuditEvent.objects.filter(action="draw.replan", patient_id=patient.pk).exists()


@pytest.mark.django_db
def test_first_regimen_plans_first_draw(oncologist, nurse):
    with travel(D(2026, 11, 24)):
        patient = services.patient_create(
            mrn="MRN-R1",
            given_name="A",
            family_name="B",
            date_of_birth=D(1960, 1, 1),
            oncologist=oncologist,
            acting_user=nurse,
        )
        assert not Draw.objects.filter(patient=patient).exists()  # no start date yet
        services.regimen_start(
            patient=patient,
            endocrine_agent="letrozole",
            cdk46_inhibitor="palbociclib",
            started_on=D(2026, 10, 1),
            acting_user=nurse,
        )
        assert open_draw(patient).due_on == D(2027, 4, 1)  # regimen start + 6 months


# --- The draw services: validation and errors ------------------------------------------------


@pytest.fixture
def scheduled(patient):
    with travel(D(2026, 11, 24)):
        scheduling.draws_plan(patient_ids=[patient.pk])
    return open_draw(patient)


@pytest.mark.django_db
def test_collection_plans_the_next_draw_at_once(scheduled, nurse):
    with travel(
        D(
            2026,
            11,
            24,
        ),
        hour=12,
    ):
        scheduling.draw_collect(
            draw=scheduled, collected_at=at(D(2026, 11, 24)), accession="ACC-1", acting_user=nurse
        )
    scheduled.refresh_from_db()
    assert (scheduled.state, scheduled.collected_on, scheduled.collected_by) == (
        "collected",
        D(2026, 11, 24),
        nurse,
    )
    assert open_draw(scheduled.patient).due_on == D(2027, 1, 19)


@pytest.mark.django_db
def test_duplicate_accession_is_refused_and_nothing_changes(scheduled, nurse, oncologist):
    other = PatientFactory(oncologist=oncologist)
    with travel(D(2026, 11, 24), hour=12):
        scheduling.draws_plan(patient_ids=[other.pk])
        scheduling.draw_collect(
            draw=open_draw(other),
            collected_at=at(D(2026, 11, 24)),
            accession="ACC-DUP",
            acting_user=nurse,
        )
        before = counts()
        with pytest.raises(ValidationError) as exc:
            scheduling.draw_collect(
                draw=scheduled,
                collected_at=at(D(2026, 11, 24)),
                accession="ACC-DUP",
                acting_user=nurse,
            )
    assert exc.value.message_dict == {"accession": [scheduling.ACCESSION_TAKEN]}
    assert counts() == before
    scheduled.refresh_from_db()
    assert scheduled.state == "scheduled"


@pytest.mark.django_db
def test_collection_in_the_future_is_refused(scheduled, nurse):
    with travel(D(2026, 11, 24), hour=12):
        before = counts()
        with pytest.raises(ValidationError) as exc:
            scheduling.draw_collect(
                draw=scheduled,
                collected_at=at(D(2026, 11, 24), hour=15),
                accession="ACC-F",
                acting_user=nurse,
            )
    assert exc.value.message_dict == {"collected_at": [scheduling.COLLECTED_FUTURE]}
    assert counts() == before


@pytest.mark.django_db
def test_bad_accession_format_is_refused(scheduled, nurse):
    with travel(D(2026, 11, 24), hour=12), pytest.raises(ValidationError) as exc:
        scheduling.draw_collect(
            draw=scheduled, collected_at=at(D(2026, 11, 24)), accession="a b", acting_user=nurse
        )
    assert exc.value.message_dict == {"accession": [scheduling.ACCESSION_FORMAT]}


@pytest.mark.django_db
def test_collecting_a_cancelled_draw_is_refused(scheduled, nurse):
    with travel(D(2026, 11, 24), hour=12):
        scheduling.draw_cancel(draw=scheduled, reason="clinician_request", acting_user=nurse)
        before = counts()
        with pytest.raises(NotEligible) as exc:
            scheduling.draw_collect(
                draw=scheduled,
                collected_at=at(D(2026, 11, 24)),
                accession="ACC-C",
                acting_user=nurse,
            )
    assert exc.value.message == "This draw is cancelled; only a scheduled draw can be collected."
    assert counts() == before


@pytest.mark.django_db
def test_missed_needs_a_known_reason_and_a_comment_for_other(scheduled, nurse):
    before = counts()
    with pytest.raises(ValidationError) as exc:
        scheduling.draw_mark_missed(draw=scheduled, reason="forgot", acting_user=nurse)
    assert "reason" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        scheduling.draw_mark_missed(draw=scheduled, reason="other", comment=" ", acting_user=nurse)
    assert exc.value.message_dict == {"comment": [scheduling.NOTE_REQUIRED]}
    assert counts() == before


@pytest.mark.django_db
def test_reschedule_outside_the_window_needs_a_reason(scheduled, nurse):
    with travel(D(2026, 11, 24), hour=12):
        before = counts()
        with pytest.raises(ValidationError) as exc:
            scheduling.draw_reschedule(draw=scheduled, due_on=D(2026, 12, 15), acting_user=nurse)
        assert "outside the window" in exc.value.message_dict["reason"][0]
        assert counts() == before
        scheduling.draw_reschedule(draw=scheduled, due_on=D(2026, 11, 27), acting_user=nurse)
    scheduled.refresh_from_db()
    assert (scheduled.planned_on, scheduled.due_on) == (D(2026, 11, 24), D(2026, 11, 27))


@pytest.mark.django_db
def test_cancel_with_system_reason_is_refused(scheduled, nurse):
    with pytest.raises(ValidationError):
        scheduling.draw_cancel(draw=scheduled, reason="surveillance_ended", acting_user=nurse)
