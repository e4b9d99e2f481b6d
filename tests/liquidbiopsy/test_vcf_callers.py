"""VCFs as real variant callers write them, uploaded through POST /api/v1/reports/upload/.

Each fixture in fixtures/callers/ has the header lines and FORMAT fields its caller emits
(the lab's report fields are added as ##key=value lines, as a lab pipeline does). For each,
the stored allele fraction equals the one computed by hand below, or the file is refused
with the line named.
"""

import gzip
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from liquidbiopsy.models import LabReport, Upload, VariantCall
from tests.builders import counts

UPLOAD = "/api/v1/reports/upload/"
CALLERS = Path(__file__).parent / "fixtures" / "callers"
REPORT_LINES = (
    "##report_id=VCF-2026-0001\n##version=1\n##status=final\n##accession=ACC-000123\n"
    "##mrn=MRN-0001\n##date_of_birth=1961-04-02\n##collected_on=2026-11-02\n"
    "##reported_on=2026-11-10\n##assay=cfDNA panel\n##qc_status=pass\n"
)
pytestmark = pytest.mark.django_db


def caller_vcf(name: str, *, replace: tuple[str, str] | None = None) -> bytes:
    text = (CALLERS / name).read_text()
    first, rest = text.split("\n", 1)
    text = f"{first}\n{REPORT_LINES}{rest}"
    if replace:
        text = text.replace(*replace)
    return text.encode()


def line_of(data: bytes, start: str) -> int:
    """The 1-based line of the file that starts with `start`."""
    lines = data.decode().split("\n")
    return next(n for n, line in enumerate(lines, 1) if line.startswith(start))


def upload(client, data: bytes, name: str = "calls.vcf"):
    return client.post(UPLOAD, {"file": SimpleUploadedFile(name, data)}, format="multipart")


def stored_calls():
    return list(VariantCall.objects.order_by("id"))


D = Decimal


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        # Mutect2 T/N: the NORMAL column comes first; ##tumor_sample names the tumour. Its
        # FORMAT AF (0.0112) is the fraction; the normal's 0.001 must not be read.
        ("mutect2_tumor_normal.vcf", [("6", 152098791, "A", "G", D("0.0112"), 3013, "PASS")]),
        # Mutect2 tumour-only: FORMAT AF.
        ("mutect2_tumor_only.vcf", [("6", 152098788, "A", "C", D("0.0042"), 4801, "PASS")]),
        # Strelka2 somatic SNV: no AF or AD; tier-1 CU / (AU+CU+GU+TU) = 23 / 2054 in TUMOR.
        (
            "strelka2_somatic_snv.vcf",
            [("6", 152098788, "A", "C", (D(23) / D(2054)).quantize(D("1e-10")), 2060, "PASS")],
        ),
        # VarDict: FORMAT AF (its RD is forward/reverse reference reads, not VarScan's RD).
        ("vardict.vcf", [("6", 152098791, "A", "G", D("0.0042"), 5210, "PASS")]),
        # VarScan2 somatic: FREQ 0.59% in TUMOR (AD is the alt depth alone, Number=1).
        ("varscan2_somatic.vcf", [("6", 152098791, "A", "G", D("0.0059"), 2900, "PASS")]),
        # FreeBayes on GRCh37: INFO AF=0.5 is a genotype frequency; FORMAT AD 30/5000.
        ("freebayes.vcf", [("6", 152419926, "A", "G", D("0.006"), 5000, "")]),
        # LoFreq: no sample columns, INFO AF and INFO DP.
        ("lofreq.vcf", [("6", 152098791, "A", "G", D("0.004484"), 6021, "PASS")]),
        # GATK HaplotypeCaller-style: INFO AF=0.500 ignored; FORMAT AD 10/(2000+10).
        (
            "gatk_haplotypecaller.vcf",
            [("6", 152098791, "A", "G", (D(10) / D(2010)).quantize(D("1e-10")), 2010, "")],
        ),
        # A multi-allelic record: one call per ALT, AF and AD per allele.
        (
            "mutect2_multiallelic.vcf",
            [
                ("6", 152098788, "A", "C", D("0.0066"), 3000, "PASS"),
                ("6", 152098788, "A", "G", D("0.004"), 3000, "PASS"),
            ],
        ),
        # A record the caller filtered is stored with its filter.
        (
            "mutect2_filtered_esr1.vcf",
            [("6", 152098791, "A", "G", D("0.0013"), 4015, "weak_evidence")],
        ),
    ],
)
def test_each_caller_s_allele_fraction_is_stored_as_computed_by_hand(
    lab_token_api, collected, fixture, expected
):
    response = upload(lab_token_api, caller_vcf(fixture))

    assert response.status_code == 201, response.json()
    got = [(c.chrom, c.pos, c.ref, c.alt, c.vaf, c.depth, c.filter) for c in stored_calls()]
    assert got == expected
    assert all(c.gene == "ESR1" for c in stored_calls())  # by its span: no annotation given


def test_vep_annotations_give_gene_and_hgvs_for_every_gene(lab_token_api, collected):
    response = upload(lab_token_api, caller_vcf("vep_annotated.vcf"))

    assert response.status_code == 201, response.json()
    got = [(c.gene, c.hgvs_p, c.transcript, c.genome_build, c.vaf) for c in stored_calls()]
    assert got == [
        ("ESR1", "p.Asp538Gly", "ENST00000206249", "GRCh38", D("0.0112")),
        ("TP53", "p.Arg273His", "ENST00000269305", "GRCh38", D("0.006")),
        ("PIK3CA", "p.Glu545LysfsTer3", "ENST00000263967", "GRCh38", D("0.005")),
    ]


def test_freebayes_grch37_call_is_identified_as_d538g_and_not_discordant(lab_token_api, collected):
    upload(lab_token_api, caller_vcf("freebayes.vcf"))

    [call] = stored_calls()
    assert (call.genome_build, call.flags) == ("GRCh37", [])


def test_gzipped_and_bgzipped_vcfs_are_read(lab_token_api, collected):
    data = caller_vcf("mutect2_tumor_only.vcf")
    # bgzip writes a series of gzip members; Python reads them as one stream.
    half = len(data) // 2
    bgzipped = gzip.compress(data[:half]) + gzip.compress(data[half:])

    response = upload(lab_token_api, bgzipped, name="PT0002.vcf.gz")

    assert response.status_code == 201, response.json()
    assert [c.vaf for c in stored_calls()] == [D("0.0042")]


@override_settings(UPLOAD_MAX_BYTES=64 * 1024)
def test_the_size_limit_applies_to_the_uncompressed_content(lab_token_api, collected):
    data = caller_vcf("mutect2_tumor_only.vcf") + b"##padding\n" * 20_000  # 200 KB, compresses
    compressed = gzip.compress(data)
    assert len(compressed) < 64 * 1024

    response = upload(lab_token_api, compressed, name="big.vcf.gz")

    assert response.status_code == 400
    assert "uncompressed" in response.json()["extra"]["fields"]["file"][0]
    assert not Upload.objects.exists()


def test_several_samples_without_a_tumour_name_are_refused_naming_them(lab_token_api, collected):
    data = caller_vcf("mutect2_tumor_normal.vcf", replace=("##tumor_sample=PT0001_cfDNA_T\n", ""))
    before = counts()

    response = upload(lab_token_api, data)

    assert response.status_code == 400
    [error] = response.json()["extra"]["errors"]
    assert error["line"] == line_of(data, "#CHROM")
    assert "PT0001_blood_N, PT0001_cfDNA_T" in error["message"]
    assert counts() == before


def test_a_vcf_without_a_build_is_refused_naming_each_record(lab_token_api, collected):
    data = caller_vcf("varscan2_somatic.vcf", replace=("##genome_build=GRCh38\n", ""))

    response = upload(lab_token_api, data)

    assert response.status_code == 400
    errors = response.json()["extra"]["errors"]
    assert errors
    assert all(e["line"] == line_of(data, "chr6\t") for e in errors)
    assert any("genome_build" in e["message"] for e in errors)
    assert not LabReport.objects.exists()


def test_a_record_whose_allele_fraction_cannot_be_read_is_refused_with_its_line(
    lab_token_api, collected
):
    data = caller_vcf("varscan2_somatic.vcf", replace=(":0.59%:", ":n/a:"))

    response = upload(lab_token_api, data)

    assert response.status_code == 400
    [error] = response.json()["extra"]["errors"]
    assert (error["line"], error["field"]) == (line_of(data, "chr6\t"), "vaf")
    assert "FREQ 'n/a'" in error["message"]


def test_an_unannotated_call_outside_esr1_is_refused_naming_its_line(lab_token_api, collected):
    record = (
        "chr3\t179234297\t.\tA\tG\t.\tPASS\tDP=1851\tGT:AD:AF:DP:F1R2:F2R1:SB\t"
        "0/0:1050,0:0.0009:1050:525,0:525,0:525,525,0,0\t"
        "0/1:1810,41:0.0219:1851:905,20:905,21:900,910,20,21\n"
    )
    data = caller_vcf("mutect2_tumor_normal.vcf") + record.encode()

    response = upload(lab_token_api, data)

    assert response.status_code == 400
    [error] = response.json()["extra"]["errors"]
    assert (error["line"], error["field"]) == (line_of(data, "chr3\t"), "variants[1].gene")
