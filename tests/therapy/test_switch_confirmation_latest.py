"""Accepting a switch that needs confirmatory imaging (DESIGN §5 clause 4): the confirmation
must be her latest imaging; an indeterminate scan on its day or later still stands (found by
a sceptical review)."""

import datetime as dt

import pytest

from tests.builders import ack, collect, payload, pending, post_report
from tests.factories import PatientFactory, RegimenFactory, ScanFactory
from therapy.models import Alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def needs_imaging(oncologist, nurse):
    """Eligible, but her last scan before the 2 Nov draw is 62 days older: imaging needed."""
    patient = PatientFactory(
        mrn="MRN-0001",
        date_of_birth=dt.date(1961, 4, 2),
        oncologist=oncologist,
        surveillance_start_on=dt.date(2026, 5, 2),
    )
    RegimenFactory(patient=patient, started_on=dt.date(2025, 11, 2))
    ScanFactory(patient=patient, performed_on=dt.date(2026, 9, 1), outcome="no_progression")
    collect(patient, "ACC-000123", dt.date(2026, 11, 2), nurse)
    return patient


def test_a_back_dated_clear_scan_does_not_confirm_over_a_newer_indeterminate_scan(
    needs_imaging, lab_token_api, oncologist_api
):
    """The newest imaging (10 Nov) is indeterminate, which "does not do". The oncologist
    accepts the switch with a 'confirmatory' no-progression scan dated 5 Nov, older than the
    indeterminate one. The product records it and switches: the confirmation it accepted is
    not the latest imaging, which still says indeterminate."""
    post_report(lab_token_api, payload())
    r = oncologist_api.post(
        f"/api/v1/patients/{needs_imaging.pk}/scans/",
        {"performed_on": "2026-11-10", "modality": "ct", "outcome": "indeterminate"},
        format="json",
    )
    assert r.status_code == 201, r.json()
    (alert,) = pending(needs_imaging)
    assert alert.needs_confirmatory_imaging is True
    answer = ack(
        oncologist_api,
        alert,
        decision="switch",
        effective_on="2026-11-24",
        confirmatory_scan={
            "performed_on": "2026-11-05",
            "modality": "ct",
            "outcome": "no_progression",
        },
    )
    alert.refresh_from_db()
    assert answer.status_code == 400, answer.json()
    assert alert.state == Alert.State.OPEN
    needs_imaging.refresh_from_db()
    assert needs_imaging.surveillance_state == "active"


def test_a_clear_scan_on_the_same_day_as_an_indeterminate_one_does_not_confirm(
    needs_imaging, lab_token_api, oncologist_api
):
    """Two scans on one day count by the worse (therapy.decisions._imaging_needed says so),
    but a no-progression confirmatory scan given with the switch on the day of a recorded
    indeterminate one is accepted."""
    post_report(lab_token_api, payload())
    r = oncologist_api.post(
        f"/api/v1/patients/{needs_imaging.pk}/scans/",
        {"performed_on": "2026-11-20", "modality": "mri", "outcome": "indeterminate"},
        format="json",
    )
    assert r.status_code == 201, r.json()
    (alert,) = pending(needs_imaging)
    answer = ack(
        oncologist_api,
        alert,
        decision="switch",
        effective_on="2026-11-24",
        confirmatory_scan={
            "performed_on": "2026-11-20",
            "modality": "ct",
            "outcome": "no_progression",
        },
    )
    assert answer.status_code == 400, answer.json()


def test_a_clear_scan_after_the_indeterminate_one_confirms(
    needs_imaging, lab_token_api, oncologist_api
):
    post_report(lab_token_api, payload())
    oncologist_api.post(
        f"/api/v1/patients/{needs_imaging.pk}/scans/",
        {"performed_on": "2026-11-10", "modality": "ct", "outcome": "indeterminate"},
        format="json",
    )
    (alert,) = pending(needs_imaging)
    answer = ack(
        oncologist_api,
        alert,
        decision="switch",
        effective_on="2026-11-24",
        confirmatory_scan={
            "performed_on": "2026-11-18",
            "modality": "mri",
            "outcome": "no_progression",
        },
    )
    assert answer.status_code == 200, answer.json()
    needs_imaging.refresh_from_db()
    assert needs_imaging.surveillance_state == "post_switch"


def test_the_refusal_names_the_scan_that_stands_and_attestation_still_decides(
    needs_imaging, lab_token_api, oncologist_api
):
    post_report(lab_token_api, payload())
    oncologist_api.post(
        f"/api/v1/patients/{needs_imaging.pk}/scans/",
        {"performed_on": "2026-11-10", "modality": "ct", "outcome": "indeterminate"},
        format="json",
    )
    (alert,) = pending(needs_imaging)
    refused = ack(
        oncologist_api,
        alert,
        decision="switch",
        effective_on="2026-11-24",
        confirmatory_scan={
            "performed_on": "2026-11-05",
            "modality": "ct",
            "outcome": "no_progression",
        },
    )
    assert refused.status_code == 400
    (message,) = refused.json()["extra"]["fields"]["confirmatory_scan"]
    assert "2026-11-10" in message
    assert "indeterminate" in message
    alert.refresh_from_db()
    attested = ack(
        oncologist_api,
        alert,
        decision="switch",
        effective_on="2026-11-24",
        attest_no_progression=True,
    )
    assert attested.status_code == 200, attested.json()
