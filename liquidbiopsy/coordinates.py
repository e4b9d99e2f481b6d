"""Genome builds and chromosome names, in one canonical form (pure, no Django).

DESIGN.md §6: a genomic position needs `genome_build`, GRCh38 or GRCh37 (aliases hg38, hg19,
any case); `chrom` may be `6`, `chr6` in any case, or the RefSeq accession of the chromosome
(`NC_000006.12` in GRCh38, `NC_000006.11` in GRCh37). An accession names its build, so one
that contradicts the stated build is refused rather than guessed at.

Stored forms: builds "GRCh38"/"GRCh37"; chromosomes "1".."22", "X", "Y", "MT".
"""

from __future__ import annotations

import re

GRCH38 = "GRCh38"
GRCH37 = "GRCh37"
BUILDS = (GRCH38, GRCH37)
_BUILD_ALIASES = {
    "grch38": GRCH38,
    "hg38": GRCH38,
    "grch37": GRCH37,
    "hg19": GRCH37,
    "b37": GRCH37,
}
# Patch releases ("GRCh38.p14") are the same coordinates.
_BUILD_PATCH = re.compile(r"^(grch3[78])(?:\.p\d+)?$")

CHROMOSOMES = (*(str(n) for n in range(1, 23)), "X", "Y", "MT")
# RefSeq accession versions of the primary assembly: GRCh37's are one lower than GRCh38's.
_GRCH38_VERSIONS = {
    "1": 11, "2": 12, "3": 12, "4": 12, "5": 10, "6": 12, "7": 14, "8": 11, "9": 12,
    "10": 11, "11": 10, "12": 12, "13": 11, "14": 9, "15": 10, "16": 10, "17": 11,
    "18": 10, "19": 10, "20": 11, "21": 9, "22": 11, "X": 11, "Y": 10,
}  # fmt: skip
_ACCESSIONS: dict[str, tuple[str, str | None]] = {}
for _chrom, _v38 in _GRCH38_VERSIONS.items():
    _number = {"X": 23, "Y": 24}.get(_chrom) or int(_chrom)
    _ACCESSIONS[f"NC_{_number:06d}.{_v38}"] = (_chrom, GRCH38)
    _ACCESSIONS[f"NC_{_number:06d}.{_v38 - 1}"] = (_chrom, GRCH37)
_ACCESSIONS["NC_012920.1"] = ("MT", None)  # the mitochondrial genome, both builds
# The length of chromosome 6 tells the builds apart (VCF ##contig lines).
CHR6_LENGTH = {GRCH38: 170_805_979, GRCH37: 171_115_067}
# The longest chromosome (chr1, GRCh37 249,250,621): no position is beyond it.
MAX_POSITION = 249_250_621

UNKNOWN_BUILD = "Unknown genome build '{value}': give GRCh38 or GRCh37 (hg38, hg19)."
UNKNOWN_CHROM = (
    "Unknown chromosome '{value}': give 1-22, X, Y or MT (with or without 'chr'), "
    "or the RefSeq accession such as NC_000006.12."
)
ACCESSION_CONTRADICTS_BUILD = (
    "Chromosome '{value}' is a {accession_build} accession; genome_build is {build}."
)


def normalise_build(value: str) -> str:
    """GRCh38 or GRCh37 from any accepted spelling; ValueError naming the value."""
    text = str(value).strip().lower()
    patch = _BUILD_PATCH.match(text)
    if patch:
        text = patch[1]
    build = _BUILD_ALIASES.get(text)
    if build is None:
        raise ValueError(UNKNOWN_BUILD.format(value=value))
    return build


def normalise_chrom(value: str, build: str | None = None) -> str:
    """The chromosome's canonical name; ValueError when unknown or contradicting `build`."""
    text = str(value).strip()
    accession = _ACCESSIONS.get(text.upper())
    if accession is not None:
        chrom, accession_build = accession
        if build and accession_build and accession_build != build:
            raise ValueError(
                ACCESSION_CONTRADICTS_BUILD.format(
                    value=value, accession_build=accession_build, build=build
                )
            )
        return chrom
    if text[:3].lower() == "chr":
        text = text[3:]
    text = text.upper()
    if text == "M":
        text = "MT"
    if text.isdigit():
        text = str(int(text)) if len(text) <= 2 else text
    if text not in CHROMOSOMES:
        raise ValueError(UNKNOWN_CHROM.format(value=value))
    return text


def accession_build(value: str) -> str | None:
    """The build a RefSeq chromosome accession names, if it is one."""
    found = _ACCESSIONS.get(str(value).strip().upper())
    return found[1] if found else None
