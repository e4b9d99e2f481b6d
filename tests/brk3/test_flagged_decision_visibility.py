"""A decision whose evidence was then corrected away (DESIGN §5: "An alert already acted on
(accepted or declined) is flagged for review ... when its evidence disappeared or changed
materially"). The product flags it and sends one notice, but a flag has no review step: it
never escalates and leaves the inbox with the rest of "Decided or withdrawn in the last 30
days". A switch made on another woman's blood test must stay in front of the oncologist until
someone reviews it. Found by the brk3 review (REPORT.md F9)."""

import datetime as dt

import pytest
import time_machine

from tests.builders import LONDON, ack, collect, payload, pending, post_report
from tests.factories import PatientFactory, RegimenFactory
from therapy.models import Alert

pytestmark = pytest.mark.django_db


def test_a_switch_whose_evidence_moved_to_another_patient_stays_in_the_inbox(
    her, scan, drawn, nurse, oncologist, lab_token_api, oncologist_api, client
):
    scan(her, dt.date(2026, 10, 20), "no_progression")
    drawn(her)
    post_report(lab_token_api, payload())
    (alert,) = pending(her)
    assert (
        ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24").status_code == 200
    )
    other = PatientFactory(mrn="MRN-0002", date_of_birth=dt.date(1970, 1, 1), oncologist=oncologist)
    RegimenFactory(patient=other, started_on=dt.date(2025, 11, 2))
    collect(other, "ACC-000200", dt.date(2026, 11, 2), nurse)
    post_report(
        lab_token_api,
        payload(
            version=2,
            status="corrected",
            accession="ACC-000200",
            patient={"mrn": "MRN-0002", "date_of_birth": "1970-01-01"},
        ),
    )
    alert.refresh_from_db()
    assert alert.state == Alert.State.ACCEPTED
    assert alert.flagged_for_review is True
    client.force_login(oncologist)
    link = f"/alerts/{alert.pk}/"
    assert link in client.get("/alerts/").content.decode()  # flagged: shown today
    with time_machine.travel(dt.datetime(2026, 12, 26, 9, tzinfo=LONDON), tick=False):
        client.force_login(oncologist)
        page = client.get("/alerts/").content.decode()
    assert "Needs a decision" in page  # the inbox itself, not a login page
    assert link in page, "a flagged, never-reviewed switch left the inbox after 30 days"


def _flagged_switch(her, scan, drawn, nurse, oncologist, lab_token_api, oncologist_api):
    scan(her, dt.date(2026, 10, 20), "no_progression")
    drawn(her)
    post_report(lab_token_api, payload())
    (alert,) = pending(her)
    ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24")
    post_report(lab_token_api, payload(version=2, status="cancelled", variants=[]))
    alert.refresh_from_db()
    assert alert.flagged_for_review is True
    return alert


def test_a_review_with_a_note_clears_the_flag_and_stays_on_the_alert(
    her, scan, drawn, nurse, oncologist, lab_token_api, oncologist_api, client
):
    from audit.models import AuditEvent

    alert = _flagged_switch(her, scan, drawn, nurse, oncologist, lab_token_api, oncologist_api)
    client.force_login(oncologist)
    url = f"/alerts/{alert.pk}/review/"
    blank = client.post(url, {"revision": alert.revision, "review_note": "  "})
    assert blank.status_code == 400
    assert "a note is required" in blank.content.decode()
    alert.refresh_from_db()
    assert alert.flagged_for_review is True
    stale = client.post(url, {"revision": alert.revision - 1, "review_note": "Seen."})
    assert stale.status_code == 409
    assert "Seen." in stale.content.decode()  # what she typed is kept
    note = "Report cancelled by the lab; camizestrant continued after discussion with her."
    done = client.post(url, {"revision": alert.revision, "review_note": note})
    assert done.status_code == 302
    alert.refresh_from_db()
    assert alert.flagged_for_review is False
    assert alert.state == Alert.State.ACCEPTED  # the decision and her therapy stand
    assert (alert.reviewed_by, alert.review_note) == (oncologist, note)
    event = AuditEvent.objects.get(action="alert.review")
    assert event.detail["note"] == note
    assert event.patient_id == her.pk
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert note in page
    assert "Record review" not in page
    again = client.post(url, {"revision": alert.revision, "review_note": "twice"})
    assert again.status_code == 409
    with time_machine.travel(dt.datetime(2026, 12, 26, 9, tzinfo=LONDON), tick=False):
        client.force_login(oncologist)
        inbox = client.get("/alerts/").content.decode()
    assert f"/alerts/{alert.pk}/" not in inbox  # reviewed: it ages out with the rest


def test_only_an_oncologist_records_a_review(
    her, scan, drawn, nurse, oncologist, lab_token_api, oncologist_api, client
):
    alert = _flagged_switch(her, scan, drawn, nurse, oncologist, lab_token_api, oncologist_api)
    client.force_login(nurse)
    answer = client.post(f"/alerts/{alert.pk}/review/", {"review_note": "x"})
    assert answer.status_code == 403
    alert.refresh_from_db()
    assert alert.flagged_for_review is True
