"""The oncologist opens an alert from the inbox and accepts the switch."""

import datetime as dt

import pytest

from patients.models import Regimen
from tests.builders import collect, login, payload
from tests.factories import PatientFactory, RegimenFactory, ScanFactory, UserFactory
from therapy.models import Alert

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_oncologist_accepts_a_switch(page, lab_token_api):
    from accounts.roles import Role

    onc = UserFactory(username="dr_olga", role=Role.ONCOLOGIST, first_name="Olga", last_name="Ode")
    nurse = UserFactory(username="nurse_nina", role=Role.NURSE)
    patient = PatientFactory(
        mrn="MRN-0001", date_of_birth=dt.date(1961, 4, 2), oncologist=onc, family_name="Switch"
    )
    RegimenFactory(
        patient=patient,
        endocrine_agent="anastrozole",
        cdk46_inhibitor="ribociclib",
        started_on=dt.date(2025, 1, 6),
    )
    today = dt.date.today()
    ScanFactory(
        patient=patient, performed_on=today - dt.timedelta(days=5), outcome="no_progression"
    )
    collect(patient, "ACC-000123", today - dt.timedelta(days=3), nurse)
    day = (today - dt.timedelta(days=3)).isoformat()
    answer = lab_token_api.post(
        "/api/v1/reports/", payload(collected_on=day, reported_on=today.isoformat()), format="json"
    )
    assert answer.json()["alerts"][0]["kind"] == "switch_recommended", answer.json()

    login(page, "dr_olga")
    assert page.url.endswith("/alerts/")
    page.get_by_role("link", name="Consider switching to camizestrant").first.click()
    page.wait_for_load_state("networkidle")
    recommendation = "consider switching Anastrozole to camizestrant, continue Ribociclib"
    assert page.get_by_text(recommendation).is_visible()
    alert_url = page.url
    # From the alert to the patient: the timeline draws the variant's point.
    page.get_by_role("link", name="SWITCH,").first.click()
    page.wait_for_load_state("networkidle")
    page.locator("#timeline .scatterlayer .point").first.wait_for()
    assert page.locator("#timeline .scatterlayer .point").count() >= 2  # variant + scan
    # Back to the alert: accept the switch.
    page.goto(alert_url)
    page.get_by_label("Switch to camizestrant", exact=True).check()
    assert page.get_by_label("Defer until").is_hidden()  # one decision at a time
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state("networkidle")
    summary = f"End Anastrozole; start Camizestrant 75 mg once daily; continue Ribociclib from {today.day} {today:%b %Y}."
    assert page.get_by_text(summary).is_visible()  # what the switch will do, before it does it
    assert Alert.objects.get().state == "open"
    page.get_by_role("button", name="Confirm the switch").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Decision recorded.").is_visible()
    assert Alert.objects.get().state == "accepted"
    current = Regimen.objects.get(patient=patient, ended_on__isnull=True)
    assert (current.endocrine_agent, current.cdk46_inhibitor) == ("camizestrant", "ribociclib")
    assert page.get_by_text(recommendation).is_visible()  # what the rule saw, not the new regimen
    assert page.get_by_text("Anastrozole ended (ctDNA-guided switch)").is_visible()


def test_cohort_dashboard_renders_its_charts(page):
    from accounts.roles import Role

    UserFactory(username="admin_ada", role=Role.ADMIN)
    for _ in range(6):  # enough patients for a chart (fewer than 5: numbers only)
        RegimenFactory(patient=PatientFactory())
    login(page, "admin_ada")
    page.goto("/dashboard/")
    page.locator("#chart-states .main-svg").first.wait_for()
    assert page.get_by_role("heading", name="Cohort dashboard").is_visible()
    # Sections without data say so instead of drawing empty axes.
    assert page.locator("#chart-lead_time").count() == 0
    assert page.get_by_text("Nothing in this period.").first.is_visible()
    # No selection toolbar on the dashboard's charts.
    assert page.locator(".modebar").count() == 0
    # A start after the end is a form error, not a 500.
    page.get_by_label("From", exact=True).fill("2 Jan 2027")
    page.get_by_label("To", exact=True).fill("1 Jan 2026")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    assert page.get_by_text("The start date is after the end date.").is_visible()
