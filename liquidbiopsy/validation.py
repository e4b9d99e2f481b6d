"""Validation of one lab report, whatever it arrived as (JSON, a CSV group, a VCF).

Pure: no ORM, no clock (today is passed in). Every problem is reported at once, keyed by
the field's path ("patient.mrn", "variants[0].vaf"), so a lab fixes a report in one pass.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.conf import settings

from liquidbiopsy import bounds as b
from liquidbiopsy.coordinates import MAX_POSITION, normalise_build, normalise_chrom
from liquidbiopsy.esr1 import load_allowlist
from liquidbiopsy.hgvs import parse_protein_change

STATUSES = ("final", "amended", "corrected", "cancelled")
QC_STATUSES = ("pass", "fail", "insufficient")
POSITION_FIELDS = ("genome_build", "chrom", "pos", "ref", "alt")

REQUIRED = "This field is required."
NOT_TEXT = "Must be a non-empty text of at most {n} characters."
NOT_DATE = "Must be a date as YYYY-MM-DD."
DATE_FUTURE = "Cannot be in the future."
COLLECTED_AFTER_REPORTED = "Collection date is after the report date ({reported})."
NOT_INT = "Must be a whole number from {n} to {m}."
NOT_NUMBER = "Must be a number."
CHOICE = "Must be one of: {choices}."
# The switch rule judges each ESR1 change on its own (allow-list, floor, persistence): an
# allele naming several, "p.[Asp538Gly;Tyr537Ser]", would match none of them and read as no
# mutation, so it is refused with a way to send it.
ESR1_ALLELE = (
    "{value} names several ESR1 changes in one allele: send each change as its own variant "
    "(with the allele fraction measured for it), so that each is judged."
)
VAF_BOTH = "Give the allele fraction once: either vaf (a fraction) or vaf_percent, not both."
VAF_NONE = "Allele fraction missing: give vaf (a fraction, 0 < vaf <= 1) or vaf_percent (0-100)."
VAF_RANGE = "vaf is a fraction: 0 < vaf <= 1 (for a percentage use vaf_percent)."
VAF_PERCENT_RANGE = "vaf_percent is a percentage: 0 < vaf_percent <= 100."
TUMOR_FRACTION_RANGE = (
    "tumor_fraction is a fraction between 0 and 1 (for a percentage use tumor_fraction_percent)."
)
TUMOR_FRACTION_PERCENT_RANGE = "tumor_fraction_percent is a percentage between 0 and 100."
TUMOR_FRACTION_BOTH = (
    "Give the tumour fraction once: either tumor_fraction (a fraction) or "
    "tumor_fraction_percent, not both."
)
FRACTION_TOO_SMALL = (
    "{field} is smaller than the smallest fraction stored (1e-10); check the value and its unit."
)
NOT_ALLELE = "Must be bases A, C, G, T or N (at most {n})."
HGVS_TOO_LONG = "The protein change is longer than {n} characters."
NOT_PAYLOAD = "The report cannot be read (a number too long, or nesting too deep)."
NO_LOCATION = (
    "Give a protein change (hgvs_p) or a full genomic position "
    "(genome_build, chrom, pos, ref, alt)."
)
POSITION_PARTIAL = (
    "A genomic position needs all of genome_build, chrom, pos, ref and alt; missing: {missing}."
)
VARIANTS_WITH_FAILED_QC = "A report whose QC status is '{qc}' carries no variants."
VARIANT_TWICE = "The same variant appears twice in this report (also at variants[{other}])."
NOT_OBJECT = "Must be an object."
NOT_LIST = "Must be a list (empty when nothing was detected)."
NUL_CHARACTER = "Must not contain NUL (\\u0000) characters."
NOT_GENE_SYMBOL = (
    "Must be a gene symbol alone (HGNC, e.g. ESR1): letters, digits, - . _ or @; the "
    "transcript goes in transcript."
)
GENE_CONTRADICTS_ESR1 = (
    "Names {gene}, but its {what} is ESR1's: send gene ESR1, or correct the call."
)


@dataclass(frozen=True)
class CleanVariant:
    gene: str
    hgvs_p: str
    hgvs_c: str
    transcript: str
    genome_build: str
    chrom: str
    pos: int | None
    ref: str
    alt: str
    vaf: Decimal  # always a fraction, whichever way the lab sent it
    depth: int | None
    filter: str = ""  # the caller's FILTER ("PASS", a filter name); "" when not given or "."


@dataclass(frozen=True)
class CleanReport:
    report_id: str
    version: int
    status: str
    accession: str
    mrn: str
    date_of_birth: dt.date
    collected_on: dt.date
    reported_on: dt.date
    assay: str
    qc_status: str
    tumor_fraction: Decimal | None
    variants: tuple[CleanVariant, ...]


class _Errors(dict):
    def add(self, path: str, message: str) -> None:
        self.setdefault(path, []).append(message)


def _text(data: dict, key: str, path: str, errors: _Errors, *, n: int, required=True) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            errors.add(path, REQUIRED)
        return ""
    if (
        not isinstance(value, str | int)
        or isinstance(value, bool)
        or (isinstance(value, int) and abs(value).bit_length() > 200)
        or len(str(value).strip()) > n
    ):
        errors.add(path, NOT_TEXT.format(n=n))
        return ""
    text = str(value).strip()
    if "\x00" in text:
        errors.add(path, NUL_CHARACTER)
        return ""
    if required and not text:
        errors.add(path, REQUIRED)
    return text


def _date(data: dict, key: str, path: str, errors: _Errors) -> dt.date | None:
    value = data.get(key)
    if value in (None, ""):
        errors.add(path, REQUIRED)
        return None
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        errors.add(path, NOT_DATE)
        return None


def _int(value: Any, path: str, errors: _Errors, *, minimum: int, maximum: int) -> int | None:
    """A whole number within its column's range; text is read only when it is plain digits."""
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and len(value.strip()) <= 20:
        text = value.strip()
        if text.lstrip("-").isdigit() and text.lstrip("-").isascii():
            number = int(text)
            if str(number) != text:
                number = None  # "007", "+7": not a number as JSON would carry it
    if number is None or not minimum <= number <= maximum:
        errors.add(path, NOT_INT.format(n=minimum, m=maximum))
        return None
    return number


def _decimal(value: Any, path: str, errors: _Errors) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        errors.add(path, NOT_NUMBER)
        return None
    if (isinstance(value, str) and len(value) > 40) or (
        isinstance(value, int) and abs(value).bit_length() > 64
    ):
        errors.add(path, NOT_NUMBER)
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        errors.add(path, NOT_NUMBER)
        return None
    if not number.is_finite() or abs(number.adjusted()) > 40:
        errors.add(path, NOT_NUMBER)
        return None
    return number


def _fraction(
    data: dict, key: str, percent_key: str, path: str, errors: _Errors, *, allow_zero: bool
) -> tuple[Decimal | None, bool]:
    """(the fraction, given) from exactly one of `key` (0-1) or `percent_key` (0-100).

    The value is rounded to the column's 1e-10; a non-zero value that rounds to zero is an
    error, never stored as zero (0 is "not detected", a different result).
    """
    has_fraction = data.get(key) not in (None, "")
    has_percent = data.get(percent_key) not in (None, "")
    if has_fraction and has_percent:
        errors.add(path or key, VAF_BOTH if key == "vaf" else TUMOR_FRACTION_BOTH)
        return None, True
    if not has_fraction and not has_percent:
        return None, False
    field = key if has_fraction else percent_key
    field_path = f"{path}.{field}" if path else field
    number = _decimal(data[field], field_path, errors)
    if number is None:
        return None, True
    scale = Decimal(1) if has_fraction else Decimal(100)
    low_ok = number >= 0 if allow_zero else number > 0
    if not (low_ok and number <= scale):
        messages = {
            "vaf": VAF_RANGE,
            "vaf_percent": VAF_PERCENT_RANGE,
            "tumor_fraction": TUMOR_FRACTION_RANGE,
            "tumor_fraction_percent": TUMOR_FRACTION_PERCENT_RANGE,
        }
        errors.add(field_path, messages[field])
        return None, True
    fraction = (number / scale).quantize(b.FRACTION_QUANTUM, rounding=ROUND_HALF_EVEN)
    if number != 0 and fraction == 0:
        errors.add(field_path, FRACTION_TOO_SMALL.format(field=field))
        return None, True
    return fraction, True


def _choice(data: dict, key: str, path: str, choices, errors: _Errors) -> str:
    value = data.get(key)
    if value in (None, ""):
        errors.add(path, REQUIRED)
        return ""
    if value not in choices:
        errors.add(path, CHOICE.format(choices=", ".join(choices)))
        return ""
    return value


def _variant(raw: Any, index: int, errors: _Errors) -> CleanVariant | None:
    path = f"variants[{index}]"
    if not isinstance(raw, dict):
        errors.add(path, NOT_OBJECT)
        return None
    key = _identity_key(raw)
    identity, before_vaf, after_vaf = _identity(raw) if key is None else _identity_cached(key)
    for suffix, message in before_vaf:
        errors.add(path + suffix, message)
    before = sum(len(v) for v in errors.values())
    vaf, given_vaf = _fraction(raw, "vaf", "vaf_percent", path, errors, allow_zero=False)
    if not given_vaf:
        errors.add(path, VAF_NONE)
    depth = None
    if raw.get("depth") not in (None, ""):
        depth = _int(raw["depth"], f"{path}.depth", errors, minimum=0, maximum=b.MAX_DEPTH)
    for suffix, message in after_vaf:
        errors.add(path + suffix, message)
    if before_vaf or after_vaf or sum(len(v) for v in errors.values()) != before or vaf is None:
        return None
    gene, hgvs_p, hgvs_c, transcript, build, chrom, pos, ref, alt, filter_value = identity
    if gene != ESR1 and pos is not None and _at_esr1_hotspot(build, chrom, pos, ref, alt):
        errors.add(path + ".gene", GENE_CONTRADICTS_ESR1.format(gene=gene, what="position"))
        return None
    return CleanVariant(
        gene=gene,
        hgvs_p=hgvs_p,
        hgvs_c=hgvs_c,
        transcript=transcript,
        genome_build=build,
        chrom=chrom,
        pos=pos,
        ref=ref,
        alt=alt,
        vaf=vaf,
        depth=depth,
        filter=filter_value,
    )


# What a call names, as opposed to what was measured (vaf, depth): checked once per distinct
# value in a file, since a file's hotspots recur across its reports.
_IDENTITY_FIELDS = (
    "gene",
    "hgvs_p",
    "hgvs_c",
    "transcript",
    "genome_build",
    "chrom",
    "pos",
    "ref",
    "alt",
    "filter",
)
_CACHEABLE = frozenset((str, int, float, bool, type(None)))
# Larger (odd) calls are checked uncached: the cache stays within ~16384 x 2 KB.
_CACHE_MAX_BYTES = 1024

_Problems = tuple[tuple[str, str], ...]  # (path suffix after "variants[i]", message)


def _identity_key(raw: dict) -> tuple | None:
    """The call's identity fields as a cache key, type included (1, 1.0, True and "1" are
    different inputs); None when a value is not a small plain scalar. Absent and null read
    alike, as in _identity."""
    values = tuple(map(raw.get, _IDENTITY_FIELDS))
    kinds = tuple(map(type, values))
    if not _CACHEABLE.issuperset(kinds):
        return None
    if sum(map(sys.getsizeof, values)) > _CACHE_MAX_BYTES:
        return None
    return kinds, values


@lru_cache(maxsize=16384)
def _identity_cached(key: tuple) -> tuple[tuple, _Problems, _Problems]:
    return _identity(dict(zip(_IDENTITY_FIELDS, key[1], strict=True)))


def _identity(raw: dict) -> tuple[tuple, _Problems, _Problems]:
    """(gene, hgvs_p, hgvs_c, transcript, build, chrom, pos, ref, alt, filter), with the
    problems found before the allele fraction is read and after it (in that order, so a
    report's errors list in the order of its fields)."""
    errors = _Errors()
    gene = _gene(_text(raw, "gene", ".gene", errors, n=b.GENE_CHARS), errors)
    hgvs_p, protein_accession = "", ""
    if raw.get("hgvs_p") not in (None, ""):
        try:
            change = parse_protein_change(str(raw["hgvs_p"])[:400])
        except ValueError as exc:
            errors.add(".hgvs_p", str(exc))
        else:
            hgvs_p, protein_accession = change.canonical, change.accession
            if len(hgvs_p) > b.HGVS_CHARS:
                errors.add(".hgvs_p", HGVS_TOO_LONG.format(n=b.HGVS_CHARS))
            elif change.kind == "allele" and gene == "ESR1":
                errors.add(".hgvs_p", ESR1_ALLELE.format(value=hgvs_p))
    given = [f for f in POSITION_FIELDS if raw.get(f) not in (None, "")]
    if given and len(given) < len(POSITION_FIELDS):
        missing = ", ".join(f for f in POSITION_FIELDS if f not in given)
        errors.add("", POSITION_PARTIAL.format(missing=missing))
    elif not given and raw.get("hgvs_p") in (None, ""):
        errors.add("", NO_LOCATION)
    build = ""
    if raw.get("genome_build") not in (None, ""):
        try:
            build = normalise_build(_plain(raw["genome_build"]))
        except ValueError as exc:
            errors.add(".genome_build", str(exc))
    chrom = ""
    if raw.get("chrom") not in (None, ""):
        try:
            chrom = normalise_chrom(_plain(raw["chrom"]), build or None)
        except ValueError as exc:
            errors.add(".chrom", str(exc))
    pos = None
    if raw.get("pos") not in (None, ""):
        pos = _int(raw["pos"], ".pos", errors, minimum=1, maximum=MAX_POSITION)
    ref = _allele(raw, "ref", "", errors)
    alt = _allele(raw, "alt", "", errors)
    before_vaf = _problems(errors)
    errors = _Errors()
    filter_value = _text(raw, "filter", ".filter", errors, n=b.FILTER_CHARS, required=False)
    hgvs_c = _text(raw, "hgvs_c", ".hgvs_c", errors, n=b.HGVS_CHARS, required=False)
    transcript = _text(
        raw, "transcript", ".transcript", errors, n=b.TRANSCRIPT_CHARS, required=False
    )
    if (
        not transcript
        and protein_accession.upper().startswith(("NP_", "XP_", "ENSP", "NM_", "ENST"))
        and len(protein_accession) <= b.TRANSCRIPT_CHARS
    ):
        transcript = protein_accession  # "NP_000116.2:p.(...)": the protein it is numbered on
    if gene and gene != ESR1 and _esr1_reference(transcript):
        errors.add(".gene", GENE_CONTRADICTS_ESR1.format(gene=gene, what="transcript"))
    identity = (
        gene,
        hgvs_p,
        hgvs_c,
        transcript,
        build,
        chrom,
        pos,
        ref,
        alt,
        _filter(filter_value),
    )
    return identity, before_vaf, _problems(errors)


ESR1 = "ESR1"
# HGNC's previous and alias symbols of ESR1: a call under one of them is an ESR1 call.
ESR1_ALIASES = frozenset({"ESR", "ESRA", "NR3A1"})
# ESR1's reference sequences (DESIGN §5): a call numbered on one of them is an ESR1 call.
ESR1_REFERENCES = ("NM_000125", "ENST00000206249", "NP_000116", "ENSP00000206249")
# HGNC symbols (C1orf112, HLA-A) and the clone names some annotators give (AC012345.1).
_GENE_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9._@-]*")


def _gene(text: str, errors: _Errors) -> str:
    """The gene symbol as stored: upper case, with what a LIMS or a paste adds invisibly taken
    off (compatibility forms such as full-width letters folded, format characters such as a
    zero-width space or a byte-order mark removed), an ESR1 alias read as ESR1. Anything but
    a bare symbol (a transcript in brackets, say) is an error naming the field: a label the
    product would not recognise must never turn an ESR1 call into "not detected"."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", text)
    folded = "".join(c for c in folded if unicodedata.category(c) != "Cf").strip().upper()
    if not _GENE_SYMBOL.fullmatch(folded):
        errors.add(".gene", NOT_GENE_SYMBOL)
        return ""
    return ESR1 if folded in ESR1_ALIASES else folded


def _at_esr1_hotspot(build: str, chrom: str, pos: int, ref: str, alt: str) -> bool:
    """Whether a position and its alleles are an allow-listed ESR1 variant (the list in use)."""
    allowlist = load_allowlist(str(settings.ESR1_ALLOWLIST_PATH))
    return allowlist.at_position(build, chrom, pos, ref, alt) is not None


def _esr1_reference(transcript: str) -> bool:
    return transcript.split(":")[0].split(".")[0].upper() in ESR1_REFERENCES


def _filter(value: str) -> str:
    """The caller's FILTER as stored: "" for none or ".", "PASS" for PASS in any case (a lab
    writing "pass" must not hide its call as a filtered one), any other name as written."""
    stripped = value.strip()
    if stripped in ("", "."):
        return ""
    return "PASS" if stripped.upper() == "PASS" else value


def _problems(errors: _Errors) -> _Problems:
    return tuple((path, message) for path, messages in errors.items() for message in messages)


def _plain(value: Any) -> str:
    """A short text form of a scalar for the coordinate readers (which name it in errors)."""
    if isinstance(value, str):
        return value[:64]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value).bit_length() < 64:
        return str(value)
    return "?"


def _allele(raw: dict, key: str, path: str, errors: _Errors) -> str:
    value = raw.get(key)
    if value in (None, ""):
        return ""
    text = value.strip().upper() if isinstance(value, str) else ""
    if not text or len(text) > b.ALLELE_CHARS or text.strip("ACGTN"):
        errors.add(f"{path}.{key}", NOT_ALLELE.format(n=b.ALLELE_CHARS))
        return ""
    return text


def report_identity(payload: Any) -> tuple[str, str, dt.date] | None:
    """(accession, mrn, date of birth) read as validate_report reads them, or None when any
    of them is invalid: a report with other field errors can still be matched to its draw,
    so a file's identity errors come in the same answer as its field errors."""
    if not isinstance(payload, dict) or not isinstance(payload.get("patient"), dict):
        return None
    errors = _Errors()
    accession = _text(payload, "accession", "accession", errors, n=b.ACCESSION_CHARS)
    patient = payload["patient"]
    mrn = _text(patient, "mrn", "patient.mrn", errors, n=b.MRN_CHARS)
    dob = _date(patient, "date_of_birth", "patient.date_of_birth", errors)
    if errors or dob is None:
        return None
    return accession, mrn, dob


def validate_report(
    payload: Any, *, today: dt.date, text: str | None = None
) -> tuple[CleanReport | None, dict]:
    """(the clean report, {}) or (None, {path: [messages]}) with every error found.

    `text`: the payload as JSON text (json.dumps with default=str, any key order or
    spacing), when the caller has made it already (a file's digests); else it is made here."""
    errors = _Errors()
    if not isinstance(payload, dict):
        errors.add("non_field_errors", "A report must be a JSON object.")
        return None, dict(errors)
    if text is None:
        try:
            text = json.dumps(payload, default=str)
        except (ValueError, RecursionError):  # a 5,000-digit number, or nesting past the limit
            errors.add("non_field_errors", NOT_PAYLOAD)
            return None, dict(errors)
    if "\\u0000" in text:  # the stored payload could not hold it
        errors.add("non_field_errors", "The report contains a NUL (\\u0000) character.")
        return None, dict(errors)
    report_id = _text(payload, "report_id", "report_id", errors, n=b.REPORT_ID_CHARS)
    version = None
    if payload.get("version") in (None, ""):
        errors.add("version", REQUIRED)
    else:
        version = _int(payload["version"], "version", errors, minimum=1, maximum=b.MAX_VERSION)
    status = _choice(payload, "status", "status", STATUSES, errors)
    accession = _text(payload, "accession", "accession", errors, n=b.ACCESSION_CHARS)
    patient = payload.get("patient")
    mrn, dob = "", None
    if not isinstance(patient, dict):
        errors.add("patient", REQUIRED if patient is None else NOT_OBJECT)
    else:
        mrn = _text(patient, "mrn", "patient.mrn", errors, n=b.MRN_CHARS)
        dob = _date(patient, "date_of_birth", "patient.date_of_birth", errors)
    collected_on = _date(payload, "collected_on", "collected_on", errors)
    reported_on = _date(payload, "reported_on", "reported_on", errors)
    for key, day in (("collected_on", collected_on), ("reported_on", reported_on)):
        if day is not None and day > today:
            errors.add(key, DATE_FUTURE)
    if collected_on and reported_on and collected_on > reported_on:
        errors.add("collected_on", COLLECTED_AFTER_REPORTED.format(reported=reported_on))
    assay = _text(payload, "assay", "assay", errors, n=b.ASSAY_CHARS)
    qc_status = _choice(payload, "qc_status", "qc_status", QC_STATUSES, errors)
    tumor_fraction, _ = _fraction(
        payload, "tumor_fraction", "tumor_fraction_percent", "", errors, allow_zero=True
    )
    raw_variants = payload.get("variants")
    variants: list[CleanVariant] = []
    if raw_variants is None:
        errors.add("variants", REQUIRED)
    elif not isinstance(raw_variants, list):
        errors.add("variants", NOT_LIST)
    else:
        if raw_variants and qc_status in ("fail", "insufficient"):
            errors.add("variants", VARIANTS_WITH_FAILED_QC.format(qc=qc_status))
        seen: dict[tuple, int] = {}
        for index, raw in enumerate(raw_variants):
            variant = _variant(raw, index, errors)
            if variant is None:
                continue
            key = (
                variant.gene,
                variant.hgvs_p or (variant.chrom, variant.pos, variant.ref, variant.alt),
            )
            if key in seen:
                errors.add(f"variants[{index}]", VARIANT_TWICE.format(other=seen[key]))
            seen[key] = index
            variants.append(variant)
    if errors:
        return None, dict(errors)
    return (
        CleanReport(
            report_id=report_id,
            version=version,
            status=status,
            accession=accession,
            mrn=mrn,
            date_of_birth=dob,
            collected_on=collected_on,
            reported_on=reported_on,
            assay=assay,
            qc_status=qc_status,
            tumor_fraction=tumor_fraction,
            variants=tuple(variants),
        ),
        {},
    )
