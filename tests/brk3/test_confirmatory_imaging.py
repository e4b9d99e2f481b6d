"""A switch that needs (or should need) confirmatory imaging (DESIGN §5 clause 4): "accepting
the switch requires recording a `no_progression` scan (an `indeterminate` one does not do) or
an explicit, audited attestation". Found by the brk3 review (REPORT.md F1, F4)."""

import datetime as dt

import pytest

from tests.builders import ack, payload, pending, post_report
from therapy.models import Alert

pytestmark = pytest.mark.django_db
D = dt.date


def _switch(api, alert, **extra):
    return ack(api, alert, decision="switch", effective_on="2026-11-24", **extra)


def test_a_back_dated_clear_scan_older_than_an_indeterminate_scan_before_the_draw_does_not_confirm(
    her, scan, drawn, lab_token_api, oncologist_api
):
    """F1. Her latest imaging, 28 Oct, is indeterminate (before the 2 Nov draw), so the alert
    needs confirmatory imaging. A 'confirmatory' clear scan dated 27 Oct, older than it, must
    not confirm: the refusal the product already gives for an indeterminate scan after the
    draw ("a confirmatory scan must be her latest imaging")."""
    scan(her, D(2026, 10, 28), "indeterminate")
    drawn(her)
    post_report(lab_token_api, payload())
    (alert,) = pending(her)
    assert alert.needs_confirmatory_imaging is True
    answer = _switch(
        oncologist_api,
        alert,
        confirmatory_scan={
            "performed_on": "2026-10-27",
            "modality": "ct",
            "outcome": "no_progression",
        },
    )
    alert.refresh_from_db()
    her.refresh_from_db()
    assert answer.status_code == 400, answer.json()
    assert "confirmatory_scan" in answer.json()["extra"]["fields"]
    assert alert.state == Alert.State.OPEN
    assert her.surveillance_state == "active"


def test_an_indeterminate_scan_after_the_draw_gates_a_switch_the_alert_did_not_gate(
    her, scan, drawn, lab_token_api, oncologist_api
):
    """F4. Clear scan 20 Oct, draw 2 Nov: no confirmation needed when the alert opened. An
    indeterminate scan on 10 Nov is now her latest imaging; the switch must not go through
    without a clear scan after it or an attestation (as it would be refused had a clear
    confirmatory scan dated before 10 Nov been sent with it)."""
    scan(her, D(2026, 10, 20), "no_progression")
    drawn(her)
    post_report(lab_token_api, payload())
    (alert,) = pending(her)
    assert alert.needs_confirmatory_imaging is False
    answer = oncologist_api.post(
        f"/api/v1/patients/{her.pk}/scans/",
        {"performed_on": "2026-11-10", "modality": "ct", "outcome": "indeterminate"},
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    alert.refresh_from_db()
    switched = _switch(oncologist_api, alert)
    alert.refresh_from_db()
    her.refresh_from_db()
    assert switched.status_code == 400, switched.json()
    assert alert.state == Alert.State.OPEN
    assert her.surveillance_state == "active"
    attested = _switch(oncologist_api, alert, attest_no_progression=True)
    assert attested.status_code == 200, attested.json()
