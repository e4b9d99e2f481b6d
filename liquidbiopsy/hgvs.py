"""HGVS protein descriptions: the whole p. grammar, read into one canonical form (pure).

DESIGN.md §6: any syntactically valid HGVS protein description is accepted for any gene:
an accession prefix (`NP_000116.2:`), predicted changes in parentheses, 1- or 3-letter amino
acid codes in any letter case, substitutions (missense, nonsense with `Ter` or `*`,
synonymous `=`, unknown `?`), `del`, `dup`, `ins`, `delins`, frameshifts (`fs`, `fsTer34`,
`fs*?`), extensions (`Met1ext-5`, `Ter110GlnextTer17`), repeats (`Ala2[10]`), alleles
(`[Ser73Arg;Asn116Ser]`) and the special forms `p.?`, `p.0`, `p.=`.

Every spelling of one change normalises to one canonical text: 3-letter codes, `Ter` for a
stop, no accession and no parentheses ("NP_000116.2:p.(Asp538Gly)", "p.asp538gly", "D538G"
are all "p.Asp538Gly"), so two spellings of one variant are never stored as two.

Why not the biocommons `hgvs` package: its parser reads these forms offline, but installing
it pulls psycopg2 built from source (no wheel; the slim production image has no compiler),
pysam, IPython and SeqRepo, none of which the product uses. This module implements the same
protein grammar (HGVS nomenclature v21, "protein" section) and is tested against a table of
real descriptions of every class (tests/liquidbiopsy/test_hgvs.py), which were also checked
to parse with biocommons `hgvs` 1.5.7.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

AA3 = {
    "A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "Q": "Gln", "E": "Glu",
    "G": "Gly", "H": "His", "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe",
    "P": "Pro", "S": "Ser", "T": "Thr", "W": "Trp", "Y": "Tyr", "V": "Val", "*": "Ter",
    "X": "Ter", "U": "Sec", "O": "Pyl",
}  # fmt: skip
AA3_UPPER = {three.upper(): three for three in AA3.values()} | {"XAA": "Xaa", "*": "Ter"}

NOT_HGVS_P = (
    "'{value}' is not an HGVS protein change this product reads "
    "(for example p.Asp538Gly, p.(Asp538Gly), D538G or p.Val422del)."
)
MAX_INPUT = 200  # no real description is longer; also bounds the regex work

# The accession (or a gene symbol) before the colon: NP_000116.2, ENSP00000206249.3, ESR1.
_PREFIX = re.compile(r"^(?P<acc>[A-Za-z][A-Za-z0-9_.\-]{0,39}):")
_THREE = "(?:" + "|".join(sorted(AA3_UPPER)).replace("*", r"\*") + ")"
_ONE = r"[ACDEFGHIKLMNPQRSTVWYUOX*]"
_STOP = r"(?:Ter|\*|X)"


def _grammar(aa: str) -> dict[str, re.Pattern]:
    seq = f"(?:{aa})+"
    pos = rf"{aa}\d+"
    interval = rf"{pos}(?:_{pos})?"
    forms = {
        "substitution": rf"(?P<ref>{aa})(?P<start>\d+)(?P<alt>{aa}|=|\?)",
        "deletion": rf"(?P<ref>{aa})(?P<start>\d+)(?:_{pos})?del",
        "duplication": rf"(?P<ref>{aa})(?P<start>\d+)(?:_{pos})?dup",
        "insertion": rf"(?P<ref>{aa})(?P<start>\d+)_{pos}ins(?:{seq}|\d+|\(\d+\)|{aa}\[\d+\])",
        "delins": rf"(?P<ref>{aa})(?P<start>\d+)(?:_{pos})?delins{seq}",
        "frameshift": rf"(?P<ref>{aa})(?P<start>\d+)(?:{aa})?fs(?:{_STOP}(?:\d+|\?))?",
        "extension": (
            rf"(?:(?P<ref>Met|M)(?P<start>1)ext-\d+"
            rf"|(?P<stop>{_STOP})\d+(?:{aa})?ext(?:{_STOP})?(?:\d+|\?))"
        ),
        "repeat": rf"{interval}\[\d+\]",
    }
    return {kind: re.compile(rf"^(?:{body})$", re.IGNORECASE) for kind, body in forms.items()}


_GRAMMARS = (_grammar(_THREE), _grammar(_ONE))
_THREE_RE = re.compile(_THREE, re.IGNORECASE)
_KEYWORDS = ("delins", "del", "dup", "ins", "fs", "ext")
_SPECIAL = {"?": "p.?", "0": "p.0", "0?": "p.0", "=": "p.="}


@dataclass(frozen=True)
class ProteinChange:
    canonical: str  # "p.Asp538Gly"
    accession: str  # "NP_000116.2", or "" when none was given
    kind: str  # missense, nonsense, synonymous, deletion, ..., unknown, no_protein, allele
    start: int | None = None  # the first residue changed
    ref: str = ""  # 3-letter
    alt: str = ""  # 3-letter, for substitutions


def _three(token: str) -> str:
    if len(token) == 1:
        return AA3[token.upper()]
    return AA3_UPPER[token.upper()]


def _canonical_tokens(text: str, one_letter: bool) -> str:
    """Rewrite every amino acid to its 3-letter code, keeping numbers and keywords.

    After `ins`/`delins` only residues follow, so no keyword is looked for there (a 1-letter
    insertion "insFSQ" is Phe-Ser-Gln, not a frameshift).
    """
    out, i, residues_only = [], 0, False
    while i < len(text):
        keyword = None
        if not residues_only:
            lowered = text[i:].lower()
            keyword = next((k for k in _KEYWORDS if lowered.startswith(k)), None)
        if keyword is not None and (one_letter or not _THREE_RE.match(text, i)):
            out.append(keyword)
            i += len(keyword)
            residues_only = keyword in ("ins", "delins")
            continue
        if text[i].isdigit() or text[i] in "_-[]()?=":
            out.append(text[i])
            i += 1
            continue
        match = None if one_letter else _THREE_RE.match(text, i)
        token = match.group(0) if match else text[i]
        out.append(_three(token))
        i += len(token)
    return "".join(out)


def _parse_body(body: str, value: str) -> tuple[str, str, int | None, str, str]:
    """(canonical body, kind, start, ref, alt) of one change, without 'p.' or parentheses."""
    if body in _SPECIAL:
        kind = {"?": "unknown", "0": "no_protein", "0?": "no_protein", "=": "no_change"}[body]
        return _SPECIAL[body][2:], kind, None, "", ""
    for one_letter, grammar in enumerate(_GRAMMARS):
        for kind, pattern in grammar.items():
            match = pattern.match(body)
            if match is None:
                continue
            canonical = _canonical_tokens(body, bool(one_letter))
            groups = match.groupdict()
            ref = _three(groups["ref"]) if groups.get("ref") else ""
            if groups.get("stop"):
                ref = "Ter"
            start = int(groups["start"]) if groups.get("start") else None
            alt = ""
            if kind == "substitution":
                raw_alt = groups["alt"]
                alt = raw_alt if raw_alt in ("=", "?") else _three(raw_alt)
                if alt == "=" or alt == ref:
                    kind = "synonymous"
                elif alt == "?":
                    kind = "unknown"
                elif alt == "Ter":
                    kind = "nonsense"
                else:
                    kind = "missense"
            if "Xaa" in canonical and kind == "missense":
                kind = "unknown"
            return canonical, kind, start, ref, alt
    raise ValueError(NOT_HGVS_P.format(value=value))


def parse_protein_change(value: str) -> ProteinChange:
    """The change read from any HGVS protein spelling, or ValueError naming the value.

    Cached: a lab file repeats the same few changes thousands of times.
    """
    return _parse_cached(str(value))


@lru_cache(maxsize=8192)
def _parse_cached(value: str) -> ProteinChange:
    # HGVS is ASCII. Full-width forms (a CJK input method) fold to it; any other non-ASCII
    # character is refused: Python's \d matches every script's digits, and p.Asp538Gly
    # written in Arabic-Indic digits, kept as such, would match no allow-listed change.
    text = unicodedata.normalize("NFKC", value).strip()
    if not text or len(text) > MAX_INPUT or not text.isascii() or any(c.isspace() for c in text):
        raise ValueError(NOT_HGVS_P.format(value=value))
    if text.startswith("(") and text.endswith(")") and text[1:3].lower() == "p.":
        text = text[1:-1]  # "(p.Asp538Gly)"
    accession = ""
    prefix = _PREFIX.match(text)
    if prefix:
        accession = prefix["acc"]
        text = text[prefix.end() :]
    if text[:2].lower() == "p.":
        text = text[2:]
    elif accession:
        raise ValueError(NOT_HGVS_P.format(value=value))  # "NP_000116.2:D538G" is not HGVS
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]  # a predicted change: the same change for matching
    if text.startswith("[") and text.endswith("]") and ";" in text:
        parts = [_parse_body(_unwrap(part), value)[0] for part in text[1:-1].split(";")]
        return ProteinChange(canonical=f"p.[{';'.join(parts)}]", accession=accession, kind="allele")
    canonical, kind, start, ref, alt = _parse_body(text, value)
    return ProteinChange(
        canonical=f"p.{canonical}", accession=accession, kind=kind, start=start, ref=ref, alt=alt
    )


def _unwrap(part: str) -> str:
    part = part.strip()
    return part[1:-1] if part.startswith("(") and part.endswith(")") else part


def normalise_protein_change(value: str) -> str:
    """Canonical 3-letter form, or ValueError with a message naming the value."""
    return parse_protein_change(value).canonical
