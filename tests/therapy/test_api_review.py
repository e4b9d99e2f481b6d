"""POST /api/v1/alerts/{id}/review/: the review of a flagged decision over the API, as on the
alert page (therapy.decisions.alert_review)."""

import pytest

from tests.builders import flagged_switch

pytestmark = pytest.mark.django_db


def test_a_review_over_the_api_clears_the_flag_and_answers_the_alert(
    eligible, lab_token_api, oncologist_api, oncologist
):
    alert = flagged_switch(eligible, lab_token_api, oncologist_api)
    url = f"/api/v1/alerts/{alert.pk}/review/"
    blank = oncologist_api.post(url, {"note": " "}, format="json")
    assert blank.status_code == 400
    assert "note" in blank.json()["extra"]["fields"]
    stale = oncologist_api.post(url, {"note": "x", "revision": alert.revision - 1}, format="json")
    assert stale.status_code == 409
    done = oncologist_api.post(url, {"note": "Cancelled; switch stands."}, format="json")
    assert done.status_code == 200, done.json()
    body = done.json()
    assert body["flagged_for_review"] is False
    assert (body["reviewed_by"], body["review_note"]) == (
        oncologist.username,
        "Cancelled; switch stands.",
    )
    assert body["state"] == "accepted"
    again = oncologist_api.post(url, {"note": "twice"}, format="json")
    assert again.status_code == 409


def test_only_an_oncologist_reviews(eligible, lab_token_api, oncologist_api, nurse_api):
    alert = flagged_switch(eligible, lab_token_api, oncologist_api)
    answer = nurse_api.post(f"/api/v1/alerts/{alert.pk}/review/", {"note": "x"}, format="json")
    assert answer.status_code == 403
