"""The review note on the alert page (clinic.alerts.alert_review_record): the API refuses a NUL
and a note over 2000 characters (400, saying why); the page passes the raw POST to
therapy.decisions.alert_review, which neither refuses a NUL (PostgreSQL cannot store one: a
500) nor says a long note was cut (note[:2000]: the end of what she wrote is silently lost)."""

import pytest

from tests.builders import flagged_switch

pytestmark = pytest.mark.django_db


def test_a_nul_in_the_page_note_is_refused_not_a_server_error(
    eligible, lab_token_api, oncologist_api, oncologist, client
):
    alert = flagged_switch(eligible, lab_token_api, oncologist_api)
    client.raise_request_exception = False
    client.force_login(oncologist)
    answer = client.post(
        f"/alerts/{alert.pk}/review/",
        {"review_note": "Seen\x00 switch stands.", "revision": alert.revision},
    )
    assert answer.status_code == 400, answer.status_code
    alert.refresh_from_db()
    assert alert.flagged_for_review


def test_a_page_note_over_2000_characters_is_refused_not_cut(
    eligible, lab_token_api, oncologist_api, oncologist, client
):
    alert = flagged_switch(eligible, lab_token_api, oncologist_api)
    client.force_login(oncologist)
    note = "x" * 2000 + " END"
    answer = client.post(
        f"/alerts/{alert.pk}/review/", {"review_note": note, "revision": alert.revision}
    )
    alert.refresh_from_db()
    assert alert.review_note in ("", note), (answer.status_code, len(alert.review_note))
