"""Inputs a review listed as 500s: a lone surrogate in a patient's name, an allele fraction of
Infinity/NaN/1e400. Those "500s" were the test client's own encoder refusing to write the
body; sent as a lab system would send them (the JSON text on the wire), the server answers
400 saying what is wrong, and writes nothing. Pinned here so it stays so."""

import json

import pytest

from liquidbiopsy.models import LabReport
from patients.models import Patient
from tests.builders import URL, payload

pytestmark = pytest.mark.django_db


def test_a_lone_surrogate_in_a_new_patient_is_a_400(nurse_api, oncologist):
    body = json.dumps(
        {
            "mrn": "MRN-SUR1",
            "given_name": "\ud800",
            "family_name": "Test",
            "date_of_birth": "1961-04-02",
            "oncologist": oncologist.username,
        }
    )
    answer = nurse_api.post("/api/v1/patients/", body, content_type="application/json")
    assert answer.status_code == 400, answer.content
    assert "surrogate" in answer.json()["message"]
    assert not Patient.objects.filter(mrn="MRN-SUR1").exists()


@pytest.mark.parametrize("value", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_a_vaf_percent_of_infinity_is_a_400(lab_token_api, eligible, value):
    body = payload()
    text = json.dumps(body).replace('"vaf_percent": 0.42', f'"vaf_percent": {value}')
    assert value in text
    answer = lab_token_api.post(URL, text, content_type="application/json")
    assert answer.status_code == 400, answer.content
    said = answer.json()
    # Infinity and NaN are not JSON (a parse error says so); 1e400 parses and is named.
    assert said["message"].startswith("JSON parse error") or said["extra"]["fields"] == {
        "variants[0].vaf_percent": ["Must be a number."]
    }, said
    assert not LabReport.objects.exists()
