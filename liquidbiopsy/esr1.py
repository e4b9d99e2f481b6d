"""Which ESR1 variant a call is: the allow-list (data) and matching a call against it. Pure.

DESIGN.md §5: canonical transcript NM_000125.4 / ENST00000206249, protein NP_000116.2. A call
matches on its protein change (every HGVS form) or, when it has none, on its genomic position
and alleles. The switch rule (therapy) decides what a match means clinically; this module only
says which variant a call is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from liquidbiopsy.hgvs import normalise_protein_change


@dataclass(frozen=True)
class AllowedVariant:
    protein: str
    pos: int | None = None
    ref: str = ""
    alt: str = ""


@dataclass(frozen=True)
class Allowlist:
    chrom: str
    variants: tuple[AllowedVariant, ...]
    any_lbd_missense: bool = False
    lbd_codons: tuple[int, int] = (310, 547)

    def identify(self, call: Esr1Call) -> str | None:
        """The canonical protein change this call is, if it qualifies; else None."""
        protein = ""
        if call.hgvs_p:
            try:
                protein = normalise_protein_change(call.hgvs_p)
            except ValueError:
                protein = ""
        if protein:
            if any(v.protein == protein for v in self.variants):
                return protein
            if self.any_lbd_missense and _is_lbd_missense(protein, self.lbd_codons):
                return protein
            return None
        if call.pos is not None and call.chrom.removeprefix("chr") == self.chrom:
            for v in self.variants:
                if (v.pos, v.ref, v.alt) == (call.pos, call.ref.upper(), call.alt.upper()):
                    return v.protein
        return None


def _is_lbd_missense(protein: str, codons: tuple[int, int]) -> bool:
    body = protein.removeprefix("p.")
    ref, alt, digits = body[:3], body[-3:], body[3:-3]
    return (
        digits.isdigit()
        and codons[0] <= int(digits) <= codons[1]
        and ref != alt
        and alt not in ("Ter", "del", "dup")
    )


@dataclass(frozen=True)
class Esr1Call:
    hgvs_p: str
    vaf: Decimal
    chrom: str = ""
    pos: int | None = None
    ref: str = ""
    alt: str = ""


@cache
def load_allowlist(path: str, *, any_lbd_missense: bool = False) -> Allowlist:
    """The allow-list from its JSON file (ESR1_ALLOWLIST_PATH)."""
    with open(path, encoding="utf-8") as fh:
        raw = json.load(fh)
    return Allowlist(
        chrom=str(raw.get("chrom", "6")),
        variants=tuple(
            AllowedVariant(
                protein=v["protein"],
                pos=v.get("pos"),
                ref=v.get("ref", ""),
                alt=v.get("alt", ""),
            )
            for v in raw["variants"]
        ),
        any_lbd_missense=any_lbd_missense,
        lbd_codons=tuple(raw.get("lbd_codons", (310, 547))),
    )
