"""axe-core over every page each role reaches, at desktop and tablet width (issue 13).

The page fixture (conftest) already runs axe on every page a test visits; this test visits
them all on purpose, with a small cohort in every state, and keeps a screenshot of each at
both widths in test-artifacts/screenshots/pages/.
"""

import datetime as dt

import pytest

from accounts.roles import Role
from core.clock import clinic_today
from patients.scheduling import draws_plan
from tests.browser.conftest import ARTIFACTS, DESKTOP, TABLET, axe_violations
from tests.builders import login
from tests.factories import PatientFactory, RegimenFactory, ScanFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PAGES = ARTIFACTS / "pages"


def test_axe_finds_a_violation_when_there_is_one(page):
    """The check can fail: an unlabelled field and an image without alt are found."""
    page.set_content('<html lang="en"><body><main><img src="x.png"><input></main></body></html>')
    ids = {v["id"] for v in axe_violations(page)}
    assert "image-alt" in ids


@pytest.fixture
def clinic():
    onc = UserFactory(username="dr_olga", role=Role.ONCOLOGIST, first_name="Olga", last_name="Ode")
    today = clinic_today()
    patients = [
        PatientFactory(
            mrn=f"MRN-A{i:03d}",
            family_name=name,
            given_name="Test",
            oncologist=onc,
            surveillance_start_on=today - dt.timedelta(days=3 * i),
        )
        for i, name in enumerate(["Adams", "Baker", "Chen", "Dubois", "Evans", "Fox"])
    ]
    RegimenFactory(
        patient=patients[0],
        endocrine_agent="letrozole",
        cdk46_inhibitor="palbociclib",
        started_on=today - dt.timedelta(days=400),
    )
    ScanFactory(patient=patients[0], performed_on=today - dt.timedelta(days=30))
    draws_plan()
    UserFactory(username="nurse_nina", role=Role.NURSE)
    UserFactory(username="lab_lims", role=Role.LAB)
    UserFactory(username="admin_ada", role=Role.ADMIN)
    return patients


def _shoot(page, name: str) -> None:
    PAGES.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(PAGES / f"{name}.png"), full_page=True)
    page.set_viewport_size(TABLET)
    page.screenshot(path=str(PAGES / f"{name}-tablet.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


ROLE_PAGES = {
    "nurse_nina": [
        "/worklist/",
        "/worklist/?section=upcoming",
        "/patients/",
        "/patients/new/",
        "{patient}",
        "/alerts/",
        "/notifications/",
    ],
    "dr_olga": [
        "/alerts/",
        "/dashboard/",
        "/dashboard/?from=2027-01-01&to=2026-01-01",
        "{patient}",
        "/patients/",
    ],
    "lab_lims": ["/", "/uploads/", "/uploads/awaiting/"],
    "admin_ada": ["/", "/dashboard/"],
}


@pytest.mark.parametrize("username", list(ROLE_PAGES))
def test_every_page_of_each_role_has_no_serious_violation(page, clinic, username):
    login(page, username)
    found = {}
    for path in ROLE_PAGES[username]:
        path = path.replace("{patient}", f"/patients/{clinic[0].pk}/")
        page.goto(path)
        page.wait_for_load_state("networkidle")
        violations = axe_violations(page)
        if violations:
            found[path] = violations
        slug = path.strip("/").replace("/", "_").replace("?", "_").replace("&", "_") or "home"
        _shoot(page, f"{username}-{slug}")
    assert not found, found


def test_login_and_error_pages(page, clinic):
    for path in ("/accounts/login/", "/no-such-page/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert not axe_violations(page), path
        _shoot(page, "anon-" + (path.strip("/").replace("/", "_")))
