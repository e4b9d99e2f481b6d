"""The SERENA-6 rule, serena6-v2: one row for every clause and boundary. No database."""

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
        regimen_id=1,
        line_started_on=dt.date(2025, 11, 2),
        months_on_line=12,
        line_progressed=False,
        latest_scan_on=dt.date(2026, 10, 20),
        latest_scan_outcome="no_progression",
    )
    if "latest_no_progression_scan_on" in changes:
        day = changes.pop("latest_no_progression_scan_on")
        changes.update(latest_scan_on=day, latest_scan_outcome="no_progression" if day else None)
    if (
        "declined" in changes
        and changes["declined"]
        and isinstance(changes["declined"][0][0], str)
        and changes["declined"][0][0].startswith("p.")
    ):
        changes["declined"] = (("switch_recommended", changes["declined"]),)
    return dataclasses.replace(base, **changes)


def call(hgvs_p="", vaf="0.01", **position) -> r.Esr1Call:
    return r.Esr1Call(hgvs_p=hgvs_p, vaf=Dec(vaf), **position)


CASES = [
    # (name, facts, expected kind, expected reasons, needs imaging)
    ("eligible", facts(), r.SWITCH_RECOMMENDED, (r.ELIGIBLE,), False),
    (
        "exactly 6 months",
        facts(line_started_on=dt.date(2026, 5, 2)),
        r.SWITCH_RECOMMENDED,
        (r.ELIGIBLE,),
        False,
    ),
    (
        "one day short of 6 months: early ESR1",
        facts(line_started_on=dt.date(2026, 5, 3)),
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
        facts(line_progressed=True),
        r.ESR1_WITH_PROGRESSION,
        (r.PROGRESSION,),
        False,
    ),
    (
        "progression wins whatever the state",
        facts(line_progressed=True, surveillance_state="progressed"),
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
    (
        "deceased: no alert of any kind, progression included",
        facts(surveillance_state="deceased", line_progressed=True),
        None,
        (r.PATIENT_STATE_ENDED,),
        False,
    ),
    (
        "withdrawn: no alert",
        facts(surveillance_state="withdrawn"),
        None,
        (r.PATIENT_STATE_ENDED,),
        False,
    ),
    (
        "a filtered call is never used by the rule",
        facts(
            esr1_calls=(r.Esr1Call(hgvs_p="p.Asp538Gly", vaf=Dec("0.01"), filter="weak_evidence"),)
        ),
        None,
        (r.NO_QUALIFYING_ESR1,),
        False,
    ),
    (
        "latest scan before collection indeterminate: imaging needed",
        facts(latest_scan_on=dt.date(2026, 10, 25), latest_scan_outcome="indeterminate"),
        r.SWITCH_RECOMMENDED,
        (r.ELIGIBLE, r.CONFIRMATORY_IMAGING),
        True,
    ),
    (
        "no regimen in force at collection",
        facts(endocrine_agent=None, cdk46_inhibitor=None, line_started_on=None, regimen_id=None),
        None,
        (r.NO_REGIMEN_AT_COLLECTION,),
        False,
    ),
    (
        "declined review never suppresses a switch",
        facts(declined=(("review", (("p.Asp538Gly", Dec("0.0042")),)),)),
        r.SWITCH_RECOMMENDED,
        (r.ELIGIBLE,),
        False,
    ),
    (
        "declined review suppresses the same early review",
        facts(
            line_started_on=dt.date(2026, 8, 1),
            declined=(("review", (("p.Asp538Gly", Dec("0.0042")),)),),
        ),
        None,
        (r.DECLINED_PERSISTING,),
        False,
    ),
    (
        "declined switch does not suppress progression",
        facts(line_progressed=True, declined=(("p.Asp538Gly", Dec("0.0042")),)),
        r.ESR1_WITH_PROGRESSION,
        (r.PROGRESSION,),
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
    assert decision.rule_version == "serena6-v2"


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


# --- Facts as of collection: therapy lines ------------------------------------------------

LET = r.RegimenFact(1, "letrozole", "palbociclib", dt.date(2025, 5, 1))


def built(regimens, scans=(), collected=COLLECTED, state="active"):
    return r.switch_facts(
        report_status="final",
        qc_status="pass",
        esr1_calls=(D538G,),
        collected_on=collected,
        surveillance_state=state,
        regimens=regimens,
        scans=scans,
        config=rule_config(),
    )


def ended(regimen, day, reason):
    return dataclasses.replace(regimen, ended_on=day, end_reason=reason)


def test_changing_one_ai_for_another_continues_the_line():
    """Letrozole -> anastrozole for toxicity after collection: judged on letrozole, 18 months
    on the line; a collection after the change keeps the line's start (no clock reset)."""
    ana = r.RegimenFact(2, "anastrozole", "palbociclib", dt.date(2026, 11, 10))
    regimens = [ended(LET, ana.started_on, "toxicity"), ana]
    before = built(regimens)
    assert (before.endocrine_agent, before.line_started_on, before.months_on_line) == (
        "letrozole",
        dt.date(2025, 5, 1),
        18,
    )
    assert r.evaluate_serena6_switch(before, rule_config()).kind == r.SWITCH_RECOMMENDED
    after = built(regimens, collected=dt.date(2026, 11, 20))
    assert (after.endocrine_agent, after.line_started_on) == ("anastrozole", dt.date(2025, 5, 1))
    assert r.evaluate_serena6_switch(after, rule_config()).kind == r.SWITCH_RECOMMENDED


def test_changing_the_cdk46_inhibitor_continues_the_line():
    ribo = r.RegimenFact(2, "letrozole", "ribociclib", dt.date(2026, 9, 1))
    f = built([ended(LET, ribo.started_on, "toxicity"), ribo])
    assert f.line_started_on == dt.date(2025, 5, 1)


def test_progression_scan_after_collection_then_second_line():
    """Collected on the first line; progression scan later; second line started; the report
    arrives last: esr1_with_progression, not nothing."""
    second = r.RegimenFact(2, "fulvestrant", "", dt.date(2026, 11, 20))
    regimens = [ended(LET, second.started_on, "progression"), second]
    f = built(
        regimens, scans=[r.ScanFact(dt.date(2026, 11, 15), "progression")], state="progressed"
    )
    assert f.endocrine_agent == "letrozole"
    assert f.line_progressed
    assert r.evaluate_serena6_switch(f, rule_config()).kind == r.ESR1_WITH_PROGRESSION


def test_a_regimen_ended_for_progression_is_progression_of_its_line():
    second = r.RegimenFact(2, "fulvestrant", "", dt.date(2026, 11, 20))
    f = built([ended(LET, second.started_on, "progression"), second], state="progressed")
    assert f.line_progressed


def test_progression_on_a_later_line_does_not_reach_back():
    cami = r.RegimenFact(2, "camizestrant", "palbociclib", dt.date(2026, 11, 10))
    regimens = [ended(LET, cami.started_on, "ctdna_guided_switch"), cami]
    f = built(regimens, scans=[r.ScanFact(dt.date(2027, 3, 1), "progression")])
    assert not f.line_progressed


def test_a_new_line_after_progression_resets_the_clock():
    second = r.RegimenFact(2, "anastrozole", "ribociclib", dt.date(2026, 9, 1))
    f = built([ended(LET, second.started_on, "progression"), second])
    assert f.line_started_on == dt.date(2026, 9, 1)
    assert f.months_on_line == 2


def test_indeterminate_scan_newer_than_the_clear_one_needs_imaging():
    scans = [
        r.ScanFact(dt.date(2026, 10, 10), "no_progression"),
        r.ScanFact(dt.date(2026, 10, 30), "indeterminate"),
    ]
    decision = r.evaluate_serena6_switch(built([LET], scans=scans), rule_config())
    assert decision.needs_confirmatory_imaging


def test_a_clear_scan_after_collection_does_not_lift_the_imaging_flag():
    scans = [r.ScanFact(dt.date(2026, 11, 10), "no_progression")]
    assert r.evaluate_serena6_switch(
        built([LET], scans=scans), rule_config()
    ).needs_confirmatory_imaging


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (dt.date(2025, 5, 1), dt.date(2025, 11, 1), 6),
        (dt.date(2025, 5, 2), dt.date(2025, 11, 1), 5),
        (dt.date(2025, 8, 31), dt.date(2026, 2, 28), 6),
        (dt.date(2026, 1, 31), dt.date(2026, 2, 27), 0),
    ],
)
def test_whole_months(start, end, months):
    assert r.whole_months(start, end) == months


def test_identify_memo_answers_as_the_allowlist_does():
    """qualifying_calls remembers Allowlist.identify's answers per allow-list: a second
    allow-list (other settings) gets its own answers, never the first one's."""
    allowlist = rule_config().allowlist
    narrow = dataclasses.replace(allowlist, variants=allowlist.variants[:1], any_lbd_missense=False)
    calls = [
        r.Esr1Call(hgvs_p=p, vaf=Dec("0.01"), chrom=c, pos=pos, ref=ref, alt=alt)
        for p, c, pos, ref, alt in [
            ("p.Asp538Gly", "6", 152098791, "A", "G"),
            ("p.Tyr537Ser", "", None, "", ""),
            ("p.Leu536His", "", None, "", ""),
            ("p.Xyz1Abc", "", None, "", ""),
            ("", "6", 152098791, "A", "G"),
        ]
    ]
    for _ in range(2):
        for a in (allowlist, narrow):
            for call in calls:
                assert r._identify(a, call) == a.identify(call)
