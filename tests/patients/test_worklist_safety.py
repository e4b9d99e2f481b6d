"""Worklist safety (issue 13): scan first, confirm the patient, undo, early collection,
rescheduling beyond the window, lost samples, searches kept out of URLs, one date format."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.models import AuditEvent
from patients import scheduling
from patients.forms import DATE_INVALID, ClinicDateField, clinic_day
from patients.models import Draw
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db
LONDON = zoneinfo.ZoneInfo("Europe/London")
TODAY = dt.date(2026, 11, 24)


@pytest.fixture(autouse=True)
def _clinic_today():
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON), tick=False):
        yield


def make_draw(patient, due: dt.date, **extra) -> Draw:
    return Draw.objects.create(
        patient=patient,
        planned_on=due,
        due_on=due,
        window_opens_on=due - dt.timedelta(days=7),
        window_closes_on=due + dt.timedelta(days=7),
        **extra,
    )


@pytest.fixture
def two_due(oncologist):
    first = PatientFactory(
        mrn="MRN-A1",
        family_name="Able",
        given_name="Ann",
        oncologist=oncologist,
        date_of_birth=dt.date(1961, 3, 2),
    )
    second = PatientFactory(
        mrn="MRN-B2",
        family_name="Brook",
        given_name="Bea",
        oncologist=oncologist,
        date_of_birth=dt.date(1958, 7, 9),
    )
    return make_draw(first, TODAY), make_draw(second, TODAY + dt.timedelta(days=1))


def _collect(client, draw, **extra):
    body = {
        "accession": "ACC-T-1",
        "collected_at": "24 Nov 2026 09:15",
        "confirmed_patient": draw.patient_id,
        "identity_checked": "on",
        "next": "/worklist/",
    }
    body.update(extra)
    return client.post(f"/draws/{draw.pk}/collect/", body)


def test_worklist_rows_show_date_of_birth_and_no_row_field_has_focus(client, nurse, two_due):
    client.force_login(nurse)
    html = client.get("/worklist/?section=due").content.decode()
    assert "2 Mar 1961" in html
    assert "9 Jul 1958" in html
    # Only the scan box may take the focus; no row has an accession field at all.
    assert html.count("autofocus") == 1
    assert 'id="scan-code"' in html.split("autofocus")[0].rsplit("<input", 1)[1]
    assert 'name="accession"' not in html


def test_scanning_a_wristband_finds_the_patient_and_asks_for_confirmation(client, nurse, two_due):
    client.force_login(nurse)
    response = client.post("/worklist/scan/", {"code": "MRN-B2", "next": "/worklist/"})
    assert response.status_code == 302
    assert "MRN-B2" not in response.url
    html = client.get("/worklist/").content.decode()
    assert "Confirm the patient, then scan the tube" in html
    assert "BROOK, Bea" in html.split('class="confirm-name"')[1][:40]
    assert "born 9 Jul 1958" in html
    assert f'action="/draws/{two_due[1].pk}/collect/"' in html
    event = AuditEvent.objects.get(action="worklist.scan")
    assert event.patient_id == two_due[1].patient_id


def test_an_unknown_code_finds_nothing_and_writes_nothing(client, nurse, two_due):
    client.force_login(nurse)
    response = client.post("/worklist/scan/", {"code": "MRN-B"}, follow=True)  # a prefix
    assert "Nothing matches the code scanned" in response.content.decode()
    assert "confirm-panel" not in response.content.decode()
    assert not Draw.objects.filter(state="collected").exists()


def test_the_wrong_row_cannot_be_collected_without_confirming_its_patient(client, nurse, two_due):
    """A save must name the patient the nurse confirmed; another row's draw is refused."""
    first, second = two_due
    client.force_login(nurse)
    response = _collect(client, first, confirmed_patient=second.patient_id)
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.state == "scheduled"
    response = _collect(client, first, identity_checked="")
    first.refresh_from_db()
    assert first.state == "scheduled"
    page = client.get("/worklist/").content.decode()
    assert "Confirm the patient&#x27;s name and date of birth before saving." in page


def test_a_wristband_scanned_into_the_tube_field_is_refused(client, nurse, two_due):
    first, _ = two_due
    client.force_login(nurse)
    _collect(client, first, accession="MRN-B2")
    first.refresh_from_db()
    assert first.state == "scheduled"
    assert "not a tube accession: scan the tube" in client.get("/worklist/").content.decode()


def test_early_collection_needs_its_own_confirmation(client, nurse, oncologist):
    draw = make_draw(PatientFactory(oncologist=oncologist), TODAY + dt.timedelta(days=12))
    client.force_login(nurse)
    client.post("/worklist/scan/", {"draw": draw.pk})
    html = client.get("/worklist/?section=upcoming").content.decode()
    assert "Early:" in html
    assert "window opens on 29 Nov 2026" in html
    _collect(client, draw)
    draw.refresh_from_db()
    assert draw.state == "scheduled"
    _collect(client, draw, early_ok="on")
    draw.refresh_from_db()
    assert draw.state == "collected"


def test_undo_reopens_the_draw_and_removes_the_planned_next_one(client, nurse, two_due):
    first, _ = two_due
    client.force_login(nurse)
    _collect(client, first)
    assert Draw.objects.filter(patient=first.patient, state="scheduled").count() == 1
    response = client.post(f"/draws/{first.pk}/undo-collect/", {"next": "/worklist/"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert (first.state, first.accession, first.collected_at) == ("scheduled", None, None)
    assert list(Draw.objects.filter(patient=first.patient)) == [first]
    assert AuditEvent.objects.filter(action="draw.collect_undo").count() == 1
    # The accession is free again for the right patient.
    _collect(client, first)
    first.refresh_from_db()
    assert first.state == "collected"


def test_undo_is_refused_late_or_by_another_nurse(client, nurse, two_due):
    first, _ = two_due
    client.force_login(nurse)
    _collect(client, first)
    first.refresh_from_db()
    other = UserFactory(username="nurse_two", role="nurse")
    with pytest.raises(scheduling.NotEligible, match="Only the nurse"):
        scheduling.draw_collect_undo(draw=first, acting_user=other)
    later = dt.datetime(2026, 11, 24, 12, 11, tzinfo=LONDON)
    with time_machine.travel(later, tick=False):
        with pytest.raises(scheduling.NotEligible, match="no longer be undone"):
            scheduling.draw_collect_undo(draw=first, acting_user=nurse)
        page = client.get("/worklist/").content.decode()
        assert "Undo this collection" not in page
    first.refresh_from_db()
    assert first.state == "collected"


def test_reschedule_inside_the_window_needs_no_reason(nurse, two_due):
    first, _ = two_due
    scheduling.draw_reschedule(draw=first, due_on=TODAY + dt.timedelta(days=3), acting_user=nurse)
    first.refresh_from_db()
    assert first.due_on == TODAY + dt.timedelta(days=3)
    assert first.window_closes_on == TODAY + dt.timedelta(days=7)


def test_reschedule_beyond_the_window_needs_a_reason_and_moves_the_window(nurse, two_due):
    first, _ = two_due
    target = TODAY + dt.timedelta(days=20)
    with pytest.raises(scheduling.ValidationError) as exc:
        scheduling.draw_reschedule(draw=first, due_on=target, acting_user=nurse)
    assert set(exc.value.message_dict) == {"reason"}
    with pytest.raises(scheduling.ValidationError) as exc:
        scheduling.draw_reschedule(draw=first, due_on=target, reason="other", acting_user=nurse)
    assert exc.value.message_dict == {"comment": [scheduling.NOTE_REQUIRED]}
    scheduling.draw_reschedule(
        draw=first, due_on=target, reason="patient_request", acting_user=nurse
    )
    first.refresh_from_db()
    assert (first.due_on, first.window_opens_on, first.window_closes_on) == (
        target,
        target - dt.timedelta(days=7),
        target + dt.timedelta(days=7),
    )
    event = AuditEvent.objects.get(action="draw.reschedule")
    assert event.detail["reason"] == "patient_request"


def test_reschedule_is_limited_to_one_interval(nurse, two_due):
    first, _ = two_due
    with pytest.raises(scheduling.ValidationError) as exc:
        scheduling.draw_reschedule(
            draw=first,
            due_on=TODAY + dt.timedelta(weeks=9),
            reason="patient_request",
            acting_user=nurse,
        )
    assert "mark it missed instead" in exc.value.message_dict["due_on"][0]


def test_reschedule_from_the_page_takes_the_clinic_date_format(client, nurse, two_due):
    first, _ = two_due
    client.force_login(nurse)
    response = client.post(
        f"/draws/{first.pk}/reschedule/",
        {"due_on": "15 Dec 2026", "reason": "align_with_visit", "next": "/worklist/"},
        follow=True,
    )
    assert "Draw rescheduled to 15 Dec 2026." in response.content.decode()
    response = client.post(f"/draws/{first.pk}/reschedule/", {"due_on": "12/02/2026"}, follow=True)
    assert "Enter a date like 2 Dec 2026" in response.content.decode()


def test_a_lost_sample_becomes_a_redraw(client, nurse, oncologist):
    patient = PatientFactory(oncologist=oncologist)
    lost = make_draw(
        patient,
        TODAY - dt.timedelta(days=20),
        state="collected",
        collected_at=dt.datetime(2026, 11, 4, 9, tzinfo=LONDON),
        collected_on=dt.date(2026, 11, 4),
        accession="ACC-LOST",
    )
    make_draw(patient, TODAY + dt.timedelta(days=36))
    client.force_login(nurse)
    html = client.get("/worklist/?section=awaiting").content.decode()
    assert "Sample lost: plan a redraw" in html
    response = client.post(
        f"/draws/{lost.pk}/lost/", {"comment": "Not received by the lab"}, follow=True
    )
    assert "Sample reported lost; a redraw is due now." in response.content.decode()
    lost.refresh_from_db()
    assert (lost.state, lost.reason_code, lost.reason_note) == (
        "failed",
        "sample_lost",
        "Not received by the lab",
    )
    open_draws = Draw.objects.filter(patient=patient, state="scheduled")
    assert [d.is_redraw for d in open_draws] == [True]


def test_lost_is_refused_for_an_open_draw(nurse, two_due):
    with pytest.raises(scheduling.NotEligible):
        scheduling.draw_mark_sample_lost(draw=two_due[0], acting_user=nurse)


def test_scanning_an_accession_finds_the_collected_draw(client, nurse, two_due):
    first, _ = two_due
    client.force_login(nurse)
    _collect(client, first)
    client.post("/worklist/scan/", {"code": "ACC-T-1"})
    html = client.get("/worklist/").content.decode()
    assert "Draw found" in html
    assert "awaiting its result" in html


def test_patient_search_never_puts_the_name_in_a_url(client, nurse):
    PatientFactory(family_name="Zebedee")
    client.force_login(nurse)
    response = client.get("/patients/?q=Zebedee")  # an old link is turned into a saved search
    assert response.status_code == 302
    assert "Zebedee" not in response.url
    html = client.get(response.url).content.decode()
    assert "ZEBEDEE" in html
    assert 'method="post"' in html.split('role="search"')[0].rsplit("<form", 1)[1]


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
@settings(max_examples=200, deadline=None)
def test_clinic_dates_read_back_as_the_same_day(day):
    """Whatever the date, the clinic format parses back to the same day (no d/m swap)."""
    field = ClinicDateField()
    assert field.clean(clinic_day(day)) == day
    assert field.clean(day.isoformat()) == day


@pytest.mark.parametrize("text", ["12/02/2026", "02/12/2026", "2026/12/02", "2 13 2026"])
def test_numeric_day_month_orders_are_refused(text):
    with pytest.raises(Exception, match="Enter a date like") as exc:
        ClinicDateField().clean(text)
    assert DATE_INVALID in str(exc.value)
