"""Report -> rule -> alert, through the API, on PostgreSQL."""

import datetime as dt
import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from accounts.services import api_token_issue
from notifications.models import Notification
from patients import services as patient_services
from tests.builders import URL, collect, payload, variant
from therapy.models import Alert, AlertEvidence, SwitchEvaluation

pytestmark = pytest.mark.django_db


def test_esr1_on_eligible_patient_raises_a_switch_alert(
    lab_token_api, eligible, oncologist_api, oncologist
):
    response = lab_token_api.post(URL, payload(), format="json")
    assert response.status_code == 201, response.json()
    (alert_out,) = response.json()["alerts"]
    assert (alert_out["kind"], alert_out["state"], alert_out["rule_version"]) == (
        "switch_recommended",
        "open",
        "serena6-v2",
    )
    assert alert_out["needs_confirmatory_imaging"] is False  # clear scan 13 days before
    detail = oncologist_api.get(f"/api/v1/alerts/{alert_out['id']}/").json()
    assert detail["evidence"] == [
        {
            "report_id": "G360-2026-000123",
            "version": 1,
            "status": "final",
            "collected_on": "2026-11-02",
            "variants": [
                {
                    "gene": "ESR1",
                    "hgvs_p": "p.Asp538Gly",
                    "vaf": 0.0042,
                    "vaf_percent": 0.42,
                    "filter": "",
                    "counted": True,
                }
            ],
        }
    ]
    evaluation = SwitchEvaluation.objects.get()
    assert evaluation.kind == "switch_recommended"
    assert evaluation.facts_snapshot["endocrine_agent"] == "letrozole"
    notices = Notification.objects.filter(
        recipient=oncologist, key=f"alert:{alert_out['id']}:opened"
    )
    assert {n.channel for n in notices} == {"in_app", "email"}


def test_identical_resend_raises_nothing_and_tells_no_decision(
    lab_token_api, eligible, oncologist_api
):
    first = lab_token_api.post(URL, payload(), format="json").json()
    assert [a["state"] for a in first["alerts"]] == ["open"]
    alert = Alert.objects.get()
    decided = oncologist_api.post(
        f"/api/v1/alerts/{alert.pk}/acknowledge/",
        {"decision": "decline", "reason_code": "patient_preference"},
        format="json",
    )
    assert decided.status_code == 200, decided.content
    again = lab_token_api.post(URL, payload(), format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]  # the stored report
    assert again.json()["alerts"] == []  # it raised nothing; the decline is not the lab's
    assert Alert.objects.count() == 1


def test_new_evidence_attaches_to_the_open_alert(lab_token_api, eligible, nurse):
    lab_token_api.post(URL, payload(), format="json")
    collect(eligible, "ACC-000124", dt.date(2026, 11, 20), nurse)
    second = payload(
        report_id="R-2", accession="ACC-000124", collected_on="2026-11-20", reported_on="2026-11-22"
    )
    response = lab_token_api.post(URL, second, format="json")
    assert response.status_code == 201
    alert = Alert.objects.get()
    assert alert.evidence.count() == 2
    assert response.json()["alerts"][0]["id"] == alert.pk


def test_no_clear_scan_within_28_days_needs_confirmatory_imaging(lab_token_api, eligible):
    eligible.scans.all().delete()
    alert = lab_token_api.post(URL, payload(), format="json").json()["alerts"][0]
    assert alert["needs_confirmatory_imaging"] is True


def test_early_esr1_raises_review(lab_token_api, eligible):
    eligible.regimens.update(started_on=dt.date(2026, 6, 1))
    (alert,) = lab_token_api.post(URL, payload(), format="json").json()["alerts"]
    assert alert["kind"] == "review"


def test_progression_path(lab_token_api, eligible, oncologist):
    patient_services.scan_record(
        patient=eligible,
        performed_on=dt.date(2026, 11, 2),
        modality="ct",
        outcome="progression",
        acting_user=oncologist,
    )
    (alert,) = lab_token_api.post(URL, payload(), format="json").json()["alerts"]
    assert alert["kind"] == "esr1_with_progression"


def test_not_detected_and_non_allowlisted_raise_nothing(lab_token_api, eligible):
    assert lab_token_api.post(URL, payload(variants=[]), format="json").json()["alerts"] == []
    # Protein only: with the default D538G position the call would qualify by position
    # (DESIGN §5: either matches; flagged discordant).
    not_listed = variant(
        hgvs_p="p.Glu380Lys", genome_build=None, chrom=None, pos=None, ref=None, alt=None
    )
    other = payload(report_id="R-3", variants=[not_listed])
    assert lab_token_api.post(URL, other, format="json").json()["alerts"] == []
    assert Alert.objects.count() == 0


def test_protein_and_position_disagreeing_still_qualify_by_position(lab_token_api, eligible):
    """DESIGN §5: a call qualifies if either its protein or its position matches; the
    disagreement is flagged for the oncologist, never silently dropped."""
    discordant = payload(variants=[variant(hgvs_p="p.Glu380Lys")])  # at D538G's position
    (alert,) = lab_token_api.post(URL, discordant, format="json").json()["alerts"]
    assert alert["kind"] == "switch_recommended"
    assert Alert.objects.get().variants == [["p.Asp538Gly", "0.0042"]]


def test_amendment_without_the_variant_withdraws_the_alert(lab_token_api, eligible):
    lab_token_api.post(URL, payload(), format="json")
    response = lab_token_api.post(
        URL, payload(version=2, status="corrected", variants=[]), format="json"
    )
    assert response.status_code == 201
    alert = Alert.objects.get()
    assert (alert.state, alert.withdrawn_reason) == ("withdrawn", "evidence_retracted")


def test_amendment_keeping_the_variant_keeps_the_alert(lab_token_api, eligible):
    lab_token_api.post(URL, payload(), format="json")
    lab_token_api.post(
        URL,
        payload(version=2, status="amended", variants=[variant(vaf_percent=0.5)]),
        format="json",
    )
    alert = Alert.objects.get()
    assert alert.state == "open"
    # The evidence is the report's current version (v1 is kept, superseded).
    (evidence,) = AlertEvidence.objects.filter(alert=alert).select_related("report")
    assert evidence.report.version == 2
    assert alert.variants == [["p.Asp538Gly", "0.005"]]


def test_alert_reading_roles(lab_token_api, eligible, nurse_api, anon_api):
    alert_id = lab_token_api.post(URL, payload(), format="json").json()["alerts"][0]["id"]
    assert nurse_api.get(f"/api/v1/alerts/{alert_id}/").status_code == 200
    assert nurse_api.get("/api/v1/alerts/?state=open").json()["count"] == 1
    assert lab_token_api.get("/api/v1/alerts/").status_code == 403
    assert anon_api.get("/api/v1/alerts/").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_two_reports_for_one_patient_at_once_give_one_open_alert(eligible, lab_user, nurse):
    collect(eligible, "ACC-000124", dt.date(2026, 11, 20), nurse)
    token = api_token_issue(username=lab_user.username)
    bodies = [
        payload(),
        payload(
            report_id="R-2",
            accession="ACC-000124",
            collected_on="2026-11-20",
            reported_on="2026-11-22",
        ),
    ]
    barrier = threading.Barrier(2)
    codes, errors = [], []

    def post(body):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        try:
            barrier.wait()
            codes.append(client.post(URL, body, format="json").status_code)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert codes == [201, 201]
    assert Alert.objects.filter(state="open").count() == 1
    assert AlertEvidence.objects.count() == 2


def test_progression_scan_withdraws_the_switch_alert_and_raises_progression(
    lab_token_api, eligible, oncologist_api, oncologist
):
    lab_token_api.post(URL, payload(), format="json")
    response = oncologist_api.post(
        f"/api/v1/patients/{eligible.pk}/scans/",
        {"performed_on": "2026-11-23", "modality": "ct", "outcome": "progression"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    states = dict(Alert.objects.values_list("kind", "state"))
    assert states == {"switch_recommended": "withdrawn", "esr1_with_progression": "open"}
    assert Alert.objects.get(kind="switch_recommended").withdrawn_reason == "progression"
    progression = Alert.objects.get(kind="esr1_with_progression")
    assert progression.evidence.count() == 1
    keys = set(Notification.objects.filter(recipient=oncologist).values_list("key", flat=True))
    assert f"alert:{progression.pk}:opened" in keys


def test_clear_scan_from_the_page_lifts_confirmatory_imaging(
    lab_token_api, eligible, client, oncologist
):
    eligible.scans.all().delete()
    lab_token_api.post(URL, payload(), format="json")
    assert Alert.objects.get().needs_confirmatory_imaging
    client.force_login(oncologist)
    response = client.post(
        f"/patients/{eligible.pk}/scans/",
        {"performed_on": "2026-11-20", "modality": "ct", "outcome": "no_progression", "note": ""},
        follow=True,
    )
    assert "The switch rule updated 1 alert(s)." in response.content.decode()
    assert Alert.objects.get().needs_confirmatory_imaging is False


def test_reports_from_a_file_are_evaluated_after_commit(
    lab_token_api, eligible, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from therapy.models import ReconcileOwed
    from therapy.owed import reconcile_owed_run

    csv = (
        "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
        "qc_status,gene,hgvs_p,vaf_percent\n"
        "F-1,1,final,ACC-000123,MRN-0001,1961-04-02,2026-11-02,2026-11-10,G360,pass,ESR1,Y537S,0.8\n"
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = lab_token_api.post(
            "/api/v1/reports/upload/",
            {"file": SimpleUploadedFile("f.csv", csv.encode())},
            format="multipart",
        )
    assert response.status_code == 201, response.json()
    assert Alert.objects.count() == 0  # not inside the upload's request
    assert callbacks  # the worker is asked once the reports are committed
    assert list(ReconcileOwed.objects.values_list("patient_id", flat=True)) == [eligible.pk]
    assert reconcile_owed_run() == 1  # what the worker runs
    assert not ReconcileOwed.objects.exists()
    alert = Alert.objects.get()
    assert (alert.kind, alert.variants) == ("switch_recommended", [["p.Tyr537Ser", "0.008"]])
