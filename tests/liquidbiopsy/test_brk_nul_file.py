"""brk DEFECT probe: a NUL in a file's column name or header key reaches the upload's errors
(jsonb), which PostgreSQL refuses ("\\u0000 cannot be converted to text")."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from liquidbiopsy.models import Upload

UPLOAD_URL = "/api/v1/reports/upload/"
HEADER = (
    "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
    "qc_status,gene,hgvs_p,vaf_percent"
)
ROW = "F-1,1,final,ACC-000123,MRN-0001,1961-04-02,2026-11-02,2026-11-10,G360,pass,ESR1,Y537S,0.8"


def _send(api, data, name="f.csv"):
    return api.post(UPLOAD_URL, {"file": SimpleUploadedFile(name, data)}, format="multipart")


FILES = {
    "csv_nul_in_column_name": (HEADER.replace("assay", "assay\x00") + "\n" + ROW + "\n").encode(),
    "csv_nul_unknown_column": (HEADER + ",extra\x00\n" + ROW + ",x\n").encode(),
    "vcf_nul_in_meta_key": (
        b"##fileformat=VCFv4.2\n##report_id\x00=V-1\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    ),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", sorted(FILES))
def test_a_nul_in_a_file_is_a_400_that_names_the_problem(lab_token_api, collected, name):
    response = _send(lab_token_api, FILES[name], "f.vcf" if name.startswith("vcf") else "f.csv")
    assert response.status_code == 400, response.status_code
    upload = Upload.objects.get()
    assert upload.state == "failed"
    # The lab is told what is wrong, not "internal error, send it again".
    messages = " ".join(e["message"] for e in upload.errors)
    assert "internal" not in messages.lower(), messages


VCF_HEAD = (
    "##fileformat=VCFv4.2\n##report_id=V-1\n##version=1\n##status=final\n"
    "##accession=ACC-000123\n##mrn=MRN-0001\n##date_of_birth=1961-04-02\n"
    "##collected_on=2026-11-02\n##reported_on=2026-11-10\n##assay=G360\n##qc_status=pass\n"
    "##genome_build=GRCh38\n"
    '##FORMAT=<ID=AF,Number=A,Type=Float,Description="AF">\n'
)
REC = "chr6\t152098788\t.\tA\tC\t50\t.\tGENEINFO=ESR1:2099;HGVS_P=p.Tyr537Ser\tGT:AF"

VCFS = {
    "two_samples_nul_name": VCF_HEAD
    + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\x001\tS2\n"
    + REC
    + "\t0/1:0.1\t0/1:0.2\n",
    "tumor_sample_nul": "##tumor_sample=NO\x00PE\n"
    + VCF_HEAD[len("##fileformat=VCFv4.2\n") :]
    + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\n"
    + REC
    + "\t0/1:0.1\n",
    "filter_nul": VCF_HEAD
    + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\n"
    + REC.replace("\t.\tGENEINFO", "\tlow\x00q\tGENEINFO")
    + "\t0/1:0.1\n",
    "chrom_nul": VCF_HEAD
    + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\n"
    + REC.replace("chr6", "chr\x006")
    + "\t0/1:0.1\n",
    "format_key_nul": VCF_HEAD
    + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\n"
    + REC.replace("GT:AF", "GT:A\x00F")
    + "\t0/1:0.1\n",
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", sorted(VCFS))
def test_a_nul_in_a_vcf_is_a_400_that_names_the_problem(lab_token_api, collected, name):
    response = _send(lab_token_api, VCFS[name].encode(), "f.vcf")
    assert response.status_code in (201, 400), response.status_code
    upload = Upload.objects.get()
    messages = " ".join(e["message"] for e in upload.errors)
    assert "internal" not in messages.lower(), messages
