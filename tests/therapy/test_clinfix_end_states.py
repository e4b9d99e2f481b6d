"""The patient page of a patient whose surveillance ended (deceased, withdrawn, off therapy).

Her end state is said prominently; the page offers nothing the services refuse (a deceased
patient's state cannot change: patients.services.STATE_FINAL), and no regimen is called
"current" once she died or left surveillance. Regimens and scans can still be recorded (the
services accept them: a record of what was given before), and the page says so.
"""

import re

import pytest
from django.core.exceptions import ValidationError

from clinic.workflows import patient_change
from patients.services import STATE_FINAL

pytestmark = pytest.mark.django_db


def _page(client, user, patient) -> str:
    client.force_login(user)
    html = client.get(f"/patients/{patient.pk}/").content.decode()
    return re.sub(r"\s+", " ", html.replace("\xa0", " "))


def _end(patient, user, state):
    patient_change(patient=patient, acting_user=user, changes={"surveillance_state": state})
    patient.refresh_from_db()
    assert patient.surveillance_state == state


def test_a_deceased_patient_s_page_says_so_and_calls_no_regimen_current(
    client, eligible, oncologist, nurse
):
    _end(eligible, oncologist, "deceased")
    html = _page(client, nurse, eligible)
    assert (
        "Deceased. Surveillance has ended: no draws are planned and no alerts are raised."
    ) in html
    assert "<h2>Current regimen</h2>" not in html
    assert "<h2>Last recorded regimen</h2>" in html
    assert "Letrozole + Palbociclib" in html
    assert "not recorded as ended" in html
    assert "<strong>current</strong>" not in html
    assert 'class="current"' not in html
    assert "1 year" not in html.split("<h2>Last recorded regimen</h2>")[1].split("</section>")[0]


def test_a_deceased_patient_s_page_offers_no_state_change_which_the_service_refuses(
    client, eligible, oncologist
):
    _end(eligible, oncologist, "deceased")
    with pytest.raises(ValidationError) as refused:
        patient_change(
            patient=eligible, acting_user=oncologist, changes={"surveillance_state": "active"}
        )
    assert STATE_FINAL in str(refused.value)
    html = _page(client, oncologist, eligible)
    assert 'name="surveillance_state"' not in html
    assert "Change surveillance" not in html
    assert STATE_FINAL in html


def test_a_deceased_patient_s_regimen_and_scan_forms_are_records_of_the_past(
    client, eligible, oncologist
):
    _end(eligible, oncologist, "deceased")
    html = _page(client, oncologist, eligible)
    assert "Record a new regimen" not in html
    assert "Record a regimen given before death" in html
    assert "Record a scan done before death" in html


def test_a_withdrawn_patient_s_page_says_so_and_may_resume(client, eligible, oncologist):
    _end(eligible, oncologist, "withdrawn")
    html = _page(client, oncologist, eligible)
    assert (
        "Withdrawn from surveillance. Surveillance has ended: no draws are planned and no "
        "alerts are raised."
    ) in html
    assert "<h2>Current regimen</h2>" not in html
    assert "<h2>Last recorded regimen</h2>" in html
    assert "<strong>current</strong>" not in html
    # Resuming is allowed (the service accepts it), so it is offered.
    assert 'value="active"' in html
    assert "Record a new regimen" not in html
    assert "Record a regimen" in html


def test_an_active_patient_s_page_is_unchanged(client, eligible, oncologist):
    html = _page(client, oncologist, eligible)
    assert "<h2>Current regimen</h2>" in html
    assert "Surveillance has ended" not in html
    assert "<strong>current</strong>" in html
    assert "Record a new regimen" in html
    assert 'name="surveillance_state"' in html


def test_the_alert_page_of_a_deceased_patient_calls_no_regimen_current(
    client, lab_token_api, eligible, oncologist
):
    from tests.builders import URL, payload
    from therapy.models import Alert

    lab_token_api.post(URL, payload(), format="json")
    _end(eligible, oncologist, "deceased")
    alert = Alert.objects.get(patient=eligible)
    assert (alert.state, alert.withdrawn_reason) == ("withdrawn", "patient_state")
    client.force_login(oncologist)
    html = re.sub(r"\s+", " ", client.get(f"/alerts/{alert.pk}/").content.decode())
    assert (
        "last recorded: Letrozole + Palbociclib started 2 Nov 2025, not recorded as ended" in html
    )
    assert "<strong>Deceased</strong>: surveillance has ended" in html
    assert "Record decision" not in html
