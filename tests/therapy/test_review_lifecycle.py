"""Alert lifecycle edges beyond issue 10's list (DESIGN §5), driven through the API."""

import datetime as dt

import pytest

from patients.models import Patient, Regimen
from tests.builders import ack, collect, payload, pending, post_report, variant
from tests.factories import ScanFactory
from therapy.models import Alert

pytestmark = pytest.mark.django_db


def regimen(api, patient, **body):
    return api.post(f"/api/v1/patients/{patient.pk}/regimens/", body, format="json")


def scan(api, patient, day, outcome):
    return api.post(
        f"/api/v1/patients/{patient.pk}/scans/",
        {"performed_on": day, "modality": "ct", "outcome": outcome},
        format="json",
    )


# Report amended after the switch was accepted --------------------------------------------------
@pytest.mark.parametrize(
    "amended_variants",
    [[], [variant(filter="clustered_events")]],
    ids=["esr1-call-removed", "esr1-call-now-filtered"],
)
def test_an_amendment_removing_the_esr1_call_after_the_switch_flags_and_changes_no_therapy(
    lab_token_api, eligible, oncologist_api, amended_variants
):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    done = ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24")
    assert done.status_code == 200, done.json()
    post_report(
        lab_token_api,
        payload(version=2, status="amended", reported_on="2026-11-20", variants=amended_variants),
    )
    alert.refresh_from_db()
    assert (alert.state, alert.flagged_for_review) == ("accepted", True)
    assert "no longer reports p.Asp538Gly" in " ".join(alert.flag_detail)
    # The product recommends only: the switch stays as the oncologist recorded it.
    current = Regimen.objects.get(patient=eligible, ended_on__isnull=True)
    assert current.endocrine_agent == "camizestrant"
    assert Patient.objects.get(pk=eligible.pk).surveillance_state == "post_switch"
    assert not pending(eligible).exists()


# A scan dated the same day as the collection ----------------------------------------------------
def test_a_clear_scan_on_the_day_of_collection_needs_no_confirmatory_imaging(
    lab_token_api, eligible
):
    eligible.scans.all().delete()
    ScanFactory(patient=eligible, performed_on=dt.date(2026, 11, 2), outcome="no_progression")
    (alert,) = post_report(lab_token_api, payload())["alerts"]
    assert (alert["kind"], alert["needs_confirmatory_imaging"]) == ("switch_recommended", False)


def test_a_progression_scan_on_the_day_of_collection_is_progression(
    lab_token_api, eligible, oncologist_api
):
    assert scan(oncologist_api, eligible, "2026-11-02", "progression").status_code == 201
    (alert,) = post_report(lab_token_api, payload())["alerts"]
    assert alert["kind"] == "esr1_with_progression"
    assert Patient.objects.get(pk=eligible.pk).surveillance_state == "progressed"


# A regimen back-dated to before the draw ---------------------------------------------------------
def test_an_ai_change_back_dated_before_the_draw_keeps_the_switch_on_the_line(
    lab_token_api, eligible, oncologist_api
):
    post_report(lab_token_api, payload())
    response = regimen(
        oncologist_api, eligible, endocrine_agent="anastrozole", cdk46_inhibitor="palbociclib",
        started_on="2026-10-01", previous_end_reason="toxicity",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    alert = pending(eligible).get()
    assert alert.kind == "switch_recommended"
    assert alert.facts_snapshot["endocrine_agent"] == "anastrozole"  # in force at collection
    assert alert.facts_snapshot["months_on_line"] == 12  # the line began 2 Nov 2025


def test_exemestane_back_dated_before_the_draw_withdraws_the_switch_alert(
    lab_token_api, eligible, oncologist_api
):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    response = regimen(
        oncologist_api, eligible, endocrine_agent="exemestane", cdk46_inhibitor="palbociclib",
        started_on="2026-10-01", previous_end_reason="toxicity",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    alert.refresh_from_db()
    # Collected on exemestane, which the rule's allowed AIs exclude: no switch alert.
    assert alert.state == "withdrawn"
    assert not pending(eligible).exists()
    assert (
        ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24").status_code == 409
    )


def test_a_second_line_back_dated_before_the_draw_gives_no_switch(
    lab_token_api, eligible, oncologist_api
):
    post_report(lab_token_api, payload())
    response = regimen(
        oncologist_api, eligible, endocrine_agent="fulvestrant", cdk46_inhibitor="",
        started_on="2026-10-15", previous_end_reason="progression",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    assert Patient.objects.get(pk=eligible.pk).surveillance_state == "progressed"
    assert not pending(eligible, "switch_recommended").exists()
    assert not pending(eligible, "review").exists()


# Withdrawn then resumed; deceased then "un-deceased" --------------------------------------------
def test_a_patient_withdrawn_then_resumed_gets_her_switch_alert_back(
    lab_token_api, eligible, nurse_api
):
    post_report(lab_token_api, payload())
    first = Alert.objects.get()
    url = f"/api/v1/patients/{eligible.pk}/"
    assert (
        nurse_api.patch(url, {"surveillance_state": "withdrawn"}, format="json").status_code == 200
    )
    first.refresh_from_db()
    assert (first.state, first.withdrawn_reason) == ("withdrawn", "patient_state")
    resumed = nurse_api.patch(url, {"surveillance_state": "active"}, format="json")
    assert resumed.status_code == 200, resumed.json()
    again = pending(eligible).get()
    assert again.kind == "switch_recommended"
    assert again.pk != first.pk


def test_a_deceased_patient_cannot_be_resurrected_and_stays_alert_free(
    lab_token_api, eligible, nurse_api
):
    post_report(lab_token_api, payload())
    url = f"/api/v1/patients/{eligible.pk}/"
    assert (
        nurse_api.patch(url, {"surveillance_state": "deceased"}, format="json").status_code == 200
    )
    undo = nurse_api.patch(url, {"surveillance_state": "active"}, format="json")
    assert undo.status_code == 400
    assert "surveillance_state" in str(undo.json())
    assert Patient.objects.get(pk=eligible.pk).surveillance_state == "deceased"
    assert not pending(eligible).exists()


# Two scans on one day after the blood test: one indeterminate, one clear -----------------------
@pytest.mark.parametrize(
    "order",
    [("no_progression", "indeterminate"), ("indeterminate", "no_progression")],
    ids=["clear-recorded-first", "indeterminate-recorded-first"],
)
def test_same_day_indeterminate_and_clear_scans_gate_the_switch_as_the_alert_says(
    lab_token_api, eligible, oncologist_api, order
):
    """The rule counts the worst outcome of one day's scans (therapy.rules.switch_facts), and
    the reconcile keeps the alert saying confirmatory imaging is needed; accepting the switch
    must then ask for a no_progression scan or the attestation, whatever order the two scans
    were recorded in (the same facts must give the same answer)."""
    eligible.scans.all().delete()
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    assert alert.needs_confirmatory_imaging
    for outcome in order:
        assert scan(oncologist_api, eligible, "2026-11-20", outcome).status_code == 201
    alert.refresh_from_db()
    assert alert.needs_confirmatory_imaging  # the alert says: still not confirmed
    response = ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24")
    assert response.status_code == 400, response.json()
    assert "confirmatory_scan" in response.json()["extra"]["fields"]


# Blood drawn on the day the line ended for progression -------------------------------------------
def test_blood_drawn_on_the_day_a_second_line_starts_for_progression(
    lab_token_api, eligible, oncologist_api, nurse
):
    """On 20 Nov letrozole ends for progression and fulvestrant starts; blood drawn that
    morning. Both regimens were in force on 20 Nov (ended_on == started_on); DESIGN does not
    rank them, and the product reads it the safe way: the line ending that day progressed, so
    the ESR1 result goes to the progression pathway (clause 1) instead of raising nothing."""
    collect(eligible, "ACC-000124", dt.date(2026, 11, 20), nurse)
    response = regimen(
        oncologist_api, eligible, endocrine_agent="fulvestrant", cdk46_inhibitor="",
        started_on="2026-11-20", previous_end_reason="progression",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    body = payload(
        report_id="R-2", accession="ACC-000124", collected_on="2026-11-20",
        reported_on="2026-11-23",
    )  # fmt: skip
    kinds = [a["kind"] for a in post_report(lab_token_api, body)["alerts"]]
    assert kinds == ["esr1_with_progression"]
