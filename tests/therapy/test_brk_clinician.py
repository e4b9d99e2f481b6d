"""brk probes as a sceptical clinician: versions, corrections, regimens, states, decisions.

`eligible`: letrozole + palbociclib since 2 Nov 2025, clear scan 20 Oct 2026, draw ACC-000123
collected 2 Nov 2026; today 24 Nov 2026.
"""

import datetime as dt

import pytest

from patients.models import Draw
from tests.builders import MOVED, ack, payload, pending, post_report, variant
from therapy.models import Alert

pytestmark = pytest.mark.django_db


def _accept(api, alert):
    r = ack(api, alert, decision="switch", effective_on="2026-11-24")
    assert r.status_code == 200, r.json()


@pytest.mark.parametrize(("new_vaf", "flagged"), [(0.20, True), (0.30, False), (0.84, True)])
def test_an_accepted_switch_is_flagged_when_the_vaf_changes_by_the_rise_factor(
    lab_token_api, eligible, oncologist_api, new_vaf, flagged
):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    _accept(oncologist_api, alert)
    post_report(
        lab_token_api,
        payload(version=2, status="amended", variants=[variant(vaf_percent=new_vaf)]),
    )
    alert.refresh_from_db()
    assert alert.state == "accepted"
    assert alert.flagged_for_review is flagged
    # Accepted and post-switch: the amendment raises no new switch alert.
    assert not pending(eligible, "switch_recommended").exists()


def test_an_accepted_switch_is_flagged_when_the_variant_is_replaced(
    lab_token_api, eligible, oncologist_api
):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    _accept(oncologist_api, alert)
    swapped = variant(hgvs_p="p.Tyr537Ser", hgvs_c="c.1610A>C", pos=152098788, ref="A", alt="C")
    post_report(lab_token_api, payload(version=2, status="corrected", variants=[swapped]))
    alert.refresh_from_db()
    assert alert.flagged_for_review is True


def test_a_declined_alert_realerts_on_a_vaf_rise_by_amendment(
    lab_token_api, eligible, oncologist_api
):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    r = ack(oncologist_api, alert, decision="decline", reason_code="patient_preference")
    assert r.status_code == 200, r.json()
    post_report(
        lab_token_api, payload(version=2, status="amended", variants=[variant(vaf_percent=0.5)])
    )
    assert not pending(eligible).exists()
    post_report(
        lab_token_api, payload(version=3, status="amended", variants=[variant(vaf_percent=0.9)])
    )
    assert pending(eligible, "switch_recommended").count() == 1


def test_a_cancelled_only_report_withdraws_and_the_accept_is_refused(
    lab_token_api, eligible, oncologist_api
):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    post_report(lab_token_api, payload(version=2, status="cancelled", variants=[]))
    alert.refresh_from_db()
    assert (alert.state, alert.withdrawn_reason) == ("withdrawn", "evidence_retracted")
    r = ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24")
    assert r.status_code == 409
    assert Draw.objects.get(accession="ACC-000123").state == "collected"
    # A version after the cancellation (same chain) brings the evidence back.
    post_report(lab_token_api, payload(version=3, status="corrected"))
    assert pending(eligible, "switch_recommended").count() == 1


def test_a_correction_to_another_patient_and_back_moves_alerts_and_draws(
    lab_token_api, eligible, other, oncologist_api
):
    post_report(lab_token_api, payload())
    post_report(lab_token_api, payload(**MOVED))
    assert not pending(eligible).exists()
    assert pending(other, "switch_recommended").count() == 1
    assert Draw.objects.get(accession="ACC-000123").state == "collected"
    assert Draw.objects.get(accession="ACC-000200").state == "resulted"
    # Moved back: v3 names her again.
    post_report(lab_token_api, payload(version=3, status="corrected"))
    assert pending(eligible, "switch_recommended").count() == 1
    assert not pending(other).exists()
    assert Draw.objects.get(accession="ACC-000123").state == "resulted"
    assert Draw.objects.get(accession="ACC-000200").state == "collected"
    (theirs,) = Alert.objects.filter(patient=other)
    assert theirs.withdrawn_reason == "evidence_retracted"
    # The alert on the other patient cannot be accepted any more.
    r = ack(oncologist_api, theirs, decision="switch", effective_on="2026-11-24")
    assert r.status_code == 409


def test_letrozole_to_anastrozole_after_the_draw_still_switches_from_anastrozole(
    lab_token_api, eligible, oncologist_api
):
    post_report(lab_token_api, payload())
    r = oncologist_api.post(
        f"/api/v1/patients/{eligible.pk}/regimens/",
        {
            "endocrine_agent": "anastrozole",
            "cdk46_inhibitor": "palbociclib",
            "started_on": "2026-11-10",
            "previous_end_reason": "toxicity",
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    (alert,) = pending(eligible)
    assert alert.kind == "switch_recommended"
    _accept(oncologist_api, alert)
    eligible.refresh_from_db()
    assert eligible.surveillance_state == "post_switch"
    regimens = list(eligible.regimens.order_by("started_on"))
    assert regimens[-2].endocrine_agent == "anastrozole"
    assert regimens[-2].ended_on == dt.date(2026, 11, 24)
    assert regimens[-1].endocrine_agent == "camizestrant"
    assert regimens[-1].cdk46_inhibitor == "palbociclib"


def test_a_regimen_ended_for_progression_after_the_draw_is_the_progression_pathway(
    lab_token_api, eligible, oncologist_api
):
    post_report(lab_token_api, payload())
    switch = Alert.objects.get()
    r = oncologist_api.post(
        f"/api/v1/patients/{eligible.pk}/regimens/",
        {
            "endocrine_agent": "fulvestrant",
            "cdk46_inhibitor": "abemaciclib",
            "started_on": "2026-11-20",
            "previous_end_reason": "progression",
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    switch.refresh_from_db()
    assert (switch.state, switch.withdrawn_reason) == ("withdrawn", "progression")
    (alert,) = pending(eligible)
    assert alert.kind == "esr1_with_progression"
    r = ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24")
    assert r.status_code in (400, 409)
