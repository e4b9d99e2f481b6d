"""Validation of one lab report, whatever it arrived as (JSON, a CSV group, a VCF).

Pure: no ORM, no clock (today is passed in). Every problem is reported at once, keyed by
the field's path ("patient.mrn", "variants[0].vaf"), so a lab fixes a report in one pass.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from liquidbiopsy.hgvs import normalise_protein_change

STATUSES = ("final", "amended", "corrected", "cancelled")
QC_STATUSES = ("pass", "fail", "insufficient")
POSITION_FIELDS = ("genome_build", "chrom", "pos", "ref", "alt")

REQUIRED = "This field is required."
NOT_TEXT = "Must be a non-empty text of at most {n} characters."
NOT_DATE = "Must be a date as YYYY-MM-DD."
DATE_FUTURE = "Cannot be in the future."
COLLECTED_AFTER_REPORTED = "Collection date is after the report date ({reported})."
NOT_INT = "Must be a whole number of at least {n}."
NOT_NUMBER = "Must be a number."
CHOICE = "Must be one of: {choices}."
VAF_BOTH = "Give the allele fraction once: either vaf (a fraction) or vaf_percent, not both."
VAF_NONE = "Allele fraction missing: give vaf (a fraction, 0 < vaf <= 1) or vaf_percent (0-100)."
VAF_RANGE = "vaf is a fraction: 0 < vaf <= 1 (for a percentage use vaf_percent)."
VAF_PERCENT_RANGE = "vaf_percent is a percentage: 0 < vaf_percent <= 100."
TUMOR_FRACTION_RANGE = "tumor_fraction is a fraction between 0 and 1."
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
    if not isinstance(value, str | int) or isinstance(value, bool) or len(str(value).strip()) > n:
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


def _int(value: Any, path: str, errors: _Errors, *, minimum: int) -> int | None:
    if isinstance(value, bool):
        errors.add(path, NOT_INT.format(n=minimum))
        return None
    try:
        number = int(value) if isinstance(value, int | str) else None
    except ValueError:
        number = None
    if number is None or str(value).strip() != str(number) or number < minimum:
        errors.add(path, NOT_INT.format(n=minimum))
        return None
    return number


def _decimal(value: Any, path: str, errors: _Errors) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        errors.add(path, NOT_NUMBER)
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        errors.add(path, NOT_NUMBER)
        return None
    if not number.is_finite():
        errors.add(path, NOT_NUMBER)
        return None
    return number


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
    before = sum(len(v) for v in errors.values())
    gene = _text(raw, "gene", f"{path}.gene", errors, n=32).upper()
    hgvs_p = ""
    if raw.get("hgvs_p") not in (None, ""):
        try:
            hgvs_p = normalise_protein_change(str(raw["hgvs_p"]))
        except ValueError as exc:
            errors.add(f"{path}.hgvs_p", str(exc))
    given = [f for f in POSITION_FIELDS if raw.get(f) not in (None, "")]
    if given and len(given) < len(POSITION_FIELDS):
        missing = ", ".join(f for f in POSITION_FIELDS if f not in given)
        errors.add(path, POSITION_PARTIAL.format(missing=missing))
    elif not given and raw.get("hgvs_p") in (None, ""):
        errors.add(path, NO_LOCATION)
    pos = None
    if raw.get("pos") not in (None, ""):
        pos = _int(raw["pos"], f"{path}.pos", errors, minimum=1)
    chrom = str(raw.get("chrom") or "").strip().removeprefix("chr")

    has_vaf = raw.get("vaf") not in (None, "")
    has_pct = raw.get("vaf_percent") not in (None, "")
    vaf = None
    if has_vaf and has_pct:
        errors.add(path, VAF_BOTH)
    elif not has_vaf and not has_pct:
        errors.add(path, VAF_NONE)
    elif has_vaf:
        vaf = _decimal(raw["vaf"], f"{path}.vaf", errors)
        if vaf is not None and not Decimal(0) < vaf <= Decimal(1):
            errors.add(f"{path}.vaf", VAF_RANGE)
            vaf = None
    else:
        percent = _decimal(raw["vaf_percent"], f"{path}.vaf_percent", errors)
        if percent is not None and not Decimal(0) < percent <= Decimal(100):
            errors.add(f"{path}.vaf_percent", VAF_PERCENT_RANGE)
        elif percent is not None:
            vaf = percent / Decimal(100)
    depth = None
    if raw.get("depth") not in (None, ""):
        depth = _int(raw["depth"], f"{path}.depth", errors, minimum=0)
    if sum(len(v) for v in errors.values()) != before or vaf is None:
        return None
    return CleanVariant(
        gene=gene,
        hgvs_p=hgvs_p,
        hgvs_c=_text(raw, "hgvs_c", f"{path}.hgvs_c", errors, n=100, required=False),
        transcript=_text(raw, "transcript", f"{path}.transcript", errors, n=32, required=False),
        genome_build=_text(
            raw, "genome_build", f"{path}.genome_build", errors, n=16, required=False
        ),
        chrom=chrom,
        pos=pos,
        ref=str(raw.get("ref") or "").strip().upper(),
        alt=str(raw.get("alt") or "").strip().upper(),
        vaf=vaf,
        depth=depth,
    )


def validate_report(payload: Any, *, today: dt.date) -> tuple[CleanReport | None, dict]:
    """(the clean report, {}) or (None, {path: [messages]}) with every error found."""
    errors = _Errors()
    if not isinstance(payload, dict):
        errors.add("non_field_errors", "A report must be a JSON object.")
        return None, dict(errors)
    if "\\u0000" in json.dumps(payload, default=str):  # the stored payload could not hold it
        errors.add("non_field_errors", "The report contains a NUL (\\u0000) character.")
        return None, dict(errors)
    report_id = _text(payload, "report_id", "report_id", errors, n=64)
    version = None
    if payload.get("version") in (None, ""):
        errors.add("version", REQUIRED)
    else:
        version = _int(payload["version"], "version", errors, minimum=1)
    status = _choice(payload, "status", "status", STATUSES, errors)
    accession = _text(payload, "accession", "accession", errors, n=64)
    patient = payload.get("patient")
    mrn, dob = "", None
    if not isinstance(patient, dict):
        errors.add("patient", REQUIRED if patient is None else NOT_OBJECT)
    else:
        mrn = _text(patient, "mrn", "patient.mrn", errors, n=32)
        dob = _date(patient, "date_of_birth", "patient.date_of_birth", errors)
    collected_on = _date(payload, "collected_on", "collected_on", errors)
    reported_on = _date(payload, "reported_on", "reported_on", errors)
    for key, day in (("collected_on", collected_on), ("reported_on", reported_on)):
        if day is not None and day > today:
            errors.add(key, DATE_FUTURE)
    if collected_on and reported_on and collected_on > reported_on:
        errors.add("collected_on", COLLECTED_AFTER_REPORTED.format(reported=reported_on))
    assay = _text(payload, "assay", "assay", errors, n=100)
    qc_status = _choice(payload, "qc_status", "qc_status", QC_STATUSES, errors)
    tumor_fraction = None
    if payload.get("tumor_fraction") not in (None, ""):
        tumor_fraction = _decimal(payload["tumor_fraction"], "tumor_fraction", errors)
        if tumor_fraction is not None and not Decimal(0) <= tumor_fraction <= Decimal(1):
            errors.add("tumor_fraction", TUMOR_FRACTION_RANGE)
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
