"""One MRN, one patient (DESIGN §3 "MRN (unique)"): a letter-case variant or an invisible
character no longer registers a second, look-alike patient (found by a sceptical review).
"""

import pytest

from patients.models import Patient

pytestmark = pytest.mark.django_db


def new_patient(api, oncologist, mrn):
    return api.post(
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


def test_an_mrn_differing_only_in_letter_case_is_the_same_mrn(eligible, nurse_api, oncologist):
    """MRN-0001 exists; 'mrn-0001' (same DOB) is registered as a second patient (201)."""
    answer = new_patient(nurse_api, oncologist, "mrn-0001")
    assert answer.status_code == 400, answer.json()
    assert Patient.objects.count() == 1


def test_an_mrn_with_an_invisible_character_is_not_a_new_mrn(eligible, nurse_api, oncologist):
    """'MRN-0001' + U+200B (zero-width space, e.g. pasted from a document) is stored as a new,
    visually identical MRN: two patients the worklist, search and lab pages show alike."""
    answer = new_patient(nurse_api, oncologist, "MRN-0001\u200b")
    assert answer.status_code == 400, answer.json()
    assert Patient.objects.count() == 1


def test_the_refusal_names_the_existing_mrn_and_a_new_mrn_is_registered(
    eligible, nurse_api, oncologist
):
    refused = new_patient(nurse_api, oncologist, "mrn-0001")
    (message,) = refused.json()["extra"]["fields"]["mrn"]
    assert "MRN-0001 already exists" in message
    assert new_patient(nurse_api, oncologist, "MRN-0002").status_code == 201
    assert Patient.objects.count() == 2
