"""The alert and patient pages show the lifecycle (issue 10, Deliver 8; issue 13)."""

import datetime as dt

import pytest

from tests.builders import URL, collect, payload
from tests.factories import PatientFactory, RegimenFactory, ScanFactory
from therapy.models import Alert

pytestmark = pytest.mark.django_db


def page(client, alert):
    response = client.get(f"/alerts/{alert.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_alert_page_says_why_it_fired(client, lab_token_api, eligible, oncologist):
    lab_token_api.post(URL, payload(), format="json")
    client.force_login(oncologist)
    html = page(client, Alert.objects.get())
    for line in (
        "On Letrozole + Palbociclib at the blood test (2 Nov 2026)",
        "12 months on this therapy line at the blood test (since 2 Nov 2025; 6 needed",
        "ESR1 p.Asp538Gly is on the allow-list",
        "No radiological progression of this line on record",
        "Latest scan before the blood test: 20 Oct 2026, no progression, 13 days before",
        "Guardant360 CDx",  # the evidence's assay
        "1.2%",  # its tumour fraction
        "15000",  # depth
    ):
        assert line in html, line
    assert 'id="timeline"' in html


def test_a_withdrawn_alert_says_why_and_offers_no_decision(
    client, lab_token_api, eligible, oncologist
):
    lab_token_api.post(URL, payload(), format="json")
    lab_token_api.post(URL, payload(version=2, status="cancelled", variants=[]), format="json")
    client.force_login(oncologist)
    html = page(client, Alert.objects.get())
    assert "Withdrawn: its evidence was retracted." in html
    assert "Report G360-2026-000123 v1 was cancelled by the lab (v2)." in html
    assert "Record decision" not in html


def test_a_flagged_alert_says_what_changed(
    client, lab_token_api, eligible, oncologist, oncologist_api
):
    lab_token_api.post(URL, payload(), format="json")
    alert = Alert.objects.get()
    oncologist_api.post(
        f"/api/v1/alerts/{alert.pk}/acknowledge/",
        {"decision": "decline", "reason_code": "patient_preference"},
        format="json",
    )
    lab_token_api.post(URL, payload(version=2, status="corrected", variants=[]), format="json")
    client.force_login(oncologist)
    html = page(client, alert)
    assert "The evidence changed after the decision: please review." in html
    assert "no longer reports p.Asp538Gly" in html
    assert "Declined</strong> · Patient preference · by" in html


def test_a_superseded_review_says_so(client, lab_token_api, oncologist, nurse):
    import time_machine

    from tests.builders import LONDON

    patient = PatientFactory(
        mrn="MRN-0001",
        date_of_birth=dt.date(1961, 4, 2),
        oncologist=oncologist,
        surveillance_start_on=dt.date(2026, 8, 1),
    )
    RegimenFactory(patient=patient, started_on=dt.date(2026, 6, 1))
    ScanFactory(patient=patient, performed_on=dt.date(2026, 10, 20))
    collect(patient, "ACC-000123", dt.date(2026, 11, 2), nurse)
    lab_token_api.post(URL, payload(), format="json")
    with time_machine.travel(dt.datetime(2026, 12, 10, 12, tzinfo=LONDON), tick=False):
        collect(patient, "ACC-000124", dt.date(2026, 12, 8), nurse)
        later = payload(
            report_id="R-2", accession="ACC-000124", collected_on="2026-12-08",
            reported_on="2026-12-10",
        )  # fmt: skip
        lab_token_api.post(URL, later, format="json")
        client.force_login(oncologist)
        html = page(client, Alert.objects.get(kind="review"))
        assert "Withdrawn: a switch alert superseded this review." in html
        patient_page = client.get(f"/patients/{patient.pk}/").content.decode()
    assert "Open the alert" in patient_page  # the banner for the pending switch
    assert patient_page.count('href="/alerts/') >= 3  # banner + both alerts in the history


def test_a_progression_alert_offers_only_the_progression_pathway(
    client, lab_token_api, eligible, oncologist
):
    ScanFactory(patient=eligible, performed_on=dt.date(2026, 11, 1), outcome="progression")
    lab_token_api.post(URL, payload(), format="json")
    alert = Alert.objects.get(kind="esr1_with_progression")
    client.force_login(oncologist)
    html = page(client, alert)
    assert "Acknowledge: managed on the progression pathway" in html
    assert "Switch to camizestrant" not in html
    response = client.post(
        f"/alerts/{alert.pk}/decide/", {"decision": "acknowledge", "comment": ""}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "A note on how the progression is being managed is required." in body
    assert 'value="acknowledge" checked' in body or "checked" in body  # decision kept
    assert "(comment)" not in body  # no internals
    assert "None:" not in body


def test_a_switch_is_confirmed_against_a_summary(client, lab_token_api, eligible, oncologist):
    lab_token_api.post(URL, payload(), format="json")
    alert = Alert.objects.get()
    client.force_login(oncologist)
    first = client.post(
        f"/alerts/{alert.pk}/decide/",
        {"decision": "switch", "effective_on": "2026-12-02", "revision": alert.revision},
    )
    text = first.content.decode()
    summary = (
        "End Letrozole; start Camizestrant 75 mg once daily; continue Palbociclib from 2 Dec 2026."
    )
    assert summary in text
    alert.refresh_from_db()
    assert alert.state == "open"  # nothing recorded yet
    done = client.post(
        f"/alerts/{alert.pk}/decide/",
        {
            "decision": "switch",
            "effective_on": "2026-12-02",
            "revision": alert.revision,
            "confirmed": "on",
            # What the confirmation was shown (test_switch_confirmation_binding.py).
            "summary_regimen": eligible.regimens.get(ended_on=None).pk,
            "summary": summary,
        },
        follow=True,
    )
    assert "Decision recorded." in done.content.decode()
    alert.refresh_from_db()
    assert alert.state == "accepted"
    assert "Confirmatory imaging is needed" not in page(client, alert)


def test_a_decision_error_is_named_in_words(client, lab_token_api, eligible, oncologist):
    eligible.scans.all().delete()
    lab_token_api.post(URL, payload(), format="json")
    alert = Alert.objects.get()
    client.force_login(oncologist)
    response = client.post(
        f"/alerts/{alert.pk}/decide/",
        {
            "decision": "switch",
            "effective_on": "2026-11-24",
            "confirmed": "on",
            "summary_regimen": eligible.regimens.get(ended_on=None).pk,
            "summary": "End Letrozole; start Camizestrant 75 mg once daily; "
            "continue Palbociclib from 24 Nov 2026.",
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Confirmatory imaging: Confirmatory imaging is needed" in body
    assert "confirmatory_scan" not in body.split("<form")[0]
