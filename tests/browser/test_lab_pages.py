"""A lab technician's day in the browser: what is awaited, a bad file and its page with every
error, an upload's page refreshing itself, the CSV template (issue 13, Deliver 4).

Each page is also shot at 1280 and 800 px wide (test-artifacts/screenshots/lab-*.png) and
checked with axe-core; the `page` fixture re-checks every page the test reached.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.test import override_settings

from accounts.roles import Role
from liquidbiopsy import csv_template
from liquidbiopsy.models import LabReport, Upload
from liquidbiopsy.parsers import CSV_COLUMNS
from patients import scheduling
from patients.models import Draw
from tests.browser.conftest import ARTIFACTS, axe_violations
from tests.builders import login
from tests.factories import PatientFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LONDON = zoneinfo.ZoneInfo("Europe/London")
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "tablet": {"width": 800, "height": 1100}}
LABS = {"central": frozenset({"lab_lims"}), "regional": frozenset({"lab_two"})}
HEADER = (
    "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
    "qc_status,tumor_fraction,gene,hgvs_p,vaf_percent,depth"
)


def shoot(page, name: str) -> None:
    """Screenshots at desktop and tablet width, and no serious axe finding on the page."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.screenshot(path=str(ARTIFACTS / f"lab-{name}-{label}.png"), full_page=True)
        # Nothing wider than the window: tables scroll inside their box, not the page.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} at {label}: {overflow}px wider than the window"
    page.set_viewport_size(WIDTHS["desktop"])
    assert axe_violations(page) == [], name


def _collected(n: int, *, lab: str = "", prefix: str = "B", days_ago: int = 3) -> list[Draw]:
    nurse = UserFactory(username=f"nurse_{prefix.lower()}", role=Role.NURSE)
    onc = UserFactory(username=f"dr_{prefix.lower()}", role=Role.ONCOLOGIST)
    draws = []
    for i in range(n):
        patient = PatientFactory(
            mrn=f"MRN-{prefix}{i}",
            given_name="Harriet",
            family_name=f"Example{prefix}{i}",
            date_of_birth=dt.date(1960, 1, 1),
            oncologist=onc,
        )
        scheduling.draws_plan(patient_ids=[patient.pk])
        draw = Draw.objects.get(patient=patient, state="scheduled")
        collected = dt.datetime.now(tz=LONDON) - dt.timedelta(days=days_ago + i)
        scheduling.draw_collect(
            draw=draw,
            collected_at=collected,
            accession=f"ACC-{prefix}{i}",
            acting_user=nurse,
            lab=lab,
        )
        draw.refresh_from_db()
        draws.append(draw)
    return draws


def _row(draw: Draw, **change) -> str:
    values = {
        "report_id": f"R-{draw.accession}",
        "version": "1",
        "status": "final",
        "accession": draw.accession,
        "mrn": draw.patient.mrn,
        "date_of_birth": "1960-01-01",
        "collected_on": draw.collected_on.isoformat(),
        "reported_on": dt.date.today().isoformat(),
        "assay": "G360",
        "qc_status": "pass",
        "tumor_fraction": "0.02",
        "gene": "ESR1",
        "hgvs_p": "D538G",
        "vaf_percent": "0.5",
        "depth": "15000",
    } | change
    return ",".join(values[c] for c in HEADER.split(","))


@override_settings(LAB_ACCOUNTS=LABS)
def test_the_lab_sees_what_is_awaited_from_it_and_nothing_of_the_patient(page):
    mine = _collected(3, lab="central", prefix="M")
    _collected(2, lab="regional", prefix="T")
    old = _collected(1, lab="central", prefix="O", days_ago=20)[0]
    UserFactory(username="lab_lims", role=Role.LAB)
    login(page, "lab_lims")
    page.get_by_role("link", name="Awaiting results", exact=True).click()
    page.get_by_role("heading", name="Awaiting results").wait_for()
    assert page.get_by_text("4 accessions awaiting a result").is_visible()
    cells = page.locator("tbody td.mono").all_inner_texts()
    accessions = [c for c in cells if c.startswith("ACC-")]
    assert accessions[0] == old.accession  # the longest waiting first
    assert sorted(accessions) == sorted(d.accession for d in [*mine, old])
    row = page.get_by_role("row").filter(has_text=old.accession)
    assert "over 14 days" in row.inner_text()
    body = page.locator("main").inner_text()
    assert "ACC-T0" not in body  # another lab's sample
    for phi in ("MRN-M0", "Harriet", "ExampleM0", "1960-01-01", "1 Jan 1960"):
        assert phi not in body
    assert "MRN" not in page.url
    shoot(page, "awaiting")

    page.get_by_label("Accession starts with").fill("acc-m1")
    page.get_by_role("button", name="Find").click()
    page.get_by_text("1 accession awaiting a result starting with").wait_for()
    assert page.locator("tbody td.mono").first.inner_text() == "ACC-M1"


def test_a_bad_file_is_rejected_with_every_error_and_its_page_keeps_them(page, tmp_path):
    draws = _collected(6)
    rows = [
        HEADER,
        _row(draws[0]),
        _row(draws[1], vaf_percent="250"),  # line 3: a percentage over 100
        _row(draws[2], mrn="MRN-ZZ"),  # line 4: identity
        _row(draws[3], collected_on="02/11/2026"),  # line 5: not a date
        _row(draws[4], qc_status="maybe"),  # line 6: not a QC status
        _row(draws[5], accession="ACC-NOPE"),  # line 7: no such accession
    ]
    path = tmp_path / "friday-batch.csv"
    path.write_text("\n".join(rows) + "\n")
    UserFactory(username="lab_lims", role=Role.LAB)
    login(page, "lab_lims")
    page.goto("/uploads/")
    assert page.get_by_role("cell", name="No upload yet.").is_visible()
    shoot(page, "upload-empty")
    page.get_by_label("CSV or VCF file").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("Rejected: nothing from this file was stored.").wait_for()
    # The recent uploads list has it at once, linked, without a reload.
    recent = page.locator("#recent-uploads")
    recent.get_by_role("link", name="friday-batch.csv", exact=True).wait_for()
    assert recent.get_by_text("Rejected").is_visible()
    assert LabReport.objects.count() == 0
    shoot(page, "upload-rejected")

    page.get_by_role("link", name="This upload's page").click()
    page.get_by_role("heading", name=re.compile(r"^Upload \d+$")).wait_for()
    upload = Upload.objects.get()
    assert page.url.endswith(f"/uploads/{upload.pk}/")
    table = page.locator("table.errors tbody tr")
    got = [tuple(r.locator("td").all_inner_texts()[:2]) for r in table.all()]
    expected = {
        ("3", "vaf_percent"),
        ("4", "mrn, date_of_birth"),
        ("5", "collected_on"),
        ("6", "qc_status"),
        ("7", "accession"),
    }
    assert expected <= set(got), got
    assert len(got) == len(upload.errors)
    # The identity error is the one generic message, as stored: no MRN or DOB oracle.
    identity = page.get_by_role("row").filter(has_text="mrn, date_of_birth")
    assert "do not match the draw" in identity.inner_text()
    assert "MRN-B2" not in page.locator("main").inner_text()
    assert page.get_by_role("heading", name="What to do next").is_visible()
    shoot(page, "upload-detail-rejected")

    # Back on the upload page (a fresh load), the list links to the same page.
    page.goto("/uploads/")
    page.locator("#recent-uploads").get_by_role("link", name="friday-batch.csv", exact=True).click()
    page.locator("table.errors").wait_for()
    assert page.url.endswith(f"/uploads/{upload.pk}/")


def test_an_upload_page_follows_the_worker_by_itself(page):
    """Never "0 of ? rows": "Checking the file..." until the total is known, then the count,
    then the result, without a reload."""
    lab = UserFactory(username="lab_lims", role=Role.LAB)
    upload = Upload.objects.create(
        uploaded_by=lab,
        filename="big-run.csv",
        file_format="csv",
        content=b"x",
        content_sha256="x",
        state=Upload.State.PROCESSING,
    )
    login(page, "lab_lims")
    page.goto(f"/uploads/{upload.pk}/")
    page.get_by_text("Checking the file…").wait_for()
    assert "?" not in page.locator(".upload-panel").inner_text()
    shoot(page, "upload-detail-checking")
    Upload.objects.filter(pk=upload.pk).update(rows_total=4000, rows_done=1500)
    page.get_by_text("1500 of 4000 rows checked").wait_for()
    assert page.locator("#upload-progress").get_attribute("value") == "1500"
    shoot(page, "upload-detail-progress")
    Upload.objects.filter(pk=upload.pk).update(
        state=Upload.State.DONE,
        rows_done=4000,
        reports_stored=800,
        finished_at=dt.datetime.now(tz=dt.UTC),
    )
    page.get_by_text("800 report(s) stored, 0 already received (unchanged).").wait_for()
    assert page.locator("#upload-progress").count() == 0
    shoot(page, "upload-detail-done")


def test_the_lab_downloads_the_csv_template_and_reads_each_column(page, tmp_path):
    UserFactory(username="lab_lims", role=Role.LAB)
    login(page, "lab_lims")
    page.goto("/uploads/")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the CSV template").click()
    download = info.value
    assert download.suggested_filename == csv_template.FILENAME
    saved = tmp_path / "template.csv"
    download.save_as(str(saved))
    lines = saved.read_text().splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert len(lines) == 3
    page.get_by_text("What each column means").click()
    help_table = page.locator("table.column-help")
    help_table.wait_for()
    for name in CSV_COLUMNS:
        assert help_table.get_by_role("rowheader", name=name, exact=True).is_visible()
    vaf = help_table.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="vaf_percent", exact=True)
    )
    assert "0.42 means 0.42%" in vaf.inner_text()
    shoot(page, "upload-template-help")


def test_clinic_roles_cannot_open_the_lab_pages(page):
    UserFactory(username="nurse_nina", role=Role.NURSE)
    login(page, "nurse_nina")
    assert page.get_by_role("link", name="Awaiting results").count() == 0
    for path in ("/uploads/", "/uploads/awaiting/", "/uploads/template.csv"):
        response = page.goto(path)
        assert response.status == 403, path
    assert page.get_by_role("heading", name="Not allowed").is_visible()


def test_a_file_that_is_not_a_report_file_is_refused_with_the_reason(page, tmp_path):
    UserFactory(username="lab_lims", role=Role.LAB)
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not a results file\n")
    login(page, "lab_lims")
    page.goto("/uploads/")
    page.get_by_label("CSV or VCF file").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("Not accepted: Send a CSV (.csv) or a VCF").wait_for()
    assert page.get_by_role("button", name="Upload").is_enabled()
    assert Upload.objects.count() == 0
    assert page.locator("#recent-uploads").get_by_text("No upload yet.").is_visible()


def test_an_upload_page_says_so_when_it_can_no_longer_update(page):
    """The session ends while the page polls: it stops and says to reload, instead of
    swapping the login page into the panel."""
    lab = UserFactory(username="lab_lims", role=Role.LAB)
    upload = Upload.objects.create(
        uploaded_by=lab,
        filename="night-run.csv",
        file_format="csv",
        content=b"x",
        content_sha256="x",
        state=Upload.State.QUEUED,
    )
    login(page, "lab_lims")
    page.goto(f"/uploads/{upload.pk}/")
    page.get_by_text("Waiting for a worker…").wait_for()
    page.context.clear_cookies()
    page.get_by_text("This page stopped updating").wait_for()
    assert page.locator(".upload-panel").count() == 1
    assert page.get_by_label("Username").count() == 0
