"""The worklist in a real browser (UI review, nursefix items 2, 4 and 8).

8. At 800 px every section's row actions stay on screen (the Upcoming table overflowed and
   hid its Actions column behind a horizontal scroll).
4. Mark missed / Cancel draw cannot be sent without a reason the nurse picked.
2. A refused collection comes back as typed, the error next to its field.
"""

import datetime as dt
import os
from pathlib import Path

import pytest

from accounts.roles import Role
from core.clock import clinic_today
from patients.models import Draw
from patients.scheduling import draws_plan
from tests.builders import login
from tests.factories import PatientFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("NURSEFIX_SHOTS", "test-artifacts/screenshots"))


def _click(page, locator) -> None:
    with page.expect_navigation():
        locator.click()
    page.wait_for_load_state("networkidle")


@pytest.fixture
def cohort():
    """Upcoming, due and overdue draws with long names (the widest rows)."""
    onc = UserFactory(username="dr_wide", role=Role.ONCOLOGIST, first_name="Christine",
                      last_name="Hall-Montgomery")  # fmt: skip
    today = clinic_today()
    for i, (family, given, start) in enumerate(
        [
            ("Featherstonehaugh", "Bartholomew-Anne", today + dt.timedelta(days=9)),
            ("Vandersteen", "Marie-Christine", today + dt.timedelta(days=12)),
            ("Okonkwo-Adeyemi", "Chidinma", today),
            ("Kowalczyk", "Katarzyna", today - dt.timedelta(days=20)),
        ]
    ):
        PatientFactory(
            mrn=f"DEMO-0001{i:02d}",
            family_name=family,
            given_name=given,
            date_of_birth=dt.date(1950 + i, 5, 26),
            oncologist=onc,
            surveillance_start_on=start,
        )
    draws_plan()
    late = Draw.objects.get(patient__family_name="Kowalczyk", state="scheduled")
    due = today - dt.timedelta(days=20)
    Draw.objects.filter(pk=late.pk).update(
        planned_on=due,
        due_on=due,
        window_opens_on=due - dt.timedelta(days=7),
        window_closes_on=due + dt.timedelta(days=7),
    )
    UserFactory(username="nurse_wide", role=Role.NURSE)


@pytest.mark.parametrize("width", [800, 1366])
@pytest.mark.parametrize("section", ["upcoming", "due", "overdue"])
def test_row_actions_stay_on_screen(browser, live_server, cohort, width, section):
    context = browser.new_context(
        viewport={"width": width, "height": 1000}, base_url=live_server.url
    )
    page = context.new_page()
    try:
        login(page, "nurse_wide")
        page.goto(f"/worklist/?section={section}")
        page.wait_for_load_state("networkidle")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"worklist-{section}-{width}.png"), full_page=True)
        buttons = page.locator("table.worklist button")
        assert buttons.count() >= 2
        for i in range(buttons.count()):
            box = buttons.nth(i).bounding_box()
            assert box is not None
            assert box["x"] >= 0, box
            assert box["x"] + box["width"] <= width, (buttons.nth(i).inner_text(), box)
        wrap = page.locator(".table-wrap")
        assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "table scrolls sideways"
    finally:
        context.close()


def test_missed_needs_a_picked_reason(page, cohort):
    login(page, "nurse_wide")
    page.goto("/worklist/?section=due")
    page.locator("button.more").first.click()
    dialog = page.get_by_role("dialog")
    miss = dialog.locator("#miss-reason")
    assert miss.evaluate("s => s.value") == ""
    assert dialog.locator("#cancel-reason").evaluate("s => s.value") == ""
    dialog.get_by_role("button", name="Mark missed").click()  # the browser refuses it
    page.wait_for_timeout(300)
    assert miss.evaluate("s => !s.checkValidity()")
    assert not Draw.objects.filter(state="missed").exists()
    miss.select_option("did_not_attend")
    _click(page, dialog.get_by_role("button", name="Mark missed"))
    message = page.locator(".msg-success").inner_text()
    assert "Draw marked missed; the next draw is planned." in message
    assert "OKONKWO-ADEYEMI, Chidinma: next draw due" in message
    page.screenshot(path=str(SHOTS / "worklist-missed-message.png"), full_page=True)


def test_a_refused_collection_keeps_what_was_typed(page, cohort):
    taken = Draw.objects.get(patient__family_name="Vandersteen", state="scheduled")
    today = clinic_today()
    Draw.objects.filter(pk=taken.pk).update(
        state="collected",
        accession="ACC-TAKEN",
        collected_at=dt.datetime.combine(today, dt.time(0, 5), tzinfo=dt.UTC),
        collected_on=today,
    )
    login(page, "nurse_wide")
    page.goto("/worklist/?section=due")
    _click(page, page.get_by_role("button", name="Collect for OKONKWO-ADEYEMI, Chidinma"))
    panel = page.locator(".confirm-panel")
    panel.get_by_label("Tube accession").fill("ACC-TAKEN")
    from django.utils import timezone

    at = timezone.localtime() - dt.timedelta(minutes=2)
    typed = f"{at.day} {at:%b %Y %H:%M}"
    panel.get_by_label("Collected at").fill(typed)
    panel.get_by_label("I have checked name and date of birth with the patient").check()
    _click(page, panel.get_by_role("button", name="Save collection"))
    panel = page.locator(".confirm-panel")
    assert panel.get_by_label("Tube accession").input_value() == "ACC-TAKEN"
    assert panel.get_by_label("Collected at").input_value() == typed  # not reset to now
    error = panel.locator("#collect-accession-error").inner_text()
    assert error == "This accession is already used by another draw."
    assert panel.get_by_label("I have checked name and date of birth with the patient").is_checked()
    page.screenshot(path=str(SHOTS / "worklist-collect-refused.png"), full_page=True)
    panel.get_by_label("Tube accession").fill("ACC-WIDE-1")
    _click(page, panel.get_by_role("button", name="Save collection"))
    assert Draw.objects.filter(accession="ACC-WIDE-1").count() == 1
    assert f"Time of collection: {typed}." in page.locator(".collected-panel").inner_text()


@pytest.fixture
def waiting(cohort):
    """A retracted result, a fresh collection, and a redraw after a QC failure."""
    from liquidbiopsy.models import LabReport

    lab = UserFactory(username="lab_wide", role=Role.LAB)
    today = clinic_today()
    tz = dt.UTC

    def take(family, days_ago, accession, **extra):
        draw = Draw.objects.get(patient__family_name=family, state="scheduled")
        day = today - dt.timedelta(days=days_ago)
        Draw.objects.filter(pk=draw.pk).update(
            state=extra.pop("state", "collected"),
            accession=accession,
            collected_at=dt.datetime.combine(day, dt.time(9, 30), tzinfo=tz),
            collected_on=day,
            due_on=day,
            planned_on=day,
            window_opens_on=day - dt.timedelta(days=7),
            window_closes_on=day + dt.timedelta(days=7),
            **extra,
        )
        return Draw.objects.get(pk=draw.pk)

    retracted = take("Vandersteen", 40, "ACC-RETRACT")
    LabReport.objects.create(
        lab_account=lab,
        report_id="G360-2026-000777",
        version=2,
        status="cancelled",
        draw=retracted,
        patient=retracted.patient,
        assay="Guardant360 CDx",
        qc_status="pass",
        collected_on=retracted.collected_on,
        reported_on=today - dt.timedelta(days=30),
        payload={},
        payload_sha256="0" * 64,
        received_at=dt.datetime.combine(today - dt.timedelta(days=30), dt.time(12), tzinfo=tz),
    )
    take("Featherstonehaugh", 3, "ACC-FRESH")
    failed = take("Kowalczyk", 10, "ACC-QCFAIL", state="failed", reason_code="qc_fail")
    draws_plan(patient_ids=[failed.patient_id])
    return {"retracted": retracted, "failed": failed}


@pytest.mark.parametrize("width", [1366, 800])
def test_awaiting_and_redraw_rows_say_why(browser, live_server, waiting, width):
    context = browser.new_context(
        viewport={"width": width, "height": 1000}, base_url=live_server.url
    )
    page = context.new_page()
    try:
        login(page, "nurse_wide")
        page.goto("/worklist/?section=awaiting")
        page.wait_for_load_state("networkidle")
        row = page.locator(f"#draw-{waiting['retracted'].pk}")
        assert "Result retracted by the lab on" in row.inner_text()
        assert "(report G360-2026-000777)" in row.inner_text()
        assert page.get_by_text("Sample lost?").count() == 2  # the fresh one too
        for i in range(2):
            box = page.get_by_text("Sample lost?").nth(i).bounding_box()
            assert box["x"] + box["width"] <= width, box
        page.screenshot(path=str(SHOTS / f"worklist-awaiting-{width}.png"), full_page=True)
        page.goto("/worklist/?section=redraw")
        page.wait_for_load_state("networkidle")
        failed_on = waiting["failed"].collected_on
        assert (
            f"Sample failed QC: sample of {failed_on.day} {failed_on:%b %Y} (ACC-QCFAIL)."
            in page.locator("table.worklist").inner_text()
        )
        page.screenshot(path=str(SHOTS / f"worklist-redraw-{width}.png"), full_page=True)
    finally:
        context.close()


def test_a_rescan_after_a_collection_asks_before_the_next_draw(page, cohort):
    login(page, "nurse_wide")
    page.goto("/worklist/?section=due")
    _click(page, page.get_by_role("button", name="Collect for OKONKWO-ADEYEMI, Chidinma"))
    panel = page.locator(".confirm-panel")
    panel.get_by_label("Tube accession").fill("ACC-TWICE")
    panel.get_by_label("I have checked name and date of birth with the patient").check()
    _click(page, panel.get_by_role("button", name="Save collection"))
    page.locator("#scan-code").fill("DEMO-000102")
    _click(page, page.get_by_role("button", name="Find"))
    panel = page.locator(".confirm-panel")
    assert "Already collected today at" in panel.inner_text()
    assert "accession ACC-TWICE" in panel.inner_text()
    assert panel.get_by_label("Tube accession").count() == 0
    page.screenshot(path=str(SHOTS / "worklist-rescan-1366.png"), full_page=True)
    page.set_viewport_size({"width": 800, "height": 1000})
    page.screenshot(path=str(SHOTS / "worklist-rescan-800.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 860})
    _click(page, panel.get_by_role("button", name="Collect her next draw early"))
    assert page.locator(".confirm-panel").get_by_label("Tube accession").is_visible()
    assert "Early:" in page.locator(".confirm-panel").inner_text()


def test_the_record_anyway_tick_follows_the_typed_time(page, cohort):
    """With JavaScript the tick appears as the time is typed, naming that date and the
    window, and one save records the collection."""
    login(page, "nurse_wide")
    page.goto("/worklist/?section=due")
    _click(page, page.get_by_role("button", name="Collect for OKONKWO-ADEYEMI, Chidinma"))
    panel = page.locator(".confirm-panel")
    confirm = panel.locator(".outside-confirm")
    assert not confirm.is_visible()  # today is inside the window
    back = clinic_today() - dt.timedelta(days=40)
    typed = f"{back.day} {back:%b %Y} 09:30"
    panel.get_by_label("Collected at").fill(typed)
    assert confirm.is_visible()
    assert f"Record anyway: collected {typed}, before this draw's window (" in confirm.inner_text()
    panel.get_by_label("Tube accession").fill("ACC-LIVE-1")
    panel.get_by_label("I have checked name and date of birth with the patient").check()
    page.screenshot(path=str(SHOTS / "worklist-live-confirm.png"), full_page=True)
    panel.get_by_role("button", name="Save collection").click()
    page.wait_for_timeout(300)
    assert not Draw.objects.filter(accession="ACC-LIVE-1").exists()  # the tick is required
    confirm.get_by_role("checkbox").check()
    # Back inside the window: the tick goes away again and is not sent.
    today = clinic_today()
    panel.get_by_label("Collected at").fill(f"{today.day} {today:%b %Y} 08:00")
    assert not confirm.is_visible()
    panel.get_by_label("Collected at").fill(typed)
    assert not confirm.get_by_role("checkbox").is_checked()
    confirm.get_by_role("checkbox").check()
    _click(page, panel.get_by_role("button", name="Save collection"))
    assert Draw.objects.get(accession="ACC-LIVE-1").collected_on == back
