"""The alert page when the regimen changed after the blood test (page review, pagerev).

The recommendation names the regimen the rule saw; the oncologist must also see, before
deciding, that it is no longer the patient's regimen, and must not be offered a switch
the product will refuse (a summary "End Camizestrant; start Camizestrant" then a refusal).
"""

import datetime as dt

import pytest

from clinic.workflows import regimen_receive
from tests.builders import URL, payload
from therapy.models import Alert

pytestmark = pytest.mark.django_db


def _alert_with_new_regimen(lab_token_api, patient, oncologist, agent):
    lab_token_api.post(URL, payload(), format="json")
    regimen_receive(
        patient=patient,
        endocrine_agent=agent,
        cdk46_inhibitor="palbociclib",
        lhrh_agonist="",
        started_on=dt.date(2026, 11, 20),
        acting_user=oncologist,
    )
    return Alert.objects.get(patient=patient)


def test_the_alert_page_says_the_regimen_changed_after_the_blood_test(
    client, lab_token_api, eligible, oncologist
):
    alert = _alert_with_new_regimen(lab_token_api, eligible, oncologist, "anastrozole")
    assert alert.state == "open"
    client.force_login(oncologist)
    html = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "consider switching Letrozole to camizestrant" in html  # what the rule saw
    assert (
        "The regimen changed after the blood test: now Anastrozole + Palbociclib since 20 Nov 2026."
    ) in html
    assert "Switch to camizestrant" in html  # still an aromatase inhibitor: a switch is possible


def test_no_switch_is_offered_when_the_patient_is_no_longer_on_an_allowed_ai(
    client, lab_token_api, eligible, oncologist
):
    # Fulvestrant: camizestrant with the same CDK4/6 inhibitor is the switch itself, which
    # settles the alert (tests/therapy/test_clinfix_hand_switch.py).
    alert = _alert_with_new_regimen(lab_token_api, eligible, oncologist, "fulvestrant")
    client.force_login(oncologist)
    html = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "now Fulvestrant + Palbociclib since 20 Nov 2026" in html
    assert 'value="switch"' not in html
    assert "A switch cannot be recorded from this regimen: decline or defer the alert" in html
    # A switch posted anyway is refused at once, with the reason, not after a summary.
    response = client.post(
        f"/alerts/{alert.pk}/decide/",
        {"decision": "switch", "effective_on": "24 Nov 2026", "revision": alert.revision},
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "End Camizestrant" not in body
    assert "Confirm the switch" not in body
    assert "is not an allowed aromatase inhibitor" in body
