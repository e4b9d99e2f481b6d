"""A lab looking up its draw by accession gets what it needs to match a result (DESIGN §2:
"sees only what it needs"), never the nurse's free-text note, which may say anything about
the patient; clinic roles still see the note."""

import datetime as dt

import pytest

from patients.models import Draw
from tests.builders import collect
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def noted(oncologist, nurse):
    patient = PatientFactory(mrn="MRN-NOTE", oncologist=oncologist)
    draw = collect(patient, "ACC-NOTE-1", dt.date(2026, 11, 2), nurse)
    Draw.objects.filter(pk=draw.pk).update(reason_note="patient in hospital with sepsis")
    return draw


def test_a_lab_never_sees_the_nurses_note(lab_token_api, noted):
    answer = lab_token_api.get("/api/v1/draws/?accession=ACC-NOTE-1")
    assert answer.status_code == 200, answer.content
    [row] = answer.json()["results"]
    assert row["accession"] == "ACC-NOTE-1"
    assert "reason_note" not in row
    assert "sepsis" not in answer.content.decode()


def test_the_clinic_still_sees_it(nurse_api, noted):
    answer = nurse_api.get("/api/v1/draws/?accession=ACC-NOTE-1")
    [row] = answer.json()["results"]
    assert row["reason_note"] == "patient in hospital with sepsis"
