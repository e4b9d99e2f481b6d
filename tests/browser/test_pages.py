"""Each role logs in and lands on its page; clinicians find and open a patient."""

import datetime as dt

import pytest

from accounts.roles import Role
from tests.builders import login
from tests.factories import PatientFactory, RegimenFactory, ScanFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cohort():
    onc = UserFactory(username="dr_olga", role=Role.ONCOLOGIST, first_name="Olga", last_name="Ode")
    patients = [
        PatientFactory(mrn=f"MRN-B{i:03d}", family_name=name, given_name="Test", oncologist=onc)
        for i, name in enumerate(["Adams", "Baker", "Chen", "Dubois", "Evans"])
    ]
    target = patients[2]
    RegimenFactory(
        patient=target,
        endocrine_agent="letrozole",
        started_on=dt.date(2024, 3, 1),
        ended_on=dt.date(2025, 2, 1),
        end_reason="toxicity",
    )
    RegimenFactory(
        patient=target,
        endocrine_agent="anastrozole",
        cdk46_inhibitor="ribociclib",
        started_on=dt.date(2025, 2, 1),
    )
    ScanFactory(patient=target, performed_on=dt.date(2025, 6, 1))
    ScanFactory(patient=target, performed_on=dt.date(2025, 9, 1), outcome="indeterminate")
    return target


def test_nurse_finds_and_opens_a_patient(page, cohort):
    UserFactory(username="nurse_nina", role=Role.NURSE)
    login(page, "nurse_nina")
    assert page.url.endswith("/worklist/")
    page.get_by_role("link", name="Patients").click()
    page.get_by_label("Name or MRN").fill("Chen")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="CHEN, Test").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="CHEN, Test").is_visible()
    assert page.locator("p.regimen").inner_text() == "Anastrozole + Ribociclib"
    assert f"/patients/{cohort.pk}/" in page.url
    assert "MRN-B002" not in page.url


def test_oncologist_records_a_scan_from_the_patient_page(page, cohort):
    login(page, "dr_olga")
    page.goto(f"/patients/{cohort.pk}/")
    page.get_by_text("Record a scan").click()
    page.get_by_label("Performed on").fill("15 Jan 2026")  # the clinic's date format
    page.get_by_label("Modality").select_option("mri")
    page.get_by_label("Outcome").select_option("no_progression")
    page.get_by_role("button", name="Record scan").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Scan recorded.").is_visible()
    assert page.get_by_role("cell", name="15 Jan 2026").is_visible()


def test_admin_lands_on_administration(page):
    UserFactory(username="admin_ada", role=Role.ADMIN)
    login(page, "admin_ada")
    assert page.get_by_role("heading", name="Administration").is_visible()
    page.get_by_role("link", name="Browse the audit trail").click()
    page.wait_for_load_state("networkidle")
    assert "audit" in page.url


def test_lab_lands_on_lab_page_without_patient_access(page):
    UserFactory(username="lab_lims", role=Role.LAB)
    login(page, "lab_lims")
    assert page.get_by_role("heading", name="Lab results").is_visible()
    assert page.get_by_role("link", name="Patients").count() == 0
    response = page.goto("/patients/")
    assert response.status == 403
