"""What a file's reader skipped is shown to the uploader (a structural variant outside ESR1
is no call, and the lab should know it was not stored), and a file's size in lines counts
lines however they end (a CR-only file is not one line run in the web request)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from liquidbiopsy.models import Upload
from tests.liquidbiopsy.test_vcf_callers import line_of, upload
from tests.liquidbiopsy.test_vcf_callers_edges import SV_HEAD, record, vcf

pytestmark = pytest.mark.django_db


def test_a_skipped_structural_variant_is_a_note_on_the_upload(lab_token_api, collected):
    deletion = record(
        "GT:AF",
        "0/1:0.2",
        chrom="chr3",
        pos=179000000,
        alt="<DEL>",
        notes="SVTYPE=DEL;END=179005000;SVLEN=-5000",
    )
    data = vcf(SV_HEAD, deletion, record("GT:AF", "0/1:0.0042"))
    response = upload(lab_token_api, data)
    assert response.status_code == 201, response.json()
    [note] = response.json()["notes"]
    assert (note["line"], note["field"]) == (line_of(data, "chr3\t"), "alt")
    assert "<DEL>" in note["message"]
    status = lab_token_api.get(f"/api/v1/uploads/{response.json()['id']}/").json()
    assert status["notes"] == [note]
    assert status["errors"] == []
    assert Upload.objects.get().notes == [note]
    # And the upload's page says so, next to what was stored.
    from django.test import Client

    page = Client()
    page.force_login(Upload.objects.get().uploaded_by)
    html = page.get(f"/uploads/{response.json()['id']}/").content.decode()
    assert "1 line skipped, not stored" in html
    assert "&lt;DEL&gt;" in html


HEADER = (
    "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
    "qc_status,gene,hgvs_p,vaf_percent"
)


def test_a_file_of_cr_ended_lines_is_counted_by_its_lines(lab_token_api, collected, settings):
    settings.UPLOAD_SYNC_MAX_ROWS = 5
    rows = [
        f"R-{i},1,final,ACC-000123,MRN-0001,1961-04-02,2026-11-02,2026-11-10,G360,pass,,,"
        for i in range(10)
    ]
    data = "\r".join([HEADER, *rows]).encode() + b"\r"
    response = lab_token_api.post(
        "/api/v1/reports/upload/", {"file": SimpleUploadedFile("f.csv", data)}, format="multipart"
    )
    assert response.status_code == 202, response.content  # a worker's, not the request's
