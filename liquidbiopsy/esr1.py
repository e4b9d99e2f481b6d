"""Which ESR1 variant a call is: the allow-list (data) and matching a call against it. Pure.

DESIGN.md §5: canonical transcript NM_000125.4 / ENST00000206249, protein NP_000116.2. A call
matches on its protein change (every HGVS form) OR on its genomic position and alleles in
the build it names (GRCh38 or GRCh37). Where the two disagree the call qualifies if either
matches and is flagged `discordant` for the oncologist. A protein change given on a
non-canonical transcript is numbered on another protein: it never overrides an allow-listed
position (the position's variant is the one reported) and the call is flagged
`non_canonical_transcript`. The switch rule (therapy) decides what a match means clinically;
this module only says which variant a call is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, cached_property

from liquidbiopsy.coordinates import GRCH37, GRCH38, normalise_build, normalise_chrom
from liquidbiopsy.hgvs import ProteinChange, parse_protein_change

DISCORDANT = "discordant"
NON_CANONICAL_TRANSCRIPT = "non_canonical_transcript"
POSSIBLE_CHIP = "possible_chip"
# Genes whose variants in blood are often clonal haematopoiesis rather than tumour DNA
# (DNMT3A, TET2, ASXL1 and the other CHIP drivers; Razavi et al., Nat Med 2019).
CHIP_GENES = frozenset(
    {"DNMT3A", "TET2", "ASXL1", "PPM1D", "JAK2", "SF3B1", "SRSF2", "CBL", "GNB1", "GNAS",
     "IDH1", "IDH2", "U2AF1", "ZRSR2", "STAG2", "BCOR", "BCORL1", "CHEK2", "ATM", "KMT2D"}
)  # fmt: skip


@dataclass(frozen=True)
class AllowedVariant:
    protein: str
    pos: int | None = None  # GRCh38
    ref: str = ""
    alt: str = ""
    pos_grch37: int | None = None

    def position(self, build: str) -> int | None:
        return self.pos_grch37 if build == GRCH37 else self.pos


@dataclass(frozen=True)
class Esr1Call:
    hgvs_p: str
    vaf: Decimal
    chrom: str = ""
    pos: int | None = None
    ref: str = ""
    alt: str = ""
    filter: str = ""  # the caller's FILTER: anything but "", "." or PASS is never used by the rule
    # "" is read as GRCh38, the only build stored before builds were checked.
    genome_build: str = ""
    transcript: str = ""  # of hgvs_p / hgvs_c; "" is taken as the canonical one


@dataclass(frozen=True)
class Esr1Match:
    """How a call matched: the variant it is (or None) and what the oncologist should see."""

    protein: str | None
    by_protein: str | None  # the allow-listed protein its hgvs_p names
    by_position: str | None  # the allow-listed protein at its position and alleles
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Allowlist:
    chrom: str
    variants: tuple[AllowedVariant, ...]
    any_lbd_missense: bool = False
    lbd_codons: tuple[int, int] = (310, 547)
    canonical_transcripts: tuple[str, ...] = ("NM_000125", "ENST00000206249")
    canonical_proteins: tuple[str, ...] = ("NP_000116", "ENSP00000206249")

    def __hash__(self) -> int:
        # Computed once: the list is a key of the per-call caches (services._flags_of), and
        # hashing all of its variants on every lookup cost more than the lookup saved.
        return self._hash

    @cached_property
    def _hash(self) -> int:
        return hash(
            (
                self.chrom,
                self.variants,
                self.any_lbd_missense,
                self.lbd_codons,
                self.canonical_transcripts,
                self.canonical_proteins,
            )
        )

    def identify(self, call: Esr1Call) -> str | None:
        """The canonical protein change this call is, if it qualifies; else None."""
        return self.match(call).protein

    def match(self, call: Esr1Call) -> Esr1Match:
        """Match on protein and on position independently, then reconcile (module docstring)."""
        change = _parse(call.hgvs_p)
        canonical = self._is_canonical(call.transcript, change)
        by_protein = self._by_protein(change)
        has_position = call.pos is not None and bool(call.chrom)
        by_position = self._by_position(call) if has_position else None
        flags: list[str] = []
        if not canonical:
            flags.append(NON_CANONICAL_TRANSCRIPT)
        if change is not None and has_position and by_protein != by_position:
            flags.append(DISCORDANT)
        if by_position is not None and (not canonical or by_protein is None):
            protein = by_position  # a position on the genome does not depend on a transcript
        else:
            protein = by_protein or by_position
        return Esr1Match(
            protein=protein, by_protein=by_protein, by_position=by_position, flags=tuple(flags)
        )

    def _is_canonical(self, transcript: str, change: ProteinChange | None) -> bool:
        names = [transcript.strip()] if transcript and transcript.strip() else []
        if change is not None and change.accession and change.accession.upper() != "ESR1":
            names.append(change.accession)
        allowed = {n.upper() for n in (*self.canonical_transcripts, *self.canonical_proteins)}
        return all(name.split(".")[0].upper() in allowed for name in names)

    def _by_protein(self, change: ProteinChange | None) -> str | None:
        if change is None:
            return None
        if any(v.protein == change.canonical for v in self.variants):
            return change.canonical
        if (
            self.any_lbd_missense
            and change.kind == "missense"
            and change.start is not None
            and self.lbd_codons[0] <= change.start <= self.lbd_codons[1]
        ):
            return change.canonical
        return None

    @cached_property
    def _sites(self) -> dict[tuple[str, int, str, str], str]:
        """(build, position, ref, alt) -> the allow-listed protein there, built once."""
        return {
            (build, v.position(build), v.ref, v.alt): v.protein
            for v in self.variants
            for build in (GRCH38, GRCH37)
            if v.position(build) is not None
        }

    def at_position(self, build: str, chrom: str, pos: int | None, ref: str, alt: str):
        """The allow-listed protein at this position and alleles (normalised build and
        chromosome, as validation stores them; "" build is GRCh38), or None. A dict lookup:
        validation asks it of every call in a file."""
        if chrom != self.chrom or pos is None:
            return None
        return self._sites.get((build or GRCH38, pos, ref.strip().upper(), alt.strip().upper()))

    def _by_position(self, call: Esr1Call) -> str | None:
        try:
            build = normalise_build(call.genome_build) if call.genome_build else GRCH38
            chrom = normalise_chrom(call.chrom, build)
        except ValueError:
            return None
        return self.at_position(build, chrom, call.pos, call.ref, call.alt)


def _parse(hgvs_p: str) -> ProteinChange | None:
    if not hgvs_p:
        return None
    try:
        return parse_protein_change(hgvs_p)
    except ValueError:
        return None


def call_flags(*, gene: str, match: Esr1Match | None) -> list[str]:
    """The flags stored on a variant call: the ESR1 match's, and possible CHIP by gene."""
    flags = list(match.flags) if match is not None else []
    if gene.upper() in CHIP_GENES:
        flags.append(POSSIBLE_CHIP)
    return flags


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
                pos_grch37=v.get("pos_grch37"),
            )
            for v in raw["variants"]
        ),
        any_lbd_missense=any_lbd_missense,
        lbd_codons=tuple(raw.get("lbd_codons", (310, 547))),
        canonical_transcripts=tuple(raw.get("canonical_transcripts", ("NM_000125",))),
        canonical_proteins=tuple(raw.get("canonical_proteins", ("NP_000116",))),
    )


@cache
def gene_span(path: str) -> dict[str, tuple[int, int]]:
    """ESR1's span on chromosome 6 per build, for VCF records without a gene annotation."""
    with open(path, encoding="utf-8") as fh:
        raw = json.load(fh)
    return {build: tuple(span) for build, span in raw.get("gene_span", {}).items()}
