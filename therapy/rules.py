"""The SERENA-6 switch rule, version serena6-v2 (DESIGN.md §5). Pure: no ORM, no clock.

SERENA-6 (NCT04964934; Bidard et al., N Engl J Med 2025;393:569-580): patients on an
aromatase inhibitor + CDK4/6 inhibitor for at least 6 months with an ESR1 mutation in ctDNA
and no radiological progression were switched to camizestrant with the same CDK4/6i.

A report version is judged by the facts in force on its **collection date**: the regimen in
force that day and its therapy line (continuous allowed-AI + CDK4/6i treatment; changing one
allowed AI for another, or one CDK4/6i for another, for a reason other than progression
continues the line). For a report that is final, amended or corrected with QC pass and at
least one allow-listed, unfiltered ESR1 variant at or above the floor, in this order:
0. the patient is deceased or withdrawn -> no alert of any kind;
1. the line in force at collection has progressed (a progression scan dated within the line,
   recorded at any time, or a regimen of the line ended for progression) ->
   esr1_with_progression (the standard progression pathway);
2. otherwise the patient is not `active` now, or the regimen at collection is not an allowed
   AI with a CDK4/6 inhibitor -> no alert;
3. otherwise less than MIN_THERAPY_MONTHS on the line at collection -> review (early ESR1);
4. otherwise switch_recommended; confirmatory imaging is needed unless the most recent scan on
   or before collection is no_progression and at most SCAN_LOOKBACK_DAYS old.
After a decline of a kind, the same variants persisting do not re-alert that kind; a new ESR1
variant, or an allele fraction risen by at least RISE_FACTOR, does. A declined review never
suppresses a switch_recommended. The rule only recommends: therapy changes only through a
clinician's acknowledgement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from liquidbiopsy.esr1 import Allowlist, Esr1Call
from patients.rules import add_months

__all__ = ["Allowlist", "Esr1Call"]  # re-exported: the rule's inputs

RULE_VERSION = "serena6-v2"

SWITCH_RECOMMENDED = "switch_recommended"
REVIEW = "review"
ESR1_WITH_PROGRESSION = "esr1_with_progression"
KINDS = (ESR1_WITH_PROGRESSION, SWITCH_RECOMMENDED, REVIEW)

# Machine-readable reasons.
PATIENT_STATE_ENDED = "patient_deceased_or_withdrawn"
NOT_QUALIFYING_REPORT = "report_not_final_or_qc_failed"
NO_QUALIFYING_ESR1 = "no_allowlisted_esr1_at_floor"
PROGRESSION = "progression_of_line_at_collection"
NOT_ACTIVE = "surveillance_not_active"
NO_REGIMEN_AT_COLLECTION = "no_regimen_at_collection"
NOT_ON_ALLOWED_AI_CDK46I = "not_on_allowed_ai_with_cdk46i_at_collection"
EARLY_ESR1 = "less_than_minimum_time_on_line"
CONFIRMATORY_IMAGING = "no_recent_no_progression_scan_before_collection"
DECLINED_PERSISTING = "declined_variants_persisting"
ELIGIBLE = "eligible_for_switch"

ENDED_STATES = frozenset({"deceased", "withdrawn"})
FILTER_PASS = frozenset({"", ".", "PASS"})


@dataclass(frozen=True)
class RuleConfig:
    allowed_ais: frozenset[str]
    min_therapy_months: int
    vaf_floor: Decimal
    scan_lookback_days: int
    rise_factor: Decimal
    allowlist: Allowlist
    switch_target: str = ""  # the formulary's switch target (camizestrant)


# --- Therapy lines (facts as of collection) --------------------------------------------------


@dataclass(frozen=True)
class RegimenFact:
    id: int
    endocrine_agent: str
    cdk46_inhibitor: str
    started_on: dt.date
    ended_on: dt.date | None = None
    end_reason: str = ""


@dataclass(frozen=True)
class ScanFact:
    performed_on: dt.date
    outcome: str  # no_progression | progression | indeterminate


@dataclass(frozen=True)
class Line:
    """A run of regimens that continue one another (DESIGN §5 "therapy line")."""

    regimens: tuple[RegimenFact, ...]

    @property
    def started_on(self) -> dt.date:
        return self.regimens[0].started_on

    @property
    def ended_on(self) -> dt.date | None:
        return self.regimens[-1].ended_on

    @property
    def ended_for_progression(self) -> bool:
        return "progression" in [r.end_reason for r in self.regimens]


def _is_ai_cdk46(regimen: RegimenFact, allowed_ais: frozenset[str]) -> bool:
    return regimen.endocrine_agent in allowed_ais and bool(regimen.cdk46_inhibitor)


def lines_of(regimens: Sequence[RegimenFact], allowed_ais: frozenset[str]) -> list[Line]:
    """Group regimens (any order) into lines: an allowed-AI + CDK4/6i regimen continues the
    previous one when that was allowed-AI + CDK4/6i too and did not end for progression."""
    ordered = sorted(regimens, key=lambda r: (r.started_on, r.id))
    lines: list[list[RegimenFact]] = []
    for regimen in ordered:
        previous = lines[-1][-1] if lines else None
        if (
            previous is not None
            and _is_ai_cdk46(previous, allowed_ais)
            and _is_ai_cdk46(regimen, allowed_ais)
            and previous.end_reason != "progression"
        ):
            lines[-1].append(regimen)
        else:
            lines.append([regimen])
    return [Line(tuple(line)) for line in lines]


def switched_by_hand(regimens: Sequence[RegimenFact], config: RuleConfig) -> RegimenFact | None:
    """The current regimen when it is the switch an alert recommends, recorded as a regimen
    (the regimen form or API) rather than by accepting the alert: the switch target with the
    same CDK4/6 inhibitor as the allowed-AI regimen it replaced, which did not end for
    progression (DESIGN §5: "switching <AI> to camizestrant, continue <CDK4/6i>").

    Such a patient is switched, as an accepted switch leaves her: post-switch monitoring."""
    if not config.switch_target or len(regimens) < 2:
        return None
    ordered = sorted(regimens, key=lambda r: (r.started_on, r.id))
    current, before = ordered[-1], ordered[-2]
    if (
        current.ended_on is None
        and current.endocrine_agent == config.switch_target
        and current.cdk46_inhibitor
        and _is_ai_cdk46(before, config.allowed_ais)
        and before.cdk46_inhibitor == current.cdk46_inhibitor
        and before.end_reason != "progression"
    ):
        return current
    return None


def regimen_on(regimens: Sequence[RegimenFact], day: dt.date) -> RegimenFact | None:
    """The regimen in force on `day`: the latest started on or before it and not ended before
    it (a regimen started on `day` is in force that day)."""
    candidates = [
        r for r in regimens if r.started_on <= day and (r.ended_on is None or r.ended_on >= day)
    ]
    return max(candidates, key=lambda r: (r.started_on, r.id), default=None)


def line_progressed(line: Line, scans: Sequence[ScanFact]) -> bool:
    """A progression scan dated within the line (start to end, open-ended if current), or a
    regimen of the line ended for progression."""
    if line.ended_for_progression:
        return True
    end = line.ended_on
    return any(
        s.outcome == "progression"
        and s.performed_on >= line.started_on
        and (end is None or s.performed_on <= end)
        for s in scans
    )


def whole_months(start: dt.date, end: dt.date) -> int:
    """Completed calendar months from `start` to `end` (negative if end is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if months > 0 and add_months(start, months) > end:
        months -= 1
    return months


# --- The facts of one report version, and the rule ------------------------------------------


@dataclass(frozen=True)
class SwitchFacts:
    """Everything the rule reads about one report version, as of its collection."""

    report_status: str
    qc_status: str
    esr1_calls: tuple[Esr1Call, ...]
    collected_on: dt.date
    surveillance_state: str  # now: clause 0 and 2 are about the patient today
    regimen_id: int | None
    endocrine_agent: str | None  # the regimen in force on the collection date
    cdk46_inhibitor: str | None
    line_started_on: dt.date | None
    months_on_line: int | None
    line_progressed: bool
    latest_scan_on: dt.date | None  # the most recent scan on or before collection
    latest_scan_outcome: str | None
    # (kind, ((protein, allele fraction), ...)) of the latest declined alert of each kind.
    declined: tuple[tuple[str, tuple[tuple[str, Decimal], ...]], ...] = ()


def switch_facts(
    *,
    report_status: str,
    qc_status: str,
    esr1_calls: tuple[Esr1Call, ...],
    collected_on: dt.date,
    surveillance_state: str,
    regimens: Sequence[RegimenFact],
    scans: Sequence[ScanFact],
    declined: tuple = (),
    config: RuleConfig,
) -> SwitchFacts:
    """Build the facts as of collection from the patient's whole history (pure)."""
    regimen = regimen_on(regimens, collected_on)
    lines = lines_of(regimens, config.allowed_ais)
    line = None
    if regimen is not None:
        line = next(ln for ln in lines if regimen in ln.regimens)
    # On a change day two lines were in force (the blood is usually drawn before the new
    # line's first dose): if the one ending that day progressed, the result is ESR1 with
    # progression (clause 1), never "no alert" because the second line had started.
    ending_progressed = any(
        ln is not line
        and ln.ended_on == collected_on
        and ln.started_on <= collected_on
        and line_progressed(ln, scans)
        for ln in lines
    )
    before = [s for s in scans if s.performed_on <= collected_on]
    latest = max(before, key=lambda s: s.performed_on, default=None)
    # Several scans on one day: the worst outcome counts (progression > indeterminate > clear).
    if latest is not None:
        same_day = {s.outcome for s in before if s.performed_on == latest.performed_on}
        outcome = next(
            o
            for o in ("progression", "indeterminate", "no_progression", latest.outcome)
            if o in same_day or o == latest.outcome
        )
    else:
        outcome = None
    return SwitchFacts(
        report_status=report_status,
        qc_status=qc_status,
        esr1_calls=esr1_calls,
        collected_on=collected_on,
        surveillance_state=surveillance_state,
        regimen_id=regimen.id if regimen else None,
        endocrine_agent=regimen.endocrine_agent if regimen else None,
        cdk46_inhibitor=regimen.cdk46_inhibitor if regimen else None,
        line_started_on=line.started_on if line else None,
        months_on_line=whole_months(line.started_on, collected_on) if line else None,
        line_progressed=(line_progressed(line, scans) if line else False) or ending_progressed,
        latest_scan_on=latest.performed_on if latest else None,
        latest_scan_outcome=outcome,
        declined=declined,
    )


@dataclass(frozen=True)
class SwitchDecision:
    kind: str | None
    reasons: tuple[str, ...]
    rule_version: str = RULE_VERSION
    needs_confirmatory_imaging: bool = False
    # Qualifying variants as (canonical protein, allele fraction), strongest first.
    variants: tuple[tuple[str, Decimal], ...] = field(default=())


def qualifying_variants(facts: SwitchFacts, config: RuleConfig) -> tuple[tuple[str, Decimal], ...]:
    return qualifying_calls(facts.esr1_calls, config)


# Allowlist.identify is pure: its answers for the calls seen lately, per allow-list (by
# identity; the allow-list is kept with its answers so a reused id cannot mix them up).
_IDENTIFIED: dict[int, tuple[Allowlist, dict[Esr1Call, str | None]]] = {}
_IDENTIFIED_MAX = 4096


def _identify(allowlist: Allowlist, call: Esr1Call) -> str | None:
    entry = _IDENTIFIED.get(id(allowlist))
    if entry is None or entry[0] is not allowlist:
        if len(_IDENTIFIED) >= 8:
            _IDENTIFIED.clear()
        entry = _IDENTIFIED[id(allowlist)] = (allowlist, {})
    answers = entry[1]
    try:
        return answers[call]
    except KeyError:
        if len(answers) >= _IDENTIFIED_MAX:
            answers.clear()
        protein = answers[call] = allowlist.identify(call)
        return protein


def qualifying_calls(
    calls: Sequence[Esr1Call], config: RuleConfig
) -> tuple[tuple[str, Decimal], ...]:
    """Allow-listed, unfiltered ESR1 calls at or above the floor: the strongest per protein."""
    best: dict[str, Decimal] = {}
    for call in calls:
        if (call.filter or "") not in FILTER_PASS:
            continue  # a filtered call is shown on the report, never used by the rule
        protein = _identify(config.allowlist, call)
        if protein is not None and call.vaf >= config.vaf_floor and call.vaf > 0:
            best[protein] = max(call.vaf, best.get(protein, Decimal(0)))
    return tuple(sorted(best.items(), key=lambda item: (-item[1], item[0])))


def declined_persisting(
    variants: tuple[tuple[str, Decimal], ...],
    declined: tuple[tuple[str, Decimal], ...],
    rise_factor: Decimal,
) -> bool:
    """True when no variant is new and none rose by `rise_factor` since the decline."""
    before = dict(declined)
    for protein, vaf in variants:
        if protein not in before or vaf >= before[protein] * rise_factor:
            return False
    return True


def evaluate_serena6_switch(facts: SwitchFacts, config: RuleConfig) -> SwitchDecision:
    """Decide whether one report version calls for an alert, and which kind (DESIGN.md §5)."""
    if facts.surveillance_state in ENDED_STATES:
        return SwitchDecision(kind=None, reasons=(PATIENT_STATE_ENDED,))
    if facts.report_status not in ("final", "amended", "corrected") or facts.qc_status != "pass":
        return SwitchDecision(kind=None, reasons=(NOT_QUALIFYING_REPORT,))
    variants = qualifying_variants(facts, config)
    if not variants:
        return SwitchDecision(kind=None, reasons=(NO_QUALIFYING_ESR1,))

    declined = dict(facts.declined)

    def suppressed(kind: str) -> bool:
        return kind in declined and declined_persisting(
            variants, declined[kind], config.rise_factor
        )

    if facts.line_progressed:
        if suppressed(ESR1_WITH_PROGRESSION):
            return SwitchDecision(kind=None, reasons=(DECLINED_PERSISTING,), variants=variants)
        return SwitchDecision(kind=ESR1_WITH_PROGRESSION, reasons=(PROGRESSION,), variants=variants)

    reasons = []
    if facts.surveillance_state != "active":
        reasons.append(NOT_ACTIVE)
    if facts.endocrine_agent is None:
        reasons.append(NO_REGIMEN_AT_COLLECTION)
    elif facts.endocrine_agent not in config.allowed_ais or not facts.cdk46_inhibitor:
        reasons.append(NOT_ON_ALLOWED_AI_CDK46I)
    if reasons:
        return SwitchDecision(kind=None, reasons=tuple(reasons), variants=variants)

    if facts.collected_on < add_months(facts.line_started_on, config.min_therapy_months):
        if suppressed(REVIEW):
            return SwitchDecision(kind=None, reasons=(DECLINED_PERSISTING,), variants=variants)
        return SwitchDecision(kind=REVIEW, reasons=(EARLY_ESR1,), variants=variants)

    if suppressed(SWITCH_RECOMMENDED):
        return SwitchDecision(kind=None, reasons=(DECLINED_PERSISTING,), variants=variants)
    limit = facts.collected_on - dt.timedelta(days=config.scan_lookback_days)
    needs_imaging = not (
        facts.latest_scan_outcome == "no_progression"
        and facts.latest_scan_on is not None
        and facts.latest_scan_on >= limit
    )
    return SwitchDecision(
        kind=SWITCH_RECOMMENDED,
        reasons=(ELIGIBLE, CONFIRMATORY_IMAGING) if needs_imaging else (ELIGIBLE,),
        needs_confirmatory_imaging=needs_imaging,
        variants=variants,
    )


# --- Checks on a decision (pure) -------------------------------------------------------------

SWITCH_AHEAD_DAYS = 30
# A deferral is "come back to this": at most about two surveillance intervals ahead. A
# deferred alert does not escalate, so a longer wait (or a mistyped year) would park the
# recommendation unseen; not acting on it for longer is a decline, with its coded reason.
DEFER_MAX_DAYS = 112


def confirmation_needed(
    flagged: bool, scans: Sequence[tuple[dt.date, str]], collected_on: dt.date | None
) -> bool:
    """Does a switch need confirmatory imaging (DESIGN §5 clause 4)? `flagged`: the rule's
    flag as of collection (no clear scan in the look-back, or the latest one indeterminate);
    `scans`: her scans (day, outcome); `collected_on`: the evidence's latest collection.

    Her latest imaging on or after the blood test decides when there is one: every scan of
    its day no_progression confirms (two scans of one day count by the worse, whatever order
    they were recorded in); an indeterminate one there needs a confirmation even when the
    rule did not flag the alert, since it is now her newest imaging. With none since, the
    rule's flag stands."""
    since = [(day, outcome) for day, outcome in scans if collected_on and day >= collected_on]
    if not since:
        return flagged
    last = max(day for day, _ in since)
    return {outcome for day, outcome in since if day == last} != {"no_progression"}


EFFECTIVE_REQUIRED = "The date the switch takes effect is required."
EFFECTIVE_BEFORE_EVIDENCE = (
    "The switch cannot take effect before the blood test that prompted it (collected {day})."
)
EFFECTIVE_TOO_FAR = "The switch date can be at most {days} days ahead."
EFFECTIVE_BEFORE_REGIMEN = "The switch date is before the current regimen started ({day})."
DEFER_REQUIRED = "A date to come back to this alert is required."
DEFER_NOT_FUTURE = "The defer date must be after today."
DEFER_TOO_FAR = (
    "The defer date can be at most {days} days ahead (until {day}); to not act on the alert "
    "for longer, decline it with a reason."
)
REASON_REQUIRED = "A coded reason is required."
REASON_UNKNOWN = "Unknown reason; choose one of: {choices}."
COMMENT_REQUIRED = "A comment is required when the reason is 'other'."
NOTE_REQUIRED = "A note on how the progression is being managed is required."
IMAGING_REQUIRED = (
    "Confirmatory imaging is needed: record a no-progression scan with the switch, "
    "or attest that there is no radiological progression."
)
SCAN_NOT_CLEAR = (
    "The confirmatory scan must show no progression; an indeterminate or progression "
    "scan does not confirm."
)
SCAN_TOO_OLD = "The confirmatory scan must be within {days} days before the switch date."
SCAN_AFTER_SWITCH = "The confirmatory scan cannot be dated after the switch date."
SCAN_NOT_LATEST = (
    "The scan of {day} is {outcome}: a confirmatory scan must be her latest imaging, so record "
    "a no-progression scan dated after {day}, or attest explicitly that there is no progression."
)


@dataclass(frozen=True)
class DecisionInput:
    decision: str
    reason_code: str = ""
    comment: str = ""
    effective_on: dt.date | None = None
    defer_until: dt.date | None = None
    scan_performed_on: dt.date | None = None
    scan_outcome: str | None = None
    attest_no_progression: bool = False


def decision_errors(
    data: DecisionInput,
    *,
    today: dt.date,
    latest_collected_on: dt.date | None,
    regimen_started_on: dt.date | None,
    imaging_needed: bool,
    lookback_days: int,
    reason_codes: Sequence[str],
    unclear_scans: Sequence[tuple[dt.date, str]] = (),
) -> dict[str, list[str]]:
    """Field errors of a decision, every one at once (the service raises them as a 400).

    `unclear_scans`: her recorded scans, of any date, that are not no_progression (day,
    outcome). A confirmatory scan must be her latest imaging: one of them on its day or later
    still stands over it (a day's scans count by the worse), whether it was recorded before
    or after the blood test."""
    errors: dict[str, list[str]] = {}

    def reason() -> None:
        if not data.reason_code:
            errors["reason_code"] = [REASON_REQUIRED]
        elif data.reason_code not in reason_codes:
            errors["reason_code"] = [REASON_UNKNOWN.format(choices=", ".join(reason_codes))]
        elif data.reason_code == "other" and not data.comment.strip():
            errors["comment"] = [COMMENT_REQUIRED]

    if data.decision == "switch":
        day = data.effective_on
        if day is None:
            errors["effective_on"] = [EFFECTIVE_REQUIRED]
        elif latest_collected_on is not None and day < latest_collected_on:
            errors["effective_on"] = [
                EFFECTIVE_BEFORE_EVIDENCE.format(day=latest_collected_on.isoformat())
            ]
        elif day > today + dt.timedelta(days=SWITCH_AHEAD_DAYS):
            errors["effective_on"] = [EFFECTIVE_TOO_FAR.format(days=SWITCH_AHEAD_DAYS)]
        elif regimen_started_on is not None and day < regimen_started_on:
            errors["effective_on"] = [
                EFFECTIVE_BEFORE_REGIMEN.format(day=regimen_started_on.isoformat())
            ]
        if data.scan_outcome is not None:
            if data.scan_outcome != "no_progression":
                errors["confirmatory_scan"] = [SCAN_NOT_CLEAR]
            elif day and data.scan_performed_on and data.scan_performed_on > day:
                errors["confirmatory_scan"] = [SCAN_AFTER_SWITCH]
            elif (
                day
                and data.scan_performed_on
                and (day - data.scan_performed_on).days > lookback_days
            ):
                errors["confirmatory_scan"] = [SCAN_TOO_OLD.format(days=lookback_days)]
            elif data.scan_performed_on and (
                standing := [(d, o) for d, o in unclear_scans if d >= data.scan_performed_on]
            ):
                day_, outcome = max(standing)
                errors["confirmatory_scan"] = [
                    SCAN_NOT_LATEST.format(day=day_.isoformat(), outcome=outcome.replace("_", " "))
                ]
        elif imaging_needed and not data.attest_no_progression:
            errors["confirmatory_scan"] = [IMAGING_REQUIRED]
    elif data.decision == "defer":
        reason()
        if data.defer_until is None:
            errors["defer_until"] = [DEFER_REQUIRED]
        elif data.defer_until <= today:
            errors["defer_until"] = [DEFER_NOT_FUTURE]
        elif data.defer_until > today + dt.timedelta(days=DEFER_MAX_DAYS):
            last = today + dt.timedelta(days=DEFER_MAX_DAYS)
            errors["defer_until"] = [
                DEFER_TOO_FAR.format(days=DEFER_MAX_DAYS, day=last.isoformat())
            ]
    elif data.decision == "decline":
        reason()
    elif data.decision == "acknowledge" and not data.comment.strip():
        errors["comment"] = [NOTE_REQUIRED]
    return errors
