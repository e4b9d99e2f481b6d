"""The collect form on the worklist (UI review, nursefix items 1, 2 and 5).

1. A collection time outside the draw's window (before it opens, or long after it closes)
   is saved only with a confirmation that names that date and the window; the early
   warning compares the window with the typed time, not today; the "Collected" panel says
   when the sample was taken.
2. A refused save shows the form again as typed, the error next to its field.
5. A patient scanned again just after her collection is said to be collected today (time,
   accession); her next draw is offered only after an explicit choice to collect it early.
"""

import datetime as dt
import html as html_lib
import re
import zoneinfo

import pytest
import time_machine

from patients.models import Draw
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
LONDON = zoneinfo.ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 12, 3, 8, 20, tzinfo=LONDON)  # Thursday 3 Dec 2026
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def _clinic_now():
    with time_machine.travel(NOW, tick=False):
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
def due_draw(oncologist):
    """Window 30 Nov - 14 Dec 2026: open today."""
    patient = PatientFactory(
        mrn="MRN-K164",
        family_name="Kowalski",
        given_name="Katya",
        oncologist=oncologist,
        date_of_birth=dt.date(1952, 3, 18),
    )
    return make_draw(patient, dt.date(2026, 12, 7))


def _collect(client, draw, **extra):
    body = {
        "accession": "ACC-NF-1",
        "collected_at": "3 Dec 2026 08:15",
        "confirmed_patient": draw.patient_id,
        "identity_checked": "on",
        "next": "/worklist/",
    }
    body.update(extra)
    return client.post(f"/draws/{draw.pk}/collect/", body)


def _panel(client) -> str:
    page = client.get("/worklist/").content.decode()
    assert 'class="confirm-panel' in page, "no confirmation panel"
    return html_lib.unescape(page.split('class="confirm-panel', 1)[1].split("</section>", 1)[0])


def _text(fragment: str) -> str:
    text = " ".join(re.sub(r"<[^>]+>", " ", fragment).split())
    return re.sub(r" ([.,:;)])", r"\1", text)


def test_a_collection_back_dated_before_the_window_is_refused_naming_date_and_window(
    client, nurse, due_draw
):
    client.force_login(nurse)
    _collect(client, due_draw, collected_at="20 Oct 2026 09:30")
    due_draw.refresh_from_db()
    assert due_draw.state == "scheduled"
    panel = _text(_panel(client))
    assert "Collected 20 Oct 2026 09:30 is before this draw's window opens" in panel
    assert "30 Nov 2026 \u2013 14 Dec 2026" in panel
    assert "Record anyway: collected 20 Oct 2026 09:30, before this draw's window" in panel


def test_the_confirmation_names_the_date_and_covers_only_that_date(client, nurse, due_draw):
    client.force_login(nurse)
    _collect(client, due_draw, collected_at="20 Oct 2026 09:30")
    raw = _panel(client)
    assert 'name="early_ok" value="2026-10-20"' in raw
    # A tick given for another day (the page's first time, today) does not cover 20 Oct.
    _collect(client, due_draw, collected_at="20 Oct 2026 09:30", early_ok="on")
    _collect(client, due_draw, collected_at="20 Oct 2026 09:30", early_ok="2026-10-21")
    due_draw.refresh_from_db()
    assert due_draw.state == "scheduled"
    _collect(client, due_draw, collected_at="20 Oct 2026 09:30", early_ok="2026-10-20")
    due_draw.refresh_from_db()
    assert due_draw.state == "collected"
    assert due_draw.collected_on == dt.date(2026, 10, 20)


def test_a_collection_long_after_the_window_closed_needs_the_same_confirmation(
    client, nurse, oncologist
):
    draw = make_draw(PatientFactory(oncologist=oncologist), dt.date(2026, 11, 9))  # closed 16 Nov
    client.force_login(nurse)
    _collect(client, draw, collected_at="3 Dec 2026 08:00")  # 17 days after it closed
    draw.refresh_from_db()
    assert draw.state == "scheduled"
    panel = _text(_panel(client))
    assert "Collected 3 Dec 2026 08:00 is 17 days after this draw's window closed" in panel
    _collect(client, draw, collected_at="3 Dec 2026 08:00", early_ok="2026-12-03")
    draw.refresh_from_db()
    assert draw.state == "collected"


def test_a_collection_a_few_days_after_the_window_needs_no_confirmation(client, nurse, oncologist):
    draw = make_draw(PatientFactory(oncologist=oncologist), dt.date(2026, 11, 20))  # closed 27 Nov
    client.force_login(nurse)
    _collect(client, draw)
    draw.refresh_from_db()
    assert draw.state == "collected"


def test_the_early_warning_compares_the_typed_time_with_the_window(client, nurse, oncologist):
    """Today the window is open (no warning at first); a typed time before it is early."""
    draw = make_draw(PatientFactory(oncologist=oncologist), dt.date(2026, 12, 7))
    client.force_login(nurse)
    client.post("/worklist/scan/", {"draw": draw.pk})
    assert "Early:" not in _panel(client)
    _collect(client, draw, collected_at="27 Nov 2026 10:00")
    panel = _text(_panel(client))
    assert "Early: collected 27 Nov 2026 10:00 is before this draw's window opens on 30 Nov" in (
        panel
    )


def test_an_upcoming_draw_collected_now_still_needs_the_early_tick(client, nurse, oncologist):
    draw = make_draw(PatientFactory(oncologist=oncologist), dt.date(2026, 12, 15))  # opens 8 Dec
    client.force_login(nurse)
    client.post("/worklist/scan/", {"draw": draw.pk})
    panel = _panel(client)
    assert "Early:" in panel
    assert 'name="early_ok" value="2026-12-03"' in panel
    _collect(client, draw)
    draw.refresh_from_db()
    assert draw.state == "scheduled"
    _collect(client, draw, early_ok="2026-12-03")
    draw.refresh_from_db()
    assert draw.state == "collected"


def test_the_collected_panel_shows_the_time_of_collection(client, nurse, due_draw):
    client.force_login(nurse)
    _collect(client, due_draw, collected_at="3 Dec 2026 07:55")
    page = html_lib.unescape(client.get("/worklist/").content.decode())
    assert "Collected for KOWALSKI, Katya, accession ACC-NF-1." in page
    assert "Time of collection: 3 Dec 2026 07:55." in page


def test_a_refused_collection_comes_back_as_typed_with_the_error_at_its_field(
    client, nurse, due_draw, oncologist
):
    make_draw(
        PatientFactory(oncologist=oncologist),
        dt.date(2026, 11, 20),
        state="collected",
        accession="ACC-TAKEN",
        collected_at=dt.datetime(2026, 11, 20, 9, tzinfo=LONDON),
        collected_on=dt.date(2026, 11, 20),
    )
    client.force_login(nurse)
    client.post("/worklist/scan/", {"code": "MRN-K164"})
    _collect(client, due_draw, accession="ACC-TAKEN", collected_at="3 Dec 2026 07:40")
    raw = _panel(client)
    assert 'name="accession" class="accession" value="ACC-TAKEN"' in raw
    assert 'name="collected_at" value="3 Dec 2026 07:40"' in raw  # not reset to now
    accession_field = raw.split('id="collect-accession"', 1)[1].split("</p>", 1)[0]
    assert "This accession is already used by another draw." in accession_field
    assert 'aria-invalid="true"' in accession_field
    assert "autofocus" in accession_field


def test_a_future_time_comes_back_as_typed_with_its_error(client, nurse, due_draw):
    client.force_login(nurse)
    _collect(client, due_draw, collected_at="3 Dec 2026 11:40")
    raw = _panel(client)
    time_field = raw.split('id="collect-at"', 1)[1].split("</p>", 1)[0]
    assert 'value="3 Dec 2026 11:40"' in time_field
    assert "Collection time cannot be in the future." in time_field
    assert 'value="ACC-NF-1"' in raw


def test_an_unreadable_time_comes_back_as_typed(client, nurse, due_draw):
    client.force_login(nurse)
    _collect(client, due_draw, collected_at="03/12/2026 08:00")
    time_field = _panel(client).split('id="collect-at"', 1)[1].split("</p>", 1)[0]
    assert 'value="03/12/2026 08:00"' in time_field
    assert "Enter a date and time like 2 Dec 2026 14:05." in time_field


def test_a_date_in_a_refusal_is_in_the_house_format(client, nurse, due_draw):
    make_draw(
        due_draw.patient,
        dt.date(2026, 10, 12),
        state="resulted",
        accession="ACC-PREV",
        collected_at=dt.datetime(2026, 10, 12, 9, tzinfo=LONDON),
        collected_on=dt.date(2026, 10, 12),
    )
    client.force_login(nurse)
    _collect(client, due_draw, collected_at="1 Oct 2026 09:00", early_ok="2026-10-01")
    panel = _text(_panel(client))
    assert "previous collection (12 Oct 2026)" in panel
    assert "2026-10-12" not in panel


def test_a_patient_scanned_again_after_her_collection_is_said_to_be_collected(
    client, nurse, due_draw
):
    client.force_login(nurse)
    client.post("/worklist/scan/", {"code": "MRN-K164"})
    _collect(client, due_draw, collected_at="3 Dec 2026 08:05", accession="ACC-TODAY")
    next_draw = Draw.objects.get(patient=due_draw.patient, state="scheduled")
    client.post("/worklist/scan/", {"code": "MRN-K164"})
    raw = _panel(client)
    text = _text(raw)
    assert "Already collected today at 08:05, accession ACC-TODAY." in text
    assert "her next draw" in text
    assert 'name="accession"' not in raw  # no collect form until she chooses
    # The explicit choice shows the form, with the early confirmation still required.
    client.post("/worklist/scan/", {"draw": next_draw.pk, "next_early": "1"})
    raw = _panel(client)
    assert 'name="accession"' in raw
    assert "Early:" in raw
    assert 'name="early_ok"' in raw


def test_after_an_undo_the_open_draw_is_offered_as_usual(client, nurse, due_draw):
    client.force_login(nurse)
    _collect(client, due_draw, collected_at="3 Dec 2026 08:05", accession="ACC-UNDO")
    client.post(f"/draws/{due_draw.pk}/undo-collect/", {"next": "/worklist/"})
    client.post("/worklist/scan/", {"code": "MRN-K164"})
    raw = _panel(client)
    assert "Already collected" not in raw
    assert 'name="accession"' in raw
