"""A lab file must end where the JSON call ends (DESIGN §5 "every event re-runs the
reconcile", §6 "nothing is ever half-stored"): corrections to another patient, cancellations,
amendments, re-sends, a report twice, and the state the patient is in when the debt is paid.

The file's reconciles are owed (therapy_reconcileowed) and paid by a worker; these tests pay
them with `reconcile_owed_run`, as the worker or the work sweep does.
"""

import pytest

from clinic.workflows import patient_change
from liquidbiopsy.models import LabReport, Upload
from notifications.models import Notification
from patients.models import Draw
from tests.builders import MOVED, payload, pending, post_report, send_file
from therapy.models import Alert, ReconcileOwed
from therapy.owed import reconcile_owed_run

pytestmark = pytest.mark.django_db


def test_a_correction_in_a_file_moving_a_report_reconciles_both_patients(
    lab_token_api, eligible, other
):
    post_report(lab_token_api, payload())  # JSON: her alert opens
    first = Alert.objects.get(patient=eligible)
    response = send_file(lab_token_api, payload(**MOVED))
    assert response.status_code == 201, response.json()
    assert set(ReconcileOwed.objects.values_list("patient_id", flat=True)) == {
        eligible.pk,
        other.pk,
    }
    reconcile_owed_run()
    first.refresh_from_db()
    assert (first.state, first.withdrawn_reason) == ("withdrawn", "evidence_retracted")
    assert [a.kind for a in pending(other)] == ["switch_recommended"]


def test_a_cancellation_in_a_file_withdraws_the_alert_and_reopens_the_draw(lab_token_api, eligible):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    response = send_file(lab_token_api, payload(version=2, status="cancelled", variants=[]))
    assert response.status_code == 201, response.json()
    assert Draw.objects.get(accession="ACC-000123").state == "collected"
    reconcile_owed_run()
    alert.refresh_from_db()
    assert (alert.state, alert.withdrawn_reason) == ("withdrawn", "evidence_retracted")
    assert not ReconcileOwed.objects.exists()


def test_an_amended_version_in_a_file_supersedes_the_json_one_as_the_evidence(
    lab_token_api, eligible
):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    amended = payload(
        version=2,
        status="amended",
        variants=[{"gene": "ESR1", "hgvs_p": "p.Tyr537Ser", "vaf_percent": 1.5}],
    )
    assert send_file(lab_token_api, amended).status_code == 201
    reconcile_owed_run()
    alert.refresh_from_db()
    assert alert.state == "open"  # the same pending alert, with the new version's evidence
    (evidence,) = alert.evidence.select_related("report")
    assert (evidence.report.version, evidence.report.is_current) == (2, True)
    assert LabReport.objects.get(version=1).is_current is False
    assert Alert.objects.count() == 1


@pytest.mark.parametrize(
    "second",
    [
        {},  # the same version again (adjacent rows are one report's calls)
        {"version": 2, "status": "amended"},  # two versions of one report in one file
    ],
    ids=["same-version", "two-versions"],
)
def test_a_file_with_the_same_report_twice_stores_nothing_and_owes_nothing(
    lab_token_api, eligible, other, second
):
    between = payload(report_id="R-OTHER", **{k: v for k, v in MOVED.items() if k != "version"})
    between["status"] = "final"
    response = send_file(lab_token_api, payload(), between, payload(**second))
    assert response.status_code == 400, response.json()
    assert not LabReport.objects.exists()
    assert not ReconcileOwed.objects.exists()
    assert Draw.objects.get(accession="ACC-000123").state == "collected"
    assert Draw.objects.get(accession="ACC-000200").state == "collected"


def test_a_file_sent_again_after_success_owes_nothing_and_notifies_no_one_again(
    lab_token_api, eligible
):
    assert send_file(lab_token_api, payload()).status_code == 201
    reconcile_owed_run()
    alert = Alert.objects.get()
    notices = Notification.objects.count()
    again = send_file(lab_token_api, payload())
    assert again.status_code in (200, 201), again.json()
    upload = Upload.objects.order_by("-id").first()
    assert (upload.state, upload.reports_stored, upload.reports_unchanged) == ("done", 0, 1)
    assert not ReconcileOwed.objects.exists()
    reconcile_owed_run()
    assert list(Alert.objects.values_list("pk", "state")) == [(alert.pk, "open")]
    assert Notification.objects.count() == notices


def test_a_file_sent_again_after_it_failed_is_stored_and_raises_the_alert(lab_token_api, eligible):
    bad = payload(variants=[{"gene": "ESR1", "hgvs_p": "p.Asp538Gly", "vaf_percent": 250}])
    assert send_file(lab_token_api, bad).status_code == 400
    assert Upload.objects.get().state == "failed"
    assert not ReconcileOwed.objects.exists()
    assert send_file(lab_token_api, payload()).status_code == 201
    reconcile_owed_run()
    assert [a.kind for a in pending(eligible)] == ["switch_recommended"]


@pytest.mark.parametrize("state", ["deceased", "withdrawn"])
def test_a_debt_paid_after_the_patient_died_or_withdrew_raises_nothing(
    lab_token_api, eligible, nurse, state
):
    assert send_file(lab_token_api, payload()).status_code == 201
    assert ReconcileOwed.objects.filter(patient=eligible).exists()
    patient_change(patient=eligible, acting_user=nurse, changes={"surveillance_state": state})
    reconcile_owed_run()
    assert not pending(eligible).exists()
    assert not Alert.objects.filter(patient=eligible).exists()
    assert not Notification.objects.filter(key__startswith="alert:").exists()
    assert not ReconcileOwed.objects.exists()


def test_a_json_report_while_a_files_debt_is_owed_then_the_debt_adds_no_second_alert(
    lab_token_api, eligible, nurse
):
    """The file's report is stored, its debt not paid; a JSON report for her reconciles
    her at once (and so the file's report too). Paying the debt afterwards changes nothing:
    one alert, told once."""
    from tests.builders import later_report

    assert send_file(lab_token_api, payload()).status_code == 201
    post_report(lab_token_api, later_report(eligible, nurse))
    alert = Alert.objects.get()
    assert alert.evidence.count() == 2  # the file's report attached by the JSON reconcile
    opened = Notification.objects.filter(key=f"alert:{alert.pk}:opened").count()
    reconcile_owed_run()
    assert list(Alert.objects.values_list("pk", flat=True)) == [alert.pk]
    assert Notification.objects.filter(key=f"alert:{alert.pk}:opened").count() == opened
    assert not ReconcileOwed.objects.exists()


def test_a_qc_pass_correction_in_a_file_cancels_the_redraw_and_raises_the_alert(
    lab_token_api, eligible
):
    """The JSON path is tests/liquidbiopsy/test_ingestion_edges.py; a file must do the same,
    and then its owed reconcile raises the alert the passing result gives."""
    post_report(lab_token_api, payload(qc_status="fail", variants=[]))
    redraw = Draw.objects.get(patient=eligible, state="scheduled")
    assert redraw.is_redraw
    assert not Alert.objects.exists()
    assert send_file(lab_token_api, payload(version=2, status="corrected")).status_code == 201
    redraw.refresh_from_db()
    assert (redraw.state, redraw.reason_code) == ("cancelled", "redraw_not_needed")
    assert Draw.objects.get(accession="ACC-000123").state == "resulted"
    assert not Draw.objects.get(patient=eligible, state="scheduled").is_redraw
    reconcile_owed_run()
    assert [a.kind for a in pending(eligible)] == ["switch_recommended"]


def test_a_decline_while_a_files_new_variant_is_owed_does_not_swallow_the_new_variant(
    lab_token_api, oncologist_api, eligible, nurse
):
    """She declines the alert she sees (D538G) while a file with a new ESR1 variant (Y537S),
    which she has not seen, is stored and its reconcile owed. A decision is judged on her
    current evidence (the owed reconcile is paid first): the alert she saw has changed, so
    the decline is refused (409, reload) instead of covering a variant she never saw; the
    decline she makes on the reloaded alert covers both."""
    from tests.builders import ack, later_report

    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    newer = later_report(
        eligible, nurse, variants=[{"gene": "ESR1", "hgvs_p": "p.Tyr537Ser", "vaf_percent": 1.5}]
    )
    assert send_file(lab_token_api, newer).status_code == 201
    declined = ack(
        oncologist_api,
        alert,
        decision="decline",
        reason_code="possible_chip_or_low_vaf",
        comment="low VAF",
    )
    assert declined.status_code == 409, declined.json()
    alert.refresh_from_db()
    assert alert.state == "open"
    assert alert.evidence.count() == 2  # the file's report joined the alert she saw
    declined = ack(
        oncologist_api,
        alert,
        decision="decline",
        reason_code="possible_chip_or_low_vaf",
        comment="low VAF, both calls seen",
        revision=alert.revision,
    )
    assert declined.status_code == 200, declined.json()
    reconcile_owed_run()
    assert not pending(eligible).exists()
