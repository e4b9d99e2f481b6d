"""Why an alert was withdrawn must be true (DESIGN §5: "A pending alert is withdrawn, with a
reason ... (`evidence_retracted`, e.g. its reports were cancelled or corrected away or moved
to another patient)"). A regimen recorded late, back-dated to before the blood test (she was on
fulvestrant, not an aromatase inhibitor, that day), rightly ends the switch alert (clause 2),
but the alert says "its evidence was retracted" while her report stands unchanged, version 1,
final: the oncologist reads that the ESR1 result itself was withdrawn. Found by the brk3
review (REPORT.md F11)."""

import datetime as dt

import pytest

from tests.builders import payload, pending, post_report
from therapy.models import Alert

pytestmark = pytest.mark.django_db


def test_an_alert_ended_by_a_back_dated_regimen_does_not_say_its_evidence_was_retracted(
    her, scan, drawn, lab_token_api, nurse_api
):
    scan(her, dt.date(2026, 10, 20), "no_progression")
    drawn(her)
    post_report(lab_token_api, payload())
    (alert,) = pending(her)
    answer = nurse_api.post(
        f"/api/v1/patients/{her.pk}/regimens/",
        {
            "endocrine_agent": "fulvestrant",
            "cdk46_inhibitor": "palbociclib",
            "started_on": "2026-10-25",
            "previous_end_reason": "toxicity",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    alert.refresh_from_db()
    assert alert.state == Alert.State.WITHDRAWN  # right: not on an allowed AI at the draw
    (report,) = alert.withdrawn_detail["reports"]
    assert (report["now_version"], report["now_status"]) == (1, "final")  # nothing retracted
    assert alert.withdrawn_reason != Alert.WithdrawnReason.EVIDENCE_RETRACTED
    from therapy.presentation import withdrawn_text

    lines = withdrawn_text(alert.withdrawn_reason, alert.withdrawn_detail)
    assert lines[0].startswith("Withdrawn: the switch rule no longer gives it"), lines
    assert "her ctDNA result stands" in lines[0]
    assert any(
        "not one of the aromatase inhibitors the switch rule allows with a CDK4/6 inhibitor" in line
        for line in lines
    )
    assert not any("retracted" in line or "cancelled" in line for line in lines), lines
