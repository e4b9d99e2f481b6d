"""The planner's one-statement insert: every draw it creates has its audit event (same
statement), and a run that dies midway leaves nothing behind, so the next run does it all."""

import pytest

from audit.models import AuditEvent
from patients import scheduling
from patients.models import Draw, WorklistCount
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_each_created_draw_has_its_audit_event(oncologist, nurse):
    patients = [PatientFactory(oncologist=oncologist) for _ in range(4)]
    result = scheduling.draws_plan()
    assert result.created == 4
    draws = {d.pk: d for d in Draw.objects.filter(state="scheduled")}
    events = AuditEvent.objects.filter(action="draw.plan")
    assert {int(e.object_id) for e in events} == set(draws)
    for event in events:
        draw = draws[int(event.object_id)]
        assert event.object_type == "patients.draw"
        assert event.patient_id == draw.patient_id
        assert event.detail == {"due_on": draw.due_on.isoformat(), "is_redraw": False}
        assert event.actor_label == "system:planner"
    # A service's run names its user.
    scheduling.draws_plan(patient_ids=[PatientFactory(oncologist=oncologist).pk], acting_user=nurse)
    assert AuditEvent.objects.filter(action="draw.plan", actor=nurse).count() == 1
    assert len(patients) + 1 == Draw.objects.filter(state="scheduled").count()


def test_a_run_killed_midway_leaves_nothing_and_the_next_run_does_it_all(oncologist, monkeypatch):
    for _ in range(6):
        PatientFactory(oncologist=oncologist)

    def killed(redraws):
        raise SystemExit("worker killed after the insert")

    monkeypatch.setattr(scheduling, "_notify_redraws", killed)
    with pytest.raises(SystemExit):
        scheduling.draws_plan()
    assert not Draw.objects.exists()
    assert not AuditEvent.objects.filter(action="draw.plan").exists()
    assert sum(WorklistCount.objects.values_list("n", flat=True)) == 0
    monkeypatch.undo()
    assert scheduling.draws_plan().created == 6
    assert AuditEvent.objects.filter(action="draw.plan").count() == 6
    assert scheduling.draws_plan().created == 0


@pytest.mark.django_db
def test_the_planners_columns_reach_postgresql_as_they_are():
    """The planner's columns (ids, dates, booleans, NULLs) go as pg_array literals: each
    literal is the expected text and PostgreSQL reads it back as the same values."""
    import datetime as dt

    from django.db import connection

    from core.db import pg_array

    for column, literal, cast in (
        ([1, 22, 333], "{1,22,333}", "bigint[]"),
        ([dt.date(2026, 1, 5), dt.date(2027, 12, 31)], "{2026-01-05,2027-12-31}", "date[]"),
        ([True, False, True], "{True,False,True}", "boolean[]"),
        ([None, 7, None], "{NULL,7,NULL}", "bigint[]"),
        ([], "{}", "bigint[]"),
    ):
        assert pg_array(column) == literal
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT %s::{cast}", [literal])
            assert cursor.fetchone()[0] == column


def test_a_full_run_pauses_the_cycle_collector_and_always_resumes_it(oncologist, monkeypatch):
    import gc

    PatientFactory(oncologist=oncologist)
    seen = []
    insert = scheduling._insert_open_draws

    def spy(*args):
        seen.append(gc.isenabled())
        return insert(*args)

    monkeypatch.setattr(scheduling, "_insert_open_draws", spy)
    assert gc.isenabled()
    scheduling.draws_plan()
    assert seen == [False]
    assert gc.isenabled()

    def fails(*args):
        raise RuntimeError("the insert failed")

    PatientFactory(oncologist=oncologist)
    monkeypatch.setattr(scheduling, "_insert_open_draws", fails)
    with pytest.raises(RuntimeError):
        scheduling.draws_plan()
    assert gc.isenabled()
    # A service's run for one patient leaves the collector alone.
    monkeypatch.setattr(scheduling, "_insert_open_draws", spy)
    scheduling.draws_plan(patient_ids=[PatientFactory(oncologist=oncologist).pk])
    assert seen[-1] is True
