"""brk probes: every crafted value in every report field is answered, never a 5xx."""

import copy
import json

import pytest

from tests.builders import URL, payload

pytestmark = pytest.mark.django_db

EVIL = [
    None,
    "",
    "\x00",
    "a\x00b",
    "x" * 100_000,
    1e308,
    -1e308,
    2**63,
    2**64,
    -(2**63) - 1,
    -1,
    0,
    True,
    [],
    {},
    {"a": {"b": [1, {"c": 2}]}},
    "NaN",
    "Infinity",
    1.5,
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    # "\ud800" (lone surrogate) tested separately
    "\uff11\uff12",  # fullwidth digits
    "1e308",
    [[["nested"]]],
]

REPORT_FIELDS = [
    "report_id",
    "version",
    "status",
    "accession",
    "collected_on",
    "reported_on",
    "assay",
    "qc_status",
    "tumor_fraction",
    "tumor_fraction_percent",
    "variants",
    "patient",
]
VARIANT_FIELDS = [*list(payload()["variants"][0]), "vaf", "filter", "flags", "unknown_x"]
PATIENT_FIELDS = ["mrn", "date_of_birth"]


def _post(api, body):
    try:
        raw = json.dumps(body)
    except (ValueError, UnicodeEncodeError):
        raw = json.dumps(body, ensure_ascii=True)
    return api.generic("POST", URL, raw, content_type="application/json")


@pytest.mark.parametrize("field", REPORT_FIELDS)
def test_report_field_evil_values_never_5xx(lab_token_api, collected, field):
    bad = []
    for value in EVIL:
        body = payload()
        body[field] = value
        r = _post(lab_token_api, body)
        if r.status_code >= 500:
            bad.append((repr(value)[:60], r.status_code))
    assert not bad


@pytest.mark.parametrize("field", VARIANT_FIELDS)
def test_variant_field_evil_values_never_5xx(lab_token_api, collected, field):
    bad = []
    for value in EVIL:
        body = payload()
        body["variants"][0][field] = value
        if field == "vaf":
            body["variants"][0].pop("vaf_percent")
        r = _post(lab_token_api, body)
        if r.status_code >= 500:
            bad.append((repr(value)[:60], r.status_code))
    assert not bad


@pytest.mark.parametrize("field", PATIENT_FIELDS)
def test_patient_field_evil_values_never_5xx(lab_token_api, collected, field):
    bad = []
    for value in EVIL:
        body = payload()
        body["patient"][field] = value
        r = _post(lab_token_api, body)
        if r.status_code >= 500:
            bad.append((repr(value)[:60], r.status_code))
    assert not bad


@pytest.mark.parametrize(
    "raw",
    [
        '{"version": NaN}',
        "NaN",
        "[" * 5000 + "]" * 5000,
        '{"a":' * 3000 + "1" + "}" * 3000,
        '"\\u0000"',
        "\xff\xfe",
        "",
        "null",
        "1e999999",
    ],
)
def test_raw_bodies_never_5xx(lab_token_api, collected, raw):
    r = lab_token_api.generic(
        "POST", URL, raw.encode("utf-8", "surrogatepass"), content_type="application/json"
    )
    assert r.status_code < 500


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
@pytest.mark.parametrize("field", ["vaf_percent", "depth", "pos", "tumor_fraction", "version"])
def test_nonfinite_numbers_are_400(lab_token_api, collected, token, field):
    body = payload()
    target = body if field in ("tumor_fraction", "version") else body["variants"][0]
    target[field] = "__X__"
    raw = json.dumps(body).replace('"__X__"', token)
    r = lab_token_api.generic("POST", URL, raw, content_type="application/json")
    assert r.status_code in (400, 422), (r.status_code, r.content[:300])


def test_many_variants_never_5xx(lab_token_api, collected):
    body = payload()
    v = body["variants"][0]
    body["variants"] = [copy.deepcopy(v) for _ in range(5000)]
    r = _post(lab_token_api, body)
    assert r.status_code < 500


@pytest.mark.parametrize("key", ["extra\x00", "x" * 100_000, "", "variants[0]"])
@pytest.mark.parametrize("where", ["report", "variant", "patient"])
def test_odd_keys_never_5xx(lab_token_api, collected, key, where):
    body = payload()
    target = {"report": body, "variant": body["variants"][0], "patient": body["patient"]}[where]
    target[key] = "v"
    r = _post(lab_token_api, body)
    assert r.status_code < 500
