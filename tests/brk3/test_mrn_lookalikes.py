"""One MRN, one patient (DESIGN §3 "MRN (unique)"). A letter-case variant or an invisible
character is refused (tests/patients/test_mrn_identity.py), but a visually identical MRN made
of another script's letter or a typographic dash still registers a second patient: what a
word processor's autocorrect (en dash, non-breaking hyphen) or a Cyrillic keyboard layout
gives. The worklist, search and lab pages then show two look-alike patients with the same
date of birth. Found by the brk3 review (REPORT.md F7)."""

import datetime as dt

import pytest

from patients.models import Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "lookalike",
    [
        "MRN\u20110001",  # non-breaking hyphen
        "MRN\u20130001",  # en dash (autocorrect)
        "MRN\u22120001",  # minus sign
        "\u041cRN-0001",  # Cyrillic capital EM
    ],
)
def test_a_look_alike_mrn_is_not_a_second_patient(lookalike, oncologist, nurse_api):
    PatientFactory(mrn="MRN-0001", date_of_birth=dt.date(1961, 4, 2), oncologist=oncologist)
    answer = nurse_api.post(
        "/api/v1/patients/",
        {
            "mrn": lookalike,
            "given_name": "Ann",
            "family_name": "Other",
            "date_of_birth": "1961-04-02",
            "oncologist": oncologist.username,
        },
        format="json",
    )
    assert answer.status_code == 400, answer.json()
    assert Patient.objects.count() == 1


@pytest.mark.parametrize("mrn", ["MRN#0001", "H:12345", "A+1234", "RX(12)-3", "NHS 123 456"])
def test_an_ascii_mrn_with_punctuation_is_accepted(mrn, oncologist, nurse_api):
    answer = nurse_api.post(
        "/api/v1/patients/",
        {
            "mrn": mrn,
            "given_name": "Ann",
            "family_name": "Other",
            "date_of_birth": "1961-04-02",
            "oncologist": oncologist.username,
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
