"""The SERENA-6 rule, serena6-v1: one row for every clause and boundary. No database."""

import dataclasses
import datetime as dt
from decimal import Decimal as Dec

import pytest

from therapy import rules as r
from therapy.config import rule_config

COLLECTED = dt.date(2026, 11, 2)
D538G = r.Esr1Call(hgvs_p="p.Asp538Gly", vaf=Dec("0.0042"))


def facts(**changes) -> r.SwitchFacts:
    base = r.SwitchFacts(
        report_status="final",
        qc_status="pass",
        esr1_calls=(D538G,),
        collected_on=COLLECTED,
        surveillance_state="active",
        endocrine_agent="letrozole",
        cdk46_inhibitor="palbociclib",
        regimen_started_on=dt.date(2025, 11, 2),
        progression_on_current_regimen=False,
        latest_no_progression_scan_on=dt.date(2026, 10, 20),
    )
    return dataclasses.replace(base, **changes)


def call(hgvs_p="", vaf="0.01", **position) -> r.Esr1Call:
    return r.Esr1Call(hgvs_p=hgvs_p, vaf=Dec(vaf), **position)


CASES = [
    # (name, facts, expected kind, expected reasons, needs imaging)
    ("eligible", facts(), r.SWITCH_RECOMMENDED, (r.ELIGIBLE,), False),
    (
        "exactly 6 months",
        facts(regimen_started_on=dt.date(2026, 5, 2)),
        r.SWITCH_RECOMMENDED,
        (r.ELIGIBLE,),
        False,
    ),
    (
        "one day short of 6 months: early ESR1",
        facts(regimen_started_on=dt.date(2026, 5, 3)),
        r.REVIEW,
        (r.EARLY_ESR1,),
        False,
    ),
    (
        "scan exactly at the look-back limit",
        facts(latest_no_progression_scan_on=dt.date(2026, 10, 5)),
        r.SWITCH_RECOMMENDED,
        (r.ELIGIBLE,),
        False,
    ),
    (
        "scan one day beyond the look-back",
        facts(latest_no_progression_scan_on=dt.date(2026, 10, 4)),
        r.SWITCH_RECOMMENDED,
        (r.ELIGIBLE, r.CONFIRMATORY_IMAGING),
        True,
    ),
    (
        "no scan at all",
        facts(latest_no_progression_scan_on=None),
        r.SWITCH_RECOMMENDED,
        (r.ELIGIBLE, r.CONFIRMATORY_IMAGING),
        True,
    ),
    (
        "progression (even on the collection date)",
        facts(progression_on_current_regimen=True),
        r.ESR1_WITH_PROGRESSION,
        (r.PROGRESSION,),
        False,
    ),
    (
        "progression wins whatever the state",
        facts(progression_on_current_regimen=True, surveillance_state="progressed"),
        r.ESR1_WITH_PROGRESSION,
        (r.PROGRESSION,),
        False,
    ),
    (
        "3-letter notation",
        facts(esr1_calls=(call("p.Tyr537Ser"),)),
        r.SWITCH_RECOMMENDED,
        (r.ELIGIBLE,),
        False,
    ),
    (
        "parenthesised notation",
        facts(esr1_calls=(call("p.(Tyr537Ser)"),)),
        r.SWITCH_RECOMMENDED,
        (r.ELIGIBLE,),
        False,
    ),
    (
        "1-letter notation",
        facts(esr1_calls=(call("Y537S"),)),
        r.SWITCH_RECOMMENDED,
        (r.ELIGIBLE,),
        False,
    ),
    (
        "deletion on the list",
        facts(esr1_calls=(call("p.(Val422del)"),)),
        r.SWITCH_RECOMMENDED,
        (r.ELIGIBLE,),
        False,
    ),
    (
        "genomic position only: Y537C",
        facts(esr1_calls=(call(chrom="6", pos=152098788, ref="A", alt="G"),)),
        r.SWITCH_RECOMMENDED,
        (r.ELIGIBLE,),
        False,
    ),
    (
        "genomic position only with chr prefix: L536R",
        facts(esr1_calls=(call(chrom="chr6", pos=152098785, ref="T", alt="G"),)),
        r.SWITCH_RECOMMENDED,
        (r.ELIGIBLE,),
        False,
    ),
    (
        "genomic position, allele not on the list",
        facts(esr1_calls=(call(chrom="6", pos=152098788, ref="A", alt="T"),)),
        None,
        (r.NO_QUALIFYING_ESR1,),
        False,
    ),
    (
        "ESR1 change not on the list",
        facts(esr1_calls=(call("p.Glu380Lys"),)),
        None,
        (r.NO_QUALIFYING_ESR1,),
        False,
    ),
    ("no ESR1 variant (not detected)", facts(esr1_calls=()), None, (r.NO_QUALIFYING_ESR1,), False),
    ("QC failed", facts(qc_status="fail"), None, (r.NOT_QUALIFYING_REPORT,), False),
    ("cancelled report", facts(report_status="cancelled"), None, (r.NOT_QUALIFYING_REPORT,), False),
    (
        "amended report counts",
        facts(report_status="amended"),
        r.SWITCH_RECOMMENDED,
        (r.ELIGIBLE,),
        False,
    ),
    (
        "exemestane is not an allowed AI",
        facts(endocrine_agent="exemestane"),
        None,
        (r.NOT_ON_ALLOWED_AI_CDK46I,),
        False,
    ),
    (
        "already switched to camizestrant",
        facts(endocrine_agent="camizestrant", surveillance_state="post_switch"),
        None,
        (r.NOT_ACTIVE, r.NOT_ON_ALLOWED_AI_CDK46I),
        False,
    ),
    ("no CDK4/6 inhibitor", facts(cdk46_inhibitor=""), None, (r.NOT_ON_ALLOWED_AI_CDK46I,), False),
    (
        "awaiting the minimum duration: not active",
        facts(surveillance_state="awaiting_minimum_duration"),
        None,
        (r.NOT_ACTIVE,),
        False,
    ),
    (
        "declined, same variant persisting",
        facts(declined=(("p.Asp538Gly", Dec("0.003")),)),
        None,
        (r.DECLINED_PERSISTING,),
        False,
    ),
    (
        "declined, allele fraction doubled",
        facts(declined=(("p.Asp538Gly", Dec("0.0021")),)),
        r.SWITCH_RECOMMENDED,
        (r.ELIGIBLE,),
        False,
    ),
    (
        "declined, allele fraction just under double",
        facts(declined=(("p.Asp538Gly", Dec("0.00211")),)),
        None,
        (r.DECLINED_PERSISTING,),
        False,
    ),
    (
        "declined, a new ESR1 variant",
        facts(esr1_calls=(D538G, call("Y537S")), declined=(("p.Asp538Gly", Dec("0.0042")),)),
        r.SWITCH_RECOMMENDED,
        (r.ELIGIBLE,),
        False,
    ),
]


@pytest.mark.parametrize(
    ("name", "f", "kind", "reasons", "imaging"), CASES, ids=[c[0] for c in CASES]
)
def test_serena6_rule(name, f, kind, reasons, imaging):
    decision = r.evaluate_serena6_switch(f, rule_config())
    assert (decision.kind, decision.reasons, decision.needs_confirmatory_imaging) == (
        kind,
        reasons,
        imaging,
    )
    assert decision.rule_version == "serena6-v1"


def test_allele_fraction_floor_is_inclusive():
    config = dataclasses.replace(rule_config(), vaf_floor=Dec("0.001"))
    at_floor = facts(esr1_calls=(call("D538G", vaf="0.001"),))
    below = facts(esr1_calls=(call("D538G", vaf="0.0009"),))
    assert r.evaluate_serena6_switch(at_floor, config).kind == r.SWITCH_RECOMMENDED
    assert r.evaluate_serena6_switch(below, config).reasons == (r.NO_QUALIFYING_ESR1,)


def test_multiple_esr1_variants_are_all_evidence_strongest_first():
    decision = r.evaluate_serena6_switch(
        facts(
            esr1_calls=(
                call("D538G", vaf="0.004"),
                call("Y537S", vaf="0.02"),
                call("p.Asp538Gly", vaf="0.006"),
            )
        ),
        rule_config(),
    )
    assert decision.variants == (("p.Tyr537Ser", Dec("0.02")), ("p.Asp538Gly", Dec("0.006")))


def test_any_lbd_missense_option():
    config = dataclasses.replace(
        rule_config(), allowlist=dataclasses.replace(rule_config().allowlist, any_lbd_missense=True)
    )
    assert (
        r.evaluate_serena6_switch(facts(esr1_calls=(call("p.Glu380Lys"),)), config).kind
        == r.SWITCH_RECOMMENDED
    )
    assert r.evaluate_serena6_switch(facts(esr1_calls=(call("p.Glu300Lys"),)), config).kind is None
    assert r.evaluate_serena6_switch(facts(esr1_calls=(call("p.Tyr537Ter"),)), config).kind is None
