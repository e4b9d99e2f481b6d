"""rev4: the alert page names "another lab's result on the same blood" (b0cafa1) by comparing
the lab's own collected_on with the snapshot's day, which is the NURSE's recorded collection
day. §6 tolerates a lab's collected_on one day either way (time zones): a second lab's result
on the very same draw, dated the day before, is then not named, and the oncologist decides on
the D538G report alone."""

import re

import pytest
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.services import api_token_issue
from tests.builders import payload, pending, post_report
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _words(response) -> str:
    html = re.sub(r"(?s)<script.*?</script>", " ", response.content.decode())
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_second_lab_same_draw_dated_one_day_earlier_is_named(
    eligible, lab_token_api, oncologist, client
):
    post_report(lab_token_api, payload())  # D538G, draw collected 2 Nov (nurse)
    second_lab = UserFactory(username="lab_second", role=Role.LAB)
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(username=second_lab.username)}")
    # Same accession, same blood; this lab's LIMS dates it 1 Nov (UTC vs clinic): tolerated.
    post_report(
        other,
        payload(
            report_id="SECOND-1",
            assay="Second opinion assay",
            collected_on="2026-11-01",
            variants=[],
            tumor_fraction=0.09,
        ),
    )
    client.force_login(oncologist)
    (alert,) = pending(eligible)
    page = _words(client.get(f"/alerts/{alert.pk}/"))
    assert "SECOND-1" in page, "another lab's informative not-detected on the same draw is unnamed"
