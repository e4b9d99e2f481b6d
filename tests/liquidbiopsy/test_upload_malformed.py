"""Malformed multipart bodies get a documented 4xx naming the problem, never a 415 or 5xx."""

import pytest

UPLOAD = "/api/v1/reports/upload/"
BOUNDARY = "22098187ded0ddf3b77c24ef8368074f"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        f"--{BOUNDARY}\r\n".encode() + b"\xf2\x8e\xa0\xa0" + f"--{BOUNDARY}--\r\n".encode(),
        f"--{BOUNDARY}--\r\n".encode(),
        b"",
        b"\x00\x01garbage",
    ],
)
def test_a_malformed_multipart_body_is_a_400(lab_token_api, body):
    response = lab_token_api.generic(
        "POST", UPLOAD, body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )
    assert response.status_code == 400, response.content
    assert response.json()["message"]


@pytest.mark.django_db
def test_a_body_in_the_wrong_media_type_is_a_documented_415(lab_token_api):
    response = lab_token_api.post(UPLOAD, {"file": "x"}, format="json")
    assert response.status_code == 415
    assert response.json()["message"]
    # ... and documented, for clients and for the schema conformance test (schemathesis).
    schema = lab_token_api.get("/api/v1/schema/?format=json").json()
    assert "415" in schema["paths"][UPLOAD]["post"]["responses"]
    assert "415" not in schema["paths"]["/api/v1/uploads/{upload_id}/"]["get"]["responses"]
