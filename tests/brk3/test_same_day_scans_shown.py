"""Two scans on one day (CT indeterminate, MRI clear; or CT progression, MRI clear). The rule
counts a day's scans by the worse (therapy.rules.switch_facts, therapy.decisions), but
"latest scan" everywhere else is the one recorded last (patients.selectors.latest_scan*,
ordered by -performed_on, -id): the patient API says `no_progression` for a woman whose
state is `progressed`, and the alert page says both "Latest scan before the blood test: 2 Dec,
indeterminate: confirmatory imaging needed" and, in its "Now" box, "Latest scan 2 Dec No
progression". Found by the brk3 review (REPORT.md F10)."""

import re

import pytest

from tests.builders import payload, pending, post_report

pytestmark = pytest.mark.django_db


def _scan(api, patient, day, outcome, modality):
    answer = api.post(
        f"/api/v1/patients/{patient.pk}/scans/",
        {"performed_on": day, "modality": modality, "outcome": outcome},
        format="json",
    )
    assert answer.status_code == 201, answer.json()


def test_the_patient_api_latest_scan_of_a_day_with_progression_is_not_no_progression(
    her, nurse_api
):
    _scan(nurse_api, her, "2026-11-20", "progression", "ct")
    _scan(nurse_api, her, "2026-11-20", "no_progression", "mri")
    body = nurse_api.get(f"/api/v1/patients/{her.pk}/").json()
    assert body["surveillance_state"] == "progressed"
    assert body["latest_scan"]["outcome"] != "no_progression", body["latest_scan"]


def test_the_alert_page_does_not_call_an_indeterminate_day_no_progression(
    her, drawn, nurse_api, lab_token_api, oncologist, client
):
    _scan(nurse_api, her, "2026-10-30", "indeterminate", "ct")
    _scan(nurse_api, her, "2026-10-30", "no_progression", "mri")
    drawn(her)
    post_report(lab_token_api, payload())
    (alert,) = pending(her)
    assert alert.needs_confirmatory_imaging is True  # the rule read the day as indeterminate
    client.force_login(oncologist)
    html = client.get(f"/alerts/{alert.pk}/").content.decode()
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "30 Oct 2026 No progression" not in words, "the 'Now' box calls the day clear"
