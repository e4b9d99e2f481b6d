"""The patient and alert pages in headless Chromium, in the states a nurse must not misread:
an active patient with a detection, not detected, filtered calls only, a cancelled report,
and a deceased patient. Screenshots at 1366 and 800 px land in test-artifacts/screenshots/
(CLINFIX_SHOTS overrides the folder)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from tests.builders import URL, login, payload
from therapy.models import Alert

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
SHOTS = Path(
    os.environ.get(
        "CLINFIX_SHOTS", Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
    )
)
WIDTHS = {"desktop": {"width": 1366, "height": 860}, "tablet": {"width": 800, "height": 1100}}


@pytest.fixture(autouse=True)
def _clinic_today():
    """The live server runs on today's clock (these dates are all in the past)."""
    return


@pytest.fixture
def page(browser, live_server):
    """A page of the session's browser (tests/conftest.py), on the live server."""
    context = browser.new_context(viewport=WIDTHS["desktop"], base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _shoot(page, path: str, name: str) -> str:
    SHOTS.mkdir(parents=True, exist_ok=True)
    text = ""
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.goto(path)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(400)  # plotly's responsive redraw after the resize
        page.screenshot(path=str(SHOTS / f"clinfix-{name}-{label}.png"), full_page=True)
        text = page.locator("main").inner_text() if page.locator("main").count() else ""
        text = text or page.inner_text("body")
    return text


def test_active_with_a_detection(page, lab_token_api, eligible):
    lab_token_api.post(URL, payload(), format="json")
    login(page, "dr_olga")
    text = _shoot(page, f"/patients/{eligible.pk}/", "patient-detected")
    assert "ESR1 mutation detected: p.Asp538Gly (VAF 0.42%)" in text
    assert "Current regimen" in text
    alert = Alert.objects.get(patient=eligible)
    text = _shoot(page, f"/alerts/{alert.pk}/", "alert-detected")
    assert "Record decision" in text


def test_not_detected(page, lab_token_api, eligible):
    lab_token_api.post(URL, payload(variants=[], tumor_fraction=0.004), format="json")
    login(page, "nurse_nina")
    text = _shoot(page, f"/patients/{eligible.pk}/", "patient-not-detected")
    assert "ESR1 not detected." in text
    assert "Non-informative: ctDNA tumour fraction 0.4%, below 1%." in text


def test_filtered_calls_only(page, lab_token_api, eligible):
    body = payload(
        variants=[{"gene": "ESR1", "hgvs_p": "p.Asp538Gly", "vaf": 0.001, "filter": "germline"}]
    )
    lab_token_api.post(URL, body, format="json")
    login(page, "nurse_nina")
    text = _shoot(page, f"/patients/{eligible.pk}/", "patient-filtered")
    assert "ESR1: filtered calls only (not a detection)." in text
    assert "ESR1 not detected" not in text


def test_cancelled_report(page, lab_token_api, eligible):
    lab_token_api.post(URL, payload(), format="json")
    lab_token_api.post(URL, payload(version=2, status="cancelled", variants=[]), format="json")
    login(page, "nurse_nina")
    text = _shoot(page, f"/patients/{eligible.pk}/", "patient-cancelled")
    assert "Cancelled by the lab: no ESR1 result from this report." in text
    assert "was cancelled by the lab (v2, reported 10 Nov 2026)" in text
    alert = Alert.objects.get(patient=eligible)
    text = _shoot(page, f"/alerts/{alert.pk}/", "alert-cancelled")
    assert "Withdrawn" in text


def test_deceased(page, lab_token_api, eligible, oncologist):
    from clinic.workflows import patient_change

    lab_token_api.post(URL, payload(), format="json")
    patient_change(
        patient=eligible, acting_user=oncologist, changes={"surveillance_state": "deceased"}
    )
    login(page, "dr_olga")
    text = _shoot(page, f"/patients/{eligible.pk}/", "patient-deceased")
    assert "Deceased. Surveillance has ended" in text
    assert "Last recorded regimen" in text
    assert "Change surveillance" not in text
    alert = Alert.objects.get(patient=eligible)
    text = _shoot(page, f"/alerts/{alert.pk}/", "alert-deceased")
    assert "surveillance has ended" in text


def test_switched_by_hand(page, lab_token_api, eligible, oncologist):
    from clinic.workflows import regimen_receive

    lab_token_api.post(URL, payload(), format="json")
    regimen_receive(
        patient=eligible,
        endocrine_agent="camizestrant",
        cdk46_inhibitor="palbociclib",
        lhrh_agonist="",
        started_on=dt.date(2026, 11, 20),
        acting_user=oncologist,
    )
    login(page, "dr_olga")
    alert = Alert.objects.get(patient=eligible)
    text = _shoot(page, f"/alerts/{alert.pk}/", "alert-switched-by-hand")
    assert "The switch was recorded by hand as a new regimen" in text
    text = _shoot(page, f"/patients/{eligible.pk}/", "patient-switched-by-hand")
    assert "Post-switch monitoring" in text
