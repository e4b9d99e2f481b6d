"""Reports on the patient page: percentages readable at 0.042%, failed never 'not detected'."""

import datetime as dt
from decimal import Decimal

import pytest

from patients.templatetags.clinic import percent
from tests.builders import URL, payload, variant


@pytest.mark.parametrize(
    ("fraction", "text"),
    [
        (Decimal("0.00042"), "0.042%"),
        (Decimal("0.0042"), "0.42%"),
        (Decimal("0.0001"), "0.01%"),
        (Decimal("0.12345"), "12.3%"),
        (Decimal("1"), "100%"),
        (Decimal("0.0000001"), "0.00001%"),
        (None, ""),
    ],
)
def test_percent(fraction, text):
    assert percent(fraction) == text


@pytest.mark.django_db
def test_patient_page_shows_reports_versions_and_failures(client, nurse, lab_token_api, collected):
    lab_token_api.post(URL, payload(variants=[variant(vaf_percent=0.042)]), format="json")
    lab_token_api.post(
        URL, payload(version=2, status="corrected", qc_status="fail", variants=[]), format="json"
    )
    client.force_login(nurse)
    html = client.get(f"/patients/{collected.patient_id}/").content.decode()
    assert "G360-2026-000123 v2" in html
    assert "G360-2026-000123 v1" in html
    assert "superseded" in html
    assert "0.042%" in html
    assert "Sample failed" in html
    assert 'This is not "not detected"' in html or "This is not &quot;not detected&quot;" in html
    assert dt.date(2026, 11, 2).isoformat() in html


@pytest.mark.django_db
def test_patient_page_has_the_timeline_figure(client, nurse, lab_token_api, collected):
    import json
    import re

    lab_token_api.post(URL, payload(), format="json")
    client.force_login(nurse)
    html = client.get(f"/patients/{collected.patient_id}/").content.decode()
    figure = json.loads(
        re.search(
            r'<script id="timeline-figure" type="application/json">(.*?)</script>', html, re.S
        ).group(1)
    )
    (trace,) = [t for t in figure["data"] if t["name"] == "ESR1 p.Asp538Gly"]
    assert trace["y"] == [0.42]  # percent, on a log axis
    assert figure["layout"]["yaxis"]["type"] == "log"
    assert "/vendor/plotly-" in html
    assert "cdn." not in html


@pytest.mark.django_db
def test_patient_page_shows_filter_and_flags_and_filtered_is_not_not_detected(
    client, nurse, lab_token_api, collected
):
    body = payload(
        variants=[
            variant(hgvs_p="p.Tyr537Ser"),  # at the D538G position: discordant
            {"gene": "ESR1", "hgvs_p": "p.Leu536His", "vaf": 0.001, "filter": "weak_evidence"},
            {"gene": "TET2", "hgvs_p": "p.Gln1034Ter", "vaf": 0.01},
        ]
    )
    assert lab_token_api.post(URL, body, format="json").status_code == 201
    client.force_login(nurse)
    html = client.get(f"/patients/{collected.patient_id}/").content.decode()
    assert ">discordant</span>" in html
    assert ">possible CHIP</span>" in html
    assert ">weak_evidence</span>" in html
    assert "never used by the switch rule" in html
    assert "No variant detected" not in html


@pytest.mark.django_db
def test_a_report_with_only_filtered_esr1_calls_is_not_shown_as_not_detected(
    client, nurse, lab_token_api, collected
):
    only_filtered = payload(
        variants=[{"gene": "ESR1", "hgvs_p": "p.Asp538Gly", "vaf": 0.001, "filter": "germline"}]
    )
    assert lab_token_api.post(URL, only_filtered, format="json").status_code == 201
    client.force_login(nurse)
    html = client.get(f"/patients/{collected.patient_id}/").content.decode()
    assert "No variant detected" not in html
    assert ">germline</span>" in html
