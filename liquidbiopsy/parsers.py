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
import gzip
import io
import math
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any

from liquidbiopsy import vcf
from liquidbiopsy.coordinates import normalise_chrom

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
    "tumor_fraction_percent",
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
    "filter",
)
CSV_COLUMNS = REPORT_FIELDS + PATIENT_FIELDS + VARIANT_FIELDS
# More columns than this is not a report CSV; checking each would only cost time.
MAX_CSV_COLUMNS = 2 * len(CSV_COLUMNS)
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
NUMERIC_FIELDS = frozenset(
    {"version", "tumor_fraction", "tumor_fraction_percent", "pos", "depth", "vaf", "vaf_percent"}
)
VCF_COLUMNS = ("CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")

_MB = 1024 * 1024
# A lab value is never this long; the cap also keeps int() clear of Python's digit limit.
_MAX_NUMBER_CHARS = 32
_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
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
    # What was read but deliberately not made a call (a VCF's symbolic structural variant
    # outside ESR1), for the uploader to be told; never a reason to refuse the file.
    notes: list[ParseError] = field(default_factory=list)


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
    """Parse a single-report VCF: report fields in ``##key=value`` lines, one record per call.

    1. The first line must be ``##fileformat=VCF...``; ``##key=value`` lines named like the JSON
       report fields (plus ``mrn``, ``date_of_birth``) give the report; the build comes from
       ``##genome_build``, ``##reference`` or the ``##contig`` length of chromosome 6.
    2. Records are read with vcfpy as the callers write them (liquidbiopsy.vcf): the tumour
       sample, the allele fraction by DESIGN.md §6's precedence, one call per ALT allele, a
       FILTER other than PASS (any case) kept as the call's ``filter``. Empty cells after the
       last column (a trailing tab) are ignored. A symbolic structural variant (<DEL>,
       <DUP>...) outside ESR1 is no call and is listed in ``notes``; one in ESR1 is an error.
    3. A gzip- or bgzip-compressed file is read up to ``max_bytes`` of uncompressed content.
    4. ``_lines`` holds the ``##key=value`` lines that gave report fields and the records that
       became calls; a file without records is a report without variants.
    """
    if data.startswith(GZIP_MAGIC):
        data, problem = gunzip(data, max_bytes=max_bytes)
        if problem is not None:
            return ParseResult(reports=[], errors=[ParseError(None, None, problem)], rows=0)
    try:
        return _read_vcf(_decode(data, max_bytes=max_bytes), max_rows=max_rows)
    except _Abort as abort:
        return ParseResult(reports=[], errors=abort.errors, rows=abort.rows)


GZIP_MAGIC = b"\x1f\x8b"


def gunzip(data: bytes, *, max_bytes: int) -> tuple[bytes, str | None]:
    """(content, None) of a gzip or bgzip (multi-member gzip) file, reading at most
    max_bytes + 1 so that a small file cannot expand without limit; else (b"", problem)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            out = fh.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:
        return b"", f"The file looks gzip-compressed but cannot be decompressed ({exc})."
    if len(out) > max_bytes:
        return b"", (
            f"The file is larger than the {max_bytes / _MB:g} MB limit uncompressed; "
            "split it into smaller files."
        )
    return out, None


def sniff_format(filename: str, data: bytes) -> str | None:
    """Return "csv", "vcf" or None.

    Content wins over the name, because the content is what the parser will see: a VCF saved
    as .txt (or .csv) is still a VCF. The extension decides only when the content says nothing.
    Compressed files (.vcf.gz) are passed here decompressed.
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


@lru_cache(maxsize=65536)
def _value(field: str, text: str) -> _Value:
    """The JSON value for a cell: None when empty, a number when the field is numeric and the
    text is a clean number, else the stripped text. Cached: a report's fields repeat on each
    of its rows, and dates, assays and genes across the file."""
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
    cells: tuple[str, ...]  # the first row's report and patient cells, as written


@dataclass(frozen=True)
class _Layout:
    """Where each known field sits in a row of this file (the header's order)."""

    report: tuple[tuple[int, str], ...]  # report and patient fields, in REPORT_FIELDS order
    variant: tuple[tuple[int, str], ...]  # variant fields, in VARIANT_FIELDS order
    report_id: int
    version: int | None
    report_cells: Callable[[list[str]], tuple[str, ...]]  # a row's report and patient cells

    @classmethod
    def of(cls, columns: list[str]) -> _Layout:
        at = {name: index for index, name in enumerate(columns)}
        report = tuple((at[n], n) for n in REPORT_FIELDS + PATIENT_FIELDS if n in at)
        indexes = [index for index, _ in report]
        return cls(
            report=report,
            variant=tuple((at[n], n) for n in VARIANT_FIELDS if n in at),
            report_id=at["report_id"],
            version=at.get("version"),
            # itemgetter of two or more indexes gives a tuple (the required columns ensure it)
            report_cells=itemgetter(*indexes),
        )


def _read_csv(text: str, *, max_rows: int) -> ParseResult:
    if not text.strip():
        raise _Abort(ParseError(None, None, "The file is empty."))
    # strict: an unclosed quote is an error instead of silently swallowing the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    columns = _csv_header(_next_csv_row(reader, line=1, rows=0))
    layout = _Layout.of(columns)
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
        _add_csv_row(groups, errors, line, cells, layout)
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
    if len(columns) > MAX_CSV_COLUMNS:
        # Checking (and suggesting a name for) each of 400,000 columns costs seconds: one
        # error says what the header should be.
        raise _Abort(
            ParseError(
                1,
                None,
                f"The header has {len(columns):,} columns; a report CSV has at most "
                f"{len(CSV_COLUMNS)} (from: {', '.join(CSV_COLUMNS)}).",
            )
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
    cells: list[str],
    layout: _Layout,
) -> None:
    report_id = _value("report_id", cells[layout.report_id])
    version = _value("version", cells[layout.version]) if layout.version is not None else None
    key = (report_id, version) if report_id is not None else ("", line)
    report_cells = layout.report_cells(cells)
    group = groups.get(key)
    if group is None:
        fields = {
            name: value
            for index, name in layout.report
            if (value := _value(name, cells[index])) is not None
        }
        group = groups[key] = _CsvReport(line, fields, _new_report(fields), [], report_cells)
    elif report_cells != group.cells:  # the same text gives the same values: nothing to compare
        fields = {
            name: value
            for index, name in layout.report
            if (value := _value(name, cells[index])) is not None
        }
        errors.extend(
            ParseError(line, name, f"Report field '{name}' differs from line {group.first_line}.")
            for name in REPORT_FIELDS + PATIENT_FIELDS
            if not _same(fields.get(name), group.fields.get(name))
        )
    group.report["_lines"].append(line)  # rows arrive in file order, so this stays sorted

    variant = {
        name: value
        for index, name in layout.variant
        if (value := _value(name, cells[index])) is not None
    }
    if "gene" in variant:
        variant["_line"] = line
        group.report["variants"].append(variant)
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
    """See parse_vcf and liquidbiopsy.vcf (what a record means for the report)."""
    if not text.strip():
        raise _Abort(ParseError(None, None, "The file is empty."))
    lines = _NEWLINE.split(text)
    if not lines[0].startswith("##fileformat=VCF"):
        raise _Abort(
            ParseError(
                1, "fileformat", "The first line must be '##fileformat=VCFv4.2' (or 4.1, 4.3)."
            )
        )
    header, raw_fields, problems, chrom_index = vcf.read_header(
        lines, {*REPORT_FIELDS, *PATIENT_FIELDS}
    )
    errors = [ParseError(*problem) for problem in problems]
    if chrom_index < 0:
        first = next(
            (n for n, line in enumerate(lines, 1) if line.strip() and not line.startswith("#")),
            None,
        )
        if first is not None:
            raise _Abort(ParseError(first, None, "Record before the '#CHROM' header line."))
        errors.append(ParseError(None, None, "The '#CHROM' header line is missing."))
        return ParseResult(reports=[_new_report({})], errors=_sorted(errors), rows=0)
    columns = _vcf_header(chrom_index + 1, lines[chrom_index])
    fields: dict[str, Any] = {}
    field_lines: dict[str, int] = {}
    for key, given in raw_fields.items():
        for raw, number in given:
            _add_vcf_field(fields, field_lines, errors, number, key, raw)
    build_problems: list = []
    build = vcf.genome_build(header, build_problems)
    errors += [ParseError(*problem) for problem in build_problems]
    samples = columns[9:]
    sample, problem = vcf.choose_sample(header, samples, chrom_index + 1)
    if problem is None and (twice := _given_twice(samples)):
        # Two columns named alike: which one is the tumour (or the report) is not known.
        problem = (
            chrom_index + 1,
            "sample",
            f"Two sample columns are named {twice}: name each once.",
        )
    if problem is not None:
        errors.append(ParseError(*problem))
    try:
        reader = vcf.make_reader(header.lines)
    except Exception as exc:  # a header vcfpy cannot assemble
        raise _Abort(ParseError(chrom_index + 1, None, f"Unreadable VCF header ({exc}).")) from None
    numbers = {
        "ad_number": vcf.declared_number(reader, "FORMAT", "AD"),
        "af_number": vcf.declared_number(reader, "FORMAT", "AF"),
        "info_af_number": vcf.declared_number(reader, "INFO", "AF"),
    }
    sample_index = samples.index(sample) if sample is not None else None
    variants: list[dict[str, Any]] = []
    skipped: list[ParseError] = []  # the result's notes
    rows = 0
    for number, line in enumerate(lines[chrom_index + 1 :], start=chrom_index + 2):
        if not line.strip():
            continue
        if line.startswith("#"):
            errors.append(ParseError(number, None, "Header line after the '#CHROM' line."))
            continue
        rows += 1
        if rows > max_rows:
            raise _too_many_rows(max_rows, "variant records")
        if problem is not None:
            continue  # no sample to read: the error above says why
        variants += _vcf_calls(
            number, line, columns, reader, sample_index, numbers, build, header, errors, skipped
        )

    report = _new_report(fields)
    report["variants"] = variants
    build_lines = [line for _, line, _ in header.builds] if build else []
    report["_lines"] = sorted(
        {*field_lines.values(), *build_lines, *(v["_line"] for v in variants)}
    )
    return ParseResult(reports=[report], errors=_sorted(errors), rows=rows, notes=skipped)


def _given_twice(names: list[str]) -> str:
    """The first name given twice in `names` ('' when none is)."""
    seen: set[str] = set()
    return next((name for name in names if name in seen or seen.add(name)), "")


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
    columns = line[1:].rstrip("\t").split("\t")
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


def _in_esr1(chrom: str, pos: int, build: str | None, end: int | None = None) -> bool:
    """Whether chrom:pos (to `end`, for a structural variant) reaches into ESR1's span on
    `build`; with `end` and no build known, on either build's span (the cautious answer)."""
    try:
        chrom = normalise_chrom(chrom, build)
    except ValueError:
        return False
    if end is None:
        low, high = vcf.ESR1_SPAN.get(build or "", (0, -1))
        return chrom == "6" and low <= pos <= high
    spans = [vcf.ESR1_SPAN[build]] if build in vcf.ESR1_SPAN else vcf.ESR1_SPAN.values()
    return chrom == "6" and any(pos <= high and low <= end for low, high in spans)


# ALT placeholders that are not an allele of a call: a deletion spanning the site (the
# deletion's own record is its call) and a gVCF's "any other allele".
NOT_CALLS = frozenset({"*", "<*>", "<NON_REF>"})


def _sv_end(record, index: int) -> int:
    """The last position a symbolic structural variant covers: INFO END, else POS + |SVLEN|."""
    end = record.INFO.get("END")
    if isinstance(end, int) and not isinstance(end, bool) and end >= record.POS:
        return end
    length = record.INFO.get("SVLEN")
    length = length[index] if isinstance(length, list) and index < len(length) else length
    if isinstance(length, int) and not isinstance(length, bool):
        return record.POS + abs(length)
    return record.POS


def _symbolic(number, record, index, alt, written, build, header, errors, skipped) -> None:
    """A symbolic structural variant (<DEL>, <DUP>, <CNV>...) is no sequence call. Outside
    ESR1 it is skipped with a note. One in or reaching into ESR1 (or annotated ESR1) is an
    error: skipped, the report would read "not detected" for ESR1 although the lab called an
    ESR1 alteration; stored, it would be a call without a sequence allele."""
    end = _sv_end(record, index)
    gene = vcf.annotation(
        record.INFO,
        alt,
        header.lines,
        alt_index=index,
        n_alts=len(record.ALT),
        ref=record.REF,
        alts=written,
    ).get("gene", "")
    if gene.upper() == "ESR1" or _in_esr1(record.CHROM, record.POS, build, end=end):
        message = (
            f"ALT '{alt}' is a structural variant in ESR1 ({record.CHROM}:{record.POS}-{end}): "
            "it cannot be stored as a call, and skipping it would read as ESR1 not detected. "
            "Report it apart from this file, and list sequence variants only."
        )
        errors.append(ParseError(number, "alt", message))
        return
    message = (
        f"ALT '{alt}' is a structural variant (a symbolic allele), not a sequence variant: "
        f"skipped, not a call ({record.CHROM}:{record.POS}-{end} is outside ESR1)."
    )
    skipped.append(ParseError(number, "alt", message))


def _vcf_calls(
    number, line, columns, reader, sample_index, numbers, build, header, errors, skipped
) -> list[dict[str, Any]]:
    """The calls of one record: one per ALT allele; [] with an error when it is broken."""
    cells = line.split("\t")
    # A trailing tab (an empty cell past the last column) is layout, not a column.
    while len(cells) > len(columns) and not cells[-1].strip():
        cells.pop()
    line = "\t".join(cells)
    if len(cells) != len(columns):
        message = (
            f"Record has {len(cells)} tab-separated columns; the '#CHROM' line has {len(columns)}."
        )
        errors.append(ParseError(number, None, message))
        return []
    if not cells[6].strip():
        # Skipping would silently drop a call the lab may have meant to report.
        errors.append(
            ParseError(number, "FILTER", "FILTER is empty; give PASS, '.' or a filter name.")
        )
        return []
    if cells[4].strip() in ("", "."):
        message = "ALT is '.', so the record is not a variant call; list only variant calls."
        errors.append(ParseError(number, "alt", message))
        return []
    info_keys = [item.split("=", 1)[0] for item in cells[7].split(";") if item not in ("", ".")]
    if twice := _given_twice(info_keys):
        # "AF=0.42;AF=0.004484" (INFO AF is the allele fraction of a file without samples).
        message = f"INFO names {twice} twice; give each field once."
        errors.append(ParseError(number, "INFO", message))
        return []
    if len(cells) > 8 and (twice := _given_twice(cells[8].split(":"))):
        # "AF:AF 0.42:0.0042": a reader keeps one of the two, and which is not ours to guess.
        message = f"FORMAT names {twice} twice; give each field once."
        errors.append(ParseError(number, "FORMAT", message))
        return []
    record, problem = vcf.parse_record(reader, line)
    if problem is not None:
        errors.append(ParseError(number, None, problem))
        return []
    # PASS in any case ("pass" from some pipelines) is PASS: never a filter that would keep
    # the call from the rule.
    filters = ["PASS" if f.upper() == "PASS" else f for f in record.FILTER if f != "."]
    filter_value = ";".join(filters)
    data = record.calls[sample_index].data if sample_index is not None else None
    calls = []
    written = cells[4].strip().split(",")
    for index, allele in enumerate(record.ALT):
        sequence = type(allele).__name__ == "Substitution"
        text = written[index].strip() if index < len(written) else ""
        alt = getattr(allele, "value", "") if sequence else text
        if alt in NOT_CALLS:
            continue
        if alt.startswith("<") and alt.endswith(">"):
            _symbolic(number, record, index, alt, written, build, header, errors, skipped)
            continue
        if not sequence or not alt.isalpha():
            message = f"ALT '{alt}' is not a sequence allele; list sequence variants only."
            errors.append(ParseError(number, "alt", message))
            continue
        fraction, problem = vcf.allele_fraction(
            data=data,
            info=record.INFO,
            alt_index=index,
            n_alts=len(record.ALT),
            alt=alt,
            **numbers,
        )
        if problem is not None:
            errors.append(ParseError(number, "vaf", problem))
            continue
        notes = vcf.annotation(
            record.INFO,
            alt,
            header.lines,
            alt_index=index,
            n_alts=len(record.ALT),
            ref=record.REF,
            alts=written,
        )
        if not notes.get("gene") and _in_esr1(record.CHROM, record.POS, build):
            notes["gene"] = "ESR1"
        variant: dict[str, Any] = {
            **notes,
            "chrom": record.CHROM,
            "pos": record.POS,
            "ref": record.REF,
            "alt": alt,
            **fraction,
        }
        if filter_value:
            variant["filter"] = filter_value
        if build:
            variant["genome_build"] = build
        variant["_line"] = number
        calls.append(variant)
    return calls
