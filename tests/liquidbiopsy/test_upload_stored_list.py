"""An upload's page lists what was stored from the file, as the product read it (each call's
allele fraction in %, its FILTER, QC, tumour fraction), so a lab can see at once a fraction
read in the wrong unit. By accession only: no patient name, MRN or date of birth. A constant
number of queries for any number of reports."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from liquidbiopsy.models import Upload
from tests.builders import collect
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

HEADER = (
    "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
    "qc_status,tumor_fraction,gene,hgvs_p,vaf_percent,filter"
)


def _cohort(n, oncologist, nurse):
    rows = []
    for i in range(n):
        patient = PatientFactory(
            mrn=f"MRN-S{i}", date_of_birth=dt.date(1961, 4, 2), oncologist=oncologist,
            given_name="Secret", family_name=f"Name{i}",
        )  # fmt: skip
        collect(patient, f"ACC-S{i}", dt.date(2026, 11, 2), nurse)
        rows.append(
            f"R-S{i},1,final,ACC-S{i},MRN-S{i},1961-04-02,2026-11-02,2026-11-10,G360,pass,"
            f"0.021,ESR1,p.Asp538Gly,0.42,"
        )
        rows.append(
            f"R-S{i},1,final,ACC-S{i},MRN-S{i},1961-04-02,2026-11-02,2026-11-10,G360,pass,"
            f"0.021,ESR1,p.Tyr537Ser,0.05,strand_bias"
        )
    return rows


def _page(lab_user, lab_token_api, rows):
    data = SimpleUploadedFile("f.csv", ("\n".join([HEADER, *rows]) + "\n").encode())
    answer = lab_token_api.post("/api/v1/reports/upload/", {"file": data}, format="multipart")
    assert answer.status_code == 201, answer.content
    client = Client()
    client.force_login(lab_user)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(f"/uploads/{answer.json()['id']}/").content.decode()
    return html, len(ctx.captured_queries)


def test_the_upload_page_lists_what_was_stored_in_the_products_units(
    lab_user, lab_token_api, oncologist, nurse
):
    html, _ = _page(lab_user, lab_token_api, _cohort(2, oncologist, nurse))
    assert "What was stored" in html
    assert "ACC-S0" in html
    assert "ACC-S1" in html
    assert "p.Asp538Gly" in html
    assert "0.42%" in html
    assert "strand_bias" in html
    assert "not used" in html
    assert "2.1%" in html  # tumour fraction 0.021
    assert "non-informative" not in html  # every report here has calls
    for private in ("MRN-S0", "Secret", "Name0", "1961"):
        assert private not in html
    assert Upload.objects.get().reports_stored == 2


def test_the_stored_list_runs_the_same_queries_for_3_or_30_reports(
    lab_user, lab_token_api, oncologist, nurse
):
    rows = _cohort(30, oncologist, nurse)
    _, small = _page(lab_user, lab_token_api, rows[:6])
    _, large = _page(lab_user, lab_token_api, rows[6:])
    assert small == large


def test_a_not_detected_below_one_percent_tumour_fraction_says_non_informative(
    lab_user, lab_token_api, oncologist, nurse
):
    patient = PatientFactory(mrn="MRN-N0", date_of_birth=dt.date(1961, 4, 2), oncologist=oncologist)
    collect(patient, "ACC-N0", dt.date(2026, 11, 2), nurse)
    row = "R-N0,1,final,ACC-N0,MRN-N0,1961-04-02,2026-11-02,2026-11-10,G360,pass,0.004,,,,"
    html, _ = _page(lab_user, lab_token_api, [row])
    assert "not detected" in html
    assert "non-informative: tumour fraction below 1%" in html
