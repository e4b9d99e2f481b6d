"""brk probes: scans recorded after the report, dated around the line's start."""

import pytest

from tests.builders import payload, pending, post_report

pytestmark = pytest.mark.django_db


def _scan(api, patient, day, outcome):
    return api.post(
        f"/api/v1/patients/{patient.pk}/scans/",
        {"performed_on": day, "modality": "ct", "outcome": outcome},
        format="json",
    )


def test_a_progression_scan_from_before_the_line_does_not_end_it(
    lab_token_api, eligible, oncologist_api
):
    post_report(lab_token_api, payload())
    assert _scan(oncologist_api, eligible, "2025-10-01", "progression").status_code == 201
    assert [a.kind for a in pending(eligible)] == ["switch_recommended"]


def test_a_progression_scan_after_collection_recorded_later_takes_over(
    lab_token_api, eligible, oncologist_api
):
    post_report(lab_token_api, payload())
    assert _scan(oncologist_api, eligible, "2026-11-23", "progression").status_code == 201
    assert [a.kind for a in pending(eligible)] == ["esr1_with_progression"]


def test_a_scan_dated_in_the_future_is_refused(eligible, oncologist_api):
    r = _scan(oncologist_api, eligible, "2027-06-01", "no_progression")
    assert r.status_code == 400, r.json()
