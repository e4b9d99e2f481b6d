"""The oncologist's decision on an alert: switch, defer, decline (DESIGN.md §5-6)."""

import datetime as dt

import pytest

from audit.models import AuditEvent
from patients.models import Draw, ImagingAssessment, Regimen
from tests.builders import URL, collect, payload, variant
from therapy.models import Alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert_id(lab_token_api, eligible):
    return lab_token_api.post(URL, payload(), format="json").json()["alerts"][0]["id"]


def ack(api, alert_id, **body):
    return api.post(f"/api/v1/alerts/{alert_id}/acknowledge/", body, format="json")


def test_switch_changes_therapy_in_one_go(oncologist_api, alert_id, eligible):
    response = ack(oncologist_api, alert_id, decision="switch", effective_on="2026-11-24")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["alert"]["state"] == "accepted"
    assert body["new_regimen"]["endocrine_agent"] == "camizestrant"
    assert body["new_regimen"]["cdk46_inhibitor"] == "palbociclib"  # the same CDK4/6i
    old = Regimen.objects.get(patient=eligible, endocrine_agent="letrozole")
    assert (old.ended_on, old.end_reason) == (dt.date(2026, 11, 24), "ctdna_guided_switch")
    eligible.refresh_from_db()
    assert eligible.surveillance_state == "post_switch"
    assert Draw.objects.filter(patient=eligible, state="scheduled").exists()  # monitoring goes on


def test_switch_after_which_esr1_raises_no_new_switch_alert(
    oncologist_api, alert_id, lab_token_api, eligible, nurse
):
    ack(oncologist_api, alert_id, decision="switch", effective_on="2026-11-24")
    collect(eligible, "ACC-POST", dt.date(2026, 11, 24), nurse)
    later = payload(
        report_id="R-POST",
        accession="ACC-POST",
        collected_on="2026-11-24",
        reported_on="2026-11-24",
    )
    assert lab_token_api.post(URL, later, format="json").json()["alerts"] == []


def test_switch_needing_imaging_requires_a_scan_or_attestation(
    oncologist_api, lab_token_api, eligible
):
    eligible.scans.all().delete()
    alert_id = lab_token_api.post(URL, payload(), format="json").json()["alerts"][0]["id"]
    refused = ack(oncologist_api, alert_id, decision="switch", effective_on="2026-11-24")
    assert refused.status_code == 400
    assert "confirmatory_scan" in refused.json()["extra"]["fields"]
    assert Regimen.objects.filter(endocrine_agent="camizestrant").count() == 0
    with_scan = ack(
        oncologist_api,
        alert_id,
        decision="switch",
        effective_on="2026-11-24",
        confirmatory_scan={
            "performed_on": "2026-11-23",
            "modality": "ct",
            "outcome": "no_progression",
        },
    )
    assert with_scan.status_code == 200, with_scan.json()
    assert ImagingAssessment.objects.filter(
        patient=eligible, performed_on=dt.date(2026, 11, 23)
    ).exists()


def test_attestation_is_audited(oncologist_api, lab_token_api, eligible):
    eligible.scans.all().delete()
    alert_id = lab_token_api.post(URL, payload(), format="json").json()["alerts"][0]["id"]
    response = ack(
        oncologist_api,
        alert_id,
        decision="switch",
        effective_on="2026-11-24",
        attest_no_progression=True,
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="alert.switch")
    assert event.detail["attested_no_progression"] is True


def test_defer_until_a_date(oncologist_api, alert_id):
    response = ack(
        oncologist_api,
        alert_id,
        decision="defer",
        defer_until="2026-12-15",
        reason_code="awaiting_imaging",
    )
    assert response.status_code == 200
    alert = Alert.objects.get()
    assert (alert.state, alert.defer_until) == ("deferred", dt.date(2026, 12, 15))


def test_decline_then_persisting_then_new_variant(
    oncologist_api, alert_id, lab_token_api, eligible, nurse
):
    bad = ack(oncologist_api, alert_id, decision="decline", reason_code="other")
    assert bad.status_code == 400
    assert bad.json()["extra"]["fields"] == {
        "comment": ["A comment is required when the reason is 'other'."]
    }
    ok = ack(
        oncologist_api,
        alert_id,
        decision="decline",
        reason_code="possible_chip_or_low_vaf",
        comment="low VAF",
    )
    assert ok.status_code == 200
    collect(eligible, "ACC-2", dt.date(2026, 11, 20), nurse)
    persisting = payload(
        report_id="R-2", accession="ACC-2", collected_on="2026-11-20", reported_on="2026-11-22"
    )
    assert lab_token_api.post(URL, persisting, format="json").json()["alerts"] == []
    collect(eligible, "ACC-3", dt.date(2026, 11, 24), nurse)
    new_variant = payload(
        report_id="R-3",
        accession="ACC-3",
        collected_on="2026-11-24",
        reported_on="2026-11-24",
        variants=[
            variant(),
            variant(
                hgvs_p="Y537S",
                hgvs_c=None,
                pos=None,
                ref=None,
                alt=None,
                genome_build=None,
                chrom=None,
            ),
        ],
    )
    alerts = lab_token_api.post(URL, new_variant, format="json").json()["alerts"]
    assert [(a["kind"], a["state"]) for a in alerts] == [("switch_recommended", "open")]


def test_only_oncologists_decide_and_only_once(oncologist_api, nurse_api, lab_token_api, alert_id):
    body = {"decision": "decline", "reason_code": "patient_preference"}
    assert (
        nurse_api.post(f"/api/v1/alerts/{alert_id}/acknowledge/", body, format="json").status_code
        == 403
    )
    assert (
        lab_token_api.post(
            f"/api/v1/alerts/{alert_id}/acknowledge/", body, format="json"
        ).status_code
        == 403
    )
    assert ack(oncologist_api, alert_id, **body).status_code == 200
    again = ack(oncologist_api, alert_id, **body)
    assert again.status_code == 409
    assert "already declined" in again.json()["message"]


def test_bad_decision_fields(oncologist_api, alert_id):
    response = ack(oncologist_api, alert_id, decision="switch", effective_on="2026-12-30")
    assert response.json()["extra"]["fields"] == {
        "effective_on": ["The switch date can be at most 30 days ahead."]
    }
    response = ack(oncologist_api, alert_id, decision="defer", defer_until="2026-11-01")
    assert set(response.json()["extra"]["fields"]) == {"reason_code", "defer_until"}
    assert Alert.objects.get().state == "open"


def test_a_clear_scan_recorded_after_the_alert_satisfies_imaging(
    oncologist_api, lab_token_api, eligible, oncologist
):
    from clinic.workflows import scan_receive  # the scan path, which reconciles her alerts

    eligible.scans.all().delete()
    alert_id = lab_token_api.post(URL, payload(), format="json").json()["alerts"][0]["id"]
    scan_receive(
        patient=eligible,
        performed_on=dt.date(2026, 11, 20),
        modality="ct",
        outcome="no_progression",
        acting_user=oncologist,
    )
    response = ack(oncologist_api, alert_id, decision="switch", effective_on="2026-11-24")
    assert response.status_code == 200, response.json()
