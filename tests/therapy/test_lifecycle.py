"""The alert lifecycle at its edges (issue 10): one scenario per failure found on serena6-v1.

Each drives the product through the API as a lab, a nurse and an oncologist would; the
patient (`eligible`) is on letrozole + palbociclib since 2 Nov 2025, with a clear scan on
20 Oct 2026 and draw ACC-000123 collected on 2 Nov 2026; today is 24 Nov 2026.
"""

import datetime as dt

import pytest
import time_machine

from notifications.models import Notification
from patients.models import Draw, Patient
from tests.builders import (
    LONDON,
    URL,
    ack,
    collect,
    later_report,
    payload,
    pending,
    post_report,
    variant,
)
from tests.factories import PatientFactory, RegimenFactory, ScanFactory
from therapy.models import Alert
from therapy.sweep import alerts_sweep

pytestmark = pytest.mark.django_db


# 1 -------------------------------------------------------------------------------------------
def test_cancelling_one_of_two_supporting_reports_keeps_the_alert(lab_token_api, eligible, nurse):
    post_report(lab_token_api, payload())
    post_report(lab_token_api, later_report(eligible, nurse))
    alert = Alert.objects.get()
    assert alert.evidence.count() == 2
    post_report(lab_token_api, payload(version=2, status="cancelled", variants=[]))
    alert.refresh_from_db()
    assert alert.state == "open"
    assert [e.report.report_id for e in alert.evidence.select_related("report")] == ["R-ACC-000124"]


# 2 -------------------------------------------------------------------------------------------
def test_a_report_corrected_to_another_patient_leaves_the_first_one(
    lab_token_api, eligible, nurse, oncologist
):
    other = PatientFactory(
        mrn="MRN-0002",
        date_of_birth=dt.date(1970, 1, 1),
        oncologist=oncologist,
        surveillance_start_on=dt.date(2026, 5, 2),
    )
    RegimenFactory(patient=other, started_on=dt.date(2025, 11, 2))
    ScanFactory(patient=other, performed_on=dt.date(2026, 10, 20))
    collect(other, "ACC-000200", dt.date(2026, 11, 2), nurse)
    post_report(lab_token_api, payload())
    moved = payload(
        version=2,
        status="corrected",
        accession="ACC-000200",
        patient={"mrn": "MRN-0002", "date_of_birth": "1970-01-01"},
    )
    answer = post_report(lab_token_api, moved)
    first = Alert.objects.get(patient=eligible)
    assert (first.state, first.withdrawn_reason) == ("withdrawn", "evidence_retracted")
    assert first.withdrawn_detail["reports"][0]["moved_to_other_patient"] is True
    (theirs,) = pending(other)
    assert theirs.kind == "switch_recommended"
    assert [a["id"] for a in answer["alerts"]] == [theirs.pk]
    # Her draw is no longer resulted by a report that is not hers.
    draw = Draw.objects.get(accession="ACC-000123")
    assert draw.state != "resulted"


# 3 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("state", ["deceased", "withdrawn"])
def test_a_patient_who_died_or_withdrew_has_no_pending_alert(
    lab_token_api, eligible, nurse_api, oncologist_api, state
):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    response = nurse_api.patch(
        f"/api/v1/patients/{eligible.pk}/", {"surveillance_state": state}, format="json"
    )
    assert response.status_code == 200, response.json()
    alert.refresh_from_db()
    assert (alert.state, alert.withdrawn_reason) == ("withdrawn", "patient_state")
    refused = ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24")
    assert refused.status_code == 409
    with time_machine.travel(dt.datetime(2026, 12, 10, 12, tzinfo=LONDON)):
        assert alerts_sweep()["escalated"] == 0
    eligible.refresh_from_db()
    assert eligible.surveillance_state == state  # nothing resurrects her
    # A later report raises nothing either.
    assert post_report(lab_token_api, payload(report_id="R-late"))["alerts"] == []
    assert not pending(eligible).exists()


# 4 -------------------------------------------------------------------------------------------
def test_an_indeterminate_confirmatory_scan_does_not_allow_the_switch(
    lab_token_api, eligible, oncologist_api
):
    eligible.scans.all().delete()
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    assert alert.needs_confirmatory_imaging
    scan = {"performed_on": "2026-11-23", "modality": "ct", "outcome": "indeterminate"}
    response = ack(
        oncologist_api, alert, decision="switch", effective_on="2026-11-24", confirmatory_scan=scan
    )
    assert response.status_code == 400
    assert "confirmatory_scan" in response.json()["extra"]["fields"]
    alert.refresh_from_db()
    assert alert.state == "open"


# 5 -------------------------------------------------------------------------------------------
def test_a_reopened_alert_escalates_and_notifies_again(
    lab_token_api, eligible, oncologist_api, oncologist
):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    with time_machine.travel(dt.datetime(2026, 11, 28, 12, tzinfo=LONDON)):
        assert alerts_sweep()["escalated"] == 1  # episode 1, level 1
        deferred = ack(
            oncologist_api,
            alert,
            decision="defer",
            defer_until="2026-12-05",
            reason_code="awaiting_imaging",
        )
        assert deferred.status_code == 200, deferred.json()
    with time_machine.travel(dt.datetime(2026, 12, 5, 8, tzinfo=LONDON)):
        assert alerts_sweep()["reopened"] == 1
    with time_machine.travel(dt.datetime(2026, 12, 8, 9, tzinfo=LONDON)):
        assert alerts_sweep()["escalated"] == 1  # episode 2, level 1: a new SLA
        assert alerts_sweep()["escalated"] == 0  # and only once
    keys = set(
        Notification.objects.filter(recipient=oncologist, channel="in_app").values_list(
            "key", flat=True
        )
    )
    assert {f"alert:{alert.pk}:e1:escalated:1", f"alert:{alert.pk}:e2:escalated:1"} <= keys
    assert f"alert:{alert.pk}:e2:reopened" in keys


# 6a ------------------------------------------------------------------------------------------
def test_progression_and_a_second_line_before_the_report_arrives(
    lab_token_api, eligible, oncologist_api
):
    scan = {"performed_on": "2026-11-10", "modality": "ct", "outcome": "progression"}
    assert (
        oncologist_api.post(
            f"/api/v1/patients/{eligible.pk}/scans/", scan, format="json"
        ).status_code
        == 201
    )
    second = {
        "endocrine_agent": "fulvestrant",
        "started_on": "2026-11-20",
        "previous_end_reason": "progression",
    }
    response = oncologist_api.post(
        f"/api/v1/patients/{eligible.pk}/regimens/", second, format="json"
    )
    assert response.status_code == 201, response.json()
    (alert,) = post_report(lab_token_api, payload())["alerts"]
    assert alert["kind"] == "esr1_with_progression"


# 6b ------------------------------------------------------------------------------------------
def test_an_ai_changed_for_toxicity_after_collection_still_recommends_the_switch(
    lab_token_api, eligible, oncologist_api
):
    change = {
        "endocrine_agent": "anastrozole",
        "cdk46_inhibitor": "palbociclib",
        "started_on": "2026-11-10",
        "previous_end_reason": "toxicity",
    }
    assert (
        oncologist_api.post(
            f"/api/v1/patients/{eligible.pk}/regimens/", change, format="json"
        ).status_code
        == 201
    )
    (alert,) = post_report(lab_token_api, payload())["alerts"]
    assert alert["kind"] == "switch_recommended"
    stored = Alert.objects.get()
    assert stored.facts_snapshot["endocrine_agent"] == "letrozole"  # the one at collection
    assert stored.facts_snapshot["months_on_line"] == 12


# 6c ------------------------------------------------------------------------------------------
def test_changing_the_cdk46_inhibitor_does_not_reset_the_six_month_clock(
    lab_token_api, eligible, oncologist_api, nurse
):
    change = {
        "endocrine_agent": "letrozole",
        "cdk46_inhibitor": "ribociclib",
        "started_on": "2026-10-01",
        "previous_end_reason": "toxicity",
    }
    assert (
        oncologist_api.post(
            f"/api/v1/patients/{eligible.pk}/regimens/", change, format="json"
        ).status_code
        == 201
    )
    body = later_report(eligible, nurse)
    assert [a["kind"] for a in post_report(lab_token_api, body)["alerts"]] == ["switch_recommended"]


# 7 -------------------------------------------------------------------------------------------
def test_a_regimen_ended_for_progression_ends_surveillance(lab_token_api, eligible, oncologist_api):
    second = {
        "endocrine_agent": "fulvestrant",
        "started_on": "2026-11-20",
        "previous_end_reason": "progression",
    }
    assert (
        oncologist_api.post(
            f"/api/v1/patients/{eligible.pk}/regimens/", second, format="json"
        ).status_code
        == 201
    )
    eligible.refresh_from_db()
    assert eligible.surveillance_state == "progressed"
    assert not Draw.objects.filter(patient=eligible, state="scheduled").exists()
    (alert,) = post_report(lab_token_api, payload())["alerts"]
    assert alert["kind"] == "esr1_with_progression"  # collected on the line that progressed


# 8 -------------------------------------------------------------------------------------------
def test_a_declined_review_does_not_suppress_the_switch_once_eligible(
    lab_token_api, oncologist, oncologist_api, nurse
):
    patient = PatientFactory(
        mrn="MRN-0001",
        date_of_birth=dt.date(1961, 4, 2),
        oncologist=oncologist,
        surveillance_start_on=dt.date(2026, 8, 1),
    )
    RegimenFactory(patient=patient, started_on=dt.date(2026, 6, 1))
    ScanFactory(patient=patient, performed_on=dt.date(2026, 10, 20))
    collect(patient, "ACC-000123", dt.date(2026, 11, 2), nurse)
    post_report(lab_token_api, payload())  # 5 months on the line: review
    review = Alert.objects.get(kind="review")
    declined = ack(oncologist_api, review, decision="decline", reason_code="patient_preference")
    assert declined.status_code == 200, declined.json()
    with time_machine.travel(dt.datetime(2026, 12, 10, 12, tzinfo=LONDON), tick=False):
        later = later_report(patient, nurse, day=dt.date(2026, 12, 8))
        later["reported_on"] = "2026-12-10"
        kinds = [a["kind"] for a in post_report(lab_token_api, later)["alerts"]]
    assert kinds == ["switch_recommended"]


# 9 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("decision", "extra"),
    [
        ("switch", {"effective_on": "2026-11-24"}),
        ("decline", {"reason_code": "patient_preference"}),
    ],
)
def test_an_amendment_that_changes_nothing_material_flags_nothing(
    lab_token_api, eligible, oncologist_api, decision, extra
):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    assert ack(oncologist_api, alert, decision=decision, **extra).status_code == 200
    post_report(lab_token_api, payload(version=2, status="amended", reported_on="2026-11-12"))
    alert.refresh_from_db()
    assert alert.flagged_for_review is False
    # A variant gone is material: flagged, and the flag says what changed.
    post_report(lab_token_api, payload(version=3, status="corrected", variants=[]))
    alert.refresh_from_db()
    assert alert.flagged_for_review is True
    assert "no longer reports p.Asp538Gly" in " ".join(alert.flag_detail)


# 10 ------------------------------------------------------------------------------------------
def test_after_an_amendment_progression_withdraws_with_reason_progression(
    lab_token_api, eligible, oncologist_api
):
    post_report(lab_token_api, payload())
    post_report(
        lab_token_api, payload(version=2, status="amended", variants=[variant(vaf_percent=0.6)])
    )
    scan = {"performed_on": "2026-11-22", "modality": "ct", "outcome": "progression"}
    assert (
        oncologist_api.post(
            f"/api/v1/patients/{eligible.pk}/scans/", scan, format="json"
        ).status_code
        == 201
    )
    switch = Alert.objects.get(kind="switch_recommended")
    assert (switch.state, switch.withdrawn_reason) == ("withdrawn", "progression")
    assert pending(eligible, "esr1_with_progression").count() == 1


# 11 ------------------------------------------------------------------------------------------
def test_an_early_first_draw_is_alerted_once_the_patient_becomes_active(
    lab_token_api, oncologist, nurse
):
    from clinic.workflows import draws_plan_and_reconcile

    patient = PatientFactory(
        mrn="MRN-0001",
        date_of_birth=dt.date(1961, 4, 2),
        oncologist=oncologist,
        surveillance_state="awaiting_minimum_duration",
        surveillance_start_on=dt.date(2026, 11, 9),
    )
    RegimenFactory(patient=patient, started_on=dt.date(2026, 5, 9))
    ScanFactory(patient=patient, performed_on=dt.date(2026, 10, 20))
    # The first draw is due on 9 Nov; collected early in its window, on 2 Nov.
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, tzinfo=LONDON), tick=False):
        draws_plan_and_reconcile(patient_ids=[patient.pk])
        draw = Draw.objects.get(patient=patient, state="scheduled")
        from patients import scheduling

        scheduling.draw_collect(
            draw=draw,
            collected_at=dt.datetime(2026, 11, 2, 8, 30, tzinfo=LONDON),
            accession="ACC-000123",
            acting_user=nurse,
        )
    with time_machine.travel(dt.datetime(2026, 11, 5, 9, tzinfo=LONDON), tick=False):
        assert post_report(lab_token_api, payload(reported_on="2026-11-05"))["alerts"] == []
    with time_machine.travel(dt.datetime(2026, 11, 9, 7, tzinfo=LONDON), tick=False):
        draws_plan_and_reconcile()  # the beat's planner makes her active
    patient.refresh_from_db()
    assert patient.surveillance_state == "active"
    (alert,) = pending(patient)
    assert alert.kind == "review"  # 5 months 24 days on the line at collection


# 12: see test_concurrency.py ------------------------------------------------------------------


# 13 ------------------------------------------------------------------------------------------
def test_an_indeterminate_scan_newer_than_the_clear_one_needs_imaging(lab_token_api, eligible):
    ScanFactory(patient=eligible, performed_on=dt.date(2026, 10, 28), outcome="indeterminate")
    (alert,) = post_report(lab_token_api, payload())["alerts"]
    assert alert["needs_confirmatory_imaging"] is True


# 14 ------------------------------------------------------------------------------------------
def test_a_switch_alert_supersedes_the_open_review(lab_token_api, oncologist, nurse):
    patient = PatientFactory(
        mrn="MRN-0001",
        date_of_birth=dt.date(1961, 4, 2),
        oncologist=oncologist,
        surveillance_start_on=dt.date(2026, 8, 1),
    )
    RegimenFactory(patient=patient, started_on=dt.date(2026, 6, 1))
    ScanFactory(patient=patient, performed_on=dt.date(2026, 10, 20))
    collect(patient, "ACC-000123", dt.date(2026, 11, 2), nurse)
    post_report(lab_token_api, payload())
    review = Alert.objects.get(kind="review")
    with time_machine.travel(dt.datetime(2026, 12, 10, 12, tzinfo=LONDON), tick=False):
        later = later_report(patient, nurse, day=dt.date(2026, 12, 8))
        later["reported_on"] = "2026-12-10"
        post_report(lab_token_api, later)
    review.refresh_from_db()
    assert (review.state, review.withdrawn_reason) == ("withdrawn", "superseded")
    assert pending(patient).get().kind == "switch_recommended"


# 15 ------------------------------------------------------------------------------------------
def test_a_switch_cannot_be_dated_before_the_blood_test(lab_token_api, eligible, oncologist_api):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    response = ack(oncologist_api, alert, decision="switch", effective_on="2026-11-01")
    assert response.status_code == 400
    assert "collected 2026-11-02" in response.json()["extra"]["fields"]["effective_on"][0]
    ahead = ack(oncologist_api, alert, decision="switch", effective_on="2026-12-20")
    assert ahead.status_code == 200, ahead.json()  # up to 30 days ahead is allowed


# 16 ------------------------------------------------------------------------------------------
def test_a_late_older_report_does_not_overwrite_what_the_alert_shows(
    lab_token_api, eligible, nurse
):
    collect(eligible, "ACC-000124", dt.date(2026, 11, 20), nurse)
    newer = payload(
        report_id="R-new",
        accession="ACC-000124",
        collected_on="2026-11-20",
        reported_on="2026-11-22",
        variants=[variant(vaf_percent=1.5)],
    )
    post_report(lab_token_api, newer)
    post_report(lab_token_api, payload())  # the 2 Nov report arrives last, 0.42%
    alert = Alert.objects.get()
    assert alert.variants == [["p.Asp538Gly", "0.015"]]
    assert alert.facts_snapshot["collected_on"] == "2026-11-20"


def test_a_switch_from_exemestane_is_refused(lab_token_api, eligible, oncologist_api):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    change = {
        "endocrine_agent": "exemestane",
        "cdk46_inhibitor": "palbociclib",
        "started_on": "2026-11-23",
        "previous_end_reason": "toxicity",
    }
    assert (
        oncologist_api.post(
            f"/api/v1/patients/{eligible.pk}/regimens/", change, format="json"
        ).status_code
        == 201
    )
    response = ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24")
    assert response.status_code == 409
    assert "not an allowed aromatase inhibitor" in response.json()["message"]
    assert Patient.objects.get(pk=eligible.pk).surveillance_state == "active"


def test_the_inbox_shows_months_on_the_line_at_collection(
    client, lab_token_api, eligible, oncologist
):
    post_report(lab_token_api, payload())
    client.force_login(oncologist)
    html = client.get("/alerts/").content.decode()
    assert "(12 months)" in html


def test_a_progression_alert_is_acknowledged_not_switched(lab_token_api, eligible, oncologist_api):
    ScanFactory(patient=eligible, performed_on=dt.date(2026, 11, 1), outcome="progression")
    post_report(lab_token_api, payload())
    alert = Alert.objects.get(kind="esr1_with_progression")
    assert (
        ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24").status_code == 409
    )
    assert ack(oncologist_api, alert, decision="acknowledge").status_code == 400  # note needed
    done = ack(oncologist_api, alert, decision="acknowledge", comment="Second line discussed.")
    assert done.status_code == 200, done.json()
    assert done.json()["alert"]["state"] == "accepted"
    assert not pending(eligible).exists()  # the same evidence does not reopen it


def test_two_decisions_on_one_revision_give_one_200_and_one_409(
    lab_token_api, eligible, oncologist_api
):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    seen = alert.revision
    first = ack(
        oncologist_api,
        alert,
        decision="defer",
        defer_until="2026-12-01",
        reason_code="awaiting_imaging",
        revision=seen,
    )
    second = ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24", revision=seen)
    assert (first.status_code, second.status_code) == (200, 409)
    alert.refresh_from_db()
    assert (alert.state, alert.decision) == ("deferred", "defer")


# Notifications (issue 13) ----------------------------------------------------------------------
def test_notices_name_the_patient_in_app_only_and_collapse_repeats(
    lab_token_api, eligible, nurse, oncologist
):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    opened = Notification.objects.filter(key=f"alert:{alert.pk}:opened", recipient=oncologist)
    in_app, email = opened.get(channel="in_app"), opened.get(channel="email")
    assert eligible.family_name.upper() in in_app.subject
    assert eligible.family_name.upper() not in email.subject + email.body
    assert eligible.mrn not in email.subject + email.body
    assert "switch alert" in email.subject
    post_report(lab_token_api, later_report(eligible, nurse))
    post_report(
        lab_token_api,
        later_report(eligible, nurse, accession="ACC-000125", day=dt.date(2026, 11, 22)),
    )
    evidence = Notification.objects.filter(
        key=f"alert:{alert.pk}:evidence", recipient=oncologist, channel="in_app"
    )
    assert evidence.count() == 1  # two new reports: one notice, updated in place
    assert evidence.get().read_at is None


def test_nurses_are_told_of_a_new_redraw(lab_token_api, eligible, nurse):
    response = lab_token_api.post(
        URL, payload(qc_status="fail", variants=[], tumor_fraction=None), format="json"
    )
    assert response.status_code == 201, response.json()
    redraw = Draw.objects.get(patient=eligible, state="scheduled", is_redraw=True)
    notices = Notification.objects.filter(key=f"draw:{redraw.pk}:redraw", recipient=nurse)
    assert {n.channel for n in notices} == {"in_app", "email"}
    assert eligible.family_name.upper() in notices.get(channel="in_app").subject
    assert eligible.family_name.upper() not in notices.get(channel="email").subject
