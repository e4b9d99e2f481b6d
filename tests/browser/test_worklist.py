"""The nurse works the worklist in a real browser: a scanner types a code + Enter.

Scan first: the wristband finds the patient, name and date of birth are confirmed, then the
tube is scanned. A tube scanned with no patient confirmed goes nowhere; it can never be
recorded against whatever row happens to be first.
"""

import datetime as dt

import pytest

from accounts.roles import Role
from core.clock import clinic_today
from patients.models import Draw
from patients.scheduling import draws_plan
from tests.builders import login
from tests.factories import PatientFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def due_patients():
    onc = UserFactory(username="dr_olga", role=Role.ONCOLOGIST)
    today = clinic_today()
    patients = [
        PatientFactory(
            mrn=f"MRN-W{i}",
            family_name=name,
            given_name="Test",
            date_of_birth=dt.date(1960 + i, 3, 2),
            oncologist=onc,
            surveillance_start_on=today - dt.timedelta(days=i),
        )
        for i, name in enumerate(["Able", "Brook", "Cole"])
    ]
    draws_plan()
    return patients


def _scan(page, code: str) -> None:
    """What a barcode scanner does: type the code, then Enter (which submits)."""
    page.keyboard.type(code)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")


def _click(page, locator) -> None:
    with page.expect_navigation():
        locator.click()
    page.wait_for_load_state("networkidle")


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_scan_first_collection_cannot_land_on_the_wrong_row(page, due_patients):
    able, brook, _ = due_patients
    UserFactory(username="nurse_nina", role=Role.NURSE)
    login(page, "nurse_nina")
    assert page.url.endswith("/worklist/")
    assert page.locator(".tab-due .tab-count").inner_text() == "3"
    assert _focused_id(page) == "scan-code"  # the scan box, not row 1
    assert page.locator("table.worklist input[name=accession]").count() == 0

    # A tube scanned before any patient: nothing is found and nothing is recorded.
    _scan(page, "ACC-SCAN-001")
    assert page.get_by_text("Nothing matches the code scanned").is_visible()
    assert not Draw.objects.filter(accession="ACC-SCAN-001").exists()
    assert _focused_id(page) == "scan-code"

    # The wristband of the second row's patient: her draw is found and shown to confirm.
    _scan(page, brook.mrn)
    panel = page.locator(".confirm-panel")
    assert panel.locator(".confirm-name").inner_text() == "BROOK, Test"
    assert "born 2 Mar 1961" in panel.inner_text()
    assert _focused_id(page) == "collect-accession"
    page.screenshot(path="test-artifacts/screenshots/worklist-confirm-panel.png", full_page=True)

    # The tube scanned at once (Enter) does not save until name and birth date are ticked.
    page.keyboard.type("ACC-SCAN-001")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert not Draw.objects.filter(accession="ACC-SCAN-001").exists()
    panel.get_by_label("I have checked name and date of birth with the patient").check()
    _click(page, panel.get_by_role("button", name="Save collection"))

    collected = Draw.objects.get(accession="ACC-SCAN-001")
    assert collected.patient_id == brook.pk  # not Able, the first row
    assert Draw.objects.get(patient=able, state="scheduled").accession is None
    status = page.locator(".collected-panel")
    assert "Collected for BROOK, Test, accession ACC-SCAN-001. Next draw due" in status.inner_text()
    assert _focused_id(page) == "scan-code"  # ready for the next patient
    assert page.locator(".tab-due .tab-count").inner_text() == "2"
    assert page.locator(".tab-awaiting .tab-count").inner_text() == "1"

    # Undo within the undo time: her draw is open again, the planned next one removed.
    _click(page, status.get_by_role("button", name="Undo this collection"))
    assert page.get_by_text("Collection undone").is_visible()
    assert Draw.objects.filter(patient=brook).count() == 1
    assert Draw.objects.get(patient=brook).state == "scheduled"


def test_row_collect_button_opens_the_same_confirmation(page, due_patients):
    UserFactory(username="nurse_nina", role=Role.NURSE)
    login(page, "nurse_nina")
    _click(page, page.get_by_role("button", name="Collect for COLE, Test"))
    assert page.locator(".confirm-panel .confirm-name").inner_text() == "COLE, Test"
    _click(page, page.get_by_role("button", name="Not this patient: cancel"))
    assert page.locator(".confirm-panel").count() == 0


def test_nurse_marks_a_draw_missed_from_the_dialog(page, due_patients):
    UserFactory(username="nurse_nina", role=Role.NURSE)
    login(page, "nurse_nina")
    page.locator("button.more").first.click()
    dialog = page.get_by_role("dialog")
    assert dialog.is_visible()
    dialog.get_by_label("Reason").nth(1).select_option("unwell")
    _click(page, dialog.get_by_role("button", name="Mark missed"))
    assert page.get_by_text("Draw marked missed; the next draw is planned.").is_visible()
    assert Draw.objects.filter(state="missed", reason_code="unwell").count() == 1


def test_nurse_reschedules_beyond_the_window_with_a_reason(page, due_patients):
    UserFactory(username="nurse_nina", role=Role.NURSE)
    login(page, "nurse_nina")
    page.locator("button.more").first.click()
    dialog = page.get_by_role("dialog")
    target = clinic_today() + dt.timedelta(days=21)
    dialog.get_by_label("New date").fill(f"{target.day} {target:%b %Y}")
    _click(page, dialog.get_by_role("button", name="Reschedule"))
    assert "needs a reason" in page.locator(".msg-error").inner_text()
    page.locator("button.more").first.click()
    dialog.get_by_label("New date").fill(f"{target.day} {target:%b %Y}")
    dialog.get_by_label("Reason").first.select_option("patient_request")
    _click(page, dialog.get_by_role("button", name="Reschedule"))
    assert page.get_by_text(f"Draw rescheduled to {target.day} {target:%b %Y}.").is_visible()
    assert Draw.objects.filter(due_on=target, state="scheduled").count() == 1


@pytest.mark.parametrize("width", [800])
def test_every_worklist_action_is_on_screen_at_tablet_width(browser, live_server, width):
    """At 800 px the Collect button was off-screen; now every action is inside the viewport."""
    onc = UserFactory(username="dr_tab", role=Role.ONCOLOGIST)
    PatientFactory(
        oncologist=onc,
        family_name="Tablet",
        given_name="Test",
        surveillance_start_on=clinic_today(),
        mrn="MRN-T1",
    )
    draws_plan()
    UserFactory(username="nurse_tab", role=Role.NURSE)
    context = browser.new_context(
        viewport={"width": width, "height": 1000}, base_url=live_server.url
    )
    page = context.new_page()
    try:
        login(page, "nurse_tab")
        for locator in (
            page.get_by_role("button", name="Collect for TABLET, Test"),
            page.locator("button.more").first,
            page.get_by_role("button", name="Find"),
        ):
            box = locator.bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= width, box
        page.screenshot(path="test-artifacts/screenshots/worklist-800.png", full_page=True)
    finally:
        context.close()
