"""VCFs as callers write them (DESIGN §6), uploaded as a lab would, then the alert the rule
gives (DESIGN §5). "Multi-allelic records give one call per ALT allele; per-allele fields
(Number=A/R) go to their allele; the record's FILTER applies to all of its calls." "A record
whose FILTER is neither PASS nor . is stored as a call with its filter value, shown on the
report, and never used by the rule." """

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from liquidbiopsy.models import VariantCall
from tests.builders import pending
from therapy.models import Alert
from therapy.owed import reconcile_owed_run

pytestmark = pytest.mark.django_db

UPLOAD = "/api/v1/reports/upload/"
REPORT_LINES = (
    "##report_id=VCF-REVIEW-1\n##version=1\n##status=final\n##accession=ACC-000123\n"
    "##mrn=MRN-0001\n##date_of_birth=1961-04-02\n##collected_on=2026-11-02\n"
    "##reported_on=2026-11-10\n##assay=cfDNA panel\n##qc_status=pass\n"
)
MUTECT2_HEADER = (
    "##fileformat=VCFv4.2\n"
    + REPORT_LINES
    + '##FILTER=<ID=PASS,Description="All filters passed">\n'
    '##FILTER=<ID=clustered_events,Description="Clustered events observed in the tumor">\n'
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
    '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions of alternate alleles">\n'
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">\n'
    '##INFO=<ID=GENE,Number=1,Type=String,Description="Gene symbol">\n'
    '##INFO=<ID=HGVSP,Number=A,Type=String,Description="HGVS protein change, per ALT allele">\n'
    "##contig=<ID=chr6,length=170805979>\n"
    "##tumor_sample=cfDNA\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tcfDNA\n"
)


def upload(api, text: str, name="calls.vcf"):
    response = api.post(
        UPLOAD, {"file": SimpleUploadedFile(name, text.encode())}, format="multipart"
    )
    reconcile_owed_run()  # what the worker does after the upload's commit
    return response


def calls():
    return [
        (c.alt, c.hgvs_p, c.vaf, c.filter)
        for c in VariantCall.objects.filter(gene="ESR1").order_by("alt")
    ]


def test_multi_allelic_record_where_only_the_second_allele_is_d538g(lab_token_api, eligible):
    # chr6:152098791 A>C is p.Asp538Ala (not on the allow-list), A>G is p.Asp538Gly.
    record = (
        "chr6\t152098791\t.\tA\tC,G\t.\tPASS\tDP=5000;GENE=ESR1;HGVSP=p.Asp538Ala,p.Asp538Gly\t"
        "GT:AD:AF:DP\t0/1/2:4880,100,20:0.02,0.004:5000\n"
    )
    response = upload(lab_token_api, MUTECT2_HEADER + record)
    assert response.status_code == 201, response.json()
    assert calls() == [
        ("C", "p.Asp538Ala", Decimal("0.02"), "PASS"),
        ("G", "p.Asp538Gly", Decimal("0.004"), "PASS"),
    ]
    alert = pending(eligible).get()
    assert (alert.kind, alert.variants) == ("switch_recommended", [["p.Asp538Gly", "0.004"]])


def test_multi_allelic_record_d538g_first_then_a_non_listed_allele(lab_token_api, eligible):
    # The same site, alleles in the other order: the per-allele HGVSP goes to its allele, so
    # the 2% D538A allele is never read as D538G.
    record = (
        "chr6\t152098791\t.\tA\tG,C\t.\tPASS\tDP=5000;GENE=ESR1;HGVSP=p.Asp538Gly,p.Asp538Ala\t"
        "GT:AD:AF:DP\t0/1/2:4880,20,100:0.004,0.02:5000\n"
    )
    response = upload(lab_token_api, MUTECT2_HEADER + record)
    assert response.status_code == 201, response.json()
    assert calls() == [
        ("C", "p.Asp538Ala", Decimal("0.02"), "PASS"),
        ("G", "p.Asp538Gly", Decimal("0.004"), "PASS"),
    ]
    alert = pending(eligible).get()
    assert (alert.kind, alert.variants) == ("switch_recommended", [["p.Asp538Gly", "0.004"]])


def test_a_clustered_events_filter_on_the_esr1_call_is_stored_and_never_alerts(
    lab_token_api, eligible, client, oncologist
):
    record = (
        "chr6\t152098791\t.\tA\tG\t.\tclustered_events\tDP=5000;GENE=ESR1;HGVSP=p.Asp538Gly\t"
        "GT:AD:AF:DP\t0/1:4980,20:0.004:5000\n"
    )
    response = upload(lab_token_api, MUTECT2_HEADER + record)
    assert response.status_code == 201, response.json()
    assert calls() == [("G", "p.Asp538Gly", Decimal("0.004"), "clustered_events")]
    assert not Alert.objects.exists()
    # Shown on the report, and not as "not detected".
    client.force_login(oncologist)
    html = client.get(f"/patients/{eligible.pk}/").content.decode()
    assert "clustered_events" in html
    assert "Filtered calls were not passed" in html


def test_a_multi_allelic_record_s_filter_applies_to_every_allele(lab_token_api, eligible):
    record = (
        "chr6\t152098788\t.\tA\tC,G\t.\tclustered_events\tDP=3000;GENE=ESR1\t"
        "GT:AD:AF:DP\t0/1/2:2968,20,12:0.0066,0.004:3000\n"
    )
    response = upload(lab_token_api, MUTECT2_HEADER + record)
    assert response.status_code == 201, response.json()
    assert [c[3] for c in calls()] == ["clustered_events", "clustered_events"]
    assert not Alert.objects.exists()


FREEBAYES_GRCH37 = (
    "##fileformat=VCFv4.2\n" + REPORT_LINES + "##source=freeBayes v1.3.6\n"
    "##reference=/data/refs/hg19.fasta\n"
    "##contig=<ID=chr6,length=171115067>\n"
    "##contig=<ID=MT,length=16569>\n"
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Total read depth">\n'
    '##INFO=<ID=AF,Number=A,Type=Float,Description="Estimated allele frequency">\n'
    '##INFO=<ID=GENE,Number=1,Type=String,Description="Gene symbol (lab pipeline)">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read Depth">\n'
    '##FORMAT=<ID=RO,Number=1,Type=Integer,Description="Reference allele observation count">\n'
    '##FORMAT=<ID=AO,Number=A,Type=Integer,Description="Alternate allele observation count">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tcfDNA_07\n"
)


def test_a_grch37_freebayes_file_with_chr6_and_mt_multi_allelic_second_allele_d538g(
    lab_token_api, eligible
):
    text = FREEBAYES_GRCH37 + (
        # GRCh37 D538G is chr6:152419926 A>G; A>T (D538V) comes first. AO per allele, RO once.
        "chr6\t152419926\t.\tA\tT,G\t90\t.\tDP=5000;AF=0.5,0.5\tGT:DP:RO:AO\t0/1/2:5000:4940:30,30\n"
        "MT\t16519\t.\tT\tC\t300\t.\tDP=900;AF=1;GENE=MT-DLOOP\tGT:DP:RO:AO\t1/1:900:0:900\n"
    )
    response = upload(lab_token_api, text)
    assert response.status_code == 201, response.json()
    got = [
        (c.chrom, c.pos, c.alt, c.genome_build, c.vaf)
        for c in VariantCall.objects.order_by("chrom", "alt")
    ]
    assert got == [
        ("6", 152419926, "G", "GRCh37", Decimal("0.006")),
        ("6", 152419926, "T", "GRCh37", Decimal("0.006")),
        ("MT", 16519, "C", "GRCh37", Decimal("1")),
    ]
    alert = pending(eligible).get()
    assert (alert.kind, alert.variants) == ("switch_recommended", [["p.Asp538Gly", "0.006"]])


SNPEFF_HEADER = MUTECT2_HEADER.replace(
    '##INFO=<ID=HGVSP,Number=A,Type=String,Description="HGVS protein change, per ALT allele">\n',
    "##INFO=<ID=ANN,Number=.,Type=String,Description=\"Functional annotations: 'Allele | "
    "Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | "
    "Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length | CDS.pos / "
    "CDS.length | AA.pos / AA.length | Distance | ERRORS / WARNINGS / INFO'\">\n",
)


def test_a_snpeff_annotated_multi_allelic_record_gives_each_allele_its_own_change(
    lab_token_api, eligible
):
    ann = (
        "C|missense_variant|MODERATE|ESR1|ENSG00000091831|transcript|ENST00000206249.8|"
        "protein_coding|8/8|c.1613A>C|p.Asp538Ala|1848/6330|1613/1788|538/595||,"
        "G|missense_variant|MODERATE|ESR1|ENSG00000091831|transcript|ENST00000206249.8|"
        "protein_coding|8/8|c.1613A>G|p.Asp538Gly|1848/6330|1613/1788|538/595||"
    )
    record = (
        f"chr6\t152098791\t.\tA\tC,G\t.\tPASS\tDP=5000;ANN={ann}\t"
        "GT:AD:AF:DP\t0/1/2:4880,100,20:0.02,0.004:5000\n"
    )
    response = upload(lab_token_api, SNPEFF_HEADER + record)
    assert response.status_code == 201, response.json()
    assert calls() == [
        ("C", "p.Asp538Ala", Decimal("0.02"), "PASS"),
        ("G", "p.Asp538Gly", Decimal("0.004"), "PASS"),
    ]
    alert = pending(eligible).get()
    assert (alert.kind, alert.variants) == ("switch_recommended", [["p.Asp538Gly", "0.004"]])
