"""Structural parsing of bulk lab uploads (CSV and VCF) into the JSON report shape.

Labs may upload a CSV or a VCF instead of posting JSON (DESIGN.md §6). These parsers only turn
bytes into report dicts shaped exactly like the JSON body, so that one validator checks all
three formats alike and names fields alike. They check structure (columns, cells, grouping,
VCF layout) and nothing clinical: a date in the future or a VAF of 250 is passed through for
the validator to reject under the field's name.

Conventions shared by both parsers:

1. Empty values are omitted. An empty CSV cell, an empty ``##key=`` value or a VCF "." leaves
   its key out of the dict (``tumor_fraction`` included), exactly like a JSON body that leaves
   the field out; the validator then reports a required field as missing. ``patient`` and
   ``variants`` are always present, possibly empty.
2. Numbers are converted only when the text is a clean decimal number, as JSON would carry it:
   ``version``, ``tumor_fraction``, ``pos``, ``depth``, ``vaf`` and ``vaf_percent`` become an
   int when written as an integer and a float otherwise. Anything else ("0,42", "n/a", "1e999")
   stays a string, so the validator rejects it by field name. Every value is stripped of
   surrounding whitespace.
3. Provenance: each report carries ``_lines`` (sorted 1-based source lines that made it up) and
   each variant ``_line``, so that the validator's errors can name lines. Callers strip them
   before storing or comparing with a JSON body.
4. Reports are returned even when ``errors`` is not empty, so the caller can also run the
   validator and answer with every problem at once; nothing may be stored unless ``errors`` is
   empty. Errors after which the rest of the file cannot be trusted (size, encoding, row limit,
   a bad header, unreadable CSV quoting) return no reports.
5. No input makes a parser raise: every problem is a ``ParseError``.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000

REPORT_FIELDS = (
    "report_id",
    "version",
    "status",
    "accession",
    "collected_on",
    "reported_on",
    "assay",
    "qc_status",
    "tumor_fraction",
)
PATIENT_FIELDS = ("mrn", "date_of_birth")
VARIANT_FIELDS = (
    "gene",
    "hgvs_p",
    "hgvs_c",
    "transcript",
    "genome_build",
    "chrom",
    "pos",
    "ref",
    "alt",
    "vaf",
    "vaf_percent",
    "depth",
)
CSV_COLUMNS = REPORT_FIELDS + PATIENT_FIELDS + VARIANT_FIELDS
CSV_REQUIRED_COLUMNS = (
    "report_id",
    "version",
    "status",
    "accession",
    "mrn",
    "date_of_birth",
    "collected_on",
    "reported_on",
    "assay",
    "qc_status",
    "gene",
)
# Fields whose text becomes a JSON number when it is one.
NUMERIC_FIELDS = frozenset({"version", "tumor_fraction", "pos", "depth", "vaf", "vaf_percent"})
VCF_COLUMNS = ("CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
# FILTER values that mean "this call passed"; any other named filter is a call the lab itself
# rejected, so the record is skipped (it still counts in ParseResult.rows).
VCF_PASSING_FILTERS = frozenset({"PASS", "."})

_MB = 1024 * 1024
# A lab value is never this long; the cap also keeps int() clear of Python's digit limit.
_MAX_NUMBER_CHARS = 32
_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_READ_COUNTS = re.compile(r"([0-9]{1,12}),([0-9]{1,12})")
# A bare build name in ##reference ("GRCh38", "hg38"); a FASTA path or URL says nothing reliable.
_BUILD_NAME = re.compile(r"(?:GRCh|hg)[0-9]+(?:\.p?[0-9]+)?", re.IGNORECASE)
_CHR_PREFIX = re.compile(r"^chr", re.IGNORECASE)
_NEWLINE = re.compile(r"\r\n|\r|\n")

_Value = str | int | float | None  # a field's value as JSON would carry it; None when empty


@dataclass(frozen=True)
class ParseError:
    line: int | None  # 1-based line in the file (CSV header is line 1); None for the whole file
    field: str | None  # column or metadata key, when known
    message: str  # a sentence without the line number, which is in .line


@dataclass(frozen=True)
class ParseResult:
    reports: list[dict[str, Any]]
    errors: list[ParseError]
    rows: int  # data rows (CSV) or variant records (VCF) read


class _Abort(Exception):  # control flow inside this module; the public functions catch it
    """Stops parsing at an error after which the rest of the file cannot be trusted."""

    def __init__(self, *errors: ParseError, rows: int = 0) -> None:
        super().__init__(errors[0].message)
        self.errors = list(errors)
        self.rows = rows


def parse_csv(
    data: bytes, *, max_rows: int = MAX_ROWS, max_bytes: int = MAX_FILE_BYTES
) -> ParseResult:
    """Parse a CSV upload: one row per variant call, report fields repeated on every row.

    1. The header (line 1) must have every required column and no unknown or repeated one.
    2. Rows are grouped into reports by (report_id, version) in order of first appearance; a row
       without a report_id is a report of its own, so the validator names its line.
    3. Report fields must be identical on every row of a report.
    4. A row with an empty gene is a report without variants and must not sit beside variant rows.
    """
    try:
        return _read_csv(_decode(data, max_bytes=max_bytes), max_rows=max_rows)
    except _Abort as abort:
        return ParseResult(reports=[], errors=abort.errors, rows=abort.rows)


def parse_vcf(
    data: bytes, *, max_rows: int = MAX_ROWS, max_bytes: int = MAX_FILE_BYTES
) -> ParseResult:
    """Parse a single-report VCF: report fields in ``##key=value`` lines, one record per variant.

    1. The first line must be ``##fileformat=VCF...``; ``##key=value`` lines named like the JSON
       report fields (plus ``mrn``, ``date_of_birth``, ``genome_build``) give the report; a bare
       build name in ``##reference`` gives ``genome_build`` when ``##genome_build`` is absent.
    2. Only records whose FILTER is PASS or "." become variants. Records failing a named
       filter were rejected by the lab itself: they are skipped without an error but counted
       in ``rows``.
    3. The allele fraction is always a fraction (``vaf``): INFO/AF, else FORMAT/AF, else
       FORMAT/AD. FORMAT values come from the first sample column (ctDNA VCFs carry one).
    4. ``_lines`` holds the ``##key=value`` lines that gave report fields and the records that
       became variants; a file without records is a report without variants.
    """
    try:
        return _read_vcf(_decode(data, max_bytes=max_bytes), max_rows=max_rows)
    except _Abort as abort:
        return ParseResult(reports=[], errors=abort.errors, rows=abort.rows)


def sniff_format(filename: str, data: bytes) -> str | None:
    """Return "csv", "vcf" or None.

    Content wins over the name, because the content is what the parser will see: a VCF saved
    as .txt (or .csv) is still a VCF. The extension decides only when the content says nothing.
    Compressed files (.vcf.gz) are not recognised; labs upload plain text.
    """
    head = data[:4096].removeprefix(codecs.BOM_UTF8)
    if head.startswith(b"##fileformat=VCF"):
        return "vcf"
    first_line = head.split(b"\n", 1)[0]
    if b"report_id" in (cell.strip().strip(b'"') for cell in first_line.split(b",")):
        return "csv"
    name = (filename or "").strip().lower()
    if name.endswith(".vcf"):
        return "vcf"
    if name.endswith(".csv"):
        return "csv"
    return None


# --- Shared helpers ----------------------------------------------------------------------------


def _decode(data: bytes, *, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise _Abort(
            ParseError(
                None,
                None,
                f"The file is larger than the {max_bytes / _MB:g} MB limit; "
                "split it into smaller files.",
            )
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _Abort(ParseError(None, None, "The file is UTF-16 text; save it as UTF-8."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _Abort(
            ParseError(line, None, "The file is not valid UTF-8 text; save it as UTF-8.")
        ) from None


def _too_many_rows(max_rows: int, noun: str) -> _Abort:
    return _Abort(
        ParseError(
            None,
            None,
            f"The file has more than {max_rows:,} {noun}, which is the limit; "
            "split it into smaller files.",
        ),
        rows=max_rows + 1,
    )


def _value(field: str, text: str) -> _Value:
    """The JSON value for a cell: None when empty, a number when the field is numeric and the
    text is a clean number, else the stripped text."""
    text = text.strip()
    if not text:
        return None
    if field not in NUMERIC_FIELDS or len(text) > _MAX_NUMBER_CHARS:
        return text
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        number = float(text)
        return number if math.isfinite(number) else text
    return text


def _same(a: _Value, b: _Value) -> bool:
    """Equal as JSON values: "0.0120" matches "0.012", but "1.0" (a float) does not match "1"."""
    return type(a) is type(b) and a == b


def _new_report(fields: dict[str, Any]) -> dict[str, Any]:
    """A report dict in the JSON body's key order, from flat report and patient fields."""
    report: dict[str, Any] = {key: fields[key] for key in REPORT_FIELDS[:4] if key in fields}
    report["patient"] = {key: fields[key] for key in PATIENT_FIELDS if key in fields}
    report.update((key, fields[key]) for key in REPORT_FIELDS[4:] if key in fields)
    report["variants"] = []
    report["_lines"] = []
    return report


def _sorted(errors: list[ParseError]) -> list[ParseError]:
    return sorted(errors, key=lambda error: (error.line is not None, error.line or 0))


# --- CSV ---------------------------------------------------------------------------------------


@dataclass
class _CsvReport:
    """A report being assembled from its rows, with what the later rows are checked against."""

    first_line: int
    fields: dict[str, Any]
    report: dict[str, Any]
    empty_gene_lines: list[int]


def _read_csv(text: str, *, max_rows: int) -> ParseResult:
    if not text.strip():
        raise _Abort(ParseError(None, None, "The file is empty."))
    # strict: an unclosed quote is an error instead of silently swallowing the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    columns = _csv_header(_next_csv_row(reader, line=1, rows=0))
    groups: dict[tuple[Any, ...], _CsvReport] = {}
    errors: list[ParseError] = []
    rows = 0
    while True:
        # A row starts on the line after the previous one ended; a quoted cell may span lines.
        line = reader.line_num + 1
        cells = _next_csv_row(reader, line=line, rows=rows)
        if cells is None:
            break
        if not any(cell.strip() for cell in cells):
            continue  # blank lines and all-empty rows (",,,") carry nothing
        rows += 1
        if rows > max_rows:
            raise _too_many_rows(max_rows, "data rows")
        if len(cells) != len(columns):
            errors.append(
                ParseError(
                    line, None, f"Row has {len(cells)} cells; the header has {len(columns)}."
                )
            )
            continue
        _add_csv_row(groups, errors, line, dict(zip(columns, cells, strict=True)))
    if rows == 0:
        errors.append(ParseError(None, None, "The file has a header but no data rows."))
    for group in groups.values():
        errors.extend(_mixed_gene_errors(group))
    reports = [group.report for group in groups.values()]
    return ParseResult(reports=reports, errors=_sorted(errors), rows=rows)


def _next_csv_row(reader: Iterator[list[str]], *, line: int, rows: int) -> list[str] | None:
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        # Quoting problems leave the reader unsure where later rows start; stop here.
        if "field limit" in str(exc):
            message = f"A cell is longer than {csv.field_size_limit():,} characters."
        else:
            message = f"Unreadable CSV ({exc}); check the quotes in this row."
        raise _Abort(ParseError(line, None, message), rows=rows) from None


def _csv_header(cells: list[str] | None) -> list[str]:
    """The column names, or an abort listing every problem with them.

    An unknown column is an error rather than ignored: a typo such as `vaf_pct` would otherwise
    silently drop the allele fraction, and a misspelt optional column would vanish unnoticed.
    """
    columns = [cell.strip() for cell in cells or []]
    if not any(columns):
        raise _Abort(ParseError(1, None, "The first line must be the header row; it is empty."))
    if len(columns) == 1 and (";" in columns[0] or "\t" in columns[0]):
        raise _Abort(
            ParseError(1, None, "The header has one column; separate columns with commas.")
        )
    errors = [
        ParseError(1, name, f"Missing required column '{name}'.")
        for name in CSV_REQUIRED_COLUMNS
        if name not in columns
    ]
    seen: set[str] = set()
    for position, name in enumerate(columns, start=1):
        if not name:
            errors.append(ParseError(1, None, f"Column {position} has no name."))
        elif name in seen:
            errors.append(ParseError(1, name, f"Column '{name}' appears more than once."))
        elif name not in CSV_COLUMNS:
            errors.append(ParseError(1, name, _unknown_column_message(name)))
        seen.add(name)
    if errors:
        raise _Abort(*errors)
    return columns


def _unknown_column_message(name: str) -> str:
    guess = difflib.get_close_matches(name.lower(), CSV_COLUMNS, n=1)
    hint = f" Did you mean '{guess[0]}'?" if guess else ""
    return f"Unknown column '{name}'.{hint}"


def _add_csv_row(
    groups: dict[tuple[Any, ...], _CsvReport],
    errors: list[ParseError],
    line: int,
    cells: dict[str, str],
) -> None:
    values = {
        column: value
        for column, cell in cells.items()
        if (value := _value(column, cell)) is not None
    }
    fields = {key: values[key] for key in REPORT_FIELDS + PATIENT_FIELDS if key in values}
    report_id = values.get("report_id")
    key = (report_id, values.get("version")) if report_id is not None else ("", line)
    group = groups.get(key)
    if group is None:
        group = groups[key] = _CsvReport(line, fields, _new_report(fields), [])
    else:
        errors.extend(
            ParseError(line, name, f"Report field '{name}' differs from line {group.first_line}.")
            for name in REPORT_FIELDS + PATIENT_FIELDS
            if not _same(fields.get(name), group.fields.get(name))
        )
    group.report["_lines"].append(line)  # rows arrive in file order, so this stays sorted

    variant = {key: values[key] for key in VARIANT_FIELDS if key in values}
    if "gene" in variant:
        group.report["variants"].append({**variant, "_line": line})
    elif variant:
        # Half a variant is more likely a lost gene than a "not detected" row; do not guess.
        errors.append(
            ParseError(
                line,
                "gene",
                "Variant columns are filled but 'gene' is empty; give the gene, or leave all "
                "variant columns empty for a report without variants.",
            )
        )
    else:
        group.empty_gene_lines.append(line)


def _mixed_gene_errors(group: _CsvReport) -> list[ParseError]:
    """An empty-gene row says "no variants"; next to variant rows of the same report it
    contradicts them, so it is flagged wherever it sits in the file."""
    variants = group.report["variants"]
    if not variants:
        return []
    first_variant = variants[0]["_line"]
    return [
        ParseError(
            line,
            "gene",
            f"Row has an empty gene, but this report has variant rows (line {first_variant}); "
            "remove this row.",
        )
        for line in group.empty_gene_lines
    ]


# --- VCF ---------------------------------------------------------------------------------------


def _read_vcf(text: str, *, max_rows: int) -> ParseResult:
    if not text.strip():
        raise _Abort(ParseError(None, None, "The file is empty."))
    lines = _NEWLINE.split(text)
    if not lines[0].startswith("##fileformat=VCF"):
        raise _Abort(
            ParseError(
                1, "fileformat", "The first line must be '##fileformat=VCFv4.2' (or 4.1, 4.3)."
            )
        )
    fields: dict[str, Any] = {}
    field_lines: dict[str, int] = {}
    reference_build: tuple[str, int] | None = None  # (build, line)
    columns: list[str] | None = None
    variants: list[dict[str, Any]] = []
    errors: list[ParseError] = []
    rows = 0
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        if line.startswith("##"):
            if columns is not None:
                errors.append(ParseError(number, None, "Header line after the '#CHROM' line."))
                continue
            key, _, raw = line[2:].partition("=")
            key = key.strip()
            if key == "reference" and _BUILD_NAME.fullmatch(raw.strip()):
                reference_build = (raw.strip(), number)
            elif key in REPORT_FIELDS or key in PATIENT_FIELDS or key == "genome_build":
                _add_vcf_field(fields, field_lines, errors, number, key, raw)
        elif line.startswith("#"):
            if columns is not None:
                errors.append(ParseError(number, None, "The '#CHROM' line appears twice."))
                continue
            columns = _vcf_header(number, line)
        else:
            rows += 1
            if rows > max_rows:
                raise _too_many_rows(max_rows, "variant records")
            if columns is None:
                raise _Abort(
                    ParseError(number, None, "Record before the '#CHROM' header line."), rows=rows
                )
            variant = _vcf_variant(number, line, columns, errors)
            if variant is not None:
                variants.append(variant)
    if columns is None:
        errors.append(ParseError(None, None, "The '#CHROM' header line is missing."))

    # genome_build is a variant field in JSON; a VCF states it once for every record.
    if "genome_build" not in field_lines and reference_build is not None:
        fields["genome_build"], field_lines["genome_build"] = reference_build
    build = fields.pop("genome_build", None)
    report = _new_report(fields)
    report["variants"] = [{**v, "genome_build": build} if build else v for v in variants]
    report["_lines"] = sorted([*field_lines.values(), *(v["_line"] for v in variants)])
    return ParseResult(reports=[report], errors=_sorted(errors), rows=rows)


def _add_vcf_field(
    fields: dict[str, Any],
    field_lines: dict[str, int],
    errors: list[ParseError],
    number: int,
    key: str,
    raw: str,
) -> None:
    value = _value(key, raw)
    if key in field_lines:
        if not _same(value, fields.get(key)):
            message = f"Header '##{key}' differs from line {field_lines[key]}."
            errors.append(ParseError(number, key, message))
        return
    field_lines[key] = number
    if value is not None:
        fields[key] = value


def _vcf_header(number: int, line: str) -> list[str]:
    columns = line[1:].split("\t")
    if tuple(columns[:8]) != VCF_COLUMNS or (len(columns) > 8 and columns[8] != "FORMAT"):
        raise _Abort(
            ParseError(
                number,
                None,
                "The header line must be '#CHROM POS ID REF ALT QUAL FILTER INFO', separated by "
                "tabs, optionally followed by FORMAT and sample columns.",
            )
        )
    return columns


def _vcf_variant(
    number: int, line: str, columns: list[str], errors: list[ParseError]
) -> dict[str, Any] | None:
    """The variant for one record, or None when it is filtered out or broken (error added)."""
    cells = line.split("\t")
    if len(cells) != len(columns):
        message = (
            f"Record has {len(cells)} tab-separated columns; the '#CHROM' line has {len(columns)}."
        )
        errors.append(ParseError(number, None, message))
        return None
    chrom, pos, _id, ref, alt, _qual, filter_value, info_text = cells[:8]
    filter_value = filter_value.strip()
    if not filter_value:
        # Skipping would silently drop a call the lab may have meant to report.
        errors.append(
            ParseError(number, "FILTER", "FILTER is empty; give PASS, '.' or a filter name.")
        )
        return None
    if filter_value not in VCF_PASSING_FILTERS:
        return None
    alt = alt.strip()
    if "," in alt:
        message = (
            f"Multi-allelic ALT '{alt}' is not supported; split it into one record per allele."
        )
        errors.append(ParseError(number, "alt", message))
        return None
    if alt == ".":
        message = "ALT is '.', so the record is not a variant call; list only variant calls."
        errors.append(ParseError(number, "alt", message))
        return None

    info = _vcf_info(info_text)
    sample: dict[str, str] = {}
    if len(cells) > 9:
        sample = dict(zip(cells[8].split(":"), cells[9].split(":"), strict=False))
    vaf, depth, problem = _allele_fraction(info, sample)
    if problem is not None:
        errors.append(ParseError(number, "vaf", problem))
        return None

    gene = info.get("GENE") or info.get("GENEINFO", "").split("|")[0].partition(":")[0]
    texts = {
        "gene": unquote(gene),
        "hgvs_p": unquote(info.get("HGVSP") or info.get("HGVS_P") or ""),
        "hgvs_c": unquote(info.get("HGVSC") or info.get("HGVS_C") or ""),
        "transcript": unquote(info.get("TRANSCRIPT", "")),
        "chrom": _CHR_PREFIX.sub("", chrom.strip()),
        "pos": pos,
        "ref": ref,
        "alt": alt,
    }
    variant: dict[str, Any] = {}
    for key, text in texts.items():
        value = _value(key, text)
        if value is not None and value != ".":
            variant[key] = value
    variant["vaf"] = vaf
    if depth is not None:
        variant["depth"] = depth
    variant["_line"] = number
    return variant


def _vcf_info(text: str) -> dict[str, str]:
    """INFO as a dict; a flag gets "", and the first of repeated keys wins."""
    info: dict[str, str] = {}
    for item in text.strip().split(";"):
        key, _, value = item.partition("=")
        key = key.strip()
        if key and key != "." and key not in info:
            info[key] = value.strip()
    return info


def _present(value: str | None) -> str | None:
    """A VCF value, or None when it is missing ("." or empty)."""
    if value is None or value.strip() in ("", "."):
        return None
    return value.strip()


def _allele_fraction(
    info: dict[str, str], sample: dict[str, str]
) -> tuple[_Value, _Value, str | None]:
    """(vaf, depth, problem): the allele fraction as a fraction and the read depth.

    1. vaf from INFO/AF, else FORMAT/AF of the first sample, else FORMAT/AD as alt/(ref+alt).
    2. depth from INFO/DP, else FORMAT/DP, else the sum of AD; None when none is given.
    AF is a fraction by the VCF specification, so it always becomes `vaf`, never `vaf_percent`.
    """
    af = _present(info.get("AF")) or _present(sample.get("AF"))
    dp = _present(info.get("DP")) or _present(sample.get("DP"))
    ad = _present(sample.get("AD"))
    counts = _READ_COUNTS.fullmatch(ad) if ad else None
    ref_reads, alt_reads = (int(counts[1]), int(counts[2])) if counts else (0, 0)
    depth = _value("depth", dp) if dp else (ref_reads + alt_reads if counts else None)
    if af is not None:
        return _value("vaf", af), depth, None
    if counts and ref_reads + alt_reads > 0:
        return alt_reads / (ref_reads + alt_reads), depth, None
    if ad is not None:
        return None, None, f"FORMAT/AD '{ad}' gives no allele fraction; give read counts 'ref,alt'."
    return None, None, "No allele fraction: give INFO/AF, FORMAT/AF or FORMAT/AD."
