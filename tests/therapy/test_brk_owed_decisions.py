"""brk probes: a decision while a file's alert reconcile is still owed is judged on the
current evidence (therapy/owed.py), and another lab learns nothing through a file."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.roles import Role
from liquidbiopsy.models import LabReport
from patients.models import Regimen
from tests.builders import MOVED, ack, payload, pending, post_report, send_file
from tests.factories import UserFactory
from therapy.models import Alert, ReconcileOwed
from therapy.owed import reconcile_owed_run

pytestmark = pytest.mark.django_db


def test_a_switch_while_a_files_cancellation_is_owed_is_refused(
    lab_token_api, oncologist_api, eligible
):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    assert (
        send_file(lab_token_api, payload(version=2, status="cancelled", variants=[])).status_code
        == 201
    )
    assert ReconcileOwed.objects.exists()
    r = ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24")
    assert r.status_code == 409, r.json()
    alert.refresh_from_db()
    assert alert.state == "withdrawn"
    assert (
        Regimen.objects.get(patient=eligible, ended_on__isnull=True).endocrine_agent == "letrozole"
    )
    reconcile_owed_run()
    assert not pending(eligible).exists()


def test_a_switch_while_a_files_correction_to_another_patient_is_owed_is_refused(
    lab_token_api, oncologist_api, eligible, other
):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    assert send_file(lab_token_api, payload(**MOVED)).status_code == 201
    r = ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24")
    assert r.status_code == 409, r.json()
    eligible.refresh_from_db()
    assert eligible.surveillance_state == "active"
    reconcile_owed_run()
    assert not pending(eligible).exists()
    assert pending(other, "switch_recommended").count() == 1


def test_a_defer_while_a_files_vaf_rise_is_owed_is_refused_then_sees_the_new_vaf(
    lab_token_api, oncologist_api, eligible
):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    body = payload(version=2, status="amended")
    body["variants"][0]["vaf_percent"] = 4.2
    assert send_file(lab_token_api, body).status_code == 201
    r = ack(
        oncologist_api,
        alert,
        decision="defer",
        reason_code="awaiting_imaging",
        defer_until="2026-12-01",
    )
    assert r.status_code == 409, r.json()


# Once LAB_ACCOUNTS names a lab, every lab account is listed (an unlisted one sees no draw).
LABS = {"default": frozenset({"lab_lims"}), "elsewhere": frozenset({"lab_elsewhere"})}


@override_settings(LAB_ACCOUNTS=LABS)
@pytest.mark.parametrize(
    "who",
    [
        {"mrn": "MRN-0001", "date_of_birth": "1961-04-02"},
        {"mrn": "MRN-0001", "date_of_birth": "1960-01-01"},
        {"mrn": "MRN-9999", "date_of_birth": "1961-04-02"},
    ],
    ids=["right", "wrong_dob", "wrong_mrn"],
)
def test_another_labs_file_gets_the_no_such_accession_answer_whatever_the_identity(
    lab_token_api, eligible, who
):
    user = UserFactory(username="lab_elsewhere", role=Role.LAB)
    theirs = APIClient()
    theirs.force_authenticate(user)
    r = send_file(theirs, payload(patient=who))
    missing = send_file(theirs, payload(patient=who, accession="ACC-NOPE"))
    assert r.status_code == missing.status_code == 400
    strip = lambda resp, acc: [  # noqa: E731
        e["message"].replace(acc, "X") for e in resp.json()["extra"]["errors"]
    ]
    assert strip(r, "ACC-000123") == strip(missing, "ACC-NOPE")
    assert not LabReport.objects.exists()
    # Nor can it touch our lab's chain of the same report id.
    post_report(lab_token_api, payload())
    r = theirs.post(
        "/api/v1/reports/", payload(version=2, status="cancelled", variants=[]), format="json"
    )
    assert r.status_code == 404
    assert Alert.objects.get().state == "open"
    assert theirs.get("/api/v1/reports/", {"accession": "ACC-000123"}).json()["count"] == 0
    assert theirs.get("/api/v1/alerts/").status_code == 403
