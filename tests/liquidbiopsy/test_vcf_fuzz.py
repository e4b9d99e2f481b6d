"""No VCF makes the reader raise: every problem is an error with its line (never a 5xx)."""

import datetime as dt
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from liquidbiopsy.bulk import _split_lines
from liquidbiopsy.parsers import parse_vcf
from liquidbiopsy.validation import validate_report

HEADER_LINES = [
    "##fileformat=VCFv4.2",
    "##tumor_sample=T",
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="x">',
    '##FORMAT=<ID=AF,Number=A,Type=Float,Description="x">',
    '##FORMAT=<ID=AD,Number=1,Type=Integer,Description="VarScan2">',
    '##FORMAT=<ID=CU,Number=2,Type=Integer,Description="x">',
    '##INFO=<ID=AF,Number=A,Type=Float,Description="x">',
    '##INFO=<ID=CSQ,Number=.,Type=String,Description="Format: Allele|SYMBOL|HGVSp">',
    "##contig=<ID=chr6,length=170805979>",
    "##genome_build=hg19",
    "##reference=file:///x/GRCh38.fa",
    "##INFO=<ID=broken",
]
CHROM_LINES = [
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tN\tT",
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR",
]
cells = st.one_of(
    st.sampled_from(
        [
            "chr6",
            "6",
            "152098791",
            "A",
            "G",
            "G,T",
            "<DEL>",
            "*",
            ".",
            "PASS",
            "q10;lowDP",
            "AF=0.1",
            "AF=x",
            "CSQ=G|ESR1|p.Asp538Gly",
            "GT:AD:AF",
            "GT:AD",
            "AD:CU",
            "0/1:10,2:0.2",
            "0/1:10",
            "10,2:3,4",
            "0/1:.:.",
            "",
            "AU:CU:GU:TU",
            "1,1:2,2:0,0:5,5",
            "FREQ",
            "9%",
        ]
    ),
    st.text(max_size=12),
)
records = st.lists(cells, min_size=1, max_size=12).map("\t".join)


@settings(max_examples=400, deadline=None)
@given(
    header=st.lists(st.sampled_from(HEADER_LINES), max_size=8),
    chrom=st.sampled_from(CHROM_LINES),
    body=st.lists(records, max_size=5),
)
def test_no_vcf_makes_the_reader_raise(header, chrom, body):
    text = "\n".join(["##fileformat=VCFv4.2", *header, chrom, *body]) + "\n"
    result = parse_vcf(text.encode())
    for report in result.reports:  # and the validator reads whatever the reader gives
        payload, _, _ = _split_lines(report)
        validate_report(payload, today=dt.date(2026, 11, 24))
    for error in result.errors:
        assert error.message
        assert error.line is None or 1 <= error.line <= len(re.split(r"\r\n|\r|\n", text))
