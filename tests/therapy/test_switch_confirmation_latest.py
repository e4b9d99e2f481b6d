"""Accepting a switch that needs confirmatory imaging (DESIGN §5 clause 4): the confirmation
must be her latest imaging; an indeterminate scan on its day or later still stands (found by
a sceptical review)."""

import datetime as dt

import pytest

from patients.models import ImagingAssessment
from tests.builders import ack, payload, pending, post_report
from therapy.models import Alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def needs_imaging(eligible, lab_token_api):
    """`eligible`, but her last scan before the 2 Nov draw is 62 days older: her D538G
    report opens a switch alert that needs confirmatory imaging."""
    ImagingAssessment.objects.filter(patient=eligible).update(performed_on=dt.date(2026, 9, 1))
    post_report(lab_token_api, payload())
    return eligible


def _scan(api, patient, day: str, outcome: str, modality: str = "ct") -> None:
    answer = api.post(
        f"/api/v1/patients/{patient.pk}/scans/",
        {"performed_on": day, "modality": modality, "outcome": outcome},
        format="json",
    )
    assert answer.status_code == 201, answer.json()


def _switch(api, alert, *, scan_on: str | None = None, modality: str = "ct", **extra):
    """Accept the switch on 24 Nov, with a clear confirmatory scan of `scan_on` if given."""
    if scan_on is not None:
        extra["confirmatory_scan"] = {
            "performed_on": scan_on,
            "modality": modality,
            "outcome": "no_progression",
        }
    return ack(api, alert, decision="switch", effective_on="2026-11-24", **extra)


def test_a_back_dated_clear_scan_does_not_confirm_over_a_newer_indeterminate_scan(
    needs_imaging, oncologist_api
):
    """The newest imaging (10 Nov) is indeterminate, which "does not do". A 'confirmatory'
    no-progression scan dated 5 Nov, older than it, used to be recorded and the switch made."""
    _scan(oncologist_api, needs_imaging, "2026-11-10", "indeterminate")
    (alert,) = pending(needs_imaging)
    assert alert.needs_confirmatory_imaging is True
    answer = _switch(oncologist_api, alert, scan_on="2026-11-05")
    alert.refresh_from_db()
    assert answer.status_code == 400, answer.json()
    assert alert.state == Alert.State.OPEN
    needs_imaging.refresh_from_db()
    assert needs_imaging.surveillance_state == "active"


def test_a_clear_scan_on_the_same_day_as_an_indeterminate_one_does_not_confirm(
    needs_imaging, oncologist_api
):
    """Two scans on one day count by the worse (as therapy.decisions judges imaging)."""
    _scan(oncologist_api, needs_imaging, "2026-11-20", "indeterminate", modality="mri")
    (alert,) = pending(needs_imaging)
    answer = _switch(oncologist_api, alert, scan_on="2026-11-20")
    assert answer.status_code == 400, answer.json()


def test_a_clear_scan_after_the_indeterminate_one_confirms(needs_imaging, oncologist_api):
    _scan(oncologist_api, needs_imaging, "2026-11-10", "indeterminate")
    (alert,) = pending(needs_imaging)
    answer = _switch(oncologist_api, alert, scan_on="2026-11-18", modality="mri")
    assert answer.status_code == 200, answer.json()
    needs_imaging.refresh_from_db()
    assert needs_imaging.surveillance_state == "post_switch"


def test_the_refusal_names_the_scan_that_stands_and_attestation_still_decides(
    needs_imaging, oncologist_api
):
    _scan(oncologist_api, needs_imaging, "2026-11-10", "indeterminate")
    (alert,) = pending(needs_imaging)
    refused = _switch(oncologist_api, alert, scan_on="2026-11-05")
    assert refused.status_code == 400
    (message,) = refused.json()["extra"]["fields"]["confirmatory_scan"]
    assert "2026-11-10" in message
    assert "indeterminate" in message
    alert.refresh_from_db()
    attested = _switch(oncologist_api, alert, attest_no_progression=True)
    assert attested.status_code == 200, attested.json()
