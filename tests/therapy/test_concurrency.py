"""Events for one patient at the same moment (issue 10, failure 12): the paths lock the
patient's row before they reconcile, so a report and a progression scan that race each other
end the same way whichever commits first: no pending switch alert, one esr1_with_progression.
"""

import datetime as dt
import threading

import pytest
from django.db import connections

from accounts.roles import Role
from clinic.workflows import report_receive, scan_receive
from tests.builders import collect, payload
from tests.factories import PatientFactory, RegimenFactory, ScanFactory, UserFactory
from therapy.models import Alert

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 6


def _race(*jobs):
    barrier = threading.Barrier(len(jobs))
    errors = []

    def run(job):
        try:
            barrier.wait(timeout=10)
            job()
        except Exception as exc:  # reported below, with the thread's traceback lost
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors


def test_a_report_and_a_progression_scan_at_once_end_on_the_progression_pathway():
    oncologist = UserFactory(username="dr_race", role=Role.ONCOLOGIST)
    nurse = UserFactory(username="nurse_race", role=Role.NURSE)
    lab = UserFactory(username="lab_race", role=Role.LAB)
    for round_ in range(ROUNDS):
        patient = PatientFactory(
            mrn=f"MRN-R{round_}",
            date_of_birth=dt.date(1961, 4, 2),
            oncologist=oncologist,
            surveillance_start_on=dt.date(2026, 5, 2),
        )
        RegimenFactory(patient=patient, started_on=dt.date(2025, 11, 2))
        ScanFactory(patient=patient, performed_on=dt.date(2026, 10, 20))
        collect(patient, f"ACC-R{round_}", dt.date(2026, 11, 2), nurse)
        body = payload(
            report_id=f"RACE-{round_}",
            accession=f"ACC-R{round_}",
            patient={"mrn": f"MRN-R{round_}", "date_of_birth": "1961-04-02"},
        )
        _race(
            lambda body=body: report_receive(payload=body, lab_account=lab),
            lambda patient=patient: scan_receive(
                patient=patient,
                performed_on=dt.date(2026, 11, 20),
                modality="ct",
                outcome="progression",
                acting_user=oncologist,
            ),
        )
        pending = Alert.objects.filter(patient=patient, state__in=Alert.PENDING_STATES)
        assert list(pending.values_list("kind", flat=True)) == ["esr1_with_progression"], round_


def test_twenty_versions_of_one_report_posted_at_once_answer_201_or_409():
    """Issue 12: versions posted together used to give 500s (IntegrityError); the report
    chain is locked, so each is stored in turn (201) or refused as older (409)."""
    from rest_framework.test import APIClient

    from accounts.services import api_token_issue

    oncologist = UserFactory(username="dr_versions", role=Role.ONCOLOGIST)
    nurse = UserFactory(username="nurse_versions", role=Role.NURSE)
    lab = UserFactory(username="lab_versions", role=Role.LAB)
    token = api_token_issue(username=lab.username)
    patient = PatientFactory(
        mrn="MRN-V", date_of_birth=dt.date(1961, 4, 2), oncologist=oncologist,
        surveillance_start_on=dt.date(2026, 5, 2),
    )  # fmt: skip
    RegimenFactory(patient=patient, started_on=dt.date(2025, 11, 2))
    collect(patient, "ACC-V", dt.date(2026, 11, 2), nurse)
    codes = []

    def send(version):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        body = payload(
            report_id="CHAIN-1",
            version=version,
            status="final" if version == 1 else "amended",
            accession="ACC-V",
            patient={"mrn": "MRN-V", "date_of_birth": "1961-04-02"},
        )
        codes.append(client.post("/api/v1/reports/", body, format="json").status_code)

    _race(*[lambda v=v: send(v) for v in range(1, 21)])
    assert len(codes) == 20
    assert set(codes) <= {201, 409}, codes
    assert 201 in codes
    from liquidbiopsy.models import LabReport

    assert LabReport.objects.filter(report_id="CHAIN-1", is_current=True).count() == 1
