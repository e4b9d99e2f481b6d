"""brk probes: crafted values on the clinic's JSON endpoints are answered, never a 5xx."""

import json

import pytest

from patients.models import Draw
from tests.builders import payload, post_report
from therapy.models import Alert

pytestmark = pytest.mark.django_db

EVIL = [
    None,
    "",
    "\x00",
    "x" * 10_000,
    1e308,
    -1,
    0,
    True,
    [],
    {},
    {"a": {"b": 1}},
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "2026-11-24T09:00:00",
    2**64,
    "NaN",
]


def _post(api, url, body, method="POST"):
    return api.generic(method, url, json.dumps(body), content_type="application/json")


def _sweep(api, url, base, fields, method="POST"):
    bad = []
    for field in fields:
        for value in EVIL:
            body = dict(base)
            body[field] = value
            r = _post(api, url, body, method)
            if r.status_code >= 500:
                bad.append((field, repr(value)[:40], r.status_code))
    return bad


def test_acknowledge_fields(lab_token_api, eligible, oncologist_api):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    url = f"/api/v1/alerts/{alert.pk}/acknowledge/"
    bad = []
    for decision, base in [
        ("switch", {"decision": "switch", "effective_on": "2026-11-24"}),
        (
            "defer",
            {"decision": "defer", "reason_code": "awaiting_imaging", "defer_until": "2026-12-01"},
        ),
        ("decline", {"decision": "decline", "reason_code": "other", "comment": "c"}),
    ]:
        fields = [*list(base), "revision", "comment", "confirmatory_scan", "attest_no_progression"]
        bad += [(decision, *b) for b in _sweep(oncologist_api, url, base, fields)]
        # nested scan values
        for k in ("performed_on", "modality", "outcome"):
            for value in EVIL:
                scan = {"performed_on": "2026-11-23", "modality": "ct", "outcome": "no_progression"}
                scan[k] = value
                r = _post(oncologist_api, url, {**base, "confirmatory_scan": scan})
                if r.status_code >= 500:
                    bad.append((decision, "scan." + k, repr(value)[:40], r.status_code))
        alert.refresh_from_db()
        if alert.state not in ("open",):
            break
    assert not bad


def test_regimen_scan_patient_fields(eligible, oncologist_api, nurse_api):
    bad = _sweep(
        oncologist_api,
        f"/api/v1/patients/{eligible.pk}/scans/",
        {"performed_on": "2026-11-23", "modality": "ct", "outcome": "indeterminate"},
        ["performed_on", "modality", "outcome", "note"],
    )
    bad += _sweep(
        oncologist_api,
        f"/api/v1/patients/{eligible.pk}/regimens/",
        {
            "endocrine_agent": "anastrozole",
            "cdk46_inhibitor": "palbociclib",
            "started_on": "2026-11-20",
        },
        ["endocrine_agent", "cdk46_inhibitor", "lhrh_agonist", "started_on", "previous_end_reason"],
    )
    bad += _sweep(
        nurse_api,
        f"/api/v1/patients/{eligible.pk}/",
        {},
        [
            "surveillance_start_on",
            "surveillance_interval_weeks",
            "oncologist",
            "surveillance_state",
        ],
        method="PATCH",
    )
    bad += _sweep(
        nurse_api,
        "/api/v1/patients/",
        {
            "mrn": "MRN-7",
            "given_name": "A",
            "family_name": "B",
            "date_of_birth": "1960-01-01",
            "oncologist": eligible.oncologist.username,
        },
        [
            "mrn",
            "given_name",
            "family_name",
            "date_of_birth",
            "oncologist",
            "surveillance_start_on",
            "surveillance_interval_weeks",
        ],
    )
    assert not bad


def test_draw_collect_and_miss_fields(eligible, nurse_api):
    from patients import scheduling

    scheduling.draws_plan(patient_ids=[eligible.pk])
    draw = Draw.objects.get(patient=eligible, state="scheduled")
    bad = _sweep(
        nurse_api,
        f"/api/v1/draws/{draw.pk}/collect/",
        {"collected_at": "2026-11-24T09:00:00Z", "accession": "ACC-NEW-1"},
        ["collected_at", "accession", "lab"],
    )
    draw = Draw.objects.get(patient=eligible, state="scheduled")
    bad += _sweep(
        nurse_api,
        f"/api/v1/draws/{draw.pk}/miss/",
        {"reason": "did_not_attend"},
        ["reason", "comment"],
    )
    assert not bad


@pytest.mark.parametrize(
    "q",
    [
        {"patient": "\x00"},
        {"patient": "1e308"},
        {"patient": str(2**70)},
        {"state": "x" * 5000},
        {"kind": "%ED%A0%80"},
        {"accession": "x" * 100000},
        {"page": "-1"},
        {"page": str(2**70)},
        {"patient": "-1"},
        {"page_size": "100000000"},
    ],
)
@pytest.mark.parametrize("url", ["/api/v1/alerts/", "/api/v1/draws/", "/api/v1/reports/"])
def test_list_queries(oncologist_api, eligible, q, url):
    r = oncologist_api.get(url, q)
    assert r.status_code < 500
