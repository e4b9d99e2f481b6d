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
