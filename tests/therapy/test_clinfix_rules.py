"""therapy.rules.switched_by_hand: which current regimen is the recommended switch (no DB)."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from therapy.rules import RegimenFact, RuleConfig, switched_by_hand

D = dt.date
CONFIG = RuleConfig(
    allowed_ais=frozenset({"letrozole", "anastrozole"}),
    min_therapy_months=6,
    vaf_floor=Decimal(0),
    scan_lookback_days=28,
    rise_factor=Decimal(2),
    allowlist=None,
    switch_target="camizestrant",
)
AI = RegimenFact(1, "letrozole", "palbociclib", D(2025, 11, 2), D(2026, 11, 20), "new_regimen")


def cami(cdk="palbociclib", ended_on=None, agent="camizestrant"):
    return RegimenFact(2, agent, cdk, D(2026, 11, 20), ended_on)


@pytest.mark.parametrize(
    ("regimens", "switched"),
    [
        ((AI, cami()), True),
        ((cami(), AI), True),  # any order
        ((AI,), False),
        ((cami(),), False),  # camizestrant from the start: no switch was made
        ((AI, cami(cdk="ribociclib")), False),  # not "continue <CDK4/6i>"
        ((AI, cami(cdk="")), False),
        ((AI, cami(agent="fulvestrant")), False),
        ((AI, cami(ended_on=D(2026, 11, 23))), False),  # not current
        ((dataclasses.replace(AI, end_reason="progression"), cami()), False),
        ((dataclasses.replace(AI, endocrine_agent="exemestane"), cami()), False),
    ],
)
def test_switched_by_hand(regimens, switched):
    assert (switched_by_hand(regimens, CONFIG) is not None) is switched


def test_no_switch_target_configured_means_no_switch():
    assert switched_by_hand((AI, cami()), dataclasses.replace(CONFIG, switch_target="")) is None
