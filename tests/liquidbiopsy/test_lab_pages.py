"""The lab's pages: accessions awaiting its results, each past upload with every error, the
CSV template (issue 13, Deliver 4)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from audit.models import AuditEvent
from liquidbiopsy import csv_template, services
from liquidbiopsy.models import LabReport, Upload
from liquidbiopsy.parsers import CSV_COLUMNS, parse_csv
from liquidbiopsy.validation import validate_report
from liquidbiopsy.views import error_where
from patients.models import Draw
from tests.builders import LONDON, collect, report
from tests.factories import PatientFactory, UserFactory, bulk_patients

pytestmark = pytest.mark.django_db

LABS = {"central": frozenset({"lab_lims"}), "regional": frozenset({"lab_two"})}
TODAY = dt.date(2026, 11, 24)  # tests/liquidbiopsy/conftest.py travels here
PAGES = ("/uploads/", "/uploads/awaiting/", "/uploads/template.csv", "/uploads/recent/")


@pytest.fixture
def lab(client, lab_user):
    client.force_login(lab_user)
    client.get("/uploads/")  # the first request after login refreshes the idle expiry
    return client


@pytest.fixture
def lab_two(db):
    return UserFactory(username="lab_two", role=Role.LAB)


def _collected_draws(n: int, oncologist, prefix: str, *, day: dt.date, lab: str = "") -> list:
    """`n` patients with one collected draw each (three INSERTs, for query-count tests)."""
    patients = bulk_patients(n, oncologist, prefix, with_regimen=False)
    return Draw.objects.bulk_create(
        Draw(
            patient=p,
            planned_on=day,
            due_on=day,
            window_opens_on=day - dt.timedelta(days=7),
            window_closes_on=day + dt.timedelta(days=7),
            state=Draw.State.COLLECTED,
            collected_at=dt.datetime.combine(day, dt.time(9), LONDON),
            collected_on=day,
            accession=f"{prefix}ACC-{i:05d}",
            lab=lab,
        )
        for i, p in enumerate(patients)
    )


def _accessions(html: str) -> list[str]:
    return re.findall(r'<td class="mono">([A-Z0-9-]+ACC-[0-9]+|ACC-[A-Z0-9-]+)</td>', html)


# --- Accessions awaiting results --------------------------------------------------------


@override_settings(LAB_ACCOUNTS=LABS)
def test_the_awaiting_list_shows_only_this_lab_s_collected_draws_without_patient_details(
    lab, oncologist, nurse, lab_two
):
    mine = PatientFactory(
        mrn="MRN-MINE-1", given_name="Ursula", family_name="Quimby", oncologist=oncologist
    )
    theirs = PatientFactory(mrn="MRN-THEIRS-1", oncologist=oncologist)
    resulted = PatientFactory(mrn="MRN-DONE-1", oncologist=oncologist)
    collect(mine, "ACC-MINE-1", dt.date(2026, 11, 2), nurse)
    Draw.objects.filter(accession="ACC-MINE-1").update(lab="central")
    collect(theirs, "ACC-THEIRS-1", dt.date(2026, 11, 3), nurse)
    Draw.objects.filter(accession="ACC-THEIRS-1").update(lab="regional")
    done = collect(resulted, "ACC-DONE-1", dt.date(2026, 11, 4), nurse)
    Draw.objects.filter(pk=done.pk).update(lab="central", state=Draw.State.RESULTED)

    response = lab.get("/uploads/awaiting/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "ACC-MINE-1" in html
    assert "ACC-THEIRS-1" not in html  # another lab's sample
    assert "ACC-DONE-1" not in html  # resulted
    assert "2026-11-02" in html  # the collected_on to send
    assert "2 Nov 2026" in html
    row = html[html.index("ACC-MINE-1") :].split("</tr>")[0]
    assert "<td>22" in row  # days waiting: 24 Nov - 2 Nov
    assert "over 14 days" in row
    # What a lab may not see (DESIGN.md §2): no name, MRN or date of birth.
    for phi in ("MRN-MINE-1", "Ursula", "Quimby", mine.date_of_birth.isoformat()):
        assert phi not in html
    assert mine.date_of_birth.strftime("%-d %b %Y") not in html

    # The other lab sees its own, and not this one's.
    lab.force_login(lab_two)
    other = lab.get("/uploads/awaiting/").content.decode()
    assert "ACC-THEIRS-1" in other
    assert "ACC-MINE-1" not in other


@override_settings(LAB_ACCOUNTS=LABS)
def test_a_draw_this_account_reported_on_stays_its_own_to_report_again(
    lab, lab_user, oncologist, nurse
):
    """A cancelled report sends its draw back to awaiting; the account that reported it may
    report it again (the matcher accepts it), so it is listed, as the matcher would allow."""
    patient = PatientFactory(oncologist=oncologist)
    draw = collect(patient, "ACC-BACK-1", dt.date(2026, 11, 10), nurse)
    Draw.objects.filter(pk=draw.pk).update(lab="regional")
    assert "ACC-BACK-1" not in lab.get("/uploads/awaiting/").content.decode()
    stored = report(draw, lab_user)
    LabReport.objects.filter(pk=stored.pk).update(status="cancelled")
    assert "ACC-BACK-1" in lab.get("/uploads/awaiting/").content.decode()
    facts = services.draws_for_accessions({"ACC-BACK-1"}, lab_user)
    assert set(facts) == {"ACC-BACK-1"}  # the same rule as the matcher


def test_the_awaiting_list_is_paginated_oldest_first_and_filtered_by_accession(lab, oncologist):
    _collected_draws(30, oncologist, "P", day=dt.date(2026, 11, 20))
    _collected_draws(2, oncologist, "OLD", day=dt.date(2026, 10, 1))
    first = lab.get("/uploads/awaiting/").content.decode()
    shown = _accessions(first)
    assert len(shown) == 25
    assert shown[:2] == ["OLDACC-00000", "OLDACC-00001"]  # longest waiting first
    assert "32 accessions awaiting a result" in first
    assert "Page 1 of 2" in first
    second = lab.get("/uploads/awaiting/", {"page": 2}).content.decode()
    assert len(_accessions(second)) == 7
    assert not set(shown) & set(_accessions(second))
    found = lab.get("/uploads/awaiting/", {"accession": "oldacc"}).content.decode()
    assert _accessions(found) == ["OLDACC-00000", "OLDACC-00001"]
    assert "2 accessions awaiting a result" in found
    none = lab.get("/uploads/awaiting/", {"accession": "ZZZ\x00"}).content.decode()
    assert "No accession starting with that" in none


def test_viewing_the_awaiting_list_is_audited(lab, lab_user, oncologist):
    draws = _collected_draws(3, oncologist, "AU", day=dt.date(2026, 11, 20))
    lab.get("/uploads/awaiting/")
    event = AuditEvent.objects.filter(action="lab.awaiting_view").latest("id")
    assert event.actor == lab_user
    assert sorted(event.detail["draw_ids"]) == sorted(d.pk for d in draws)
    assert sorted(event.detail["patient_ids"]) == sorted(d.patient_id for d in draws)


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_lab_pages_run_the_same_number_of_queries_at_two_sizes(lab, lab_user, oncologist):
    def uploads(n, start):
        Upload.objects.bulk_create(
            Upload(
                uploaded_by=lab_user,
                filename=f"f{start + i}.csv",
                file_format="csv",
                content=b"",
                content_sha256="x",
                state=Upload.State.FAILED,
                errors=[{"line": k + 2, "field": "accession", "message": "m"} for k in range(n)],
            )
            for i in range(n)
        )
        return Upload.objects.filter(uploaded_by=lab_user).latest("id")

    def measure(upload):
        return {
            "awaiting": _count(lab, "/uploads/awaiting/"),
            "awaiting page 2": _count(lab, "/uploads/awaiting/?page=2"),
            "upload page": _count(lab, "/uploads/"),
            "recent": _count(lab, "/uploads/recent/"),
            "detail": _count(lab, f"/uploads/{upload.pk}/"),
            "panel": _count(lab, f"/uploads/{upload.pk}/panel/"),
        }

    _collected_draws(30, oncologist, "S", day=dt.date(2026, 11, 20))
    small = measure(uploads(3, 0))
    _collected_draws(1000, oncologist, "L", day=dt.date(2026, 11, 21))
    large = measure(uploads(300, 100))
    print(f"lab page queries: {large}")  # noqa: T201
    assert small == large, (small, large)
    assert max(large.values()) <= 8, large


@pytest.mark.parametrize("path", [*PAGES, "/uploads/1/", "/uploads/1/panel/"])
@pytest.mark.parametrize("role", [Role.NURSE, Role.ONCOLOGIST, Role.ADMIN])
def test_clinic_roles_are_refused_the_lab_pages(client, path, role):
    client.force_login(UserFactory(username=f"u_{role}", role=role))
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", [*PAGES, "/uploads/1/"])
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


# --- An upload's page ----------------------------------------------------------------------

IDENTITY = services.IDENTITY_MISMATCH.format(accession="ACC-U1")
STORED_ERRORS = [
    {"line": None, "field": "file", "message": "The file has a header but no data rows."},
    {"line": 2, "field": "variants[0].vaf_percent", "message": "vaf_percent is a percentage."},
    {"line": 3, "field": "patient", "message": IDENTITY},
    {"line": 4, "field": "patient.date_of_birth", "message": "Must be a date as YYYY-MM-DD."},
    {"line": 5, "field": "variants[0]", "message": "Give the allele fraction once."},
    {"line": 6, "field": "collected_on", "message": "Cannot be in the future."},
    # The pipeline's own column name, when it stores one, wins over the field path.
    {"line": 7, "field": "variants[0].vaf", "column": "vaf", "message": "vaf is a fraction."},
]


def _upload(user, **fields) -> Upload:
    values = {
        "filename": "results.csv",
        "file_format": "csv",
        "content": b"",
        "content_sha256": "x",
        "state": Upload.State.FAILED,
        "errors": STORED_ERRORS,
    } | fields
    return Upload.objects.create(uploaded_by=user, **values)


def _cells(html: str) -> list[list[str]]:
    body = html[html.index('<table class="errors') :].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>")[1], re.S)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r)]
        for r in rows
    ]


@pytest.mark.parametrize(
    ("error", "file_format", "where"),
    [
        ({"field": "variants[3].vaf_percent"}, "csv", "vaf_percent"),
        ({"field": "patient.mrn"}, "csv", "mrn"),
        ({"field": "patient"}, "csv", "mrn, date_of_birth"),
        ({"field": "report_id"}, "csv", "report_id"),
        ({"field": "variants[0]"}, "csv", ""),
        ({"field": "file"}, "csv", ""),
        ({"field": None}, "csv", ""),
        ({"field": "variants"}, "csv", "variants"),
        ({"field": "variants[0].vaf", "column": "vaf"}, "csv", "vaf"),
        ({"field": "x", "column": "tumor_fraction"}, "csv", "tumor_fraction"),
        ({"field": "variants[0].vaf"}, "vcf", "variants[0].vaf"),
        ({"field": "genome_build"}, "vcf", "genome_build"),
    ],
)
def test_an_error_is_placed_by_its_column_else_its_field(error, file_format, where):
    assert error_where(error, file_format) == where


def test_an_upload_page_lists_every_error_with_its_line_and_column(lab, lab_user):
    upload = _upload(lab_user)
    response = lab.get(f"/uploads/{upload.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Rejected: nothing from this file was stored." in html
    assert "7 problems found" in html
    assert "What to do next" in html
    assert _cells(html) == [
        ["whole file", "—", "The file has a header but no data rows."],
        ["2", "vaf_percent", "vaf_percent is a percentage."],
        ["3", "mrn, date_of_birth", IDENTITY.replace("'", "&#x27;")],
        ["4", "date_of_birth", "Must be a date as YYYY-MM-DD."],
        ["5", "—", "Give the allele fraction once."],
        ["6", "collected_on", "Cannot be in the future."],
        ["7", "vaf", "vaf is a fraction."],
    ]
    assert AuditEvent.objects.filter(action="upload.view", object_id=str(upload.pk)).exists()


def test_a_vcf_upload_names_fields_not_columns(lab, lab_user):
    errors = [{"line": 14, "field": "variants[0].vaf", "message": "Cannot read the AF."}]
    upload = _upload(lab_user, filename="s.vcf", file_format="vcf", errors=errors)
    html = lab.get(f"/uploads/{upload.pk}/").content.decode()
    assert '<th scope="col">Field</th>' in html
    assert _cells(html) == [["14", "variants[0].vaf", "Cannot read the AF."]]


def test_another_lab_account_gets_404_for_an_upload_not_its_own(client, lab_user, lab_two):
    upload = _upload(lab_user)
    client.force_login(lab_two)
    assert client.get(f"/uploads/{upload.pk}/").status_code == 404
    assert client.get(f"/uploads/{upload.pk}/panel/").status_code == 404
    assert client.get("/uploads/999999/").status_code == 404
    assert f"/uploads/{upload.pk}/" not in client.get("/uploads/recent/").content.decode()


@pytest.mark.parametrize(
    ("state", "total", "done", "shown", "not_shown"),
    [
        ("queued", 0, 0, "Waiting for a worker", "rows checked"),
        ("processing", 0, 0, "Checking the file…", "rows checked"),
        ("processing", 4000, 1500, "1500 of 4000 rows checked", "Checking the file"),
    ],
)
def test_an_unfinished_upload_shows_its_progress_never_an_unknown_total(
    lab, lab_user, state, total, done, shown, not_shown
):
    upload = _upload(lab_user, state=state, rows_total=total, rows_done=done, errors=[])
    for url in (f"/uploads/{upload.pk}/", f"/uploads/{upload.pk}/panel/"):
        html = lab.get(url).content.decode()
        assert shown in html
        assert not_shown not in html
        assert "?" not in re.sub(r'(href|data-panel)="[^"]*"', "", html.split("upload-panel")[1])
        assert 'data-finished="false"' in html
    panel = lab.get(f"/uploads/{upload.pk}/panel/")
    assert "no-store" in panel["Cache-Control"]
    assert "<html" not in panel.content.decode()  # a fragment for the page to swap in


def test_a_finished_upload_says_what_was_stored(lab, lab_user):
    upload = _upload(
        lab_user, state="done", rows_total=40, rows_done=40, reports_stored=8, errors=[]
    )
    html = lab.get(f"/uploads/{upload.pk}/").content.decode()
    assert "Done." in html
    assert "8 report(s) stored, 0 already received (unchanged)." in html
    assert 'data-finished="true"' in html
    assert "<progress" not in html


def test_the_recent_uploads_link_to_their_pages(lab, lab_user):
    ups = [_upload(lab_user, filename=f"batch-{n}.csv") for n in range(3)]
    for url in ("/uploads/", "/uploads/recent/"):
        html = lab.get(url).content.decode()
        for upload in ups:
            assert f'href="/uploads/{upload.pk}/"' in html


def test_a_bad_file_sent_through_the_api_reads_again_on_its_page(lab, oncologist, nurse):
    patient = PatientFactory(
        mrn="MRN-PG1", date_of_birth=dt.date(1960, 1, 1), oncologist=oncologist
    )
    collect(patient, "ACC-PG1", dt.date(2026, 11, 2), nurse)
    header = "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,"
    header += "assay,qc_status,gene,hgvs_p,vaf_percent"
    rows = [
        header,
        "R1,1,final,ACC-PG1,MRN-WRONG,1960-01-01,2026-11-02,2026-11-10,G360,pass,ESR1,D538G,250",
    ]
    body = SimpleUploadedFile("bad.csv", ("\n".join(rows) + "\n").encode(), "text/csv")
    response = lab.post("/api/v1/reports/upload/", {"file": body})
    assert response.status_code == 400
    upload_id = response.json()["extra"]["upload_id"]
    html = lab.get(f"/uploads/{upload_id}/").content.decode()
    cells = _cells(html)
    assert ["2", "vaf_percent"] in [c[:2] for c in cells]
    assert LabReport.objects.count() == 0
    # No identifier the lab sent is echoed back beyond the generic message.
    assert "MRN-PG1" not in html


# --- The CSV template --------------------------------------------------------------------


def test_the_template_has_the_parser_s_exact_header_and_is_a_download(lab):
    response = lab.get("/uploads/template.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (f'attachment; filename="{csv_template.FILENAME}"')
    lines = response.content.decode().splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert len(lines) == 3
    assert all("EXAMPLE" in line for line in lines[1:])


def test_the_template_parses_and_validates_with_no_error():
    parsed = parse_csv(csv_template.template_csv().encode())
    assert parsed.errors == []
    assert len(parsed.reports) == 2
    for payload in parsed.reports:
        clean, errors = validate_report(payload, today=TODAY)
        assert errors == {}
        assert clean.report_id.startswith("EXAMPLE-")
    first, second = (validate_report(p, today=TODAY)[0] for p in parsed.reports)
    assert first.variants[0].vaf == Decimal("0.0042")  # vaf_percent 0.42 is a percentage
    assert second.variants == ()  # the "nothing detected" example
    assert second.tumor_fraction == Decimal("0.025")


def test_every_template_column_is_described_on_the_upload_page(lab):
    assert csv_template.undocumented_columns() == set()
    html = lab.get("/uploads/").content.decode()
    for name in CSV_COLUMNS:
        assert f'<th scope="row" class="mono">{name}</th>' in html
    assert "percentage" in html


def _seed_examples(oncologist, nurse):
    for example in csv_template.EXAMPLE_ROWS:
        patient = PatientFactory(
            mrn=example["mrn"],
            date_of_birth=dt.date.fromisoformat(example["date_of_birth"]),
            oncologist=oncologist,
        )
        collect(
            patient, example["accession"], dt.date.fromisoformat(example["collected_on"]), nurse
        )


def test_the_template_uploaded_against_its_draws_is_stored_whole(lab, oncologist, nurse):
    _seed_examples(oncologist, nurse)
    body = SimpleUploadedFile("t.csv", csv_template.template_csv().encode(), "text/csv")
    response = lab.post("/api/v1/reports/upload/", {"file": body})
    assert response.status_code == 201, response.content
    assert response.json()["reports_stored"] == 2
    assert response.json()["errors"] == []
    assert Draw.objects.filter(state=Draw.State.RESULTED).count() == 2


def test_the_template_uploaded_as_is_fails_only_on_its_example_accessions(lab):
    body = SimpleUploadedFile("t.csv", csv_template.template_csv().encode(), "text/csv")
    response = lab.post("/api/v1/reports/upload/", {"file": body})
    assert response.status_code == 400
    errors = response.json()["extra"]["errors"]
    assert [(e["line"], e["message"]) for e in errors] == [
        (2, services.NO_SUCH_ACCESSION.format(accession="EXAMPLE-ACC-1")),
        (3, services.NO_SUCH_ACCESSION.format(accession="EXAMPLE-ACC-2")),
    ]


def test_a_retracted_result_says_so_on_the_awaiting_list_in_constant_queries(
    lab, lab_user, oncologist, nurse
):
    """A draw back here because the lab cancelled its report says which report and when,
    not just 'waiting': the annotation is in the page's own query."""
    patient = PatientFactory(oncologist=oncologist)
    draw = collect(patient, "ACC-RETR-1", dt.date(2026, 11, 10), nurse)
    stored = report(draw, lab_user)
    LabReport.objects.filter(pk=stored.pk).update(status="cancelled")
    html = lab.get("/uploads/awaiting/").content.decode()
    assert "Result retracted by the lab on" in html
    assert stored.report_id in html
    with CaptureQueriesContext(connection) as few:
        lab.get("/uploads/awaiting/")
    _collected_draws(20, oncologist, "RQ-", day=dt.date(2026, 11, 12))
    with CaptureQueriesContext(connection) as many:
        lab.get("/uploads/awaiting/")
    assert len(many.captured_queries) == len(few.captured_queries)
