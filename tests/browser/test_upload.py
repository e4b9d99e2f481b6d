"""Lab staff upload a CSV on the upload page and watch it finish."""

import datetime as dt
import zoneinfo

import pytest

from accounts.roles import Role
from liquidbiopsy.models import LabReport
from patients import scheduling
from patients.models import Draw
from tests.builders import login
from tests.factories import PatientFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LONDON = zoneinfo.ZoneInfo("Europe/London")
HEADER = (
    "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
    "qc_status,tumor_fraction,gene,hgvs_p,vaf_percent,depth"
)


@pytest.fixture
def csv_path(tmp_path):
    nurse = UserFactory(username="nurse_nina", role=Role.NURSE)
    onc = UserFactory(username="dr_olga", role=Role.ONCOLOGIST)
    rows = [HEADER]
    for n in range(8):
        patient = PatientFactory(mrn=f"MRN-B{n}", date_of_birth=dt.date(1960, 1, 1), oncologist=onc)
        scheduling.draws_plan(patient_ids=[patient.pk])
        draw = Draw.objects.get(patient=patient, state="scheduled")
        collected = dt.datetime.now(tz=LONDON) - dt.timedelta(days=3)
        scheduling.draw_collect(
            draw=draw, collected_at=collected, accession=f"ACC-B{n}", acting_user=nurse
        )
        day = collected.date().isoformat()
        rows.append(
            f"R-B{n},1,final,ACC-B{n},MRN-B{n},1960-01-01,{day},{day},G360,pass,0.02,"
            f"ESR1,D538G,0.{n + 1},15000"
        )
    path = tmp_path / "results.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_lab_uploads_a_csv_and_sees_it_stored(page, csv_path):
    UserFactory(username="lab_lims", role=Role.LAB)
    login(page, "lab_lims")
    page.get_by_role("link", name="Upload results").first.click()
    page.get_by_label("CSV or VCF file").set_input_files(str(csv_path))
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("Done.").wait_for()
    assert page.get_by_text("8 report(s) stored, 0 already received (unchanged).").is_visible()
    assert page.locator("#upload-progress").count() == 0  # finished: no bar left running
    assert LabReport.objects.count() == 8
    # The recent uploads list shows it without a reload, linked to its page.
    recent = page.locator("#recent-uploads")
    recent.get_by_role("link", name="results.csv", exact=True).wait_for()
    assert recent.get_by_text("Done").is_visible()


def test_lab_sees_every_error_with_its_line(page, csv_path):
    UserFactory(username="lab_lims", role=Role.LAB)
    text = csv_path.read_text().replace("MRN-B3", "MRN-ZZ").replace(",0.5,", ",250,")
    csv_path.write_text(text)
    login(page, "lab_lims")
    page.goto("/uploads/")
    page.get_by_label("CSV or VCF file").set_input_files(str(csv_path))
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("Rejected: nothing from this file was stored.").wait_for()
    # Errors name the CSV column, not the JSON path (issue 13).
    assert page.get_by_role("cell", name="vaf_percent", exact=True).is_visible()
    assert page.get_by_role("cell", name="variants[0].vaf_percent").count() == 0
    # One answer whichever identifier failed (issue 12 §3: no MRN or date-of-birth oracle).
    assert page.get_by_role("cell", name="mrn, date_of_birth", exact=True).is_visible()
    assert page.get_by_text("The patient identifiers do not match the draw").first.is_visible()
    assert LabReport.objects.count() == 0
