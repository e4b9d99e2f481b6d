"""What the worklist's rows and actions say (UI review, nursefix items 3, 4, 6, 7 and 9).

3. "Sample lost?" is offered for every collected draw (less prominent before 14 days).
4. Missed and cancelled need a reason the nurse picks (none preselected); the message names
   the patient and her next due date.
6. A draw whose report the lab cancelled says so, with the date and the report id.
7. A redraw row says which sample failed, when, and why.
9. Overdue rows say when the window closed; the last day of a window says so.
"""

import datetime as dt
import html as html_lib
import re
import zoneinfo

import pytest
import time_machine

from liquidbiopsy.models import LabReport
from patients.models import Draw
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
LONDON = zoneinfo.ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=LONDON)  # Thursday 3 Dec 2026
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


def collected(patient, day: dt.date, accession: str, **extra) -> Draw:
    return make_draw(
        patient,
        day,
        state=extra.pop("state", "collected"),
        accession=accession,
        collected_at=dt.datetime.combine(day, dt.time(9, 30), tzinfo=LONDON),
        collected_on=day,
        **extra,
    )


def _page(client, section: str) -> str:
    html = html_lib.unescape(client.get(f"/worklist/?section={section}").content.decode())
    return re.sub(r"\s+", " ", html)


def _row(html: str, draw) -> str:
    return html.split(f'id="draw-{draw.pk}"', 1)[1].split("</tr>", 1)[0]


def _text(fragment: str) -> str:
    return re.sub(r" ([.,:;)])", r"\1", " ".join(re.sub(r"<[^>]+>", " ", fragment).split()))


# --- 3. Sample lost? ---------------------------------------------------------------------


def test_sample_lost_is_offered_for_a_draw_collected_three_days_ago(client, nurse, oncologist):
    recent = collected(PatientFactory(oncologist=oncologist), TODAY - dt.timedelta(days=3), "A-3")
    old = collected(PatientFactory(oncologist=oncologist), TODAY - dt.timedelta(days=20), "A-20")
    client.force_login(nurse)
    html = _page(client, "awaiting")
    recent_row, old_row = _row(html, recent), _row(html, old)
    assert f'action="/draws/{recent.pk}/lost/"' in recent_row
    assert f'action="/draws/{old.pk}/lost/"' in old_row
    # Before the flag it is there but quieter: not the flagged row's call to action.
    assert "lost-quiet" in recent_row
    assert "lost-quiet" not in old_row


def test_sample_lost_is_offered_in_the_panel_for_a_recent_collection(client, nurse, oncologist):
    draw = collected(PatientFactory(oncologist=oncologist), TODAY - dt.timedelta(days=2), "A-2")
    client.force_login(nurse)
    client.post("/worklist/scan/", {"code": "A-2"})
    panel = _page(client, "awaiting").split('class="confirm-panel', 1)[1].split("</section>")[0]
    assert f'action="/draws/{draw.pk}/lost/"' in panel


# --- 4. Missed and cancelled ---------------------------------------------------------------


def test_the_dialog_preselects_no_reason(client, nurse, oncologist):
    make_draw(PatientFactory(oncologist=oncologist), TODAY)
    client.force_login(nurse)
    html = _page(client, "due")
    for select_id in ("miss-reason", "cancel-reason"):
        select = html.split(f'id="{select_id}"', 1)[1].split("</select>", 1)[0]
        assert "required" in select.split(">", 1)[0]
        first = re.search(r"<option value=\"([^\"]*)\"", select).group(1)
        assert first == ""
        assert "selected" not in select


@pytest.mark.parametrize("action", ["miss", "cancel"])
def test_missed_or_cancelled_without_a_reason_is_refused(client, nurse, oncologist, action):
    draw = make_draw(PatientFactory(oncologist=oncologist), TODAY)
    client.force_login(nurse)
    response = client.post(f"/draws/{draw.pk}/{action}/", {"reason": ""}, follow=True)
    assert "Choose a reason." in response.content.decode()
    draw.refresh_from_db()
    assert draw.state == "scheduled"


def test_marked_missed_names_the_patient_and_her_next_due_date(client, nurse, oncologist):
    patient = PatientFactory(
        oncologist=oncologist, family_name="Young", given_name="Wendy", surveillance_start_on=TODAY
    )
    draw = make_draw(patient, TODAY)
    client.force_login(nurse)
    response = client.post(f"/draws/{draw.pk}/miss/", {"reason": "unwell"}, follow=True)
    text = _text(html_lib.unescape(response.content.decode()))
    nxt = Draw.objects.get(patient=patient, state="scheduled")
    due = f"{nxt.due_on:%a} {nxt.due_on.day} {nxt.due_on:%b %Y}"
    assert "Draw marked missed; the next draw is planned." in text
    assert f"YOUNG, Wendy: next draw due {due}" in text


def test_cancelled_names_the_patient_and_her_next_due_date(client, nurse, oncologist):
    patient = PatientFactory(
        oncologist=oncologist,
        family_name="Haddad",
        given_name="Ingrid",
        surveillance_start_on=TODAY,
    )
    draw = make_draw(patient, TODAY)
    client.force_login(nurse)
    response = client.post(f"/draws/{draw.pk}/cancel/", {"reason": "duplicate"}, follow=True)
    text = _text(html_lib.unescape(response.content.decode()))
    assert "Draw cancelled; the next draw is planned." in text
    assert "HADDAD, Ingrid: next draw due" in text


# --- 6. A result retracted by the lab ------------------------------------------------------


def _report(draw, lab_user, *, version, status, reported_on, is_current=True):
    return LabReport.objects.create(
        lab_account=lab_user,
        report_id="RPT-77",
        version=version,
        status=status,
        is_current=is_current,
        draw=draw,
        patient=draw.patient,
        assay="Guardant360 CDx",
        qc_status="pass",
        collected_on=draw.collected_on,
        reported_on=reported_on,
        payload={},
        payload_sha256="0" * 64,
        received_at=dt.datetime.combine(reported_on, dt.time(12), tzinfo=LONDON),
    )


def test_an_awaiting_draw_whose_report_was_cancelled_says_retracted(
    client, nurse, oncologist, lab_user
):
    draw = collected(PatientFactory(oncologist=oncologist), dt.date(2026, 3, 1), "A-RET")
    _report(draw, lab_user, version=1, status="final", reported_on=dt.date(2026, 3, 9),
            is_current=False)  # fmt: skip
    _report(draw, lab_user, version=2, status="cancelled", reported_on=dt.date(2026, 3, 20))
    plain = collected(PatientFactory(oncologist=oncologist), dt.date(2026, 11, 1), "A-PLAIN")
    client.force_login(nurse)
    html = _page(client, "awaiting")
    row = _text(_row(html, draw))
    assert "Result retracted by the lab on 20 Mar 2026 (report RPT-77)" in row
    assert "chase the lab" not in row
    assert "retracted" not in _row(html, plain)
    assert "chase the lab" in _row(html, plain)


# --- 7. Why a redraw is needed -------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("qc_fail", "Sample failed QC"),
        ("insufficient", "Insufficient sample"),
        ("sample_lost", "Sample lost"),
    ],
)
def test_a_redraw_row_says_which_sample_failed_and_why(client, nurse, oncologist, reason, words):
    patient = PatientFactory(oncologist=oncologist)
    failed = collected(patient, dt.date(2026, 11, 12), "A-FAIL", state="failed", reason_code=reason)
    redraw = make_draw(patient, TODAY, is_redraw=True, redraw_of=failed)
    client.force_login(nurse)
    row = _text(_row(_page(client, "redraw"), redraw))
    assert f"{words}: sample of 12 Nov 2026 (A-FAIL)" in row


# --- 9. Overdue and last-day rows ----------------------------------------------------------


def test_an_overdue_row_says_when_the_window_closed(client, nurse, oncologist):
    draw = make_draw(PatientFactory(oncologist=oncologist), dt.date(2026, 11, 16))  # closed 23 Nov
    client.force_login(nurse)
    row = _text(_row(_page(client, "overdue"), draw))
    assert "17 days late" in row
    assert "window closed 23 Nov 2026 (10 days ago)" in row


def test_the_last_day_of_a_window_says_it_closes_today(client, nurse, oncologist):
    last_day = make_draw(PatientFactory(oncologist=oncologist), dt.date(2026, 11, 26))
    other = make_draw(PatientFactory(oncologist=oncologist), dt.date(2026, 12, 1))
    client.force_login(nurse)
    html = _page(client, "due")
    assert "window closes today" in _text(_row(html, last_day))
    assert "window closes today" not in _row(html, other)
