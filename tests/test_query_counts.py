"""Every page and endpoint runs the same number of SQL queries at 10 and at 1,000 patients."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from patients.models import ImagingAssessment, Patient
from tests.factories import bulk_patients

pytestmark = pytest.mark.django_db


def _seed(n: int, oncologist) -> Patient:
    patients = bulk_patients(n, oncologist, f"Q{n}-")
    ImagingAssessment.objects.bulk_create(
        ImagingAssessment(
            patient=p, performed_on=dt.date(2026, 6, 1), modality="ct", outcome="no_progression"
        )
        for p in patients
        for _ in range(3)
    )
    return patients[0]


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


def _measure(client, api, patient):
    # The search posts (names stay out of URLs) and redirects to its saved id.
    search_url = client.post("/patients/", {"q": "Q10-Patient0"}).url
    return {
        "patient list page": _count(lambda: client.get("/patients/")),
        "patient search page": _count(lambda: client.get(search_url)),
        "patient page": _count(lambda: client.get(f"/patients/{patient.pk}/")),
        "api patient list": _count(lambda: api.get("/api/v1/patients/")),
        "api patient": _count(lambda: api.get(f"/api/v1/patients/{patient.pk}/")),
        "api regimens": _count(lambda: api.get(f"/api/v1/patients/{patient.pk}/regimens/")),
        "api scans": _count(lambda: api.get(f"/api/v1/patients/{patient.pk}/scans/")),
    }


def test_query_counts_do_not_grow_with_the_cohort(client, nurse, oncologist):
    client.force_login(nurse)
    api = APIClient()
    api.force_login(nurse)  # a fresh user per request, as in production

    client.get("/patients/")  # the first request after login refreshes the idle expiry
    api.get("/api/v1/patients/")
    small_patient = _seed(10, oncologist)
    small = _measure(client, api, small_patient)
    large_patient = _seed(990, oncologist)
    large = _measure(client, api, large_patient)

    assert Patient.objects.count() == 1000
    assert small == large
    assert max(large.values()) <= 12, large
