"""POST /api/v1/reports/upload/ with CSV and VCF files, and GET /api/v1/uploads/{id}/."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from accounts.roles import Role
from accounts.services import api_token_issue
from clinic.tasks import upload_process as upload_process_task
from liquidbiopsy.models import LabReport, Upload, VariantCall
from patients import scheduling
from patients.models import Draw
from tests.builders import LONDON, counts
from tests.factories import PatientFactory, UserFactory

UPLOAD = "/api/v1/reports/upload/"
HEADER = (
    "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
    "qc_status,tumor_fraction,gene,hgvs_p,vaf_percent,depth"
)


def csv_file(*rows: str, name: str = "batch.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join([HEADER, *rows]) + "\n").encode(), "text/csv")


def row(n: int, *, gene="ESR1", hgvs_p="D538G", vaf="0.42", report=None, qc="pass") -> str:
    rid = report or f"R-{n}"
    depth = "12000" if gene else ""  # a row without a variant leaves every variant column empty
    return (
        f"{rid},1,final,ACC-U{n},MRN-U{n},1960-01-01,2026-11-02,2026-11-10,G360,{qc},0.02,"
        f"{gene},{hgvs_p},{vaf},{depth}"
    )


@pytest.fixture
def cohort(oncologist, nurse):
    """Five patients, each with a collected draw ACC-U<n>."""
    draws = []
    for n in range(5):
        patient = PatientFactory(
            mrn=f"MRN-U{n}", date_of_birth=dt.date(1960, 1, 1), oncologist=oncologist
        )
        scheduling.draws_plan(patient_ids=[patient.pk])
        draw = Draw.objects.get(patient=patient, state="scheduled")
        scheduling.draw_collect(
            draw=draw,
            collected_at=dt.datetime(2026, 11, 2, 9, 0, tzinfo=LONDON),
            accession=f"ACC-U{n}",
            acting_user=nurse,
        )
        draws.append(draw)
    return draws


@pytest.mark.django_db
def test_a_small_csv_is_stored_at_once(lab_token_api, cohort):
    response = lab_token_api.post(
        UPLOAD,
        {
            "file": csv_file(
                row(0),
                row(0, gene="PIK3CA", hgvs_p="p.His1047Arg", vaf="3.1"),
                row(1, gene="", hgvs_p="", vaf=""),  # not detected
                row(2, gene="", hgvs_p="", vaf="", qc="insufficient"),
            )
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["state"], body["reports_stored"], body["errors"]) == ("done", 3, [])
    assert LabReport.objects.count() == 3
    assert VariantCall.objects.filter(report__report_id="R-0").count() == 2
    assert Draw.objects.get(accession="ACC-U2").state == "failed"
    assert Draw.objects.filter(
        patient=cohort[2].patient, is_redraw=True, state="scheduled"
    ).exists()
    assert Draw.objects.get(accession="ACC-U1").state == "resulted"


@pytest.mark.django_db
def test_a_file_with_errors_stores_nothing_and_names_lines(lab_token_api, cohort):
    before = counts()
    response = lab_token_api.post(
        UPLOAD,
        {"file": csv_file(row(0), row(1, vaf="250"), row(3).replace("MRN-U3", "MRN-X"))},
        format="multipart",
    )
    assert response.status_code == 400
    errors = response.json()["extra"]["errors"]
    assert {
        "line": 3,
        "field": "variants[0].vaf_percent",
        "column": "vaf_percent",
        "message": "vaf_percent is a percentage: 0 < vaf_percent <= 100.",
    } in errors
    assert response.json()["extra"]["upload"]["state"] == "failed"
    assert counts() == before
    assert Draw.objects.get(accession="ACC-U0").state == "collected"


@pytest.mark.django_db
def test_uploading_the_same_file_again_changes_nothing(lab_token_api, cohort):
    first = lab_token_api.post(UPLOAD, {"file": csv_file(row(0), row(1))}, format="multipart")
    assert first.status_code == 201
    before = counts()
    again = lab_token_api.post(UPLOAD, {"file": csv_file(row(0), row(1))}, format="multipart")
    assert again.status_code == 200
    assert (again.json()["reports_stored"], again.json()["reports_unchanged"]) == (0, 2)
    assert counts() == before


@pytest.mark.django_db
def test_a_vcf_is_one_report(lab_token_api, cohort):
    vcf = (
        "##fileformat=VCFv4.2\n##report_id=VCF-1\n##version=1\n##status=final\n"
        "##accession=ACC-U4\n##mrn=MRN-U4\n##date_of_birth=1960-01-01\n"
        "##collected_on=2026-11-02\n##reported_on=2026-11-09\n##assay=G360\n##qc_status=pass\n"
        "##reference=GRCh38\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "chr6\t152098788\t.\tA\tC\t.\tPASS\tGENE=ESR1;HGVSP=p.Tyr537Ser;AF=0.0031;DP=9000\n"
    )
    response = lab_token_api.post(
        UPLOAD, {"file": SimpleUploadedFile("r.vcf", vcf.encode())}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    call = VariantCall.objects.get()
    assert (call.gene, call.hgvs_p, call.chrom, call.pos) == ("ESR1", "p.Tyr537Ser", "6", 152098788)
    assert float(call.vaf) == pytest.approx(0.0031)


@pytest.mark.django_db
@override_settings(UPLOAD_SYNC_MAX_ROWS=2)
def test_a_larger_file_is_queued_and_its_progress_can_be_read(
    lab_token_api, cohort, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = lab_token_api.post(
            UPLOAD, {"file": csv_file(*(row(n) for n in range(5)))}, format="multipart"
        )
    assert response.status_code == 202
    upload_id = response.json()["id"]
    assert response.json()["state"] == "queued"
    assert len(callbacks) == 1  # the worker is asked once the upload row is committed
    assert LabReport.objects.count() == 0
    upload_process_task(upload_id)  # what the worker runs
    upload_process_task(upload_id)  # a second delivery does nothing
    status = lab_token_api.get(f"/api/v1/uploads/{upload_id}/").json()
    assert (
        status["state"],
        status["rows_total"],
        status["rows_done"],
        status["reports_stored"],
    ) == (
        "done",
        5,
        5,
        5,
    )
    assert LabReport.objects.count() == 5
    assert Upload.objects.get(pk=upload_id).content == b""


@pytest.mark.django_db
def test_only_the_uploader_reads_an_upload(lab_token_api, cohort, nurse_api):
    upload_id = lab_token_api.post(UPLOAD, {"file": csv_file(row(0))}, format="multipart").json()[
        "id"
    ]
    other_lab = UserFactory(username="other_lab", role=Role.LAB)
    from rest_framework.test import APIClient

    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(username=other_lab.username)}")
    assert other.get(f"/api/v1/uploads/{upload_id}/").status_code == 404
    assert nurse_api.get(f"/api/v1/uploads/{upload_id}/").status_code == 403
    assert nurse_api.post(UPLOAD, {"file": csv_file(row(1))}, format="multipart").status_code == 403


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (None, "No file was sent"),
        (
            SimpleUploadedFile("notes.pdf", b"%PDF-1.4 nope"),
            "Send a CSV (.csv) or a VCF (.vcf, or .vcf.gz compressed) file.",
        ),
    ],
)
@pytest.mark.django_db
def test_unreadable_uploads_are_refused_clearly(lab_token_api, upload, message):
    body = {"file": upload} if upload else {}
    response = lab_token_api.post(UPLOAD, body, format="multipart")
    assert response.status_code == 400
    assert message in response.json()["extra"]["fields"]["file"][0]
    assert Upload.objects.count() == 0


@pytest.mark.django_db
@override_settings(UPLOAD_MAX_BYTES=100)
def test_size_limit_names_the_limit(lab_token_api):
    response = lab_token_api.post(
        UPLOAD, {"file": csv_file(row(0), row(1), row(2))}, format="multipart"
    )
    assert response.status_code == 400
    assert "larger than 0 MB" in response.json()["extra"]["fields"]["file"][0]


@pytest.mark.django_db
def test_structural_and_validation_errors_come_together(lab_token_api, cohort):
    rows = [row(0), row(1, vaf="250"), row(2) + ",extra-cell"]
    response = lab_token_api.post(UPLOAD, {"file": csv_file(*rows)}, format="multipart")
    assert response.status_code == 400
    lines = {e["line"] for e in response.json()["extra"]["errors"]}
    assert {3, 4} <= lines  # line 3: vaf_percent 250; line 4: too many cells
    assert LabReport.objects.count() == 0


@pytest.mark.django_db
def test_identity_errors_come_with_field_errors_in_one_round(lab_token_api, cohort):
    """Issue 13: a report with a bad field AND a wrong MRN (or an unknown accession) gets both
    errors at once, named by CSV column; the identity error stays the one generic message."""
    before = counts()
    bad_vaf_wrong_mrn = row(1, vaf="250").replace("MRN-U1", "MRN-X")
    bad_vaf_unknown_accession = row(2, vaf="250").replace("ACC-U2", "ACC-NOPE")
    response = lab_token_api.post(
        UPLOAD,
        {"file": csv_file(row(0), bad_vaf_wrong_mrn, bad_vaf_unknown_accession)},
        format="multipart",
    )
    assert response.status_code == 400
    errors = response.json()["extra"]["errors"]
    by_line = {}
    for error in errors:
        by_line.setdefault(error["line"], []).append(error)
    assert {e.get("column") for e in by_line[3]} == {"vaf_percent", None}
    identity = next(e for e in by_line[3] if e["field"] == "patient")
    assert identity["message"] == (
        "The patient identifiers do not match the draw with accession 'ACC-U1'; "
        "check the MRN and the date of birth."
    )
    assert "MRN-U1" not in str(errors)
    assert "1960" not in str(errors)
    assert {(e["field"], e.get("column")) for e in by_line[4]} == {
        ("variants[0].vaf_percent", "vaf_percent"),
        ("accession", "accession"),
    }
    assert counts() == before
    # Both match failures are audited (the lab_match_failure throttle counts them).
    from audit.models import AuditEvent

    assert sorted(
        e.detail["match"] for e in AuditEvent.objects.filter(action="report.match_failed")
    ) == ["accession", "identity"]


@pytest.mark.django_db
def test_csv_errors_name_their_column(lab_token_api, cohort):
    bad = row(0).replace("2026-11-02", "02/11/2026").replace(",final,", ",finale,")
    response = lab_token_api.post(UPLOAD, {"file": csv_file(bad)}, format="multipart")
    assert response.status_code == 400
    columns = {e["field"]: e.get("column") for e in response.json()["extra"]["errors"]}
    assert columns["collected_on"] == "collected_on"
    assert columns["status"] == "status"
    stored = Upload.objects.get().errors
    assert {e["column"] for e in stored} >= {"collected_on", "status"}
    assert all({"line", "field", "message"} <= set(e) for e in stored)


@pytest.mark.django_db
def test_empty_cells_are_stored_as_null_not_as_zero_or_text(lab_token_api, cohort):
    """The COPY path writes "" for what is absent; FORCE_NULL makes it NULL in the nullable
    columns (a missing tumour fraction is unknown, not 0; a call without depth has none)."""
    rows = [row(0).replace(",0.02,", ",,").removesuffix(",12000") + ",", row(1)]
    response = lab_token_api.post(UPLOAD, {"file": csv_file(*rows)}, format="multipart")
    assert response.status_code == 201, response.content
    bare = LabReport.objects.get(report_id="R-0")
    assert bare.tumor_fraction is None
    call = VariantCall.objects.get(report=bare)
    assert (call.depth, call.pos, call.chrom, call.hgvs_c, call.flags) == (None, None, "", "", [])
    full = VariantCall.objects.get(report__report_id="R-1")
    assert (full.depth, full.vaf, full.report.tumor_fraction) == (
        12000,
        Decimal("0.0042"),
        Decimal("0.02"),
    )
    assert full.report.upload_id == bare.upload_id is not None
