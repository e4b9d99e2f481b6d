"""brk probes as a curious lab: VCFs with odd callers' values; never a 5xx, never a bad VAF."""

import gzip

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from liquidbiopsy.models import VariantCall

pytestmark = pytest.mark.django_db
UPLOAD_URL = "/api/v1/reports/upload/"

HEAD = (
    "##fileformat=VCFv4.2\n##report_id=V-1\n##version=1\n##status=final\n"
    "##accession=ACC-000123\n##mrn=MRN-0001\n##date_of_birth=1961-04-02\n"
    "##collected_on=2026-11-02\n##reported_on=2026-11-10\n##assay=G360\n##qc_status=pass\n"
    "##genome_build=GRCh38\n"
)
INFO = "GENEINFO=ESR1:2099;HGVS_P=p.Tyr537Ser"


def _send(api, text, name="f.vcf"):
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    return api.post(UPLOAD_URL, {"file": SimpleUploadedFile(name, data)}, format="multipart")


def _check(response):
    assert response.status_code < 500, response.content[:400]
    for call in VariantCall.objects.all():
        assert call.vaf is None or 0 < call.vaf <= 1, call.vaf
        assert call.depth is None or call.depth >= 0, call.depth


FMT_AF = '##FORMAT=<ID=AF,Number=A,Type=Float,Description="AF">\n'
FMT_AD = '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="AD">\n'
FMT_DP = '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="DP">\n'
COLS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\n"


def _rec(fmt, sample, pos="152098788", alt="C", filt=".", ref="A", chrom="chr6", info=INFO):
    return f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t50\t{filt}\t{info}\t{fmt}\t{sample}\n"


CASES = {
    "af_nan": FMT_AF + COLS + _rec("GT:AF", "0/1:NaN"),
    "af_inf": FMT_AF + COLS + _rec("GT:AF", "0/1:inf"),
    "af_neg": FMT_AF + COLS + _rec("GT:AF", "0/1:-0.1"),
    "af_zero": FMT_AF + COLS + _rec("GT:AF", "0/1:0"),
    "af_two": FMT_AF + COLS + _rec("GT:AF", "0/1:2"),
    "af_text": FMT_AF + COLS + _rec("GT:AF", "0/1:abc"),
    "af_dot": FMT_AF + COLS + _rec("GT:AF", "0/1:."),
    "af_1e308": FMT_AF + COLS + _rec("GT:AF", "0/1:1e308"),
    "af_tiny": FMT_AF + COLS + _rec("GT:AF", "0/1:1e-300"),
    "af_two_values_one_alt": FMT_AF + COLS + _rec("GT:AF", "0/1:0.1,0.2"),
    "ad_zero_zero": FMT_AD + COLS + _rec("GT:AD", "0/1:0,0"),
    "ad_negative": FMT_AD + COLS + _rec("GT:AD", "0/1:10,-5"),
    "ad_one_value": FMT_AD + COLS + _rec("GT:AD", "0/1:10"),
    "ad_text": FMT_AD + COLS + _rec("GT:AD", "0/1:a,b"),
    "ad_huge": FMT_AD + COLS + _rec("GT:AD", "0/1:1,99999999999999999999999"),
    "dp_huge": FMT_AF + FMT_DP + COLS + _rec("GT:AF:DP", "0/1:0.1:99999999999999999999999"),
    "dp_negative": FMT_AF + FMT_DP + COLS + _rec("GT:AF:DP", "0/1:0.1:-5"),
    "sample_short": FMT_AF + FMT_DP + COLS + _rec("GT:AF:DP", "0/1"),
    "sample_long": FMT_AF + COLS + _rec("GT:AF", "0/1:0.1:7:8"),
    "missing_sample_col": FMT_AF + COLS + "chr6\t152098788\t.\tA\tC\t50\t.\t" + INFO + "\tGT:AF\n",
    "pos_zero": FMT_AF + COLS + _rec("GT:AF", "0/1:0.1", pos="0"),
    "pos_negative": FMT_AF + COLS + _rec("GT:AF", "0/1:0.1", pos="-1"),
    "pos_huge": FMT_AF + COLS + _rec("GT:AF", "0/1:0.1", pos="99999999999999999999999"),
    "pos_text": FMT_AF + COLS + _rec("GT:AF", "0/1:0.1", pos="abc"),
    "alt_symbolic": FMT_AF + COLS + _rec("GT:AF", "0/1:0.1", alt="<DEL>"),
    "alt_star": FMT_AF + COLS + _rec("GT:AF", "0/1:0.1", alt="*"),
    "alt_dot": FMT_AF + COLS + _rec("GT:AF", "0/1:0.1", alt="."),
    "alt_breakend": FMT_AF + COLS + _rec("GT:AF", "0/1:0.1", alt="G]17:198982]"),
    "alt_many": FMT_AF
    + COLS
    + _rec("GT:AF", "0/1:" + ",".join(["0.01"] * 300), alt=",".join(["C"] * 300)),
    "ref_lower": FMT_AF + COLS + _rec("GT:AF", "0/1:0.1", ref="a", alt="c"),
    "chrom_weird": FMT_AF + COLS + _rec("GT:AF", "0/1:0.1", chrom="NC_000006.11"),
    "chrom_empty": FMT_AF + COLS + _rec("GT:AF", "0/1:0.1", chrom=""),
    "info_broken": FMT_AF + COLS + _rec("GT:AF", "0/1:0.1", info="=;;=x;HGVS_P"),
    "info_hgvs_garbage": FMT_AF
    + COLS
    + _rec("GT:AF", "0/1:0.1", info="GENEINFO=ESR1:2099;HGVS_P=p.((((("),
    "info_nul": FMT_AF
    + COLS
    + _rec("GT:AF", "0/1:0.1", info="GENEINFO=ESR1\x00;HGVS_P=p.Tyr537Ser"),
    "undeclared_format": COLS + _rec("GT:ZZ", "0/1:3"),
    "format_dup": FMT_AF + COLS + _rec("GT:AF:AF", "0/1:0.1:0.2"),
    "few_columns": FMT_AF + COLS + "chr6\t152098788\t.\tA\n",
    "crlf": (FMT_AF + COLS + _rec("GT:AF", "0/1:0.1")).replace("\n", "\r\n"),
    "no_header_line": FMT_AF + _rec("GT:AF", "0/1:0.1"),
    "two_samples_no_tumor": FMT_AF
    + COLS.replace("TUMOR", "S1\tS2")
    + "chr6\t152098788\t.\tA\tC\t50\t.\t"
    + INFO
    + "\tGT:AF\t0/1:0.1\t0/1:0.2\n",
    "tumor_sample_unknown": "##tumor_sample=NOPE\n" + FMT_AF + COLS + _rec("GT:AF", "0/1:0.1"),
    "strelka_all_zero": (
        "".join(f'##FORMAT=<ID={b}U,Number=2,Type=Integer,Description="x">\n' for b in "ACGT")
        + COLS.replace("TUMOR", "NORMAL\tTUMOR")
        + "chr6\t152098788\t.\tA\tC\t.\tPASS\t"
        + INFO
        + "\tAU:CU:GU:TU\t0,0:0,0:0,0:0,0\t0,0:0,0:0,0:0,0\n"
    ),
    "strelka_indel_alt": (
        "".join(f'##FORMAT=<ID={b}U,Number=2,Type=Integer,Description="x">\n' for b in "ACGT")
        + COLS.replace("TUMOR", "NORMAL\tTUMOR")
        + "chr6\t152098788\t.\tA\tAC\t.\tPASS\t"
        + INFO
        + "\tAU:CU:GU:TU\t5,5:0,0:0,0:0,0\t5,5:3,3:0,0:0,0\n"
    ),
    "freebayes_zero": (
        '##FORMAT=<ID=RO,Number=1,Type=Integer,Description="x">\n'
        '##FORMAT=<ID=AO,Number=A,Type=Integer,Description="x">\n'
        + COLS
        + _rec("GT:RO:AO", "0/1:0:0")
    ),
    "varscan_freq_text": (
        '##FORMAT=<ID=FREQ,Number=1,Type=String,Description="x">\n'
        + COLS
        + _rec("GT:FREQ", "0/1:abc%")
    ),
    "varscan_freq_over": (
        '##FORMAT=<ID=FREQ,Number=1,Type=String,Description="x">\n'
        + COLS
        + _rec("GT:FREQ", "0/1:150%")
    ),
    "varscan_freq_nan": (
        '##FORMAT=<ID=FREQ,Number=1,Type=String,Description="x">\n'
        + COLS
        + _rec("GT:FREQ", "0/1:nan%")
    ),
    "varscan_ad_rd_zero": (
        '##FORMAT=<ID=AD,Number=1,Type=Integer,Description="x">\n'
        '##FORMAT=<ID=RD,Number=1,Type=Integer,Description="x">\n'
        + COLS
        + _rec("GT:RD:AD", "0/1:0:0")
    ),
    "info_af_no_samples": "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    "chr6\t152098788\t.\tA\tC\t50\t.\t" + INFO + ";AF=nan\n",
    "header_bad_meta": "##FORMAT=<ID=AF,Number=A\n" + COLS + _rec("GT:AF", "0/1:0.1"),
    "header_huge_value": "##assay="
    + "x" * 200_000
    + "\n"
    + FMT_AF
    + COLS
    + _rec("GT:AF", "0/1:0.1"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_odd_vcf_is_answered_never_a_5xx(lab_token_api, collected, name):
    _check(_send(lab_token_api, HEAD + CASES[name]))


@pytest.mark.parametrize(
    "data",
    [
        b"\x1f\x8b" + b"garbage",
        gzip.compress(b"not a vcf at all\n"),
        gzip.compress((HEAD + FMT_AF + COLS + _rec("GT:AF", "0/1:0.1")).encode())[:-10],
        b"\xff\xfe\x00\x00" + HEAD.encode(),
        HEAD.encode().replace(b"V-1", b"V-\xe9"),
        b"",
    ],
    ids=["bad_gzip", "gzip_not_vcf", "gzip_truncated", "utf32_bom", "latin1", "empty"],
)
def test_odd_bytes_are_answered_never_a_5xx(lab_token_api, collected, data):
    _check(_send(lab_token_api, data, name="f.vcf.gz" if data[:2] == b"\x1f\x8b" else "f.vcf"))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("f.csv", b'report_id,version\n"unterminated,1\n'),
        ("f.csv", b"a" * 200_000 + b"\n"),
        ("f.csv", "report_id,version\n" + "x," * 5000 + "\n"),
        ("f.txt", b"hello"),
        ("../../etc/passwd", b"hello"),
        ("f.csv", b"\xef\xbb\xbfreport_id,version,status\n"),
    ],
)
def test_odd_files_are_answered_never_a_5xx(lab_token_api, collected, name, data):
    _check(_send(lab_token_api, data if isinstance(data, bytes) else data.encode(), name=name))
