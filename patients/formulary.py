"""The formulary: drug codes, labels, doses and allowed combinations, loaded from JSON.

Nothing else in the code names a drug; it asks here. The file is read once per process
(settings.FORMULARY_PATH) and validated on load so a typo fails at start-up, not at a
patient's bedside.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

AROMATASE_INHIBITOR = "aromatase_inhibitor"


@dataclass(frozen=True)
class Drug:
    code: str
    label: str
    dose: str
    drug_class: str = ""
    cdk46_inhibitors: tuple[str, ...] = ()
    cdk46_optional: bool = False


@dataclass(frozen=True)
class Formulary:
    endocrine_agents: dict[str, Drug]
    cdk46_inhibitors: dict[str, Drug]
    lhrh_agonists: dict[str, Drug]
    switch_target: str

    def choices(self, group: str) -> list[tuple[str, str]]:
        return [(d.code, d.label) for d in getattr(self, group).values()]

    def label(self, code: str) -> str:
        for group in (self.endocrine_agents, self.cdk46_inhibitors, self.lhrh_agonists):
            if code in group:
                return group[code].label
        return code

    def is_aromatase_inhibitor(self, code: str) -> bool:
        drug = self.endocrine_agents.get(code)
        return drug is not None and drug.drug_class == AROMATASE_INHIBITOR

    def combination_errors(
        self, *, endocrine_agent: str, cdk46_inhibitor: str, lhrh_agonist: str
    ) -> dict[str, str]:
        """Field -> message for each part of the combination the formulary does not allow."""
        errors: dict[str, str] = {}
        agent = self.endocrine_agents.get(endocrine_agent)
        if agent is None:
            errors["endocrine_agent"] = (
                f"Unknown endocrine agent '{endocrine_agent}'; choose one of: "
                + ", ".join(self.endocrine_agents)
                + "."
            )
        if cdk46_inhibitor and cdk46_inhibitor not in self.cdk46_inhibitors:
            errors["cdk46_inhibitor"] = (
                f"Unknown CDK4/6 inhibitor '{cdk46_inhibitor}'; choose one of: "
                + ", ".join(self.cdk46_inhibitors)
                + "."
            )
        elif agent is not None:
            if not cdk46_inhibitor and not agent.cdk46_optional:
                errors["cdk46_inhibitor"] = (
                    f"{agent.label} must be combined with a CDK4/6 inhibitor."
                )
            elif cdk46_inhibitor and cdk46_inhibitor not in agent.cdk46_inhibitors:
                errors["cdk46_inhibitor"] = (
                    f"{agent.label} is not given with {self.label(cdk46_inhibitor)} in this formulary."
                )
        if lhrh_agonist and lhrh_agonist not in self.lhrh_agonists:
            errors["lhrh_agonist"] = (
                f"Unknown LHRH agonist '{lhrh_agonist}'; choose one of: "
                + ", ".join(self.lhrh_agonists)
                + "."
            )
        return errors


def _drugs(raw: dict, group: str) -> dict[str, Drug]:
    drugs = {}
    for code, entry in raw.get(group, {}).items():
        if code != code.lower() or not entry.get("label"):
            raise ImproperlyConfigured(
                f"formulary {group}.{code}: lower-case code and a label needed"
            )
        drugs[code] = Drug(
            code=code,
            label=entry["label"],
            dose=entry.get("dose", ""),
            drug_class=entry.get("class", ""),
            cdk46_inhibitors=tuple(entry.get("cdk46_inhibitors", ())),
            cdk46_optional=bool(entry.get("cdk46_optional", False)),
        )
    return drugs


@cache
def get_formulary() -> Formulary:
    with open(settings.FORMULARY_PATH, encoding="utf-8") as fh:
        raw = json.load(fh)
    formulary = Formulary(
        endocrine_agents=_drugs(raw, "endocrine_agents"),
        cdk46_inhibitors=_drugs(raw, "cdk46_inhibitors"),
        lhrh_agonists=_drugs(raw, "lhrh_agonists"),
        switch_target=raw.get("switch_target", {}).get("endocrine_agent", ""),
    )
    for agent in formulary.endocrine_agents.values():
        unknown = set(agent.cdk46_inhibitors) - set(formulary.cdk46_inhibitors)
        if unknown:
            raise ImproperlyConfigured(
                f"formulary {agent.code}: unknown CDK4/6 inhibitors {unknown}"
            )
    if formulary.switch_target not in formulary.endocrine_agents:
        raise ImproperlyConfigured("formulary switch_target must be one of the endocrine agents")
    return formulary
