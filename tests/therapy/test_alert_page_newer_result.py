"""The alert page while the oncologist decides: a newer result of hers must be visible in
words. The page warns "A newer sample is awaiting its result ... it may change this alert"
while the newer draw is collected; once that result arrives (an informative "ESR1 not
detected", say) the page names it, with its date, in the patient page's words. Found by the
brk3 review (F6)."""

import datetime as dt
import re

import pytest

from tests.builders import later_report, payload, pending, post_report

pytestmark = pytest.mark.django_db


def _words(response) -> str:
    html = response.content.decode()
    html = re.sub(r"(?s)<script.*?</script>", " ", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def alert_then_later(eligible, nurse, lab_token_api, oncologist, client):
    """Her 2 Nov D538G report opened a switch alert; a second draw collected 20 Nov."""
    post_report(lab_token_api, payload())
    later = later_report(eligible, nurse, accession="ACC-000124", day=dt.date(2026, 11, 20))
    client.force_login(oncologist)
    return later


def _alert_page(client, patient) -> str:
    (alert,) = pending(patient)  # still open: the 2 Nov report is still current evidence
    return _words(client.get(f"/alerts/{alert.pk}/"))


def test_a_later_informative_not_detected_result_is_named_on_the_alert_page(
    eligible, alert_then_later, lab_token_api, client
):
    assert "A newer sample is awaiting its result" in _alert_page(client, eligible)
    alert_then_later.update(variants=[], tumor_fraction=0.08)  # informative: 8 %
    post_report(lab_token_api, alert_then_later)
    page = _alert_page(client, eligible)
    assert "A newer sample is awaiting its result" not in page
    assert "A result not in this alert's evidence, on the same blood or later" in page
    assert "collected 20 Nov 2026" in page
    assert "ESR1 not detected. ctDNA tumour fraction 8%: informative." in page


def test_a_later_non_informative_not_detected_result_says_so(
    eligible, alert_then_later, lab_token_api, client
):
    alert_then_later.update(variants=[], tumor_fraction=0.004)
    post_report(lab_token_api, alert_then_later)
    page = _alert_page(client, eligible)
    assert "collected 20 Nov 2026" in page
    assert "ESR1 not detected." in page
    assert "Non-informative: ctDNA tumour fraction 0.4%, below 1%." in page


def test_a_later_failed_result_is_named_as_failed_never_not_detected(
    eligible, alert_then_later, lab_token_api, client
):
    alert_then_later.update(variants=[], qc_status="fail")
    post_report(lab_token_api, alert_then_later)
    page = _alert_page(client, eligible)
    assert "collected 20 Nov 2026" in page
    assert "Failed QC: no ESR1 result." in page
    newer = page[page.index("A result not in this alert's evidence") :][:400]
    assert "ESR1 not detected" not in newer


def test_no_newer_result_no_note(eligible, lab_token_api, oncologist, client):
    post_report(lab_token_api, payload())
    client.force_login(oncologist)
    assert "A result not in this alert's evidence" not in _alert_page(client, eligible)


def test_another_labs_informative_not_detected_on_the_same_blood_is_named(
    eligible, lab_token_api, oncologist, client
):
    """The same draw sent to two labs: one finds D538G, the other (tumour fraction 9 %) finds
    no ESR1. The alert rests on the first; the page where the switch is decided names the
    second (review brk3 F6, second case)."""
    from rest_framework.test import APIClient

    from accounts.roles import Role
    from accounts.services import api_token_issue
    from tests.factories import UserFactory

    post_report(lab_token_api, payload())
    second_lab = UserFactory(username="lab_second", role=Role.LAB)
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(username=second_lab.username)}")
    post_report(
        other,
        payload(
            report_id="SECOND-1", assay="Second opinion assay", variants=[], tumor_fraction=0.09
        ),
    )
    client.force_login(oncologist)
    page = _alert_page(client, eligible)
    assert "A result not in this alert's evidence, on the same blood or later" in page
    assert "SECOND-1 v1 (Second opinion assay), collected 2 Nov 2026" in page
    assert "ESR1 not detected. ctDNA tumour fraction 9%: informative." in page
