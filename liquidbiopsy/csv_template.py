"""The lab's CSV template: the parser's own columns, two example rows, and what each column
means (shown on the upload page).

The header is `parsers.CSV_COLUMNS` itself, so the template can never drift from what the
parser accepts; a test parses and validates the template with the real parser and validator.
Pure: no ORM, no clock.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from liquidbiopsy import bounds as b
from liquidbiopsy.parsers import CSV_COLUMNS, CSV_REQUIRED_COLUMNS
from liquidbiopsy.validation import QC_STATUSES, STATUSES

FILENAME = "ctdna-results-template.csv"

# Two reports, clearly examples (nothing here can match a real draw): one with an ESR1
# variant given as a percentage, one "not detected" (an empty gene) with a tumour fraction
# given as a percentage. A column missing here is left empty in the template.
EXAMPLE_ROWS: tuple[dict[str, str], ...] = (
    {
        "report_id": "EXAMPLE-REPORT-1",
        "version": "1",
        "status": "final",
        "accession": "EXAMPLE-ACC-1",
        "mrn": "EXAMPLE-MRN-1",
        "date_of_birth": "1961-04-02",
        "collected_on": "2026-11-02",
        "reported_on": "2026-11-10",
        "assay": "Guardant360 CDx",
        "qc_status": "pass",
        "tumor_fraction": "0.012",
        "gene": "ESR1",
        "hgvs_p": "p.Asp538Gly",
        "hgvs_c": "c.1613A>G",
        "transcript": "NM_000125.4",
        "genome_build": "GRCh38",
        "chrom": "6",
        "pos": "152098791",
        "ref": "A",
        "alt": "G",
        "vaf_percent": "0.42",
        "depth": "15000",
    },
    {
        "report_id": "EXAMPLE-REPORT-2",
        "version": "1",
        "status": "final",
        "accession": "EXAMPLE-ACC-2",
        "mrn": "EXAMPLE-MRN-2",
        "date_of_birth": "1955-06-15",
        "collected_on": "2026-11-03",
        "reported_on": "2026-11-10",
        "assay": "Guardant360 CDx",
        "qc_status": "pass",
        "tumor_fraction_percent": "2.5",
    },
)


@dataclass(frozen=True)
class ColumnHelp:
    name: str
    required: bool
    meaning: str
    values: str  # format, unit or allowed values


_HELP: dict[str, tuple[str, str]] = {
    "report_id": (
        "Your report's identifier; repeat it on every row of the report.",
        f"Text, at most {b.REPORT_ID_CHARS} characters.",
    ),
    "version": (
        "The report's version: 1 first; a higher number amends, corrects or cancels it.",
        "A whole number from 1.",
    ),
    "status": (
        "What this version is.",
        ", ".join(STATUSES) + " (cancelled retracts the report).",
    ),
    "accession": (
        "The specimen accession on the tube (see Awaiting results).",
        f"Text, at most {b.ACCESSION_CHARS} characters.",
    ),
    "mrn": (
        "The patient's MRN, from the request form that came with the sample.",
        "Text, exactly as on the form.",
    ),
    "date_of_birth": (
        "The patient's date of birth, from the request form.",
        "YYYY-MM-DD.",
    ),
    "collected_on": (
        "The day the blood was drawn (clinic time; one day either way is accepted).",
        "YYYY-MM-DD, not after reported_on.",
    ),
    "reported_on": ("The day the report was issued.", "YYYY-MM-DD, not in the future."),
    "assay": (
        "The assay used.",
        f"Text, at most {b.ASSAY_CHARS} characters, e.g. Guardant360 CDx.",
    ),
    "qc_status": (
        "The sample's QC result; fail or insufficient carries no variants and asks the "
        "clinic for a new sample.",
        ", ".join(QC_STATUSES) + ".",
    ),
    "tumor_fraction": (
        "ctDNA tumour fraction as a fraction. Give this or tumor_fraction_percent, not both.",
        "A fraction from 0 to 1 (0.012 is 1.2%); may be empty.",
    ),
    "tumor_fraction_percent": (
        "The same tumour fraction in percent, instead of tumor_fraction.",
        "A percentage from 0 to 100 (1.2 is 1.2%); may be empty.",
    ),
    "gene": (
        "The gene of this row's variant call. Leave it (and every variant column) empty "
        "on the one row of a report with nothing detected.",
        f"A gene symbol, e.g. ESR1 (at most {b.GENE_CHARS} characters).",
    ),
    "hgvs_p": (
        "The protein change. Give this or a full genomic position (or both).",
        "Any HGVS protein form: p.Asp538Gly, p.(Asp538Gly), NP_000116.2:p.(Asp538Gly), D538G.",
    ),
    "hgvs_c": ("The coding change (optional).", "HGVS, e.g. c.1613A>G."),
    "transcript": ("The transcript of the HGVS changes (optional).", "e.g. NM_000125.4."),
    "genome_build": (
        "The build of the genomic position; needed with chrom, pos, ref and alt.",
        "GRCh38 or GRCh37 (hg38, hg19; any case).",
    ),
    "chrom": (
        "The chromosome of the position.",
        "6, chr6 (any case), NC_000006.12 (GRCh38) or NC_000006.11 (GRCh37).",
    ),
    "pos": ("The 1-based genomic position.", "A whole number."),
    "ref": ("The reference allele.", "Bases A, C, G, T or N."),
    "alt": ("The alternate allele.", "Bases A, C, G, T or N."),
    "vaf": (
        "Variant allele fraction as a fraction. Give exactly one of vaf and vaf_percent.",
        "A fraction: 0 < vaf <= 1 (0.0042 is 0.42%).",
    ),
    "vaf_percent": (
        "The same allele fraction in percent, instead of vaf.",
        "A percentage: 0 < vaf_percent <= 100 (0.42 means 0.42%).",
    ),
    "depth": ("Read depth at the position (optional).", "A whole number from 0."),
    "filter": (
        "The variant caller's FILTER when the call did not pass (optional): shown to the "
        "clinic, never used for an alert.",
        "Text; empty or PASS for a passing call.",
    ),
}


def column_help() -> list[ColumnHelp]:
    """One entry per CSV column, in the parser's order (a column without a description here
    still appears, pointing to the API documentation)."""
    return [
        ColumnHelp(
            name=name,
            required=name in CSV_REQUIRED_COLUMNS,
            meaning=_HELP.get(name, ("See the API documentation.", ""))[0],
            values=_HELP.get(name, ("", ""))[1],
        )
        for name in CSV_COLUMNS
    ]


def undocumented_columns() -> set[str]:
    return set(CSV_COLUMNS) - set(_HELP)


def template_csv() -> str:
    """The header the parser accepts and the example rows, as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for example in EXAMPLE_ROWS:
        writer.writerow([example.get(name, "") for name in CSV_COLUMNS])
    return out.getvalue()
