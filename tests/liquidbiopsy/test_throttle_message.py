"""A lab account held back by the match-failure throttle is told why, how many failures, and
from when (clinic time) its reports are accepted again: not DRF's 'Request was throttled'."""

from __future__ import annotations

import pytest

from liquidbiopsy.services import report_match_failures_record
from tests.builders import URL, payload

pytestmark = pytest.mark.django_db


def test_a_throttled_lab_is_told_why_and_until_when(lab_token_api, lab_user, collected):
    report_match_failures_record(
        lab_account=lab_user, failures=[(f"ACC-X{i}", "accession") for i in range(20)]
    )
    answer = lab_token_api.post(URL, payload(), format="json")
    assert answer.status_code == 429
    body = answer.json()
    assert "throttled" not in body["message"].lower()
    assert "20 reports" in body["message"]
    assert "did not match" in body["message"]
    assert "13:00" in body["message"]  # an hour after the fixtures' noon, clinic time
    assert int(answer["Retry-After"]) > 0
