"""Structural parsing of CSV and VCF lab uploads (DESIGN.md §6). Pure: no database."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liquidbiopsy.parsers import (
    ParseError,
    ParseResult,
    parse_csv,
    parse_vcf,
    sniff_format,
)

FIXTURES = Path(__file__).parent / "fixtures"
GOOD_CSV = (FIXTURES / "good.csv").read_bytes()
GOOD_VCFS = [(FIXTURES / name).read_bytes() for name in ("info_af.vcf", "format_af.vcf", "ad.vcf")]

HEADER = (
    "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
    "qc_status,gene,hgvs_p,vaf_percent"
)
REPORT_CELLS = "R-1,1,final,ACC-1,MRN-1,1961-04-02,2026-11-02,2026-11-10,Guardant360 CDx,pass"


def csv_bytes(*lines: str, newline: str = "\n") -> bytes:
    return (newline.join(lines) + newline).encode()


def vcf_fixture(name: str) -> ParseResult:
    return parse_vcf((FIXTURES / name).read_bytes())


def only_error(result: ParseResult) -> ParseError:
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


# --- CSV ---------------------------------------------------------------------------------------


def test_good_csv_gives_one_dict_per_report_in_the_json_shape():
    result = parse_csv(GOOD_CSV)

    assert result.errors == []
    assert result.rows == 3
    common = {"genome_build": "GRCh38", "chrom": "6", "ref": "A", "transcript": "NM_000125.4"}
    assert result.reports == [
        {
            "report_id": "G360-2026-000123",
            "version": 1,
            "status": "final",
            "accession": "ACC-000123",
            "patient": {"mrn": "MRN-0001", "date_of_birth": "1961-04-02"},
            "collected_on": "2026-11-02",
            "reported_on": "2026-11-10",
            "assay": "Guardant360 CDx",
            "qc_status": "pass",
            "tumor_fraction": 0.012,
            "variants": [
                {
                    **common,
                    "gene": "ESR1",
                    "hgvs_p": "p.Asp538Gly",
                    "hgvs_c": "c.1613A>G",
                    "pos": 152098791,
                    "alt": "G",
                    "vaf_percent": 0.42,
                    "depth": 15000,
                    "_line": 2,
                },
                {
                    **common,
                    "gene": "ESR1",
                    "hgvs_p": "p.Tyr537Ser",
                    "hgvs_c": "c.1610A>C",
                    "pos": 152098788,
                    "alt": "C",
                    "vaf_percent": 1.5,
                    "depth": 14000,
                    "_line": 3,
                },
            ],
            "_lines": [2, 3],
        },
        {  # "not detected": one row with an empty gene; empty tumor_fraction is left out
            "report_id": "G360-2026-000124",
            "version": 1,
            "status": "final",
            "accession": "ACC-000124",
            "patient": {"mrn": "MRN-0002", "date_of_birth": "1958-12-30"},
            "collected_on": "2026-11-03",
            "reported_on": "2026-11-11",
            "assay": "Guardant360 CDx",
            "qc_status": "pass",
            "variants": [],
            "_lines": [4],
        },
    ]


def test_rows_of_a_report_are_grouped_even_when_not_adjacent():
    result = parse_csv(
        csv_bytes(
            HEADER,
            f"{REPORT_CELLS},ESR1,p.Asp538Gly,0.4",
            REPORT_CELLS.replace("R-1", "R-2") + ",,,",
            f"{REPORT_CELLS},ESR1,p.Tyr537Ser,0.2",
        )
    )

    assert result.errors == []
    assert [r["report_id"] for r in result.reports] == ["R-1", "R-2"]
    assert result.reports[0]["_lines"] == [2, 4]
    assert [v["_line"] for v in result.reports[0]["variants"]] == [2, 4]


def test_a_new_version_is_a_separate_report():
    amended = REPORT_CELLS.replace(",1,final,", ",2,amended,")
    result = parse_csv(csv_bytes(HEADER, f"{REPORT_CELLS},ESR1,,0.4", f"{amended},ESR1,,0.5"))

    assert result.errors == []
    assert [(r["version"], r["status"]) for r in result.reports] == [(1, "final"), (2, "amended")]


def test_unparseable_numbers_stay_strings_for_the_validator():
    result = parse_csv(
        csv_bytes(HEADER, REPORT_CELLS.replace(",1,final", ", v1 ,final") + ',ESR1,,"0,42"')
    )

    assert result.errors == []
    assert result.reports[0]["version"] == "v1"
    assert result.reports[0]["variants"][0]["vaf_percent"] == "0,42"


@pytest.mark.parametrize("column", ["accession", "gene", "mrn"])
def test_missing_required_column_is_named(column):
    header = ",".join(c for c in HEADER.split(",") if c != column)

    result = parse_csv(csv_bytes(header, "x"))

    assert result.reports == []
    assert only_error(result) == ParseError(1, column, f"Missing required column '{column}'.")


def test_unknown_column_is_an_error_with_a_suggestion():
    result = parse_csv(csv_bytes(HEADER.replace("vaf_percent", "vaf_pct"), f"{REPORT_CELLS},,,1"))

    assert result.reports == []
    assert only_error(result) == ParseError(
        1, "vaf_pct", "Unknown column 'vaf_pct'. Did you mean 'vaf_percent'?"
    )


def test_repeated_column_is_an_error():
    result = parse_csv(csv_bytes(HEADER + ",gene", f"{REPORT_CELLS},ESR1,,0.4,ESR1"))

    assert only_error(result) == ParseError(1, "gene", "Column 'gene' appears more than once.")


def test_semicolon_separated_file_gets_one_clear_error():
    result = parse_csv(csv_bytes(HEADER.replace(",", ";")))

    assert only_error(result).message == "The header has one column; separate columns with commas."


def test_report_field_that_differs_between_rows_names_line_and_field():
    later = REPORT_CELLS.replace("2026-11-02", "2026-11-03")
    result = parse_csv(csv_bytes(HEADER, f"{REPORT_CELLS},ESR1,,0.4", f"{later},ESR1,,0.2"))

    assert only_error(result) == ParseError(
        3, "collected_on", "Report field 'collected_on' differs from line 2."
    )


def test_same_number_written_differently_is_not_a_difference():
    later = REPORT_CELLS.replace(",1,final", ",01,final")
    result = parse_csv(csv_bytes(HEADER, f"{REPORT_CELLS},ESR1,,0.4", f"{later},ESR1,,0.2"))

    assert result.errors == []


def test_integer_and_decimal_version_differ_because_json_would():
    later = REPORT_CELLS.replace(",1,final", ",1.0,final")
    result = parse_csv(csv_bytes(HEADER, f"{REPORT_CELLS},ESR1,,0.4", f"{later},ESR1,,0.2"))

    assert only_error(result) == ParseError(
        3, "version", "Report field 'version' differs from line 2."
    )


def test_empty_gene_row_beside_variant_rows_is_an_error_on_that_row():
    result = parse_csv(
        csv_bytes(HEADER, f"{REPORT_CELLS},,,", f"{REPORT_CELLS},ESR1,p.Asp538Gly,0.4")
    )

    assert only_error(result) == ParseError(
        2,
        "gene",
        "Row has an empty gene, but this report has variant rows (line 3); remove this row.",
    )


def test_variant_cells_without_a_gene_are_not_read_as_not_detected():
    result = parse_csv(csv_bytes(HEADER, f"{REPORT_CELLS},,p.Asp538Gly,0.4"))

    error = only_error(result)
    assert (error.line, error.field) == (2, "gene")
    assert result.reports[0]["variants"] == []


def test_row_with_wrong_cell_count_names_line_and_counts():
    result = parse_csv(csv_bytes(HEADER, f"{REPORT_CELLS},ESR1,,0.4", f"{REPORT_CELLS},ESR1"))

    assert only_error(result) == ParseError(3, None, "Row has 11 cells; the header has 13.")
    assert result.rows == 2
    assert result.reports[0]["_lines"] == [2]


def test_quoted_comma_in_assay_is_one_cell():
    row = REPORT_CELLS.replace("Guardant360 CDx", '"FoundationOne Liquid CDx, v2"')

    result = parse_csv(csv_bytes(HEADER, f"{row},ESR1,,0.4"))

    assert result.errors == []
    assert result.reports[0]["assay"] == "FoundationOne Liquid CDx, v2"


def test_unclosed_quote_is_an_error_not_a_swallowed_file():
    row = REPORT_CELLS.replace("Guardant360 CDx", '"Guardant360 CDx')

    result = parse_csv(csv_bytes(HEADER, f"{REPORT_CELLS},ESR1,,0.4", f"{row},ESR1,,0.4"))

    assert result.reports == []
    assert only_error(result).line == 3


def test_byte_order_mark_and_crlf_are_accepted():
    plain = parse_csv(GOOD_CSV)

    with_bom = parse_csv(codecs.BOM_UTF8 + GOOD_CSV)
    crlf = parse_csv(GOOD_CSV.replace(b"\n", b"\r\n"))

    assert with_bom == plain
    assert crlf == plain


def test_blank_lines_are_skipped_but_keep_line_numbers():
    result = parse_csv(csv_bytes(HEADER, "", f"{REPORT_CELLS},ESR1,,0.4", ",,,,,,,,,,,,"))

    assert result.errors == []
    assert result.rows == 1
    assert result.reports[0]["_lines"] == [3]


def test_more_rows_than_the_limit_is_one_error_naming_it():
    rows = [f"{REPORT_CELLS},ESR1,,0.{n}" for n in range(1, 5)]

    assert parse_csv(csv_bytes(HEADER, *rows), max_rows=4).errors == []
    result = parse_csv(csv_bytes(HEADER, *rows), max_rows=3)

    assert result.reports == []
    assert "more than 3 data rows" in only_error(result).message


def test_file_over_the_size_limit_is_refused_unread():
    result = parse_csv(GOOD_CSV, max_bytes=2 * 1024 * 1024 - 1)
    assert result.errors == []

    result = parse_csv(b"x" * (2 * 1024 * 1024 + 1), max_bytes=2 * 1024 * 1024)

    assert result == ParseResult(
        reports=[],
        errors=[
            ParseError(
                None, None, "The file is larger than the 2 MB limit; split it into smaller files."
            )
        ],
        rows=0,
    )


@pytest.mark.parametrize("data", [b"", b"\n\n", b"  \r\n"])
def test_empty_file_is_an_error(data):
    assert only_error(parse_csv(data)) == ParseError(None, None, "The file is empty.")


def test_header_only_is_an_error():
    result = parse_csv(csv_bytes(HEADER))

    assert result.reports == []
    assert only_error(result) == ParseError(None, None, "The file has a header but no data rows.")


def test_undecodable_bytes_name_their_line():
    result = parse_csv(csv_bytes(HEADER).replace(b"\n", b"\n\xff\xfe,\n", 1))

    assert only_error(result) == ParseError(
        2, None, "The file is not valid UTF-8 text; save it as UTF-8."
    )


def test_utf16_file_is_told_to_save_as_utf8():
    result = parse_csv(GOOD_CSV.decode().encode("utf-16"))

    assert only_error(result).message == "The file is UTF-16 text; save it as UTF-8."


# --- VCF ---------------------------------------------------------------------------------------


def test_vcf_report_fields_come_from_the_header_lines():
    result = vcf_fixture("info_af.vcf")

    assert result.errors == []
    [report] = result.reports
    assert {k: v for k, v in report.items() if k not in ("variants", "_lines")} == {
        "report_id": "G360-2026-000200",
        "version": 1,
        "status": "final",
        "accession": "ACC-000200",
        "patient": {"mrn": "MRN-0003", "date_of_birth": "1960-01-15"},
        "collected_on": "2026-11-02",
        "reported_on": "2026-11-10",
        "assay": "Guardant360 CDx",
        "qc_status": "pass",
        "tumor_fraction": 0.02,
    }
    # The report-field lines, the ##reference and ##contig lines that gave the build, and the
    # two records (the filtered one is kept too).
    assert report["_lines"] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 18, 20, 21]


def test_vcf_allele_fraction_from_info_af_and_filtered_records_kept_with_their_filter():
    result = vcf_fixture("info_af.vcf")

    assert result.rows == 2
    assert result.reports[0]["variants"] == [
        {
            "gene": "ESR1",
            "hgvs_p": "p.Asp538Gly",
            "hgvs_c": "c.1613A>G",
            "transcript": "NM_000125.4",
            "chrom": "6",
            "pos": 152098791,
            "ref": "A",
            "alt": "G",
            "vaf": "0.0042",
            "depth": 15000,
            "filter": "PASS",
            "genome_build": "GRCh38",
            "_line": 20,
        },
        {
            "gene": "ESR1",
            "hgvs_p": "p.Tyr537Ser",
            "chrom": "6",
            "pos": 152098788,
            "ref": "A",
            "alt": "C",
            "vaf": "0.0003",
            "depth": 9000,
            "filter": "LowQual",  # shown on the report, never used by the rule
            "genome_build": "GRCh38",
            "_line": 21,
        },
    ]


def test_vcf_allele_fraction_from_format_af_with_crlf_and_chr_prefix():
    result = vcf_fixture("format_af.vcf")

    assert result.errors == []
    assert result.reports[0]["variants"] == [
        {
            "gene": "ESR1",  # from GENEINFO=ESR1:2099
            "hgvs_p": "p.Tyr537Ser",
            "hgvs_c": "c.1610A>C",
            "chrom": "chr6",  # the validator reads every chromosome form
            "pos": 152098788,
            "ref": "A",
            "alt": "C",
            "vaf": "0.015",
            "depth": 8000,
            "genome_build": "GRCh38",
            "_line": 15,
        }
    ]


def test_vcf_allele_fraction_and_depth_from_ad_of_the_tumor_column():
    result = vcf_fixture("ad.vcf")

    assert result.errors == []
    [variant] = result.reports[0]["variants"]
    assert variant["vaf"] == "0.0100000000"  # 100 / (9900 + 100), the TUMOR column
    assert variant["depth"] == 10000  # no FORMAT/DP: the sum of the counts used
    assert variant["genome_build"] == "GRCh38"  # named in the ##reference path


def test_vcf_without_records_is_a_report_without_variants():
    result = vcf_fixture("no_variants.vcf")

    assert result.errors == []
    assert result.rows == 0
    [report] = result.reports
    assert report["qc_status"] == "fail"
    assert report["variants"] == []


def test_vcf_multi_allelic_record_gives_one_call_per_alt_allele():
    result = vcf_fixture("multiallelic.vcf")

    assert result.errors == []
    calls = result.reports[0]["variants"]
    assert [(c["alt"], c["vaf"], c["_line"]) for c in calls] == [
        ("G", "0.004", 13),
        ("T", "0.002", 13),
    ]


def test_vcf_without_fileformat_line_is_refused():
    result = vcf_fixture("no_fileformat.vcf")

    assert result.reports == []
    error = only_error(result)
    assert (error.line, error.field) == (1, "fileformat")


VCF_HEAD = "##fileformat=VCFv4.2\n##report_id=R-1\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"


def vcf_with_record(*cells: str) -> ParseResult:
    record = "\t".join(cells)
    return parse_vcf(f"{VCF_HEAD}\n{record}\n".encode())


def test_vcf_record_without_allele_fraction_is_an_error():
    result = vcf_with_record("6", "152098791", ".", "A", "G", ".", "PASS", "GENE=ESR1;DP=100")

    assert only_error(result) == ParseError(
        4, "vaf", "No allele fraction: a VCF without sample columns needs INFO/AF."
    )


@pytest.mark.parametrize(
    ("alt", "filter_value", "info", "field", "message"),
    [
        ("G", "", "AF=0.01", "FILTER", "FILTER is empty; give PASS, '.' or a filter name."),
        (".", "PASS", "AF=0.01", "alt", "ALT is '.', so the record is not a variant call; list only variant calls."),
        ("G", "PASS", "DP=0", "vaf", "FORMAT/AD counts no reads, so it gives no allele fraction."),
    ],
)  # fmt: skip
def test_vcf_record_that_cannot_be_a_variant_is_an_error(alt, filter_value, info, field, message):
    head = VCF_HEAD.replace("INFO", "INFO\tFORMAT\tTUMOR")
    record = "\t".join(["6", "152098791", ".", "A", alt, ".", filter_value, info, "AD", "0,0"])

    result = parse_vcf(f"{head}\n{record}\n".encode())

    assert only_error(result) == ParseError(4, field, message)
    assert result.reports[0]["variants"] == []


def test_vcf_record_with_wrong_column_count_is_an_error():
    result = vcf_with_record("6", "152098791", ".", "A", "G", ".", "PASS")

    assert only_error(result) == ParseError(
        4, None, "Record has 7 tab-separated columns; the '#CHROM' line has 8."
    )


def test_vcf_geneinfo_percent_encoding_and_unparseable_af():
    result = vcf_with_record(
        "chr6",
        "152098791",
        ".",
        "A",
        "G",
        ".",
        ".",
        "GENEINFO=ESR1:2099;HGVSP=p.Asp538%3DGly;AF=n/a",
    )

    assert result.errors == []
    [variant] = result.reports[0]["variants"]
    assert (variant["gene"], variant["hgvs_p"], variant["vaf"]) == ("ESR1", "p.Asp538=Gly", "n/a")


def test_vcf_header_field_given_twice_with_different_values_is_an_error():
    head = VCF_HEAD.replace("##report_id=R-1", "##report_id=R-1\n##report_id=R-2")

    result = parse_vcf(f"{head}\n".encode())

    assert only_error(result) == ParseError(
        3, "report_id", "Header '##report_id' differs from line 2."
    )


def test_vcf_more_records_than_the_limit_is_one_error():
    record = "6\t152098791\t.\tA\tG\t.\tPASS\tGENE=ESR1;AF=0.01"
    data = f"{VCF_HEAD}\n{record}\n{record}\n".encode()

    result = parse_vcf(data, max_rows=1)

    assert result.reports == []
    assert "more than 1 variant records" in only_error(result).message


# --- sniff_format ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "expected"),
    [
        ("results.csv", b"anything", "csv"),
        ("RESULTS.CSV", b"", "csv"),
        ("sample.vcf", b"anything", "vcf"),
        ("upload.txt", b"##fileformat=VCFv4.2\n", "vcf"),
        ("upload.csv", codecs.BOM_UTF8 + b"##fileformat=VCFv4.3\n", "vcf"),  # content wins
        ("upload", b'"report_id",version,status\r\n', "csv"),
        ("upload.txt", b"hello, world\n", None),
        ("sample.vcf.gz", b"\x1f\x8b\x08\x00", None),
        ("", b"", None),
    ],
)
def test_sniff_format(filename, data, expected):
    assert sniff_format(filename, data) == expected


# --- Property-based: no input makes a parser raise --------------------------------------------

PARSERS = [parse_csv, parse_vcf]
# Characters that reach the deeper branches: separators, quotes, newlines, numbers, VCF syntax.
NEAR_MISS_ALPHABET = st.sampled_from([*',"\t\r\n;:=#.-0123456789AGCTchrESR1 ', "\xff", "é"])


def assert_well_formed(result: ParseResult) -> None:
    assert isinstance(result, ParseResult)
    assert isinstance(result.rows, int)
    assert result.rows >= 0
    for error in result.errors:
        assert isinstance(error, ParseError)
        assert isinstance(error.message, str)
        assert error.message.strip()
        assert error.line is None or error.line >= 1
    if not result.errors:
        assert isinstance(result.reports, list)
        for report in result.reports:
            assert isinstance(report, dict)
            assert isinstance(report["variants"], list)
            assert all(isinstance(line, int) for line in report["_lines"])


def check_all(data: bytes) -> None:
    for parse in PARSERS:
        assert_well_formed(parse(data))
    assert sniff_format("upload.bin", data) in ("csv", "vcf", None)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(data):
    check_all(data)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_random_text_never_raises(text):
    check_all(text.encode())


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([GOOD_CSV, *GOOD_VCFS]), st.data())
def test_truncated_good_files_never_raise(good, data):
    cut = data.draw(st.integers(min_value=0, max_value=len(good)))
    check_all(good[:cut])


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([GOOD_CSV, *GOOD_VCFS]),
    st.data(),
    st.text(NEAR_MISS_ALPHABET, max_size=40),
)
def test_good_files_with_a_spliced_in_fragment_never_raise(good, data, fragment):
    start = data.draw(st.integers(min_value=0, max_value=len(good)))
    end = data.draw(st.integers(min_value=start, max_value=len(good)))
    check_all(good[:start] + fragment.encode() + good[end:])


def test_a_header_of_many_columns_is_one_error_not_one_per_column():
    # Checking and suggesting a name for each of 400,000 columns took ~15 s of CPU.
    header = ",".join(f"c{n}" for n in range(400_000))
    result = parse_csv(f"{header}\n".encode())
    [error] = result.errors
    assert error.line == 1
    assert error.message.startswith("The header has 400,000 columns")
