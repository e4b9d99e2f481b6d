"""HGVS protein changes in one canonical form (pure, no Django).

"p.Asp538Gly", "p.(Asp538Gly)", "D538G", "p.D538G" and "Asp538Gly" are one change and all
normalise to "p.Asp538Gly"; deletions ("p.(Val422del)", "V422del") to "p.Val422del"; stop
gains ("Y537*", "p.Tyr537Ter") to "p.Tyr537Ter". A change this module does not parse is
refused with a message, so two spellings of one variant can never be stored as two.
"""

from __future__ import annotations

import re

AA3 = {
    "A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "Q": "Gln", "E": "Glu",
    "G": "Gly", "H": "His", "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe",
    "P": "Pro", "S": "Ser", "T": "Thr", "W": "Trp", "Y": "Tyr", "V": "Val", "*": "Ter",
    "X": "Ter", "U": "Sec",
}  # fmt: skip
AA3_UPPER = {three.upper(): three for three in AA3.values()}
_AA = r"(?:[A-Z][a-z]{2}|[A-Z*])"
_CHANGE = re.compile(rf"^(?P<ref>{_AA})(?P<pos>\d+)(?P<alt>{_AA}|del|dup|=|fs\*?\d*)$")

NOT_HGVS_P = (
    "'{value}' is not an HGVS protein change this product reads "
    "(for example p.Asp538Gly, p.(Asp538Gly), D538G or p.Val422del)."
)


def _three(aa: str) -> str | None:
    if len(aa) == 1:
        return AA3.get(aa.upper())
    return AA3_UPPER.get(aa.upper())


def normalise_protein_change(value: str) -> str:
    """Canonical 3-letter form, or ValueError with a message naming the value."""
    text = value.strip()
    if text.lower().startswith("p."):
        text = text[2:]
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    if re.fullmatch(r"[A-Za-z*]\d+[A-Za-z*]", text):
        text = text.upper()  # one-letter codes in any case: "y537s" is Y537S
    match = _CHANGE.match(text)
    if match is None:
        raise ValueError(NOT_HGVS_P.format(value=value))
    ref = _three(match["ref"])
    alt_raw = match["alt"]
    alt = alt_raw if alt_raw in ("del", "dup", "=") or alt_raw.startswith("fs") else _three(alt_raw)
    if ref is None or alt is None:
        raise ValueError(NOT_HGVS_P.format(value=value))
    return f"p.{ref}{match['pos']}{alt}"
