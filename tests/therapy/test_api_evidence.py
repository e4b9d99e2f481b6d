"""What the alert API presents as an alert's evidence (DESIGN §5, §6): each ESR1 call with
its FILTER and whether the rule counted it (a sceptical review found a filtered 5 % Y537S
listed as evidence, without its filter)."""

import pytest

from tests.builders import payload, pending, post_report, variant

pytestmark = pytest.mark.django_db

Y537S_FILTERED = {
    "hgvs_p": "p.Tyr537Ser",
    "hgvs_c": "c.1610A>C",
    "pos": 152098788,
    "ref": "A",
    "alt": "C",
    "vaf_percent": 5,
    "filter": "weak_evidence",
}


def test_a_caller_filtered_esr1_call_is_not_presented_as_alert_evidence(
    eligible, lab_token_api, oncologist_api
):
    """D538G (PASS, 0.42 %) raises the switch alert; Y537S at 5 % is FILTERED by the caller and
    'never used by the rule' (DESIGN §6). GET /alerts/{id}/ lists it among the evidence
    variants at 5 %, with no filter field, so an EHR reading the API sees a 5 % Y537S as the
    evidence for the switch."""
    post_report(lab_token_api, payload(variants=[variant(), variant(**Y537S_FILTERED)]))
    (alert,) = pending(eligible)
    body = oncologist_api.get(f"/api/v1/alerts/{alert.pk}/").json()
    shown = [v for ev in body["evidence"] for v in ev["variants"]]
    filtered = [v for v in shown if v["hgvs_p"] == "p.Tyr537Ser"]
    assert all(v.get("filter") == "weak_evidence" for v in filtered), shown

    counted = {v["hgvs_p"]: v["counted"] for v in shown}
    assert counted == {"p.Asp538Gly": True, "p.Tyr537Ser": False}
    assert [v["filter"] for v in shown if v["hgvs_p"] == "p.Asp538Gly"] == [""]
