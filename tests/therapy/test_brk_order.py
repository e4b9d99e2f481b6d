"""brk probes: versions out of order, and a correction to another draw of the same patient."""

import datetime as dt

import pytest

from patients.models import Draw
from tests.builders import collect, payload, pending, post_report, variant

pytestmark = pytest.mark.django_db


def test_a_late_version_1_after_a_cancelled_version_2_does_not_resurrect_the_alert(
    lab_token_api, eligible
):
    post_report(lab_token_api, payload(version=2, status="cancelled", variants=[]))
    late = lab_token_api.post("/api/v1/reports/", payload(), format="json")
    assert late.status_code == 409, late.json()
    assert not pending(eligible).exists()
    assert Draw.objects.get(accession="ACC-000123").state == "collected"


def test_a_late_version_1_does_not_replace_the_amended_version_2_as_evidence(
    lab_token_api, eligible
):
    post_report(
        lab_token_api, payload(version=2, status="amended", variants=[variant(vaf_percent=0.9)])
    )
    late = lab_token_api.post("/api/v1/reports/", payload(), format="json")
    assert late.status_code == 409, late.json()
    (alert,) = pending(eligible)
    (ev,) = alert.evidence.select_related("report")
    assert ev.report.version == 2
    got = oncologist_view(alert)
    assert [e["version"] for e in got["evidence"]] == [2]


def oncologist_view(alert):
    from rest_framework.test import APIClient

    c = APIClient()
    c.force_authenticate(alert.patient.oncologist)
    r = c.get(f"/api/v1/alerts/{alert.pk}/")
    assert r.status_code == 200
    return r.json()


def test_a_correction_to_her_later_draw_moves_the_result_and_needs_imaging(
    lab_token_api, eligible, nurse
):
    post_report(lab_token_api, payload())
    (alert,) = pending(eligible)
    assert alert.needs_confirmatory_imaging is False  # clear scan 13 days before
    collect(eligible, "ACC-000124", dt.date(2026, 11, 20), nurse)
    post_report(
        lab_token_api,
        payload(
            version=2,
            status="corrected",
            accession="ACC-000124",
            collected_on="2026-11-20",
            reported_on="2026-11-22",
        ),
    )
    assert Draw.objects.get(accession="ACC-000123").state == "collected"
    assert Draw.objects.get(accession="ACC-000124").state == "resulted"
    (alert,) = pending(eligible)
    assert alert.needs_confirmatory_imaging is True  # clear scan now 31 days before
    assert [e["collected_on"] for e in oncologist_view(alert)["evidence"]] == ["2026-11-20"]
