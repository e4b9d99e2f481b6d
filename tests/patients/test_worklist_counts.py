"""The worklist's trigger-kept section counts equal a count of the draws themselves, after
every kind of change (services, the planner, set-based and raw SQL writes); and the one
statement that reads counts, rows and page picks what Paginator.get_page would."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.core.paginator import Paginator
from django.db import connection

from patients import scheduling, selectors
from patients.models import Draw, WorklistCount
from tests.builders import make_draw
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
LONDON = zoneinfo.ZoneInfo("Europe/London")
TODAY = dt.date(2026, 11, 24)


@pytest.fixture(autouse=True)
def _clinic_today():
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON), tick=False):
        yield


def _live(today=TODAY):
    sql, params = selectors._live_counts_sql(today=today, search="", oncologist_id=None)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(zip(selectors.COUNT_KEYS, cursor.fetchone(), strict=True))


def _kept(today=TODAY):
    return selectors.worklist_page(today=today, section="due").counts


def _assert_kept_equals_live():
    for today in (TODAY, TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=30)):
        assert _kept(today) == _live(today), today


def test_counts_follow_every_kind_of_change(oncologist, nurse):
    patients = [PatientFactory(oncologist=oncologist) for _ in range(8)]
    scheduling.draws_plan(today=TODAY)
    _assert_kept_equals_live()
    opened = {d.patient_id: d for d in Draw.objects.filter(state="scheduled")}
    first, second, third, fourth = (opened[p.pk] for p in patients[:4])
    collected = scheduling.draw_collect(
        draw=first,
        collected_at=dt.datetime(2026, 11, 24, 9, 0, tzinfo=LONDON),
        accession="ACC-C-1",
        acting_user=nurse,
    )
    _assert_kept_equals_live()
    scheduling.draw_mark_missed(draw=second, reason="did_not_attend", acting_user=nurse)
    _assert_kept_equals_live()
    scheduling.draw_mark_failed(draw=collected, reason="qc_fail", acting_user=nurse)  # a redraw
    assert Draw.objects.filter(state="scheduled", is_redraw=True).exists()
    _assert_kept_equals_live()
    scheduling.draw_mark_resulted(draw=collected, acting_user=nurse)  # the redraw cancelled
    _assert_kept_equals_live()
    scheduling.draw_reschedule(
        draw=third,
        due_on=third.due_on + dt.timedelta(days=20),
        reason="patient_request",
        acting_user=nurse,
    )
    _assert_kept_equals_live()
    again = scheduling.draw_collect(
        draw=Draw.objects.get(pk=fourth.pk),
        collected_at=dt.datetime(2026, 11, 24, 10, 0, tzinfo=LONDON),
        accession="ACC-C-2",
        acting_user=nurse,
    )
    scheduling.draw_collect_undo(draw=again, acting_user=nurse)  # a DELETE and an UPDATE
    _assert_kept_equals_live()
    # Set-based and raw writes (a lab file, a script) keep the counts too.
    Draw.objects.filter(state="scheduled", is_redraw=False).update(
        due_on=TODAY, window_opens_on=TODAY - dt.timedelta(days=7)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE patients_draw SET state = 'cancelled', reason_code = 'duplicate' "
            "WHERE id = (SELECT min(id) FROM patients_draw WHERE state = 'scheduled')"
        )
    make_draw(PatientFactory(oncologist=oncologist), TODAY + dt.timedelta(days=3))
    _assert_kept_equals_live()
    Draw.objects.filter(state="scheduled", accession__isnull=True).delete()
    _assert_kept_equals_live()
    assert not WorklistCount.objects.exclude(n__gte=0).exists()


@pytest.mark.parametrize("asked", [None, "", "1", "2", "3", "9", "0", "-1", "x"])
@pytest.mark.parametrize("section", ["", "due", "overdue", "upcoming", "awaiting", "redraw"])
def test_page_and_rows_as_paginator_would(oncologist, section, asked):
    for i in range(7):  # 7 due now, 5 overdue, none upcoming
        make_draw(PatientFactory(oncologist=oncologist), TODAY + dt.timedelta(days=i % 5))
    for i in range(5):
        make_draw(PatientFactory(oncologist=oncologist), TODAY - dt.timedelta(days=10 + i))
    page = selectors.worklist_page(today=TODAY, section=section, page=asked, page_size=3)
    shown = section or "overdue"  # the first non-empty section in the default order
    assert page.section == shown
    expected_rows = selectors.worklist_rows(section=shown, today=TODAY)
    expected = Paginator(expected_rows, 3).get_page(asked)
    assert page.number == expected.number
    assert [r["id"] for r in page.rows] == [d.pk for d in expected.object_list]
    assert page.counts["due"] == 7
    assert page.counts["overdue"] == 5
    assert [o["id"] for o in page.oncologists] == [oncologist.pk]


def test_the_scan_and_undo_panels_are_read_in_the_same_statement(client, nurse, oncologist):
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    patient = PatientFactory(oncologist=oncologist, mrn="MRN-PANEL1", family_name="Panel")
    scheduling.draws_plan(today=TODAY)
    draw = Draw.objects.get(patient=patient, state="scheduled")
    client.force_login(nurse)
    client.get("/worklist/")  # the first request after login refreshes the idle expiry
    client.post("/worklist/scan/", {"code": "MRN-PANEL1"})
    with CaptureQueriesContext(connection) as ctx:
        html = client.get("/worklist/?section=due").content.decode()
    assert len(ctx.captured_queries) <= 4, [q["sql"][:80] for q in ctx.captured_queries]
    assert 'class="confirm-panel' in html
    assert "PANEL, " in html
    assert f'data-draw="{draw.pk}"' in html
    response = client.post(
        reverse("draw_collect", args=[draw.pk]),
        {
            "accession": "ACC-PANEL-1",
            "collected_at": "24 Nov 2026 11:30",
            "identity_checked": "on",
            "confirmed_patient": str(patient.pk),
        },
    )
    assert response.status_code == 302
    draw.refresh_from_db()
    assert draw.state == "collected"
    with CaptureQueriesContext(connection) as ctx:
        html = client.get("/worklist/?section=awaiting").content.decode()
    assert len(ctx.captured_queries) <= 4, [q["sql"][:80] for q in ctx.captured_queries]
    assert "Undo this collection" in html
    assert "accession ACC-PANEL-1" in html
    assert 'class="confirm-panel' not in html
