"""The check shared by the tests of results moving draws (test_schedfix_*): a patient's open
draw is the one a from-scratch planner run gives."""

from django.db import transaction

from patients import scheduling
from patients.models import Draw


def open_draw(patient) -> Draw:
    return Draw.objects.get(patient=patient, state=Draw.State.SCHEDULED)


def from_scratch(patient) -> Draw:
    """The open draw a planner run gives from the patient's past draws alone."""
    with transaction.atomic():
        Draw.objects.filter(patient=patient, state=Draw.State.SCHEDULED).delete()
        scheduling.draws_plan(patient_ids=[patient.pk])
        fresh = open_draw(patient)
        transaction.set_rollback(True)
    return fresh


def assert_planner_agrees(patient, on: str = "due_on") -> None:
    """Her open draw is the one a from-scratch planner run gives: its date `on` (planned_on
    where a nurse may have moved due_on) and whether it is a redraw."""
    draw, fresh = open_draw(patient), from_scratch(patient)
    assert (getattr(draw, on), draw.is_redraw) == (getattr(fresh, on), fresh.is_redraw)
