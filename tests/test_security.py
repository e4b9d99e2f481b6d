"""Security headers, request bounds and the database being down (issue 12 items 6, 7, 9).

CSP with a per-request nonce on every inline script; Cache-Control: no-store on answers with
PHI; JSON nested too deep, NUL bytes and malformed tokens answered 400/401, never 500; ids in
the OpenAPI schema are positive; PostgreSQL unreachable answers 503 with Retry-After and the
app recovers by itself; gunicorn's access log carries no query string.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from core.drf_inputs import JSON_TOO_DEEP, MAX_JSON_DEPTH, json_depth_exceeds
from tests.utils import child_env

ROOT = Path(__file__).resolve().parents[1]


# --- Content-Security-Policy ----------------------------------------------------------------


def _csp(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in (p.strip() for p in header.split(";"))
        if part
    }


@pytest.mark.django_db
def test_patient_page_has_csp_and_its_inline_script_carries_the_nonce(client, oncologist, patient):
    client.force_login(oncologist)
    response = client.get(f"/patients/{patient.pk}/")
    assert response.status_code == 200
    policy = _csp(response)
    nonce = re.search(r"'nonce-([^']+)'", policy["script-src"]).group(1)
    assert "'unsafe-inline'" not in policy["script-src"]
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    html = response.content.decode()
    inline = re.findall(r"<script(?![^>]*\b(?:src=|type=\"application/json))([^>]*)>", html)
    assert inline, "the page draws its timeline with an inline script"
    assert all(f'nonce="{nonce}"' in attrs for attrs in inline), inline
    # A new nonce every time.
    again = _csp(client.get(f"/patients/{patient.pk}/"))["script-src"]
    assert nonce not in again


@pytest.mark.django_db
def test_every_inline_script_in_the_templates_carries_the_nonce():
    """No template may add an inline script the policy would block."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        scripts = r"<script(?![^>]*\b(?:src=|type=\"application/json))[^>]*>"
        for match in re.finditer(scripts, path.read_text()):
            if 'nonce="{{ request.csp_nonce }}"' not in match.group():
                offenders.append(f"{path.relative_to(ROOT)}: {match.group()}")
        assert not re.search(r"\son[a-z]+=", path.read_text()), f"inline handler in {path}"
    assert not offenders


def test_api_docs_page_inline_script_carries_the_nonce(db):
    response = Client().get("/api/v1/docs/")
    assert response.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", _csp(response)["script-src"]).group(1)
    assert f'<script nonce="{nonce}">' in response.content.decode()


# --- Cache-Control ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_authenticated_pages_and_api_answers_are_not_stored(
    client, oncologist, patient, lab_token_api
):
    client.force_login(oncologist)
    for url in ("/", f"/patients/{patient.pk}/", "/dashboard/", "/api/v1/patients/"):
        response = client.get(url)
        assert response["Cache-Control"] == "no-store, private", url
    answer = lab_token_api.get("/api/v1/reports/")
    assert answer.status_code == 200
    assert answer["Cache-Control"] == "no-store, private"
    # The versioned plotly.js bundle (no PHI) stays cacheable, logged in or not.
    bundle = client.get(
        re.search(
            r'src="(/vendor/plotly-[^"]+)"', client.get(f"/patients/{patient.pk}/").content.decode()
        ).group(1)
    )
    assert "public" in bundle["Cache-Control"]
    # A refused token call is not cacheable either.
    refused = APIClient().get("/api/v1/reports/", HTTP_AUTHORIZATION="Token " + "0" * 64)
    assert refused.status_code == 401
    assert refused["Cache-Control"] == "no-store, private"


# --- JSON depth ------------------------------------------------------------------------------


@pytest.fixture
def json_endpoints(lab_token_api, nurse_api, patient, nurse):
    """Every JSON write, each on an object that exists (the body is parsed after the lookup)."""
    import datetime as dt

    from tests.builders import make_draw

    draw = make_draw(patient, dt.date.today())
    return [
        (lab_token_api.post, "/api/v1/reports/"),
        (nurse_api.post, "/api/v1/patients/"),
        (nurse_api.patch, f"/api/v1/patients/{patient.pk}/"),
        (nurse_api.post, f"/api/v1/patients/{patient.pk}/regimens/"),
        (nurse_api.post, f"/api/v1/patients/{patient.pk}/scans/"),
        (nurse_api.post, f"/api/v1/draws/{draw.pk}/collect/"),
        (nurse_api.post, f"/api/v1/draws/{draw.pk}/reschedule/"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_json_nested_too_deep_is_a_400_on_every_json_endpoint(json_endpoints, depth):
    objects = '{"a":' * depth + "1" + "}" * depth
    arrays = "[" * depth + "]" * depth
    for send, url in json_endpoints:
        for body in (objects, arrays):
            response = send(url, data=body, content_type="application/json")
            assert response.status_code == 400, (url, response.content[:200])
            assert response.json()["message"] == JSON_TOO_DEEP, url


@pytest.mark.django_db
def test_json_at_the_depth_limit_is_parsed(nurse_api, patient):
    body = {"notes": "x"}
    for _ in range(MAX_JSON_DEPTH - 1):
        body = {"nested": body}
    response = nurse_api.patch(f"/api/v1/patients/{patient.pk}/", data=body, format="json")
    assert response.status_code != 500
    assert response.json().get("message") != JSON_TOO_DEEP


@given(
    st.recursive(
        st.integers() | st.text(alphabet='[]{}"\\ab', max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
        max_leaves=30,
    )
)
@hsettings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_depth_scan_agrees_with_the_parsed_value(value):
    """The regex scan counts exactly the nesting json.loads sees, strings and escapes included."""

    def depth(v) -> int:
        if isinstance(v, list):
            return 1 + max((depth(x) for x in v), default=0)
        if isinstance(v, dict):
            return 1 + max((depth(x) for x in v.values()), default=0)
        return 0

    text = json.dumps(value)
    actual = depth(value)
    for limit in range(max(actual - 1, 0), actual + 2):
        assert json_depth_exceeds(text, limit) == (actual > limit)


# --- Headers: NUL, non-UTF-8, malformed tokens ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    [
        "Token \xff\xfe\xfd",
        "Token abc\x00def",
        "Token " + "\xe9" * 64,
        "Token ../../etc",
        "Token " + "a" * 5000,
    ],
    ids=["latin1-bytes", "nul", "non-ascii-64", "punctuation", "huge"],
)
def test_malformed_authorization_header_is_401_or_400_never_500(authorization):
    client = APIClient(raise_request_exception=False)
    response = client.get("/api/v1/reports/", HTTP_AUTHORIZATION=authorization)
    assert response.status_code in (400, 401), response.content[:200]
    assert set(response.json()) == {"message", "extra"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header", ["HTTP_USER_AGENT", "HTTP_ACCEPT", "HTTP_X_FORWARDED_FOR", "HTTP_COOKIE"]
)
def test_nul_in_any_header_is_a_400(header):
    client = Client(raise_request_exception=False)
    login = client.post(
        "/accounts/login/", {"username": "x", "password": "y"}, **{header: "a\x00b"}
    )
    assert login.status_code == 400
    api = APIClient(raise_request_exception=False).get("/api/v1/reports/", **{header: "a\x00b"})
    assert api.status_code == 400
    assert set(api.json()) == {"message", "extra"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/draws/?accession=AB%00C",
        "/api/v1/patients/?state=a%00b",
        "/api/v1/patients/?search=a%00b",
        "/api/v1/alerts/?state=%00",
        "/api/v1/reports/?accession=%00%00",
    ],
)
def test_nul_in_a_query_parameter_is_never_a_5xx(nurse_api, url):
    response = nurse_api.get(url)
    assert response.status_code in (200, 400), (url, response.status_code)


@pytest.mark.django_db
def test_nul_in_a_page_query_is_dropped(client, nurse):
    client.force_login(nurse)
    assert client.get("/worklist/?section=due%00").status_code == 200
    assert client.get("/patients/?q=SM%00ITH").status_code < 500


@pytest.mark.django_db
def test_login_with_undecodable_user_agent_is_answered(client):
    response = Client(raise_request_exception=False).post(
        "/accounts/login/", {"username": "x", "password": "y"}, HTTP_USER_AGENT="\xff\xfe"
    )
    assert response.status_code == 200  # the form again, with the error


# --- Ids -------------------------------------------------------------------------------------


def test_schema_states_ids_are_positive(db):
    schema = APIClient().get("/api/v1/schema/?format=json").json()
    seen = 0
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"].endswith("_id"):
                    assert parameter["schema"]["minimum"] == 1, (method, path)
                    assert parameter["schema"]["maximum"] == 2**63 - 1, (method, path)
                    seen += 1
    assert seen >= 8


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["0", "9223372036854775808", "9" * 30, "1" * 5000])
def test_path_ids_out_of_range_are_404(nurse_api, client, nurse, raw):
    client.force_login(nurse)
    for url in (f"/api/v1/patients/{raw}/", f"/api/v1/draws/{raw}/"):
        assert nurse_api.get(url).status_code == 404, url
    assert client.get(f"/patients/{raw}/").status_code == 404


# --- PostgreSQL unavailable ------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


@pytest.mark.django_db(transaction=True)
def test_database_down_answers_503_with_retry_after_and_the_app_recovers(
    oncologist, patient, lab_user
):
    from accounts.services import api_token_issue

    token = api_token_issue(username=lab_user.username)
    page_client, api_client = (
        Client(raise_request_exception=False),
        APIClient(raise_request_exception=False),
    )
    page_client.force_login(oncologist)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(_closed_port()))
    try:
        # Nothing answers on the database's address: every kind of request gets a 503.
        for response, kind in (
            (page_client.get(f"/patients/{patient.pk}/"), "page"),
            (
                Client(raise_request_exception=False).post(
                    "/accounts/login/", {"username": "dr_olga", "password": "x"}
                ),
                "log-in",
            ),
            (api_client.get("/api/v1/reports/"), "token API"),
            (api_client.post("/api/v1/reports/", data={}, format="json"), "token API write"),
        ):
            assert response.status_code == 503, (kind, response.status_code)
            assert response["Retry-After"] == "30", kind
            assert "temporarily unavailable" in response.content.decode(), kind
        assert api_client.get("/api/v1/reports/").json()["extra"] == {}
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    # PostgreSQL is back: the next requests are served, with no restart.
    assert page_client.get(f"/patients/{patient.pk}/").status_code == 200
    assert api_client.get("/api/v1/reports/").status_code == 200


# --- Access log --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_gunicorn_access_log_has_no_query_string_or_referrer(tmp_path):
    port = _closed_port()
    env = child_env(GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1")
    log = tmp_path / "access.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "surveillance.wsgi:application"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/accounts/login/?next=/patients/%3Fq%3DSMITH&mrn=MRN-4242"
        request = urllib.request.Request(
            url,
            headers={"Referer": "http://x/patients/?q=JONES+MRN-777", "X-Forwarded-Proto": "https"},
        )
        for _ in range(100):
            try:
                urllib.request.urlopen(request, timeout=5).read()  # noqa: S310 - http to our server
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not answer: " + log.read_text())
        time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=20)
    lines = [line for line in log.read_text().splitlines() if '"GET /accounts/login/' in line]
    assert lines, log.read_text()
    for secret in ("SMITH", "MRN-4242", "JONES", "MRN-777", "?"):
        assert secret not in lines[0], lines[0]
    assert os.path.exists(ROOT / "gunicorn.conf.py")


def test_development_server_log_has_no_query_string():
    """runserver (scripts/run.sh) logs each request line through django.server."""
    import logging

    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    logger = logging.getLogger("django.server")
    keep = Keep()
    logger.addHandler(keep)
    try:
        logger.info('"%s" %s %s', "GET /patients/?q=SMITH+MRN-4242 HTTP/1.1", "200", "512")
    finally:
        logger.removeHandler(keep)
    assert records == ['"GET /patients/ HTTP/1.1" 200 512']


@pytest.mark.django_db(transaction=True)
def test_a_dropped_database_connection_is_replaced_by_itself(oncologist, patient):
    """PostgreSQL restarting kills the app's open connection: the next requests are served
    (CONN_HEALTH_CHECKS finds the dead connection and reconnects), never a 500."""
    import psycopg2
    from django.db import close_old_connections

    client = Client(raise_request_exception=False)
    client.force_login(oncologist)
    assert client.get(f"/patients/{patient.pk}/").status_code == 200
    connection.ensure_connection()
    pid = connection.connection.get_backend_pid()
    s = connection.settings_dict
    killer = psycopg2.connect(
        dbname=s["NAME"],
        user=s["USER"],
        password=s["PASSWORD"] or None,
        host=s["HOST"] or "localhost",
        port=s["PORT"] or 5432,
    )
    try:
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone() == (True,)
    finally:
        killer.close()
    statuses = []
    for _ in range(2):
        # What Django's WSGI handler does around every request (request_started and
        # request_finished); the test client leaves it out, so it is called here.
        close_old_connections()
        statuses.append(client.get(f"/patients/{patient.pk}/").status_code)
        close_old_connections()
    assert statuses == [200, 200]
