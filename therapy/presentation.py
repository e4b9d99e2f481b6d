"""What an alert says to the oncologist, from what is stored with it. Pure: no ORM, no clock.

- `why`: the rule's checklist, one line per fact the rule used (DESIGN §5), from the facts
  snapshot of the alert's latest evidence, so the page explains the alert as the rule saw it;
- `lifecycle`: why an alert was withdrawn, what changed in a flagged one, who decided what;
- `switch_summary`: exactly what accepting the switch will do to the regimen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from liquidbiopsy.models import INFORMATIVE_TUMOUR_FRACTION
from patients.rules import add_months
from therapy.rules import FILTER_PASS, Esr1Call, RuleConfig, qualifying_calls

OK, NO, WARN = "ok", "no", "warn"


@dataclass(frozen=True)
class Check:
    status: str  # ok | no | warn
    text: str


def _day(value) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value.day} {value:%b %Y}"


def _pct(vaf) -> str:
    value = Decimal(str(vaf)) * 100
    text = f"{value:.3g}"
    if "e" in text.lower():
        text = f"{value:.6f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def variants_text(variants) -> str:
    return ", ".join(f"{protein} {_pct(vaf)}" for protein, vaf in variants)


def why(
    *,
    kind: str,
    facts: dict,
    variants,
    drug_label,
    min_months: int,
    lookback_days: int,
    vaf_floor: Decimal,
    allowed_ais,
) -> list[Check]:
    """The rule's checklist for one alert (DESIGN §5 clauses 0-4), from its facts snapshot."""
    checks: list[Check] = []
    state = facts.get("surveillance_state", "")
    agent, cdk = facts.get("endocrine_agent"), facts.get("cdk46_inhibitor")
    collected = facts.get("collected_on")
    checks.append(
        Check(
            OK if state == "active" else WARN,
            f"Surveillance state when judged: {state.replace('_', ' ')}",
        )
    )
    if agent:
        regimen = drug_label(agent) + (f" + {drug_label(cdk)}" if cdk else "")
        allowed = agent in allowed_ais and bool(cdk)
        checks.append(
            Check(
                OK if allowed else NO,
                f"On {regimen} at the blood test ({_day(collected)})"
                + ("" if allowed else ": not an allowed aromatase inhibitor with a CDK4/6i"),
            )
        )
    else:
        checks.append(Check(NO, f"No regimen in force at the blood test ({_day(collected)})"))
    months, line_start = facts.get("months_on_line"), facts.get("line_started_on")
    if line_start:
        enough = dt.date.fromisoformat(collected) >= add_months(
            dt.date.fromisoformat(line_start), min_months
        )
        checks.append(
            Check(
                OK if enough else WARN,
                f"{months} months on this therapy line at the blood test (since "
                f"{_day(line_start)}; {min_months} needed for a switch)"
                + ("" if enough else ": early ESR1, a review rather than a switch"),
            )
        )
    for protein, _vaf in variants:
        checks.append(Check(OK, f"ESR1 {protein} is on the allow-list (NM_000125.4)"))
    floor = _pct(vaf_floor) if vaf_floor else "any detected"
    checks.append(
        Check(OK, f"Allele fraction {variants_text(variants)} at or above the floor ({floor})")
    )
    declined = dict(facts.get("declined") or [])
    if kind in declined:
        checks.append(Check(OK, "New or risen since the last declined alert of this kind"))
    else:
        checks.append(Check(OK, "First alert of this kind for these variants"))
    if facts.get("line_progressed"):
        checks.append(
            Check(NO, "Radiological progression of this line: the progression pathway applies")
        )
    else:
        checks.append(Check(OK, "No radiological progression of this line on record"))
    scan_on, outcome = facts.get("latest_scan_on"), facts.get("latest_scan_outcome")
    if kind == "switch_recommended":
        if scan_on and outcome == "no_progression":
            age = (dt.date.fromisoformat(collected) - dt.date.fromisoformat(scan_on)).days
            recent = age <= lookback_days
            checks.append(
                Check(
                    OK if recent else WARN,
                    f"Latest scan before the blood test: {_day(scan_on)}, no progression, "
                    f"{age} days before"
                    + ("" if recent else f" (more than {lookback_days}): confirmatory imaging"),
                )
            )
        elif scan_on:
            checks.append(
                Check(
                    WARN,
                    f"Latest scan before the blood test: {_day(scan_on)}, "
                    f"{(outcome or '').replace('_', ' ')}: confirmatory imaging needed",
                )
            )
        else:
            checks.append(Check(WARN, "No scan before the blood test: confirmatory imaging"))
    return checks


REASON_TEXT = {
    "evidence_retracted": "its evidence was retracted",
    "progression": "radiological progression took over (ESR1-with-progression alert raised)",
    "patient_state": "the patient's surveillance is not active",
    "superseded": "a switch alert superseded this review",
    "no_longer_eligible": "the switch rule no longer gives it: her facts at the blood test "
    "changed since it opened (her ctDNA result stands)",
}
# Why the rule gives no alert now (therapy.rules reasons), for a no_longer_eligible withdrawal.
RULE_REASON_TEXT = {
    "surveillance_not_active": "her surveillance is not active",
    "no_regimen_at_collection": "no regimen is on record for the day of the blood test",
    "not_on_allowed_ai_with_cdk46i_at_collection": (
        "the regimen on record for the day of the blood test is not one of the aromatase "
        "inhibitors the switch rule allows with a CDK4/6 inhibitor"
    ),
    "less_than_minimum_time_on_line": "she was on the regimen for less than the minimum time",
    "declined_variants_persisting": "the same variants were declined before",
}


def withdrawn_text(reason: str, detail: dict, drug_label=str) -> list[str]:
    """Sentences saying why an alert was withdrawn and what did it."""
    text = REASON_TEXT.get(reason, reason.replace("_", " "))
    if reason == "patient_state" and detail.get("state") == "post_switch":
        text = "the patient is in post-switch monitoring (no switch alerts)"
    elif reason == "patient_state" and detail.get("state") == "awaiting_minimum_duration":
        text = "her surveillance has not started yet (awaiting its start date)"
    elif reason == "patient_state" and detail.get("state") in (
        "deceased",
        "withdrawn",
        "off_therapy",
    ):
        text = "the patient's surveillance ended"
    lines = [f"Withdrawn: {text}."]
    regimen = detail.get("regimen")
    if detail.get("switched_by_regimen") and isinstance(regimen, dict):
        agents = [drug_label(regimen.get("endocrine_agent") or "")]
        if regimen.get("cdk46_inhibitor"):
            agents.append(drug_label(regimen["cdk46_inhibitor"]))
        lines.append(
            "The switch was recorded by hand as a new regimen: "
            f"{' + '.join(agents)} from {_day(regimen.get('started_on'))}. "
            "No decision was recorded on this alert."
        )
    for r in detail.get("reports", []) if isinstance(detail.get("reports"), list) else []:
        if not isinstance(r, dict):
            continue
        name = f"Report {r.get('report_id')} v{r.get('was_version')}"
        if r.get("moved_to_other_patient"):
            lines.append(f"{name} was corrected to another patient (now v{r.get('now_version')}).")
        elif r.get("now_status") == "cancelled":
            lines.append(f"{name} was cancelled by the lab (v{r.get('now_version')}).")
        elif r.get("now_version") and r.get("now_version") != r.get("was_version"):
            lines.append(
                f"{name} was replaced by v{r.get('now_version')} ({r.get('now_status')}), "
                "which no longer supports it."
            )
    reasons = detail.get("rule_reasons")
    if reason == "no_longer_eligible" and isinstance(reasons, list):
        said = [RULE_REASON_TEXT[r] for r in reasons if r in RULE_REASON_TEXT]
        if said:
            lines.append(f"Now: {'; '.join(said)}.")
    if detail.get("state") and not detail.get("switched_by_regimen"):
        lines.append(f"Surveillance state: {detail['state'].replace('_', ' ')}.")
    return lines


@dataclass(frozen=True)
class SwitchSummary:
    ends: str
    starts: str
    continues: str
    on: dt.date

    def sentence(self) -> str:
        text = f"End {self.ends}; start {self.starts}"
        if self.continues:
            text += f"; continue {self.continues}"
        return f"{text} from {_day(self.on)}."


def switch_summary(*, current, target_label: str, on: dt.date, drug_label) -> SwitchSummary:
    """What accepting the switch does: the AI ends, camizestrant starts, the rest continues."""
    continues = [drug_label(current.cdk46_inhibitor)]
    if current.lhrh_agonist:
        continues.append(drug_label(current.lhrh_agonist))
    return SwitchSummary(
        ends=drug_label(current.endocrine_agent),
        starts=target_label,
        continues=" and ".join(continues),
        on=on,
    )


SUMMARY_NOT_RECORDED = "Nothing was recorded: check the summary below and confirm it again."


def regimen_text(regimen, drug_label) -> str:
    """A regimen in words: "Letrozole + Palbociclib since 2 Nov 2025"."""
    agents = [regimen.endocrine_agent, regimen.cdk46_inhibitor, regimen.lhrh_agonist]
    text = " + ".join(drug_label(a) for a in agents if a)
    if regimen.ended_on:
        return f"{text} from {_day(regimen.started_on)} to {_day(regimen.ended_on)}"
    return f"{text} since {_day(regimen.started_on)}"


def switch_summary_changed(*, was, now, said: str, now_says: str, drug_label) -> str:
    """Why a switch confirmation is not recorded: the summary it confirmed (drawn from
    regimen `was`, saying `said`) is not what accepting the switch would do now (`now`,
    `now_says`). Empty when they agree. `was` is None when the confirmation named no regimen
    of hers."""
    if was is not None and was.pk == now.pk and said == now_says:
        return ""
    if was is not None and was.pk != now.pk:
        return (
            "Her regimen changed since you opened this summary: it was "
            f"{regimen_text(was, drug_label)}; it is now {regimen_text(now, drug_label)}. "
            + SUMMARY_NOT_RECORDED
        )
    if was is not None and said:
        return f'The summary changed since you opened it: it said "{said}" ' + (
            SUMMARY_NOT_RECORDED
        )
    return "This confirmation did not say which summary it confirmed. " + SUMMARY_NOT_RECORDED


# --- A report's ESR1 result, in words (the patient page, the alert page's evidence) ---------


@dataclass(frozen=True)
class Esr1Result:
    """What one report version says about ESR1, for a reader who must not misread it.

    kind: detected | not_detected | filtered_only | failed_qc | cancelled."""

    kind: str
    text: str
    detail: str = ""  # the tumour fraction's reading, what a failure means
    warning: str = ""  # non-informative

    @property
    def is_result(self) -> bool:
        return self.kind in ("detected", "not_detected")


def _tumour_fraction(tumor_fraction) -> tuple[str, str]:
    """(detail, warning) for a "not detected" or a filtered-only report."""
    if tumor_fraction is None:
        return "", "Non-informative: ctDNA tumour fraction not reported."
    tf = Decimal(str(tumor_fraction))
    if tf < INFORMATIVE_TUMOUR_FRACTION:
        return "", f"Non-informative: ctDNA tumour fraction {_pct(tf)}, below 1%."
    return f"ctDNA tumour fraction {_pct(tf)}: informative.", ""


def rule_counts(call, config: RuleConfig) -> bool:
    """Whether the switch rule counts this ESR1 call (a stored VariantCall): unfiltered,
    allow-listed, at or above the floor."""
    as_rule_reads_it = Esr1Call(
        hgvs_p=call.hgvs_p or "",
        vaf=call.vaf,
        chrom=call.chrom or "",
        pos=call.pos,
        ref=call.ref or "",
        alt=call.alt or "",
        filter=call.filter or "",
        genome_build=call.genome_build or "",
        transcript=call.transcript or "",
    )
    return bool(qualifying_calls((as_rule_reads_it,), config))


def esr1_result(
    *, status: str, qc_status: str, tumor_fraction, calls, config: RuleConfig | None = None
) -> Esr1Result:
    """The ESR1 result of one report version (calls: its variant calls, any gene, each with
    gene, hgvs_p, vaf and filter). Cancelled and failed are never "not detected", and a
    report whose ESR1 calls were all filtered by the caller is neither a detection nor "not
    detected" (DESIGN §6). With the rule's `config`, a detection is what the rule counts
    (allow-listed, at or above the floor, as the dashboard counts it): an ESR1 call it does
    not count is named, never shown as a detection, and the tumour fraction is read as
    for a "not detected"."""
    if status == "cancelled":
        return Esr1Result(
            "cancelled",
            "Cancelled by the lab: no ESR1 result from this report.",
            'This is not "not detected".',
        )
    if qc_status != "pass":
        label = " (insufficient sample)" if qc_status == "insufficient" else ""
        return Esr1Result(
            "failed_qc",
            f"Failed QC{label}: no ESR1 result.",
            'Sample failed: a redraw is planned. This is not "not detected".',
        )
    esr1 = [c for c in calls if c.gene == "ESR1"]
    unfiltered = [c for c in esr1 if (c.filter or "") in FILTER_PASS]
    passed = [c for c in unfiltered if config is None or rule_counts(c, config)]
    uncounted = [c for c in unfiltered if c not in passed]
    not_counted = (
        "ESR1 "
        + ", ".join(f"{c.hgvs_p or 'call'} (VAF {_pct(c.vaf)})" for c in uncounted)
        + ": not a mutation the switch rule counts (off the allow-list or below the floor)."
        if uncounted
        else ""
    )
    if passed:
        shown = ", ".join(f"{c.hgvs_p or 'ESR1'} (VAF {_pct(c.vaf)})" for c in passed)
        filtered = len(esr1) - len(unfiltered)
        detail = (
            f"{filtered} more ESR1 call{'s' if filtered > 1 else ''} filtered by the caller "
            "(not used)."
            if filtered
            else ""
        )
        detail = " ".join(part for part in (detail, not_counted) if part)
        return Esr1Result("detected", f"ESR1 mutation detected: {shown}", detail)
    if uncounted:
        detail, warning = _tumour_fraction(tumor_fraction)
        return Esr1Result(
            "not_detected",
            "No qualifying ESR1 mutation detected.",
            " ".join(part for part in (not_counted, detail) if part),
            warning,
        )
    detail, warning = _tumour_fraction(tumor_fraction)
    if esr1:
        return Esr1Result(
            "filtered_only",
            "ESR1: filtered calls only (not a detection).",
            "The caller did not pass these calls: ESR1 is neither detected nor ruled out.",
            warning,
        )
    return Esr1Result("not_detected", "ESR1 not detected.", detail, warning)
