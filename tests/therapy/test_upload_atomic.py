"""A file's reports, the draws they move and the alert reconciles they owe are stored in one
transaction: a worker that dies at any point leaves either all of it or none of it, and the
work sweep redoes the none. (The reconcile itself is paid later; the debt is the record.)"""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from clinic.tasks import upload_process as upload_process_task
from liquidbiopsy.models import LabReport, Upload
from liquidbiopsy.upload_sweep import uploads_stalled_requeue
from therapy.models import Alert, ReconcileOwed
from therapy.owed import reconcile_owed_run

pytestmark = pytest.mark.django_db

CSV = (
    "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
    "qc_status,gene,hgvs_p,vaf_percent\n"
    "F-1,1,final,ACC-000123,MRN-0001,1961-04-02,2026-11-02,2026-11-10,G360,pass,ESR1,Y537S,0.8\n"
)


class WorkerDied(BaseException):
    """Stands for SIGKILL at that instant: nothing after it runs, no except clause sees it."""


def _queued_upload(api, settings) -> Upload:
    settings.UPLOAD_SYNC_MAX_ROWS = 1  # so the file goes to the worker
    response = api.post(
        "/api/v1/reports/upload/",
        {"file": SimpleUploadedFile("f.csv", CSV.encode())},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    return Upload.objects.get()


@pytest.mark.parametrize(
    "dies_in", ["clinic.workflows.reconcile_owed_add", "clinic.workflows.cohort_refresh"]
)
def test_a_worker_dying_after_storing_the_reports_leaves_none_of_them(
    lab_token_api, eligible, settings, monkeypatch, dies_in
):
    upload = _queued_upload(lab_token_api, settings)

    def die(*args, **kwargs):
        raise WorkerDied

    monkeypatch.setattr(dies_in, die)
    with pytest.raises(WorkerDied):
        upload_process_task(upload.pk)
    # Reports stored without the reconcile they owe would never raise her alert.
    assert not LabReport.objects.exists()
    assert eligible.draws.get(accession="ACC-000123").state == "collected"
    upload.refresh_from_db()
    assert upload.state == "processing"  # claimed, unfinished: the sweep's to find

    monkeypatch.undo()
    later = timezone.now() + dt.timedelta(hours=1)
    assert uploads_stalled_requeue(now=later) == [upload.pk]
    upload_process_task(upload.pk)
    upload.refresh_from_db()
    assert (upload.state, upload.reports_stored) == ("done", 1)
    assert ReconcileOwed.objects.filter(patient=eligible).exists()
    reconcile_owed_run()
    assert Alert.objects.get(patient=eligible).kind == "switch_recommended"


@pytest.mark.django_db(transaction=True)
def test_a_file_stored_while_a_worker_reconciles_the_same_patient_keeps_its_debt(eligible):
    """A worker has claimed her owed reconcile and read her facts; a file with a new report
    for her is stored meanwhile. Its debt must survive the worker's delete of the claimed row:
    the file waits for her row lock (the reconcile's), then records a debt of its own."""
    import threading

    from django.db import connections, transaction

    from accounts.roles import Role
    from clinic.workflows import upload_receive
    from tests.factories import UserFactory
    from therapy.owed import reconcile_owed_add
    from therapy.reconcile import alerts_reconcile

    lab = UserFactory(username="lab_owed_race", role=Role.LAB)
    reconcile_owed_add(patient_ids=[eligible.pk])  # an earlier file's debt, nothing to find
    claimed, stored = threading.Event(), threading.Event()
    errors = []

    def worker():  # therapy.owed.reconcile_owed_run, held open between its steps
        try:
            with transaction.atomic():
                rows = list(
                    ReconcileOwed.objects.select_for_update(skip_locked=True).values_list(
                        "id", "patient_id"
                    )
                )
                alerts_reconcile([pid for _, pid in rows])
                claimed.set()
                stored.wait(timeout=3)  # the file stores meanwhile (or waits for her lock)
                ReconcileOwed.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def lab_file():
        try:
            claimed.wait(timeout=10)
            upload = upload_receive(filename="f.csv", data=CSV.encode(), lab_account=lab)
            assert upload.state == "done", upload.errors
            stored.set()
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker), threading.Thread(target=lab_file)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert LabReport.objects.filter(patient=eligible).count() == 1
    assert ReconcileOwed.objects.filter(patient=eligible).exists()  # the file's own debt
    reconcile_owed_run()
    assert Alert.objects.get(patient=eligible).kind == "switch_recommended"
