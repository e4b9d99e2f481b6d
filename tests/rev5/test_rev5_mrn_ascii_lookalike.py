"""1bac513 accepts any printable ASCII after the first character, on the ground that
"look-alikes come from outside ASCII". They do not only: a run of spaces renders as one space in
every HTML page (the worklist, the alert page, the search results), so "NHS 123  456" is a
second patient no one can tell apart on screen from "NHS 123 456", and the MRN search for what
a clinician reads never finds her. Internal whitespace must be one space (or refused)."""

import pytest

from patients.models import Patient

pytestmark = pytest.mark.django_db


def _create(api, oncologist, mrn):
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


@pytest.mark.parametrize("lookalike", ["NHS 123  456", "NHS  123 456", "NHS 123   456"])
def test_an_mrn_differing_only_in_a_run_of_spaces_is_not_a_second_patient(
    lookalike, oncologist, nurse_api
):
    assert _create(nurse_api, oncologist, "NHS 123 456").status_code == 201
    answer = _create(nurse_api, oncologist, lookalike)
    assert answer.status_code == 400, (answer.status_code, Patient.objects.values_list("mrn"))
    assert Patient.objects.count() == 1
