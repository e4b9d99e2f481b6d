"""Under the Content-Security-Policy every page still works, and the browser reports no
violation: the inline scripts carry the request's nonce, plotly and Swagger UI run."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.roles import Role
from tests.builders import collect, login
from tests.factories import PatientFactory, RegimenFactory, ScanFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def violations(page):
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: seen.append(f"page error: {error}"))
    return seen


def test_pages_run_their_scripts_under_the_policy(page, violations):
    onc = UserFactory(username="dr_olga", role=Role.ONCOLOGIST)
    UserFactory(username="admin_ada", role=Role.ADMIN)
    nurse = UserFactory(username="nurse_nina", role=Role.NURSE)
    patient = PatientFactory(oncologist=onc)
    RegimenFactory(patient=patient, started_on=dt.date.today() - dt.timedelta(days=400))
    ScanFactory(patient=patient, performed_on=dt.date.today() - dt.timedelta(days=30))
    collect(patient, "ACC-CSP-1", dt.date.today() - dt.timedelta(days=2), nurse)
    for _ in range(6):  # enough patients for the dashboard to chart (it tables n < 5)
        RegimenFactory(patient=PatientFactory(oncologist=onc))

    login(page, "dr_olga")
    response = page.goto(f"/patients/{patient.pk}/")
    assert "'nonce-" in response.headers["content-security-policy"]
    page.locator("#timeline .main-svg").first.wait_for()  # plotly drew the timeline
    page.context.clear_cookies()

    login(page, "admin_ada")
    page.goto("/dashboard/")
    page.locator("div.chart .main-svg").first.wait_for()
    page.goto("/api/v1/docs/")
    page.locator(".swagger-ui .info").first.wait_for()  # Swagger UI rendered the schema
    page.context.clear_cookies()

    login(page, "nurse_nina")
    page.goto("/worklist/")
    page.wait_for_load_state("networkidle")
    assert violations == []
