"""A large file through the worker's path: all or nothing, every error with its line and CSV
column, identity errors in the same round, re-sends dropped, the reconciles owed recorded in
the storing transaction (and paid set-based)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from audit.models import AuditEvent
from clinic.tasks import upload_process as upload_process_task
from liquidbiopsy.models import LabReport, Upload, VariantCall
from patients.models import Draw
from tests.factories import PatientFactory, RegimenFactory
from therapy.models import Alert, ReconcileOwed
from therapy.owed import reconcile_owed_run

pytestmark = pytest.mark.django_db

UPLOAD = "/api/v1/reports/upload/"
N = 1000
HEADER = (
    "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
    "qc_status,tumor_fraction,gene,hgvs_p,vaf_percent,depth"
)
COLLECTED = dt.date(2026, 11, 2)


@pytest.fixture
def thousand(oncologist):
    """N patients on letrozole + palbociclib for a year, each with a collected draw."""
    patients = [
        PatientFactory(
            mrn=f"MRN-K{n:04d}", date_of_birth=dt.date(1960, 1, 1), oncologist=oncologist
        )
        for n in range(N)
    ]
    for p in patients:
        RegimenFactory(patient=p, started_on=dt.date(2025, 10, 1))
    Draw.objects.bulk_create(
        Draw(
            patient=p,
            planned_on=COLLECTED,
            due_on=COLLECTED,
            window_opens_on=COLLECTED - dt.timedelta(days=7),
            window_closes_on=COLLECTED + dt.timedelta(days=7),
            state=Draw.State.COLLECTED,
            collected_at=dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC),
            collected_on=COLLECTED,
            accession=f"ACC-K{n:04d}",
        )
        for n, p in enumerate(patients)
    )
    return patients


def line(n: int, *, mrn=None, vaf="0.42", report=None, version=1) -> str:
    return (
        f"{report or f'K-{n}'},{version},final,ACC-K{n:04d},{mrn or f'MRN-K{n:04d}'},1960-01-01,"
        f"2026-11-02,2026-11-10,G360,pass,0.02,ESR1,p.Asp538Gly,{vaf},12000"
    )


def send(client, rows):
    data = ("\n".join([HEADER, *rows]) + "\n").encode()
    answer = client.post(
        UPLOAD, {"file": SimpleUploadedFile("k.csv", data, "text/csv")}, format="multipart"
    )
    assert answer.status_code == 202, answer.content[:300]  # > UPLOAD_SYNC_MAX_ROWS: a worker
    upload_process_task(answer.json()["id"])
    return Upload.objects.get(pk=answer.json()["id"])


def stored() -> tuple[int, int, int]:
    return (LabReport.objects.count(), VariantCall.objects.count(), ReconcileOwed.objects.count())


def test_a_thousand_good_rows_are_stored_and_their_alerts_reconciled(lab_token_api, thousand):
    upload = send(lab_token_api, [line(n) for n in range(N)])
    assert (upload.state, upload.reports_stored, upload.errors) == ("done", N, [])
    assert stored() == (N, N, N)  # the owed reconciles were recorded with the reports
    statements = []
    with connection.execute_wrapper(lambda ex, sql, *a: statements.append(sql) or ex(sql, *a)):
        assert reconcile_owed_run() == N
    assert len(statements) < 60  # set-based: two batches of 500, no statement per patient
    assert Alert.objects.filter(kind="switch_recommended", state="open").count() == N
    assert AuditEvent.objects.filter(action="alert.open").count() == N
    assert ReconcileOwed.objects.count() == 0
    again = send(lab_token_api, [line(n) for n in range(N)])  # an identical re-send
    assert (again.state, again.reports_stored, again.reports_unchanged) == ("done", 0, N)
    assert stored()[:2] == (N, N)


def test_one_mismatched_row_among_a_thousand_stores_nothing(lab_token_api, thousand):
    rows = [line(n) for n in range(N)]
    rows[637] = line(637, mrn="MRN-WRONG")
    upload = send(lab_token_api, rows)
    assert upload.state == "failed"
    assert upload.errors == [
        {
            "line": 639,  # header is line 1
            "field": "patient",
            "message": "The patient identifiers do not match the draw with accession "
            "'ACC-K0637'; check the MRN and the date of birth.",
        }
    ]
    assert stored() == (0, 0, 0)
    assert Draw.objects.filter(state="collected").count() == N
    failures = AuditEvent.objects.filter(action="report.match_failed")
    assert [e.detail for e in failures] == [{"accession": "ACC-K0637", "match": "identity"}]


def test_bad_values_and_duplicates_are_all_named_in_one_round(lab_token_api, thousand):
    rows = [line(n) for n in range(N)]
    rows[10] = line(10, vaf="abc")
    rows[20] = line(20, vaf="250", mrn="MRN-WRONG")  # a bad value and an identity error
    rows.append(line(30))  # the same row twice: one variant twice in report K-30
    rows.append(line(40, version=2))  # two versions of report K-40 in one file
    upload = send(lab_token_api, rows)
    assert upload.state == "failed"
    found = {(e["line"], e.get("column"), e["field"]) for e in upload.errors}
    assert (12, "vaf_percent", "variants[0].vaf_percent") in found
    assert (22, "vaf_percent", "variants[0].vaf_percent") in found
    assert (22, None, "patient") in found
    assert {
        "line": N + 2,
        "field": "variants[1]",
        "message": "The same variant appears twice in this report (also at line 32).",
    } in upload.errors
    assert (N + 3, "report_id", "report_id") in found
    assert len(upload.errors) == 5, upload.errors
    assert stored() == (0, 0, 0)
