"""One definition of a therapy line (DESIGN §5: "changing one allowed AI for another ...
continues the line"): the scan service that ends surveillance on progression and the switch
rule agree on which line is in force, so a patient is never `progressed` by a line the rule
does not see (and left with ESR1 in the blood and no alert of any kind)."""

import datetime as dt

import pytest

from tests.builders import collect, payload, post_report
from tests.factories import PatientFactory, RegimenFactory, ScanFactory
from therapy.models import Alert, SwitchEvaluation

pytestmark = pytest.mark.django_db


def test_a_scan_before_an_exemestane_line_is_judged_alike_by_the_scan_and_the_rule(
    oncologist, nurse, lab_token_api, oncologist_api
):
    p = PatientFactory(
        mrn="MRN-0001", date_of_birth=dt.date(1961, 4, 2), oncologist=oncologist,
        surveillance_start_on=dt.date(2026, 5, 2),
    )  # fmt: skip
    RegimenFactory(
        patient=p, endocrine_agent="letrozole", started_on=dt.date(2025, 11, 2),
        ended_on=dt.date(2026, 9, 1), end_reason="toxicity",
    )  # fmt: skip
    # Exemestane is an AI but not an allowed one (SWITCH_ALLOWED_AIS): a new line from 1 Sep.
    RegimenFactory(patient=p, endocrine_agent="exemestane", started_on=dt.date(2026, 9, 1))
    ScanFactory(patient=p, performed_on=dt.date(2026, 10, 20))
    collect(p, "ACC-000123", dt.date(2026, 11, 2), nurse)
    post_report(lab_token_api, payload())
    answer = oncologist_api.post(
        f"/api/v1/patients/{p.pk}/scans/",
        {"performed_on": "2026-08-15", "modality": "ct", "outcome": "progression"},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    p.refresh_from_db()
    evaluation = SwitchEvaluation.objects.filter(report__patient=p).order_by("-id").first()
    # The rule: the line at collection (exemestane, from 1 Sep) has not progressed.
    assert evaluation.kind != "esr1_with_progression"
    # The scan service: the same line, so a scan of 15 Aug does not end surveillance.
    assert p.surveillance_state == "active", p.surveillance_state
    assert not Alert.objects.filter(patient=p, kind="esr1_with_progression").exists()
