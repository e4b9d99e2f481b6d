"""rev4: 52b0cae words a no_longer_eligible withdrawal "the regimen on record for the day of
the blood test is not an aromatase inhibitor with a CDK4/6 inhibitor". Exemestane IS an
aromatase inhibitor (steroidal); it is only not on the switch rule's allow-list (letrozole,
anastrozole, SWITCH_ALLOWED_AIS). The decision service itself says "not an allowed aromatase
inhibitor (letrozole, anastrozole)". A back-dated exemestane + palbociclib regimen then reads,
on the alert page, as a clinically false statement."""

import pytest

from tests.builders import payload, pending, post_report
from therapy.models import Alert
from therapy.presentation import withdrawn_text

pytestmark = pytest.mark.django_db


def test_exemestane_is_not_called_not_an_aromatase_inhibitor(eligible, lab_token_api, nurse_api):
    post_report(lab_token_api, payload())
    (alert,) = pending(eligible)
    answer = nurse_api.post(
        f"/api/v1/patients/{eligible.pk}/regimens/",
        {
            "endocrine_agent": "exemestane",
            "cdk46_inhibitor": "palbociclib",
            "started_on": "2026-10-25",
            "previous_end_reason": "toxicity",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    alert.refresh_from_db()
    assert alert.state == Alert.State.WITHDRAWN
    assert alert.withdrawn_reason == Alert.WithdrawnReason.NO_LONGER_ELIGIBLE
    lines = withdrawn_text(alert.withdrawn_reason, alert.withdrawn_detail)
    assert not any("is not an aromatase inhibitor" in line for line in lines), lines
