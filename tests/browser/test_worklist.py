"""The nurse works the worklist in a real browser: a scanner types the accession + Enter."""

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
            oncologist=onc,
            surveillance_start_on=today - dt.timedelta(days=i),
        )
        for i, name in enumerate(["Able", "Brook", "Cole"])
    ]
    draws_plan()
    return patients


def test_nurse_records_a_collection_with_a_scanner(page, due_patients):
    UserFactory(username="nurse_nina", role=Role.NURSE)
    login(page, "nurse_nina")
    assert page.url.endswith("/worklist/")
    assert page.locator(".tab-due .tab-count").inner_text() == "3"
    scanner = page.locator("input.accession").first  # focused on load
    scanner.type("ACC-SCAN-001")
    scanner.press("Enter")
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Collection recorded; the next draw is planned.").is_visible()
    assert page.locator(".tab-due .tab-count").inner_text() == "2"
    assert page.locator(".tab-awaiting .tab-count").inner_text() == "1"
    collected = Draw.objects.get(accession="ACC-SCAN-001")
    assert collected.state == "collected"
    assert Draw.objects.filter(patient=collected.patient, state="scheduled").count() == 1


def test_nurse_marks_a_draw_missed_from_the_dialog(page, due_patients):
    UserFactory(username="nurse_nina", role=Role.NURSE)
    login(page, "nurse_nina")
    page.locator("button.more").first.click()
    dialog = page.get_by_role("dialog")
    assert dialog.is_visible()
    dialog.get_by_label("Reason").first.select_option("unwell")
    dialog.get_by_role("button", name="Mark missed").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Draw marked missed; the next draw is planned.").is_visible()
    assert Draw.objects.filter(state="missed", reason_code="unwell").count() == 1
