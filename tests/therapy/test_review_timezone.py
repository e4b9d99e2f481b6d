"""Collection dates in the clinic's time zone (DESIGN §6: "collected_on must be the draw's
collection date in the clinic's time zone (one day either way is tolerated for time zones)";
§5: "Time on therapy = collection date - line start"). Europe/London in summer is UTC+1: a
draw collected at 00:30 on 2 July is 23:30 UTC on 1 July."""

import datetime as dt

import pytest
import time_machine

from patients import scheduling
from patients.models import Draw
from tests.builders import LONDON, payload, pending, post_report
from tests.factories import PatientFactory, RegimenFactory, ScanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def six_months_on_2_july(oncologist):
    patient = PatientFactory(
        mrn="MRN-0001",
        date_of_birth=dt.date(1961, 4, 2),
        oncologist=oncologist,
        surveillance_start_on=dt.date(2026, 6, 20),
    )
    RegimenFactory(patient=patient, started_on=dt.date(2026, 1, 2))
    ScanFactory(patient=patient, performed_on=dt.date(2026, 6, 25), outcome="no_progression")
    return patient


@pytest.mark.parametrize("collected_at", ["2026-07-01T23:30:00Z", "2026-07-02T00:30:00+01:00"])
@pytest.mark.parametrize("lab_day", ["2026-07-02", "2026-07-01"])
def test_a_draw_just_after_midnight_in_summer_counts_six_months_on_the_clinic_date(
    nurse_api, lab_token_api, six_months_on_2_july, collected_at, lab_day
):
    patient = six_months_on_2_july
    with time_machine.travel(dt.datetime(2026, 7, 2, 9, 0, tzinfo=LONDON), tick=False):
        scheduling.draws_plan(patient_ids=[patient.pk])
        draw = Draw.objects.get(patient=patient, state="scheduled")
        response = nurse_api.post(
            f"/api/v1/draws/{draw.pk}/collect/",
            {"collected_at": collected_at, "accession": "ACC-000123"},
            format="json",
        )
        assert response.status_code == 200, response.json()
    draw.refresh_from_db()
    assert draw.collected_on == dt.date(2026, 7, 2)
    post_report(lab_token_api, payload(collected_on=lab_day, reported_on="2026-07-10"))
    # 2 Jan + 6 months = 2 Jul: eligible on the clinic's date (on 1 July it would be a review).
    alert = pending(patient).get()
    assert alert.kind == "switch_recommended"
    assert alert.facts_snapshot["collected_on"] == "2026-07-02"


def test_a_lab_date_two_days_off_the_clinic_date_is_refused(
    nurse_api, lab_token_api, six_months_on_2_july
):
    patient = six_months_on_2_july
    with time_machine.travel(dt.datetime(2026, 7, 2, 9, 0, tzinfo=LONDON), tick=False):
        scheduling.draws_plan(patient_ids=[patient.pk])
        draw = Draw.objects.get(patient=patient, state="scheduled")
        nurse_api.post(
            f"/api/v1/draws/{draw.pk}/collect/",
            {"collected_at": "2026-07-01T23:30:00Z", "accession": "ACC-000123"},
            format="json",
        )
    response = lab_token_api.post(
        "/api/v1/reports/", payload(collected_on="2026-06-30"), format="json"
    )
    assert response.status_code == 422
    assert "2026-06-30" in str(response.json())
    assert "2026-07-02" in str(response.json())
