"""A sceptical review's findings in the file and decision paths (work lost, half-done or
counted twice), each a scenario that failed before its fix: a poison patient blocking every
owed reconcile, a correction in a file leaving the first draw resulted, a give-up racing a
worker, a switch accepted on evidence a file had cancelled, a database blip failing a file
for good, match failures audited twice, a patient activated by a nurse's draw action whose
earlier result was never judged."""

import contextlib
import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditEvent
from clinic.tasks import upload_process as upload_process_task
from clinic.tasks import work_sweep
from liquidbiopsy.upload_sweep import uploads_stalled_requeue
from patients.models import Draw
from tests.builders import (
    HER_ROW,
    LONDON,
    MOVED,
    OTHER_ROW,
    UPLOAD_URL,
    WorkerDied,
    collect,
    csv_of,
    file_of,
    payload,
    pending,
    post_report,
    queued_upload,
    send_file,
)
from tests.factories import PatientFactory, RegimenFactory, ScanFactory
from therapy import owed
from therapy.models import Alert, ReconcileOwed


@pytest.mark.django_db
def test_one_patient_whose_reconcile_fails_does_not_block_the_others_debts(
    lab_token_api, eligible, other, monkeypatch
):
    """A batch is up to 500 patients in one transaction. If one patient's reconcile raises
    (bad data, a bug, a constraint), the whole batch rolls back and the next run takes the
    same batch (ordered by id) and fails again: every other patient's alert is never raised.
    The others' debts must be paid; hers stays owed."""
    response = lab_token_api.post(
        UPLOAD_URL,
        {"file": SimpleUploadedFile("f.csv", file_of(HER_ROW, OTHER_ROW))},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert ReconcileOwed.objects.count() == 2
    real = owed.alerts_reconcile

    def fails_for_her(ids, **kwargs):
        if eligible.pk in ids:
            raise ValueError("her facts cannot be evaluated")
        return real(ids, **kwargs)

    monkeypatch.setattr(owed, "alerts_reconcile", fails_for_her)
    for _ in range(3):  # three beats of the work sweep
        with contextlib.suppress(ValueError):
            work_sweep()
    assert [a.kind for a in pending(other)] == ["switch_recommended"]
    assert list(ReconcileOwed.objects.values_list("patient_id", flat=True)) == [eligible.pk]


@pytest.mark.django_db
def test_a_correction_in_a_file_moving_a_report_frees_the_first_patients_draw(
    lab_token_api, eligible, other
):
    """The JSON path (tests/therapy/test_lifecycle.py, 2) takes the result off her draw:
    the report is not hers. The file path must do the same."""
    post_report(lab_token_api, payload())
    assert Draw.objects.get(accession="ACC-000123").state == "resulted"
    response = send_file(lab_token_api, payload(**MOVED))
    assert response.status_code == 201, response.json()
    assert Draw.objects.get(accession="ACC-000200").state == "resulted"
    # Her draw is no longer resulted by a report that is not hers.
    assert Draw.objects.get(accession="ACC-000123").state != "resulted"


@pytest.mark.django_db
def test_an_upload_given_up_while_a_worker_stores_it_does_not_end_done_with_its_reports(
    lab_token_api, eligible, settings, monkeypatch
):
    """The sweep gives up an upload UPLOAD_GIVE_UP_HOURS after it arrived, even one a worker
    holds right now (its third attempt, say): it is recorded failed, "Nothing was stored;
    send it again", and audited so. The worker goes on, stores the reports and overwrites the
    state with done (`_finish` updates whatever the state is). The lab was told one thing and
    the other happened; either the give-up must not touch a live claim, or the worker must
    find its claim gone and store nothing."""
    from liquidbiopsy import uploads
    from liquidbiopsy.models import LabReport

    upload = queued_upload(lab_token_api, settings, HER_ROW)
    real = uploads.reports_ingest_bulk

    def sweep_meanwhile(**kwargs):
        later = timezone.now() + dt.timedelta(hours=settings.UPLOAD_GIVE_UP_HOURS, minutes=1)
        uploads_stalled_requeue(now=later)  # the beat's work sweep, while this worker parses
        return real(**kwargs)

    monkeypatch.setattr(uploads, "reports_ingest_bulk", sweep_meanwhile)
    upload_process_task(upload.pk)
    upload.refresh_from_db()
    gave_up = AuditEvent.objects.filter(action="upload.fail", object_id=str(upload.pk)).exists()
    assert gave_up
    assert (upload.state, LabReport.objects.exists()) == ("failed", False)


@pytest.mark.django_db
def test_a_switch_accepted_after_a_file_cancelled_its_evidence_but_before_the_debt_was_paid(
    lab_token_api, oncologist_api, eligible
):
    """The lab cancels the only supporting report in a file; the file's reconcile is owed (a
    worker pays it in a moment, or a minute later if the nudge was lost). The oncologist opens
    the still-open alert and accepts the switch meanwhile: letrozole is ended and camizestrant
    started on a result the lab has retracted. A decision is an event for her (DESIGN §5): it
    must judge the alert on her current evidence, i.e. pay her owed reconcile first, and
    refuse (409) a switch whose alert has no evidence left."""
    from patients.models import Regimen
    from tests.builders import ack

    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    cancelled = payload(version=2, status="cancelled", variants=[])
    assert send_file(lab_token_api, cancelled).status_code == 201
    assert ReconcileOwed.objects.filter(patient=eligible).exists()  # not paid yet
    response = ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24")
    assert response.status_code == 409, response.json()
    assert not Regimen.objects.filter(patient=eligible, endocrine_agent="camizestrant").exists()


@pytest.mark.django_db
def test_a_database_blip_while_a_worker_stores_a_file_does_not_fail_the_file_for_good(
    lab_token_api, eligible, settings, monkeypatch
):
    """The task says autoretry_for=(OperationalError,), but upload_process catches every
    Exception: a primary failover or a dropped connection while storing ends the file
    `failed` ("internal error, send it again") and wipes its content, so no retry can ever
    process it. Nothing was stored, and the result reaches no one unless a person at the lab
    reads the upload and sends it again. A transient database error must leave the upload
    to be processed again (queued, content kept), as a killed worker does."""
    from django.db import OperationalError

    from liquidbiopsy import uploads

    upload = queued_upload(lab_token_api, settings, HER_ROW)
    real = uploads.reports_ingest_bulk
    calls = []

    def blip_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(uploads, "reports_ingest_bulk", blip_once)
    with contextlib.suppress(OperationalError):
        upload_process_task(upload.pk)
    upload.refresh_from_db()
    assert upload.state in ("queued", "processing"), (upload.state, upload.errors)
    assert bytes(upload.content) != b""
    assert upload.first_claimed_at is not None  # the give-up clock runs from the first claim


@pytest.mark.django_db
def test_a_worker_dying_after_a_rejected_file_was_audited_does_not_audit_it_twice(
    lab_token_api, eligible, settings, monkeypatch
):
    """A file naming an accession that is not the lab's is rejected; its match failures are
    audited (the lab throttle counts these rows) and the upload ends failed, in two
    transactions. Killed between them, the file is processed again by the sweep and its
    failures are counted twice."""
    from liquidbiopsy import uploads

    row = HER_ROW.replace("ACC-000123", "ACC-NOT-OURS")
    upload = queued_upload(lab_token_api, settings, row)

    def die(*args, **kwargs):
        raise WorkerDied

    monkeypatch.setattr(uploads, "_finish", die)
    with pytest.raises(WorkerDied):
        upload_process_task(upload.pk)
    monkeypatch.undo()
    assert uploads_stalled_requeue(now=timezone.now() + dt.timedelta(hours=1)) == [upload.pk]
    upload_process_task(upload.pk)
    upload.refresh_from_db()
    assert upload.state == "failed"
    assert AuditEvent.objects.filter(action="report.match_failed").count() == 1


@pytest.mark.django_db
def test_a_patient_made_active_by_a_nurses_draw_action_has_her_earlier_esr1_judged(
    lab_token_api, oncologist, nurse
):
    """She waits for the minimum duration (start 24 Nov) with an ESR1 result from 2 Nov: no
    alert while not active (clause 2). On 24 Nov, before the 06:15 planner, a nurse records a
    collection. draw_collect's own draws_plan used to make her active without reconciling her;
    the planner then found her active already and reconciled no one, so the switch alert a
    from-scratch reconcile gives was never raised. Now only callers that reconcile activate:
    the nurse's action leaves her awaiting, the planner activates her and raises the alert."""
    import time_machine

    from clinic.workflows import draws_plan_and_reconcile
    from patients import scheduling
    from therapy.reconcile import alerts_reconcile

    her = PatientFactory(
        mrn="MRN-0001",
        date_of_birth=dt.date(1961, 4, 2),
        oncologist=oncologist,
        surveillance_state="awaiting_minimum_duration",
        surveillance_start_on=dt.date(2026, 11, 24),
        surveillance_interval_weeks=4,
    )
    RegimenFactory(patient=her, started_on=dt.date(2025, 11, 2))
    ScanFactory(patient=her, performed_on=dt.date(2026, 10, 20), outcome="no_progression")
    collect(her, "ACC-000123", dt.date(2026, 11, 2), nurse)
    post_report(lab_token_api, payload())
    assert not Alert.objects.exists()  # not active yet: no alert
    next_draw = Draw.objects.get(patient=her, state="scheduled")
    at_dawn = dt.datetime(2026, 11, 24, 5, 30, tzinfo=LONDON)
    with time_machine.travel(at_dawn, tick=False):
        scheduling.draw_collect(
            draw=next_draw, collected_at=at_dawn, accession="ACC-000124", acting_user=nurse
        )
    her.refresh_from_db()
    assert her.surveillance_state == "awaiting_minimum_duration"  # the planner's to activate
    with time_machine.travel(dt.datetime(2026, 11, 24, 6, 15, tzinfo=LONDON), tick=False):
        draws_plan_and_reconcile()
    her.refresh_from_db()
    assert her.surveillance_state == "active"
    got = sorted(pending(her).values_list("kind", flat=True))
    alerts_reconcile([her.pk])  # what a from-scratch reconcile of her facts gives
    expected = sorted(pending(her).values_list("kind", flat=True))
    assert expected == ["switch_recommended"]
    assert got == expected


@pytest.mark.django_db(transaction=True)
def test_a_json_post_stored_while_a_file_writes_the_same_version_fails_the_file_plainly(
    eligible, monkeypatch
):
    """The JSON path commits version 1 of a report after the file found no stored version
    and before its COPY: the file's insert meets the unique version. It used to end
    'internal error'; it is a rejected file saying what happened, with nothing stored."""
    import threading

    from django.db import connections

    from accounts.roles import Role
    from clinic.workflows import report_receive, upload_receive
    from liquidbiopsy import bulk
    from liquidbiopsy.models import LabReport
    from tests.factories import UserFactory

    lab = UserFactory(username="lab_race_file", role=Role.LAB)
    body = payload(report_id="F-1")
    real = bulk._insert_pg

    def json_post_first(*args, **kwargs):
        def post():
            try:
                report_receive(payload=body, lab_account=lab)
            finally:
                connections.close_all()

        thread = threading.Thread(target=post)
        thread.start()
        thread.join(timeout=30)
        return real(*args, **kwargs)

    monkeypatch.setattr(bulk, "_insert_pg", json_post_first)
    upload = upload_receive(filename="f.csv", data=csv_of(body), lab_account=lab)
    assert upload.state == "failed"
    assert [e["message"] for e in upload.errors] == [bulk.STORED_MEANWHILE]
    assert LabReport.objects.filter(upload=upload).count() == 0
    assert LabReport.objects.filter(report_id="F-1").count() == 1  # the JSON post's
