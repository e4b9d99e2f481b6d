"""A lab file is no oracle for a patient's date of birth or MRN (DESIGN §6: one generic
answer whichever identifier failed; failed matches are throttled).

A file can hold many reports: one accession sent with several identities would show, line by
line, which identity is the patient's; hundreds of accessions each with a guess would pass far
more guesses than the hourly allowance in one request. So: one accession with two identities
in a file is an error on each of its lines, never checked against the draw; a file whose
failed matches exceed what the account may still send this hour lists no match result at all
(not even a collection-date error, which only a matching identity reaches, nor how many
failed) and counts as one failure; every failure is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from liquidbiopsy.models import LabReport
from tests.builders import collect
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

UPLOAD = "/api/v1/reports/upload/"
HEADER = (
    "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
    "qc_status,gene,hgvs_p,vaf_percent"
)
TRUE_DOB = dt.date(1961, 4, 2)


def _row(report_id, accession, mrn, dob, collected_on="2026-11-02"):
    return (
        f"{report_id},1,final,{accession},{mrn},{dob.isoformat()},{collected_on},2026-11-10,"
        "G360,pass,,,"
    )


def _upload(api, rows):
    data = ("\n".join([HEADER, *rows]) + "\n").encode()
    return api.post(UPLOAD, {"file": SimpleUploadedFile("f.csv", data)}, format="multipart")


def _failures() -> int:
    return AuditEvent.objects.filter(action="report.match_failed").count()


def test_one_accession_with_many_birth_dates_reveals_none(lab_token_api, collected):
    guesses = [TRUE_DOB + dt.timedelta(days=d) for d in range(-6, 7)]
    rows = [_row(f"P-{i}", "ACC-000123", "MRN-0001", dob) for i, dob in enumerate(guesses)]
    answer = _upload(lab_token_api, rows)
    assert answer.status_code == 400, answer.content
    errors = answer.json()["extra"]["errors"]
    by_line = {}
    for e in errors:
        by_line.setdefault(e["line"], []).append((e["field"], e["message"]))
    # Every line carries the same error: the true date of birth's line is not told apart.
    assert set(by_line) == set(range(2, 2 + len(rows)))
    assert len({tuple(v) for v in by_line.values()}) == 1, by_line
    assert "ACC-000123" in errors[0]["message"]
    assert "different patient identifiers" in errors[0]["message"]
    assert not LabReport.objects.exists()
    assert _failures() == len(guesses)  # each identity sent counts against the allowance


def test_more_failures_than_the_allowance_list_no_match_result(
    lab_token_api, oncologist, nurse, settings
):
    patients = [
        PatientFactory(mrn=f"MRN-G{i}", date_of_birth=TRUE_DOB, oncologist=oncologist)
        for i in range(25)
    ]
    for i, patient in enumerate(patients):
        collect(patient, f"ACC-G{i}", dt.date(2026, 11, 2), nurse)
    rows = [_row(f"G-{i}", f"ACC-G{i}", f"MRN-G{i}", dt.date(1950, 1, 1)) for i in range(24)]
    # The one right guess, with a collection date only a matching identity is checked against.
    rows.append(_row("G-24", "ACC-G24", "MRN-G24", TRUE_DOB, collected_on="2026-10-01"))
    answer = _upload(lab_token_api, rows)
    assert answer.status_code == 400, answer.content
    errors = answer.json()["extra"]["errors"]
    assert [e["field"] for e in errors] == ["file"], errors
    assert errors[0]["line"] is None
    assert "no line is listed" in errors[0]["message"]
    assert "24" not in errors[0]["message"]  # not even how many failed
    # Each wrong identity is audited (a right one is no failed guess); the file, which
    # answered nothing per report, counts as one failure: one bad file does not lock the
    # account out for an hour.
    withheld = AuditEvent.objects.filter(action="report.match_failed_withheld")
    assert withheld.count() == 24
    assert _failures() == 1
    again = _upload(lab_token_api, rows[:1])
    assert again.status_code == 400, again.content
    assert [e["field"] for e in again.json()["extra"]["errors"]] == ["patient"]


def test_a_few_failures_within_the_allowance_are_named_by_line(lab_token_api, collected):
    rows = [_row("A-1", "ACC-000123", "MRN-0001", dt.date(1950, 1, 1))]
    answer = _upload(lab_token_api, rows)
    assert answer.status_code == 400, answer.content
    errors = answer.json()["extra"]["errors"]
    assert [(e["line"], e["field"]) for e in errors] == [(2, "patient")], errors
    assert _failures() == 1
