"""brk probes as a curious lab: another lab's uploads and reports are not readable."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.roles import Role
from liquidbiopsy.models import Upload
from tests.builders import URL, csv_of, payload
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_another_labs_upload_report_and_patient_filter_are_invisible(lab_token_api, collected):
    lab_token_api.post(URL, payload(), format="json")
    lab_token_api.post(
        "/api/v1/reports/upload/",
        {"file": SimpleUploadedFile("f.csv", csv_of(payload(report_id="R-2")))},
        format="multipart",
    )
    upload = Upload.objects.get()
    nosy = APIClient()
    nosy.force_authenticate(UserFactory(username="lab_nosy", role=Role.LAB))
    assert nosy.get(f"/api/v1/uploads/{upload.pk}/").status_code == 404
    assert nosy.get(f"/api/v1/uploads/{upload.pk + 1}/").status_code == 404
    for q in (
        {"patient": collected.patient_id},
        {"accession": "ACC-000123"},
        {},
        {"report_id": "G360-2026-000123"},
    ):
        r = nosy.get(URL, q)
        assert r.status_code in (200, 400, 403), r.status_code
        if r.status_code == 200:
            assert r.json()["count"] == 0, q
    assert nosy.get(f"/api/v1/patients/{collected.patient_id}/regimens/").status_code in (
        403,
        404,
    )
    assert nosy.get("/api/v1/draws/", {"patient": collected.patient_id}).status_code in (
        400,
        403,
        404,
    )
