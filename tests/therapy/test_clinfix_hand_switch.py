"""Camizestrant recorded by hand (the regimen form or API), not through the alert's switch.

The switch the alert recommends (DESIGN §5: camizestrant with the same CDK4/6 inhibitor) is
then already made. The patient follows as an accepted switch moves her: post-switch
monitoring (draws continue, no switch alerts). Her pending switch alert is then what the rule
gives for a patient who is not `active` (clause 2: no alert), i.e. withdrawn with the reason
`patient_state`, and the page says the switch was recorded as a regimen. It is not recorded
as "accepted": nobody decided the alert.
"""

import datetime as dt

import pytest

from clinic.workflows import regimen_receive
from tests.builders import URL, later_report, payload, pending, post_report
from therapy.models import Alert
from therapy.reconcile import alerts_reconcile

pytestmark = pytest.mark.django_db

SWITCH_DAY = dt.date(2026, 11, 20)


def _hand_switch(patient, user, agent="camizestrant", cdk="palbociclib", **extra):
    return regimen_receive(
        patient=patient,
        endocrine_agent=agent,
        cdk46_inhibitor=cdk,
        lhrh_agonist="",
        started_on=SWITCH_DAY,
        acting_user=user,
        **extra,
    )


def test_camizestrant_by_hand_settles_the_switch_alert_and_moves_her_to_post_switch(
    lab_token_api, eligible, oncologist
):
    lab_token_api.post(URL, payload(), format="json")
    alert = Alert.objects.get(patient=eligible)
    assert alert.state == "open"

    regimen = _hand_switch(eligible, oncologist)

    eligible.refresh_from_db()
    alert.refresh_from_db()
    assert eligible.surveillance_state == "post_switch"
    assert alert.state == "withdrawn"
    assert alert.withdrawn_reason == "patient_state"
    assert alert.withdrawn_detail["state"] == "post_switch"
    assert alert.withdrawn_detail["switched_by_regimen"] == regimen.pk
    assert alert.decision == ""  # nobody decided it: not recorded as accepted
    assert not pending(eligible).exists()
    # The invariant: a from-scratch reconcile of her facts changes nothing more.
    assert alerts_reconcile([eligible.pk]) == []
    # Drawing continues as post-switch monitoring.
    assert eligible.draws.filter(state="scheduled").exists()


def test_a_deferred_switch_alert_is_settled_the_same_way(lab_token_api, eligible, oncologist):
    from tests.builders import ack

    lab_token_api.post(URL, payload(), format="json")
    alert = Alert.objects.get(patient=eligible)
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(oncologist)
    r = ack(api, alert, decision="defer", reason_code="awaiting_imaging", defer_until="2026-12-10")
    assert r.status_code == 200, r.json()
    _hand_switch(eligible, oncologist)
    alert.refresh_from_db()
    assert (alert.state, alert.withdrawn_reason) == ("withdrawn", "patient_state")


def test_the_regimen_form_records_the_switch_and_the_pages_say_so(
    client, lab_token_api, eligible, oncologist
):
    lab_token_api.post(URL, payload(), format="json")
    alert = Alert.objects.get(patient=eligible)
    client.force_login(oncologist)
    response = client.post(
        f"/patients/{eligible.pk}/regimens/",
        {
            "endocrine_agent": "camizestrant",
            "cdk46_inhibitor": "palbociclib",
            "lhrh_agonist": "",
            "started_on": "20 Nov 2026",
        },
    )
    assert response.status_code == 302
    eligible.refresh_from_db()
    alert.refresh_from_db()
    assert eligible.surveillance_state == "post_switch"
    assert alert.state == "withdrawn"
    page = client.get(f"/patients/{eligible.pk}/").content.decode()
    assert "Post-switch monitoring" in page
    assert "Open the alert" not in page  # no pending-alert banner
    assert "Switch recorded by hand as a new regimen (post-switch monitoring)" in page
    assert "surveillance ended" not in page
    html = client.get(f"/alerts/{alert.pk}/").content.decode().replace("\xa0", " ")
    assert (
        "The switch was recorded by hand as a new regimen: Camizestrant + Palbociclib "
        "from 20 Nov 2026."
    ) in html
    assert 'value="switch"' not in html


def test_the_api_regimen_records_the_switch(oncologist_api, lab_token_api, eligible):
    lab_token_api.post(URL, payload(), format="json")
    r = oncologist_api.post(
        f"/api/v1/patients/{eligible.pk}/regimens/",
        {
            "endocrine_agent": "camizestrant",
            "cdk46_inhibitor": "palbociclib",
            "started_on": SWITCH_DAY.isoformat(),
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    eligible.refresh_from_db()
    assert eligible.surveillance_state == "post_switch"
    assert not pending(eligible).exists()
    assert Alert.objects.get(patient=eligible).withdrawn_reason == "patient_state"


def test_a_later_ctdna_result_on_camizestrant_raises_no_switch_alert(
    lab_token_api, eligible, oncologist, nurse
):
    _hand_switch(eligible, oncologist)
    eligible.refresh_from_db()
    assert eligible.surveillance_state == "post_switch"
    post_report(lab_token_api, later_report(eligible, nurse, day=dt.date(2026, 11, 21)))
    assert not pending(eligible).exists()


def test_another_endocrine_agent_is_not_the_switch(lab_token_api, eligible, oncologist):
    """Fulvestrant is not the switch the alert recommends: she stays active, the alert stays
    pending (its page offers decline or defer, tests/therapy/test_pagerev_alert_regimen.py)."""
    lab_token_api.post(URL, payload(), format="json")
    _hand_switch(eligible, oncologist, agent="fulvestrant")
    eligible.refresh_from_db()
    assert eligible.surveillance_state == "active"
    assert pending(eligible, "switch_recommended").exists()


def test_camizestrant_ending_the_ai_for_progression_is_progression_not_a_switch(
    lab_token_api, eligible, oncologist
):
    lab_token_api.post(URL, payload(), format="json")
    _hand_switch(eligible, oncologist, previous_end_reason="progression")
    eligible.refresh_from_db()
    assert eligible.surveillance_state == "progressed"
    assert pending(eligible, "esr1_with_progression").exists()
    assert not pending(eligible, "switch_recommended").exists()


def test_a_patient_not_yet_active_is_not_moved(oncologist):
    from tests.factories import PatientFactory, RegimenFactory

    patient = PatientFactory(
        oncologist=oncologist,
        surveillance_start_on=dt.date(2027, 3, 1),
        surveillance_state="awaiting_minimum_duration",
    )
    RegimenFactory(patient=patient, started_on=dt.date(2026, 9, 1))
    _hand_switch(patient, oncologist)
    patient.refresh_from_db()
    assert patient.surveillance_state == "awaiting_minimum_duration"


def test_the_accepted_switch_is_unchanged(lab_token_api, eligible, oncologist_api):
    from tests.builders import ack

    lab_token_api.post(URL, payload(), format="json")
    alert = Alert.objects.get(patient=eligible)
    r = ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24")
    assert r.status_code == 200, r.json()
    alert.refresh_from_db()
    assert alert.state == "accepted"
    eligible.refresh_from_db()
    assert eligible.surveillance_state == "post_switch"
