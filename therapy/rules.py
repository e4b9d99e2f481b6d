"""The SERENA-6 switch rule, version serena6-v1 (DESIGN.md §5). Pure: no ORM, no clock.

SERENA-6 (NCT04964934; Bidard et al., N Engl J Med 2025;393:569-580): patients on an
aromatase inhibitor + CDK4/6 inhibitor for at least 6 months with an ESR1 mutation in ctDNA
and no radiological progression were switched to camizestrant with the same CDK4/6i.

For a report version that is final, amended or corrected with QC pass and at least one
allow-listed ESR1 variant at or above the allele-fraction floor, in this order:
1. progression on the current regimen (a scan at any time up to now) -> esr1_with_progression,
   whatever the surveillance state;
2. otherwise not `active`, or not on an allowed AI with a CDK4/6 inhibitor -> no alert;
3. otherwise less than MIN_THERAPY_MONTHS on the regimen at collection -> review (early ESR1);
4. otherwise switch_recommended; confirmatory imaging is needed when the latest no-progression
   scan is older than SCAN_LOOKBACK_DAYS before collection.
After a decline, the same variants persisting do not re-alert; a new ESR1 variant, or an
allele fraction that rose by at least RISE_FACTOR, does.
The rule only recommends: therapy changes only through a clinician's acknowledgement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from liquidbiopsy.esr1 import Allowlist, Esr1Call
from patients.rules import add_months

RULE_VERSION = "serena6-v1"

SWITCH_RECOMMENDED = "switch_recommended"
REVIEW = "review"
ESR1_WITH_PROGRESSION = "esr1_with_progression"

# Machine-readable reasons.
NOT_QUALIFYING_REPORT = "report_not_final_or_qc_failed"
NO_QUALIFYING_ESR1 = "no_allowlisted_esr1_at_floor"
PROGRESSION = "progression_on_current_regimen"
NOT_ACTIVE = "surveillance_not_active"
NOT_ON_ALLOWED_AI_CDK46I = "not_on_allowed_ai_with_cdk46i"
EARLY_ESR1 = "less_than_minimum_time_on_therapy"
CONFIRMATORY_IMAGING = "no_progression_scan_within_lookback"
DECLINED_PERSISTING = "declined_variants_persisting"
ELIGIBLE = "eligible_for_switch"


@dataclass(frozen=True)
class RuleConfig:
    allowed_ais: frozenset[str]
    min_therapy_months: int
    vaf_floor: Decimal
    scan_lookback_days: int
    rise_factor: Decimal
    allowlist: Allowlist


@dataclass(frozen=True)
class SwitchFacts:
    report_status: str
    qc_status: str
    esr1_calls: tuple[Esr1Call, ...]
    collected_on: dt.date
    surveillance_state: str
    endocrine_agent: str | None
    cdk46_inhibitor: str | None
    regimen_started_on: dt.date | None
    progression_on_current_regimen: bool
    latest_no_progression_scan_on: dt.date | None
    # The variants (protein -> allele fraction) of the patient's latest declined alert.
    declined: tuple[tuple[str, Decimal], ...] = ()


@dataclass(frozen=True)
class SwitchDecision:
    kind: str | None
    reasons: tuple[str, ...]
    rule_version: str = RULE_VERSION
    needs_confirmatory_imaging: bool = False
    # Qualifying variants as (canonical protein, allele fraction), strongest first.
    variants: tuple[tuple[str, Decimal], ...] = field(default=())


def qualifying_variants(facts: SwitchFacts, config: RuleConfig) -> tuple[tuple[str, Decimal], ...]:
    best: dict[str, Decimal] = {}
    for call in facts.esr1_calls:
        protein = config.allowlist.identify(call)
        if protein is not None and call.vaf >= config.vaf_floor and call.vaf > 0:
            best[protein] = max(call.vaf, best.get(protein, Decimal(0)))
    return tuple(sorted(best.items(), key=lambda item: (-item[1], item[0])))


def evaluate_serena6_switch(facts: SwitchFacts, config: RuleConfig) -> SwitchDecision:
    """Decide whether to alert, and which kind (DESIGN.md §5, serena6-v1)."""
    if facts.report_status not in ("final", "amended", "corrected") or facts.qc_status != "pass":
        return SwitchDecision(kind=None, reasons=(NOT_QUALIFYING_REPORT,))
    variants = qualifying_variants(facts, config)
    if not variants:
        return SwitchDecision(kind=None, reasons=(NO_QUALIFYING_ESR1,))
    if facts.progression_on_current_regimen:
        return SwitchDecision(kind=ESR1_WITH_PROGRESSION, reasons=(PROGRESSION,), variants=variants)

    reasons = []
    if facts.surveillance_state != "active":
        reasons.append(NOT_ACTIVE)
    if facts.endocrine_agent not in config.allowed_ais or not facts.cdk46_inhibitor:
        reasons.append(NOT_ON_ALLOWED_AI_CDK46I)
    if reasons:
        return SwitchDecision(kind=None, reasons=tuple(reasons), variants=variants)

    declined = dict(facts.declined)
    if declined:
        new = [p for p, _ in variants if p not in declined]
        risen = [
            p for p, vaf in variants if p in declined and vaf >= declined[p] * config.rise_factor
        ]
        if not new and not risen:
            return SwitchDecision(kind=None, reasons=(DECLINED_PERSISTING,), variants=variants)

    six_months_on = add_months(facts.regimen_started_on, config.min_therapy_months)
    if facts.collected_on < six_months_on:
        return SwitchDecision(kind=REVIEW, reasons=(EARLY_ESR1,), variants=variants)

    limit = facts.collected_on - dt.timedelta(days=config.scan_lookback_days)
    needs_imaging = (
        facts.latest_no_progression_scan_on is None or facts.latest_no_progression_scan_on < limit
    )
    return SwitchDecision(
        kind=SWITCH_RECOMMENDED,
        reasons=(ELIGIBLE, CONFIRMATORY_IMAGING) if needs_imaging else (ELIGIBLE,),
        needs_confirmatory_imaging=needs_imaging,
        variants=variants,
    )
