"""The notices the reconcile and the sweep write read right for every alert kind: "An
ESR1-with-progression alert was withdrawn", never "A ESR1-..." (therapy.notify
noun_with_article, the one place that knows the article)."""

import pytest

from clinic.workflows import patient_change
from notifications.models import Notification
from tests.builders import URL, payload
from therapy.models import Alert

pytestmark = pytest.mark.django_db


def test_a_withdrawn_esr1_with_progression_alert_is_an_alert(
    lab_token_api, oncologist_api, eligible, oncologist
):
    assert lab_token_api.post(URL, payload(), format="json").status_code == 201
    scan = oncologist_api.post(
        f"/api/v1/patients/{eligible.pk}/scans/",
        {"performed_on": "2026-11-20", "modality": "ct", "outcome": "progression"},
        format="json",
    )
    assert scan.status_code == 201, scan.content
    progression = Alert.objects.get(kind=Alert.Kind.ESR1_WITH_PROGRESSION)
    patient_change(
        patient=eligible, acting_user=oncologist, changes={"surveillance_state": "deceased"}
    )
    subjects = set(
        Notification.objects.filter(key__startswith=f"alert:{progression.pk}:").values_list(
            "subject", flat=True
        )
    )
    assert any(s.startswith("An ESR1-with-progression alert was withdrawn") for s in subjects), (
        subjects
    )
    assert not any(s.startswith("A ESR1") or " a ESR1" in s for s in subjects), subjects
