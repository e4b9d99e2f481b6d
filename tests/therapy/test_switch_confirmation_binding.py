"""The alert page's two-step switch: "a switch is confirmed against a summary"
(clinic/alerts.py). What is recorded must be what the oncologist confirmed: if her regimen
changed between the summary and the confirmation, nothing is recorded and the panel is shown
again with the new summary. Found by the brk3 review (F5)."""

import datetime as dt
import html
import re
from types import SimpleNamespace

import pytest

from patients.models import Regimen
from tests.builders import payload, pending, post_report
from therapy.models import Alert
from therapy.presentation import switch_summary_changed

pytestmark = pytest.mark.django_db


def _decide(client, alert, **fields):
    return client.post(f"/alerts/{alert.pk}/decide/", {"revision": alert.revision, **fields})


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _panel(page: str) -> str:
    return page[page.index('class="card confirm-panel"') :][:2500]


def _hidden_fields(panel: str) -> dict:
    """The confirmation form's fields, as the browser posts them."""
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', panel)
    return {name: html.unescape(value) for name, value in found}


def test_a_regimen_changed_between_the_summary_and_the_confirmation_is_not_switched_unseen(
    eligible, lab_token_api, oncologist, nurse_api, client
):
    post_report(lab_token_api, payload())
    (alert,) = pending(eligible)
    client.force_login(oncologist)
    summary = _decide(client, alert, decision="switch", effective_on="2026-11-24")
    assert summary.status_code == 200
    panel = _panel(_text(summary))
    # What she is asked to confirm: letrozole ends, palbociclib continues.
    assert "Letrozole" in panel, panel
    assert "Palbociclib" in panel, panel
    confirm_fields = {k: v for k, v in _hidden_fields(panel).items() if k != "csrfmiddlewaretoken"}
    # Meanwhile a nurse records a change of CDK4/6 inhibitor and AI (toxicity): same line.
    answer = nurse_api.post(
        f"/api/v1/patients/{eligible.pk}/regimens/",
        {
            "endocrine_agent": "anastrozole",
            "cdk46_inhibitor": "ribociclib",
            "started_on": "2026-11-24",
            "previous_end_reason": "toxicity",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    # She presses "Confirm the switch": the form as the panel drew it.
    confirmed = client.post(f"/alerts/{alert.pk}/decide/", confirm_fields)
    alert.refresh_from_db()
    assert alert.state == Alert.State.OPEN
    assert not Regimen.objects.filter(patient=eligible, endocrine_agent="camizestrant").exists()
    # Shown again, with the new summary and what changed.
    assert confirmed.status_code == 409
    page = _text(confirmed)
    assert "Her regimen changed since you opened this summary" in page
    panel = _panel(page)
    assert "Anastrozole" in panel, panel
    assert "Ribociclib" in panel, panel
    # Confirming the new summary records it.
    again = client.post(
        f"/alerts/{alert.pk}/decide/",
        {k: v for k, v in _hidden_fields(panel).items() if k != "csrfmiddlewaretoken"},
    )
    assert again.status_code == 302
    started = Regimen.objects.get(patient=eligible, endocrine_agent="camizestrant")
    assert started.cdk46_inhibitor == "ribociclib"


def test_a_confirmation_without_the_summary_s_regimen_is_not_recorded(
    eligible, lab_token_api, oncologist, client
):
    """A confirmation that does not say which regimen it was shown (an old page, a
    hand-made post) shows the summary instead of switching."""
    post_report(lab_token_api, payload())
    (alert,) = pending(eligible)
    client.force_login(oncologist)
    answer = _decide(client, alert, decision="switch", effective_on="2026-11-24", confirmed="on")
    alert.refresh_from_db()
    assert alert.state == Alert.State.OPEN
    assert answer.status_code == 409
    assert "Letrozole" in _panel(_text(answer))


def test_the_confirmed_summary_records_the_switch(eligible, lab_token_api, oncologist, client):
    post_report(lab_token_api, payload())
    (alert,) = pending(eligible)
    client.force_login(oncologist)
    summary = _decide(client, alert, decision="switch", effective_on="2026-11-24")
    fields = _hidden_fields(_panel(_text(summary)))
    fields.pop("csrfmiddlewaretoken", None)
    assert client.post(f"/alerts/{alert.pk}/decide/", fields).status_code == 302
    alert.refresh_from_db()
    assert alert.state == Alert.State.ACCEPTED
    started = Regimen.objects.get(patient=eligible, endocrine_agent="camizestrant")
    assert started.cdk46_inhibitor == "palbociclib"


def _regimen(pk, agent, cdk, started, ended=None):
    return SimpleNamespace(
        pk=pk,
        endocrine_agent=agent,
        cdk46_inhibitor=cdk,
        lhrh_agonist="",
        started_on=started,
        ended_on=ended,
    )


LETROZOLE = _regimen(1, "letrozole", "palbociclib", dt.date(2025, 11, 2))
SAID = "End Letrozole; start Camizestrant; continue Palbociclib from 24 Nov 2026."


@pytest.mark.parametrize(
    ("was", "now", "said", "expected"),
    [
        (LETROZOLE, LETROZOLE, SAID, ""),
        (
            _regimen(1, "letrozole", "palbociclib", dt.date(2025, 11, 2), dt.date(2026, 11, 24)),
            _regimen(2, "anastrozole", "ribociclib", dt.date(2026, 11, 24)),
            SAID,
            "Her regimen changed since you opened this summary: it was letrozole + palbociclib "
            "from 2 Nov 2025 to 24 Nov 2026; it is now anastrozole + ribociclib since "
            "24 Nov 2026. Nothing was recorded",
        ),
        (LETROZOLE, LETROZOLE, "End something else.", "The summary changed since you opened it"),
        (None, LETROZOLE, "", "This confirmation did not say which summary it confirmed"),
    ],
)
def test_what_changed_since_the_summary_is_said_in_words(was, now, said, expected):
    text = switch_summary_changed(was=was, now=now, said=said, now_says=SAID, drug_label=str)
    assert text.startswith(expected) if expected else text == ""


def test_the_service_refuses_a_switch_from_a_regimen_other_than_the_one_confirmed(
    eligible, lab_token_api, oncologist
):
    """The same check under her row lock (therapy.decisions): a regimen recorded in the very
    instant between the page's check and the switch refuses it; nothing is recorded."""
    from core.exceptions import Conflict
    from therapy.decisions import alert_acknowledge

    post_report(lab_token_api, payload())
    (alert,) = pending(eligible)
    shown = Regimen.objects.get(patient=eligible, ended_on__isnull=True)
    Regimen.objects.filter(pk=shown.pk).update(
        ended_on=dt.date(2026, 11, 23), end_reason="toxicity"
    )
    Regimen.objects.create(
        patient=eligible,
        endocrine_agent="anastrozole",
        cdk46_inhibitor="ribociclib",
        started_on=dt.date(2026, 11, 23),
    )
    with pytest.raises(Conflict, match="Her regimen changed"):
        alert_acknowledge(
            alert=alert,
            acting_user=oncologist,
            decision="switch",
            effective_on=dt.date(2026, 11, 24),
            expected_regimen_id=shown.pk,
        )
    alert.refresh_from_db()
    assert alert.state == Alert.State.OPEN
    assert not Regimen.objects.filter(patient=eligible, endocrine_agent="camizestrant").exists()
