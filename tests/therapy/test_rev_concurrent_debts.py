"""Owed reconciles paid by two workers at once, or while a JSON report for the same patient
is reconciled: one alert per patient and kind, told once, no debt left (therapy.owed: the
owed rows are claimed FOR UPDATE SKIP LOCKED; the reconcile locks the patients' rows)."""

import datetime as dt
import threading

import pytest
from django.db import connections

from accounts.roles import Role
from clinic.workflows import report_receive, upload_receive
from notifications.models import Notification
from patients.models import Patient
from tests.builders import collect, payload
from tests.factories import PatientFactory, RegimenFactory, ScanFactory, UserFactory
from therapy.models import Alert, ReconcileOwed
from therapy.owed import reconcile_owed_run

pytestmark = pytest.mark.django_db(transaction=True)

CSV_HEADER = (
    "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
    "qc_status,gene,hgvs_p,vaf_percent"
)


def _race(*jobs):
    barrier = threading.Barrier(len(jobs))
    errors = []

    def run(job):
        try:
            barrier.wait(timeout=10)
            job()
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors


def _patients(n, oncologist, nurse):
    rows = []
    for i in range(n):
        patient = PatientFactory(
            mrn=f"MRN-D{i}",
            date_of_birth=dt.date(1961, 4, 2),
            oncologist=oncologist,
            surveillance_start_on=dt.date(2026, 5, 2),
        )
        RegimenFactory(patient=patient, started_on=dt.date(2025, 11, 2))
        ScanFactory(patient=patient, performed_on=dt.date(2026, 10, 20))
        collect(patient, f"ACC-D{i}", dt.date(2026, 11, 2), nurse)
        rows.append(
            f"D-{i},1,final,ACC-D{i},MRN-D{i},1961-04-02,2026-11-02,2026-11-10,G360,pass,"
            "ESR1,D538G,0.5"
        )
    return rows


def _check_one_alert_each_told_once(n):
    assert not ReconcileOwed.objects.exists()
    assert Alert.objects.count() == n
    assert set(Alert.objects.values_list("kind", flat=True)) == {"switch_recommended"}
    for alert in Alert.objects.all():
        keys = Notification.objects.filter(key=f"alert:{alert.pk}:opened")
        assert keys.filter(channel="in_app").count() == 1
        assert keys.filter(channel="email").count() <= 1


def test_two_workers_paying_the_same_debts_at_once_raise_each_alert_once(oncologist, nurse):
    lab = UserFactory(username="lab_debts", role=Role.LAB)
    rows = _patients(6, oncologist, nurse)
    data = ("\n".join([CSV_HEADER, *rows]) + "\n").encode()
    upload = upload_receive(filename="f.csv", data=data, lab_account=lab)
    assert upload.state == "done", upload.errors
    assert ReconcileOwed.objects.count() == 6
    _race(lambda: reconcile_owed_run(batch=2), lambda: reconcile_owed_run(batch=2))
    _check_one_alert_each_told_once(6)


def test_a_json_report_for_her_while_her_debt_is_paid_raises_one_alert(oncologist, nurse):
    lab = UserFactory(username="lab_debt_json", role=Role.LAB)
    (row,) = _patients(1, oncologist, nurse)
    data = (CSV_HEADER + "\n" + row + "\n").encode()
    assert upload_receive(filename="f.csv", data=data, lab_account=lab).state == "done"
    patient = Patient.objects.get(mrn="MRN-D0")
    collect(patient, "ACC-D0-2", dt.date(2026, 11, 20), nurse)
    body = payload(
        report_id="J-2",
        accession="ACC-D0-2",
        patient={"mrn": "MRN-D0", "date_of_birth": "1961-04-02"},
        collected_on="2026-11-20",
        reported_on="2026-11-22",
    )
    _race(lambda: reconcile_owed_run(), lambda: report_receive(payload=body, lab_account=lab))
    _check_one_alert_each_told_once(1)
    assert Alert.objects.get().evidence.count() == 2
