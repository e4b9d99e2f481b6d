"""VCF records at the edges of what callers write (DESIGN.md §6), read as the lab meant them.

Each case is a record a real caller or pipeline writes (Mutect2, Strelka2, VarScan2 and
bcbio's rewrite of it, FreeBayes, LoFreq, SnpEff and VEP annotations). A value that cannot
be tied to one allele, or whose unit is not stated, is an error naming its line and field;
nothing is ever read as another allele's or as the REF allele's. The cases that worked before
are pinned here too so that they keep working.
"""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liquidbiopsy.models import LabReport, Upload, VariantCall
from liquidbiopsy.parsers import parse_vcf
from tests.builders import counts
from tests.liquidbiopsy.test_vcf_callers import REPORT_LINES, caller_vcf, line_of, upload

D = Decimal
HEAD = "##fileformat=VCFv4.2\n" + REPORT_LINES
GRCH38 = "##genome_build=GRCh38\n"
D538G = 152098791  # ESR1 c.1613A>G on GRCh38
Y537 = 152098788  # ESR1 c.1610A (Tyr537) on GRCh38


def fmt(key: str, number: str, kind: str = "Integer") -> str:
    return f'##FORMAT=<ID={key},Number={number},Type={kind},Description="{key}">\n'


def info(key: str, number: str, kind: str = "String") -> str:
    return f'##INFO=<ID={key},Number={number},Type={kind},Description="{key}">\n'


def columns(*samples: str) -> str:
    names = "\t".join(("CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"))
    return "#" + names + ("\tFORMAT\t" + "\t".join(samples) if samples else "") + "\n"


def record(keys="", *values, pos=D538G, ref="A", alt="G", filt="PASS", notes=".", chrom="chr6"):
    cells = [chrom, str(pos), ".", ref, alt, ".", filt, notes]
    if keys:
        cells += [keys, *values]
    return "\t".join(cells) + "\n"


def vcf(header: str, *records: str, samples=("TUMOR",), head=HEAD + GRCH38) -> bytes:
    return (head + header + columns(*samples) + "".join(records)).encode()


def parsed(data: bytes):
    result = parse_vcf(data)
    [report] = result.reports or [{"variants": []}]
    return result, report["variants"]


def fractions(variants) -> list[tuple[str, str | None]]:
    return [(v["alt"], str(v.get("vaf", v.get("vaf_percent")))) for v in variants]


def errors_of(result) -> list[tuple[int | None, str | None]]:
    return [(e.line, e.field) for e in result.errors]


def stored():
    return list(VariantCall.objects.order_by("id"))


AF_A = fmt("AF", "A", "Float")
AF_R = fmt("AF", "R", "Float")
AD_R = fmt("AD", "R")
DP = fmt("DP", "1")


# --- 1. Per-allele lists: read only at the length their Number= gives -------------------------


def test_a_comma_decimal_af_is_not_read_as_its_first_value():
    data = vcf(AF_A, record("GT:AF", "0/1:1,5"))  # "1,5" meant 1.5%, or 0.015

    result, variants = parsed(data)

    assert variants == []
    assert errors_of(result) == [(line_of(data, "chr6\t"), "vaf")]
    assert "FORMAT/AF has 2 values (1.0, 5.0) for 1 ALT allele" in result.errors[0].message


def test_an_af_that_does_not_fit_its_alleles_falls_back_to_ad():
    data = vcf(AF_A + AD_R, record("GT:AF:AD", "0/1:1,5:990,10"))

    result, variants = parsed(data)

    assert result.errors == []
    assert fractions(variants) == [("G", "0.0100000000")]


def test_a_number_r_af_skips_the_ref_fraction():
    data = vcf(AF_R, record("GT:AF", "0/1:0.98,0.02"))

    result, variants = parsed(data)

    assert result.errors == []
    assert fractions(variants) == [("G", "0.02")]


def test_a_number_r_af_on_a_multiallelic_record_gives_each_allele_its_own():
    data = vcf(AF_R, record("GT:AF", "0/1/2:0.97,0.02,0.01", pos=Y537, alt="C,G"))

    result, variants = parsed(data)

    assert result.errors == []
    assert fractions(variants) == [("C", "0.02"), ("G", "0.01")]


def test_a_number_r_af_of_alt_length_is_an_error_not_the_ref_fraction():
    data = vcf(AF_R, record("GT:AF", "0/1:0.02"))

    result, variants = parsed(data)

    assert variants == []
    assert errors_of(result) == [(line_of(data, "chr6\t"), "vaf")]
    assert "Number=R" in result.errors[0].message


def test_one_af_for_two_alts_is_an_error_never_both_alleles_fraction():
    data = vcf(fmt("AF", "1", "Float"), record("GT:AF", "0/1/2:0.02", pos=Y537, alt="C,G"))

    result, variants = parsed(data)

    assert variants == []
    line = line_of(data, "chr6\t")
    assert errors_of(result) == [(line, "vaf"), (line, "vaf")]


def test_an_info_af_that_does_not_fit_its_alleles_is_an_error_naming_info_af():
    lofreq = info("AF", "A", "Float") + info("DP", "1", "Integer")
    data = vcf(lofreq, record(notes="DP=6021;AF=0,4484"), samples=())

    result, variants = parsed(data)

    assert variants == []
    assert errors_of(result) == [(line_of(data, "chr6\t"), "vaf")]
    assert "INFO/AF has 2 values" in result.errors[0].message


@settings(max_examples=60, deadline=None)
@given(
    n_alts=st.integers(1, 3),
    values=st.lists(st.integers(1, 99), min_size=1, max_size=5),
    number=st.sampled_from(["A", "R"]),
)
def test_a_per_allele_af_is_read_at_its_allele_or_not_at_all(n_alts, values, number):
    """Invariant: each call's fraction is the list's value for its own allele (Number=R skips
    REF); a list of any other length gives no fraction, only errors naming the line."""
    alts = ["C", "G", "T"][:n_alts]
    text = ",".join(f"0.{v:02d}" for v in values)
    data = vcf(fmt("AF", number, "Float"), record("AF", text, pos=Y537, alt=",".join(alts)))

    result, variants = parsed(data)

    wanted = n_alts if number == "A" else n_alts + 1
    if len(values) == wanted:
        own = values if number == "A" else values[1:]
        assert result.errors == []
        assert fractions(variants) == [
            (a, f"0.{v:02d}".rstrip("0")) for a, v in zip(alts, own, strict=True)
        ]
    else:
        assert variants == []
        assert {(e.line, e.field) for e in result.errors} == {(line_of(data, "chr6\t"), "vaf")}


# --- 2. Several ##tumor_sample lines: which sample is the tumour is not known ---------------


@pytest.mark.django_db
def test_two_different_tumor_sample_lines_are_refused_naming_both(lab_token_api, collected):
    # Mutect2 multi-tumour: the second tumour's line was kept; the last no longer wins.
    data = caller_vcf(
        "mutect2_tumor_normal.vcf",
        replace=(
            "##tumor_sample=PT0001_cfDNA_T\n",
            "##tumor_sample=PT0001_cfDNA_T\n##tumor_sample=PT0001_blood_N\n",
        ),
    )
    before = counts()

    response = upload(lab_token_api, data)

    assert response.status_code == 400, response.json()
    [error] = response.json()["extra"]["errors"]
    assert (error["line"], error["field"]) == (
        line_of(data, "##tumor_sample=PT0001_blood_N"),
        "tumor_sample",
    )
    first = line_of(data, "##tumor_sample=PT0001_cfDNA_T")
    assert f"PT0001_cfDNA_T (line {first})" in error["message"]
    assert "PT0001_blood_N" in error["message"]
    assert counts() == before


def test_the_same_tumor_sample_line_twice_is_one_tumour():
    header = "##tumor_sample=T\n##tumor_sample=T\n" + AF_A
    data = vcf(header, record("GT:AF", "0/0:0.001", "0/1:0.0112"), samples=("N", "T"))

    result, variants = parsed(data)

    assert result.errors == []
    assert fractions(variants) == [("G", "0.0112")]


# --- 3. Strelka2 indels: TIR/TAR as tier 1,2 pairs, or as one value --------------------------

STRELKA2_INDEL_HEAD = (
    "##fileformat=VCFv4.1\n" + REPORT_LINES + "##source=strelka\n##source_version=2.9.10\n"
    "##reference=file:///data/refs/GRCh38/genome.fa\n"
    "##contig=<ID=chr6,length=170805979>\n"
    "##content=strelka somatic indel calls\n"
    '##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description="Somatic mutation">\n'
    '##INFO=<ID=QSI,Number=1,Type=Integer,Description="Quality score for any somatic variant">\n'
    '##INFO=<ID=TQSI,Number=1,Type=Integer,Description="Data tier used to compute QSI">\n'
    '##INFO=<ID=NT,Number=1,Type=String,Description="Genotype of the normal">\n'
    '##INFO=<ID=SGT,Number=1,Type=String,Description="Most likely somatic genotype">\n'
    '##INFO=<ID=RU,Number=1,Type=String,Description="Smallest repeating sequence unit">\n'
    '##INFO=<ID=RC,Number=1,Type=Integer,Description="Number of times RU repeats in REF">\n'
    '##INFO=<ID=IC,Number=1,Type=Integer,Description="Number of times RU repeats in ALT">\n'
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth for tier1">\n'
    '##FORMAT=<ID=DP2,Number=1,Type=Integer,Description="Read depth for tier2">\n'
    '##FORMAT=<ID=TAR,Number={n},Type=Integer,Description="Reads strongly supporting '
    'alternate allele for tiers 1,2">\n'
    '##FORMAT=<ID=TIR,Number={n},Type=Integer,Description="Reads strongly supporting indel '
    'allele for tiers 1,2">\n'
    '##FORMAT=<ID=TOR,Number={n},Type=Integer,Description="Other reads for tiers 1,2">\n'
)
STRELKA2_INDEL = (
    "chr6\t152098780\t.\tAC\tA\t.\tPASS\tSOMATIC;QSI=45;TQSI=1;NT=ref;SGT=ref->het;RU=C;RC=2;"
    "IC=1\tDP:DP2:TAR:TIR:TOR\t{normal}\t{tumor}\n"
)


def strelka2_indel(number: str, normal: str, tumor: str, alt: str = "A") -> bytes:
    head = STRELKA2_INDEL_HEAD.replace("{n}", number)
    line = STRELKA2_INDEL.format(normal=normal, tumor=tumor).replace("\tAC\tA\t", f"\tAC\t{alt}\t")
    return (head + columns("NORMAL", "TUMOR") + line).encode()


def test_strelka2_indel_tier1_counts_give_the_fraction():  # pinned: it worked before
    data = strelka2_indel("2", "900:910:900,905:0,0:2,3", "2000:2030:1975,1990:25,27:5,6")

    result, variants = parsed(data)

    assert result.errors == []
    assert fractions(variants) == [("A", str((D(25) / D(2000)).quantize(D("1e-10"))))]
    assert variants[0]["depth"] == 2000


@pytest.mark.django_db
def test_strelka2_indel_counts_declared_number_1_are_read_not_a_server_error(
    lab_token_api, collected
):
    data = strelka2_indel("1", "900:910:900:0:2", "2000:2030:1975:25:5")

    response = upload(lab_token_api, data)

    assert response.status_code == 201, response.json()
    [call] = stored()
    assert (call.alt, call.vaf, call.depth) == ("A", D(25) / D(2000), 2000)


# --- 4. VEP CSQ alleles: VEP's form of each ALT, never another allele's annotation ------------

VEP_FIELDS = "Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|HGVSc|HGVSp"
CSQ_HEAD = (
    '##VEP="v110" time="2026-11-09 10:20:00" cache="homo_sapiens/110_GRCh38" ensembl=110.1\n'
    '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl '
    'VEP. Format: {fields}">\n'
)


def csq_header(fields: str = VEP_FIELDS) -> str:
    return CSQ_HEAD.replace("{fields}", fields) + AF_A


def csq(allele: str, hgvs_c: str, hgvs_p: str, *extra: str) -> str:
    cells = [allele, "frameshift_variant", "HIGH", "ESR1", "ENSG00000091831", "Transcript"]
    cells += ["ENST00000206249", "protein_coding", f"ENST00000206249.8:{hgvs_c}"]
    cells += [f"ENSP00000206249.3:{hgvs_p}", *extra]
    return "|".join(cells)


DEL = csq("-", "c.1602del", "p.Leu536CysfsTer10")
INS = csq("CC", "c.1602_1603insCC", "p.Leu536ProfsTer20")


def hgvs(variants) -> list[tuple[str, str]]:
    return [(v["alt"], v.get("hgvs_p", "")) for v in variants]


def test_vep_indel_alleles_are_matched_to_their_own_alt():
    # REF AC, ALT A (deletion) and ACC (insertion): all share the first base, which VEP
    # removes, writing the deletion's allele as "-" and the insertion's as CC.
    line = record("GT:AF", "0/1/2:0.01,0.02", ref="AC", alt="A,ACC", notes=f"CSQ={INS},{DEL}")
    data = vcf(csq_header(), line)

    result, variants = parsed(data)

    assert result.errors == []
    assert hgvs(variants) == [
        ("A", "ENSP00000206249.3:p.Leu536CysfsTer10"),
        ("ACC", "ENSP00000206249.3:p.Leu536ProfsTer20"),
    ]
    assert [v["hgvs_c"] for v in variants] == ["c.1602del", "c.1602_1603insCC"]


def test_an_alt_without_its_own_vep_entry_gets_no_annotation_never_another_alleles():
    line = record("GT:AF", "0/1/2:0.01,0.02", ref="AC", alt="A,ACC", notes=f"CSQ={INS}")
    data = vcf(csq_header(), line)

    result, variants = parsed(data)

    assert result.errors == []
    assert hgvs(variants) == [("A", ""), ("ACC", "ENSP00000206249.3:p.Leu536ProfsTer20")]
    assert [v["gene"] for v in variants] == ["ESR1", "ESR1"]  # the deletion: by ESR1's span


def test_a_single_vep_deletion_is_annotated():  # pinned: it worked before
    data = vcf(csq_header(), record("GT:AF", "0/1:0.01", ref="AC", alt="A", notes=f"CSQ={DEL}"))

    result, variants = parsed(data)

    assert result.errors == []
    assert hgvs(variants) == [("A", "ENSP00000206249.3:p.Leu536CysfsTer10")]


def test_vep_allele_num_ties_each_entry_to_its_alt():
    # vep --minimal --allele_number: alleles trimmed one by one (AT -> T), and ALLELE_NUM.
    fields = VEP_FIELDS + "|ALLELE_NUM"
    ins = csq("T", "c.1602_1603insT", "p.Leu536SerfsTer5", "1")
    snv = csq("G", "c.1613A>G", "p.Asp538Gly", "2")
    line = record("GT:AF", "0/1/2:0.01,0.02", alt="AT,G", notes=f"CSQ={snv},{ins}")
    data = vcf(csq_header(fields), line)

    result, variants = parsed(data)

    assert result.errors == []
    assert hgvs(variants) == [
        ("AT", "ENSP00000206249.3:p.Leu536SerfsTer5"),
        ("G", "ENSP00000206249.3:p.Asp538Gly"),
    ]


def test_vep_minimal_alleles_are_matched_without_allele_num():
    ins = csq("T", "c.1602_1603insT", "p.Leu536SerfsTer5")
    snv = csq("G", "c.1613A>G", "p.Asp538Gly")
    line = record("GT:AF", "0/1/2:0.01,0.02", alt="AT,G", notes=f"CSQ={snv},{ins}")
    data = vcf(csq_header(), line)

    result, variants = parsed(data)

    assert result.errors == []
    assert hgvs(variants) == [
        ("AT", "ENSP00000206249.3:p.Leu536SerfsTer5"),
        ("G", "ENSP00000206249.3:p.Asp538Gly"),
    ]


ANN_HEAD = (
    '##SnpEffVersion="5.1d (build 2022-04-19 15:49), by Pablo Cingolani"\n'
    "##INFO=<ID=ANN,Number=.,Type=String,Description=\"Functional annotations: 'Allele | "
    "Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | "
    "Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length | CDS.pos / "
    "CDS.length | AA.pos / AA.length | Distance | ERRORS / WARNINGS / INFO' \">\n"
)


def ann(allele: str, hgvs_c: str, hgvs_p: str) -> str:
    return (
        f"{allele}|missense_variant|MODERATE|ESR1|ENSG00000091831|transcript|NM_000125.4|"
        f"protein_coding|8/8|{hgvs_c}|{hgvs_p}|1610/6327|1610/1788|537/595||"
    )


def test_snpeff_ann_on_a_multiallelic_record_goes_to_each_allele():  # pinned
    notes = "ANN=" + ",".join(
        [ann("G", "c.1610A>G", "p.Tyr537Cys"), ann("C", "c.1610A>C", "p.Tyr537Ser")]
    )
    line = record("GT:AF", "0/1/2:0.0066,0.004", pos=Y537, alt="C,G", notes=notes)

    result, variants = parsed(vcf(ANN_HEAD + AF_A, line))

    assert result.errors == []
    assert hgvs(variants) == [("C", "p.Tyr537Ser"), ("G", "p.Tyr537Cys")]
    assert fractions(variants) == [("C", "0.0066"), ("G", "0.004")]


# --- 5. One-value counts on a multi-allelic record: never the same fraction for each ALT -----


def varscan2(alt: str = "G", tumor: str = "0/1:.:2900:2883:17:0.59%:1440,1443,9,8") -> bytes:
    data = caller_vcf("varscan2_somatic.vcf").decode()
    data = data.replace("\tA\tG\t", f"\tA\t{alt}\t")
    return data.replace("0/1:.:2900:2883:17:0.59%:1440,1443,9,8", tumor).encode()


@pytest.mark.parametrize(
    ("data", "counts_named"),
    [
        (varscan2("G,C"), "VarScan2 FREQ"),
        (varscan2("G,C", tumor="0/1:.:2900:2883:17:.:1440,1443,9,8"), "VarScan2 AD/RD"),
        (
            strelka2_indel(
                "2", "900:910:900,905:0,0:2,3", "2000:2030:1975,1990:25,27:5,6", "A,ACC"
            ),
            "Strelka2 TIR/TAR",
        ),
    ],
    ids=["varscan2-freq", "varscan2-ad-rd", "strelka2-tir-tar"],
)
def test_one_count_for_a_multiallelic_record_is_an_error_per_allele(data, counts_named):
    result, variants = parsed(data)

    assert variants == []
    line = line_of(data, "chr6\t")
    assert errors_of(result) == [(line, "vaf"), (line, "vaf")]
    assert all(counts_named in e.message for e in result.errors)
    assert "2 ALT alleles" in result.errors[0].message


def test_freebayes_ao_gives_each_allele_its_own_fraction():  # pinned: AO is Number=A
    header = fmt("RO", "1") + fmt("AO", "A") + DP
    line = record("GT:DP:RO:AO", "0/1/2:5000:4950:30,20", pos=Y537, alt="C,G")

    result, variants = parsed(vcf(header, line, samples=("cfDNA_07",)))

    assert result.errors == []
    assert fractions(variants) == [("C", "0.0060000000"), ("G", "0.0040000000")]


def test_mutect2_ad_number_r_and_the_spanning_deletion_allele():  # pinned
    # Mutect2 writes "*" for reads whose deletion spans the site: no call of its own.
    line = record("GT:AD:AF:DP", "0/1/2:985,10,5:0.0099,0.0051:1000", alt="G,*")
    data = vcf(AD_R + AF_A + DP, line, samples=("PT0004_cfDNA",))

    result, variants = parsed(data)

    assert result.errors == []
    assert fractions(variants) == [("G", "0.0099")]
    assert variants[0]["depth"] == 1000


def test_ad_number_r_gives_each_allele_its_own_fraction():  # pinned
    line = record("GT:AD", "0/1/2:950,30,20", pos=Y537, alt="C,G")

    result, variants = parsed(vcf(AD_R, line))

    assert result.errors == []
    assert fractions(variants) == [("C", "0.0300000000"), ("G", "0.0200000000")]
    assert [v["depth"] for v in variants] == [1000, 1000]


CALLER_FIELDS = ["AF", "AD", "DP", "TIR", "TAR", "AU", "CU", "GU", "TU", "AO", "RO", "FREQ", "RD"]


@settings(max_examples=300, deadline=None)
@given(
    declared=st.dictionaries(
        st.sampled_from(CALLER_FIELDS),
        st.tuples(
            st.sampled_from(["1", "2", "A", "R", ".", "G"]),
            st.sampled_from(["Integer", "Float", "String"]),
        ),
    ),
    values=st.dictionaries(
        st.sampled_from(CALLER_FIELDS),
        st.one_of(st.sampled_from([".", ".,.", "0", ""]), st.text("0123456789.,%-", max_size=8)),
        min_size=1,
    ),
    alt=st.sampled_from(["G", "C,G", "AT,G", "G,*"]),
    samples=st.sampled_from([("TUMOR",), ()]),
)
def test_no_declaration_or_value_of_the_callers_fields_makes_the_reader_raise(
    declared, values, alt, samples
):
    header = "".join(fmt(k, number, kind) for k, (number, kind) in declared.items())
    keys, cells = ":".join(values), ":".join(values.values())
    line = record(keys, cells, alt=alt) if samples else record(alt=alt, notes=f"AF={cells}")

    result = parse_vcf(vcf(header, line, samples=samples))  # raises nothing

    for report in result.reports:
        for call in report["variants"]:
            assert ("vaf" in call) != ("vaf_percent" in call)  # one fraction, with its unit
    assert all(e.line is not None for e in result.errors)


@pytest.mark.django_db
def test_a_missing_freq_declared_per_allele_is_a_line_error_not_an_internal_error(
    lab_token_api, collected
):
    data = vcf(fmt("FREQ", "A", "String"), record("GT:FREQ", "0/1:."))

    response = upload(lab_token_api, data)

    assert response.status_code == 400
    [error] = response.json()["extra"]["errors"]
    assert (error["line"], error["field"]) == (line_of(data, "chr6\t"), "vaf")
    assert "No allele fraction" in error["message"]


# --- 6. ##reference names as pipelines write them -------------------------------------------


@pytest.mark.parametrize(
    ("reference", "build"),
    [
        ("file:///data/refs/hs38DH.fa", "GRCh38"),  # bwa-kit's GRCh38 with decoys and HLA
        ("/refs/hs38.fa", "GRCh38"),
        ("gs://gcp-public-data--broad-references/hg38/v0/Homo_sapiens_assembly38.fasta", "GRCh38"),
        ("/broad/ref/Homo_sapiens_assembly38.fasta", "GRCh38"),
        ("/broad/ref/Homo_sapiens_assembly19.fasta", "GRCh37"),  # Broad's b37
        ("GCA_000001405.15_GRCh38_no_alt_analysis_set.fna", "GRCh38"),  # pinned
        ("file:///refs/hs37d5.fa", "GRCh37"),  # pinned
    ],
)
def test_reference_file_names_give_the_build(reference, build):
    head = HEAD + f"##reference={reference}\n"
    pos = D538G if build == "GRCh38" else 152419926
    data = vcf(AF_A, record("GT:AF", "0/1:0.0042", pos=pos), head=head)

    result, variants = parsed(data)

    assert result.errors == []
    assert [(v["genome_build"], v["gene"]) for v in variants] == [(build, "ESR1")]


def test_a_reference_path_naming_two_builds_is_an_error():
    head = HEAD + "##reference=/refs/GRCh38/Homo_sapiens_assembly19.fasta\n"
    data = vcf(AF_A, record("GT:AF", "0/1:0.0042"), head=head)

    result, _ = parsed(data)

    assert (line_of(data, "##reference="), "genome_build") in errors_of(result)
    message = next(e.message for e in result.errors if e.field == "genome_build")
    assert "GRCh38 (GRCh38), Homo_sapiens_assembly19 (GRCh37)" in message


# --- 7. Record layout: trailing tabs, breakends, symbolic alleles, FILTER case, FREQ units --


def test_a_trailing_tab_on_a_record_is_read_as_the_record():
    data = vcf(AF_A, record("GT:AF", "0/1:0.0042").replace("\n", "\t\n"))

    result, variants = parsed(data)

    assert result.errors == []
    assert fractions(variants) == [("G", "0.0042")]


def test_a_missing_sample_cell_is_still_an_error_whatever_tabs_follow():
    data = vcf(AF_A, record("GT:AF").replace("\n", "\t\n"), samples=("NORMAL", "TUMOR"))

    result, variants = parsed(data)

    assert variants == []
    assert errors_of(result) == [(line_of(data, "chr6\t"), None)]


def test_a_breakend_alt_is_named_in_its_error():
    data = vcf(AF_A, record("GT:AF", "0/1:0.0042", alt="G]17:198982]"))

    result, _ = parsed(data)

    assert errors_of(result) == [(line_of(data, "chr6\t"), "alt")]
    assert "ALT 'G]17:198982]'" in result.errors[0].message


SV_HEAD = (
    AF_A
    + info("SVTYPE", "1")
    + info("END", "1", "Integer")
    + info("SVLEN", "A", "Integer")
    + '##ALT=<ID=DEL,Description="Deletion">\n##ALT=<ID=DUP,Description="Duplication">\n'
)


@pytest.mark.django_db
def test_a_symbolic_structural_variant_outside_esr1_is_skipped_with_a_note(
    lab_token_api, collected
):
    deletion = record(
        "GT:AF",
        "0/1:0.2",
        chrom="chr3",
        pos=179000000,
        alt="<DEL>",
        notes="SVTYPE=DEL;END=179005000;SVLEN=-5000",
    )
    data = vcf(SV_HEAD, deletion, record("GT:AF", "0/1:0.0042"))

    result, variants = parsed(data)
    response = upload(lab_token_api, data)

    assert result.errors == []
    assert fractions(variants) == [("G", "0.0042")]
    [note] = result.notes
    assert (note.line, note.field) == (line_of(data, "chr3\t"), "alt")
    assert "<DEL>" in note.message
    assert "skipped" in note.message
    assert response.status_code == 201, response.json()
    assert [(c.gene, c.alt) for c in stored()] == [("ESR1", "G")]


def test_a_symbolic_structural_variant_in_esr1_is_an_error_never_a_silent_skip():
    # Skipping it would leave an ESR1 report reading "not detected" for a call the lab made.
    dup = record("GT:AF", "0/1:0.2", pos=152000000, alt="<DUP>", notes="SVTYPE=DUP;END=152100000")
    before_esr1 = record(
        "GT:AF", "0/1:0.2", pos=151600000, alt="<DEL>", notes="SVTYPE=DEL;END=151700000"
    )
    data = vcf(SV_HEAD, dup, before_esr1)

    result, variants = parsed(data)

    assert variants == []
    assert result.notes == []
    assert errors_of(result) == [
        (line_of(data, "chr6\t152000000"), "alt"),
        (line_of(data, "chr6\t151600000"), "alt"),  # it reaches into ESR1 by its END
    ]
    assert "ESR1" in result.errors[0].message
    assert "<DUP>" in result.errors[0].message


def test_a_gvcf_non_ref_allele_beside_a_call_is_not_a_call():
    data = vcf(AD_R, record("GT:AD", "0/1:990,10,0", alt="G,<NON_REF>"))

    result, variants = parsed(data)

    assert result.errors == []
    assert fractions(variants) == [("G", "0.0100000000")]


@pytest.mark.django_db
def test_a_lowercase_pass_filter_is_a_passing_call_not_a_filtered_one(lab_token_api, collected):
    data = vcf(AF_A, record("GT:AF", "0/1:0.0042", filt="pass"))

    response = upload(lab_token_api, data)

    assert response.status_code == 201, response.json()
    assert [(c.alt, c.filter) for c in stored()] == [("G", "PASS")]


def test_a_filter_named_with_pass_in_it_is_still_a_filter():
    data = vcf(AF_A, record("GT:AF", "0/1:0.0042", filt="pass;weak_evidence"))

    _, variants = parsed(data)

    assert [v["filter"] for v in variants] == ["PASS;weak_evidence"]


def test_bcbio_freq_declared_a_float_is_a_fraction():
    # bcbio rewrites VarScan2's FREQ "0.59%" as the fraction 0.0059, declared Type=Float.
    header = fmt("RD", "1") + fmt("AD", "1") + fmt("FREQ", "1", "Float") + DP
    line = record("GT:DP:RD:AD:FREQ", "0/0:1200:1200:0:0", "0/1:2900:2883:17:0.0059")
    data = vcf(header, line, samples=("NORMAL", "TUMOR"))

    result, variants = parsed(data)

    assert result.errors == []
    assert [(v["alt"], v.get("vaf"), v.get("vaf_percent")) for v in variants] == [
        ("G", "0.0059", None)
    ]


def test_a_freq_text_without_a_percent_sign_is_an_error_its_unit_unknown():
    data = varscan2(tumor="0/1:.:2900:2883:17:0.59:1440,1443,9,8")  # Type=String, no %

    result, variants = parsed(data)

    assert variants == []
    assert errors_of(result) == [(line_of(data, "chr6\t"), "vaf")]
    assert "FREQ '0.59'" in result.errors[0].message


def test_varscan2_freq_in_percent_stays_a_percentage():  # pinned
    result, variants = parsed(varscan2())

    assert result.errors == []
    assert [(v["alt"], v.get("vaf"), v.get("vaf_percent")) for v in variants] == [
        ("G", None, "0.59")
    ]


# --- File-level forms that already worked, pinned ---------------------------------------------


def test_lofreq_sites_only_reads_info_af_and_dp():
    data = caller_vcf("lofreq.vcf")

    result, variants = parsed(data)

    assert result.errors == []
    assert [(v["alt"], v["vaf"], v["depth"]) for v in variants] == [("G", "0.004484", 6021)]


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.replace("\n", "\r\n").encode(),  # CRLF line ends
        lambda text: b"\xef\xbb\xbf" + text.encode(),  # a UTF-8 byte order mark
        lambda text: text.replace("##fileformat=VCFv4.2", "##fileformat=VCFv4.3").encode(),
    ],
    ids=["crlf", "bom", "vcf-4.3"],
)
@pytest.mark.django_db
def test_line_ends_bom_and_vcf_4_3_are_read_alike(lab_token_api, collected, encode):
    text = vcf(AF_A + DP, record("GT:AF:DP", "0/1:0.0042:4801")).decode()

    response = upload(lab_token_api, encode(text))

    assert response.status_code == 201, response.json()
    assert [(c.gene, c.alt, c.vaf, c.depth) for c in stored()] == [("ESR1", "G", D("0.0042"), 4801)]


@pytest.mark.django_db
def test_a_vcf_with_a_header_and_no_records_is_not_detected_never_failed(
    client, nurse, lab_token_api, collected
):
    data = caller_vcf("mutect2_tumor_only.vcf")
    data = data[: data.index(b"\n", data.index(b"#CHROM")) + 1]  # the header alone

    response = upload(lab_token_api, data)

    assert response.status_code == 201, response.json()
    [report] = LabReport.objects.all()
    assert (report.qc_status, report.variants.count()) == ("pass", 0)
    assert Upload.objects.get().state == Upload.State.DONE
    collected.refresh_from_db()
    assert collected.state == "resulted"
    client.force_login(nurse)
    html = client.get(f"/patients/{collected.patient_id}/").content.decode()
    assert "ESR1 not detected" in html
    assert "Sample failed" not in html


def test_a_symbolic_allele_beside_an_annotated_call_is_skipped_and_the_call_kept():
    header = csq_header("Allele|SYMBOL|HGVSp") + info("END", "1", "Integer")
    notes = "END=2000;CSQ=G|TP53|p.Arg273His,deletion|TP53|"
    line = record("GT:AF", "0/1/2:0.01,0.2", chrom="chr17", pos=1000, alt="G,<DEL>", notes=notes)

    result, variants = parsed(vcf(header, line))

    assert result.errors == []
    assert [(v["alt"], v["gene"], v.get("hgvs_p")) for v in variants] == [
        ("G", "TP53", "p.Arg273His")
    ]
    assert [note.field for note in result.notes] == ["alt"]


ALTS = ["G", "C", "AT", "A", "*", "<DEL>", "<DUP>", "<NON_REF>", "G]17:198982]", "."]
INFO_PARTS = [
    "END=152100000",
    "END=x",
    "SVLEN=-5000",
    "SVLEN=1,2,3",
    "GENE=ESR1",
    "HGVSP=p.Asp538Gly,p.Tyr537Ser",
    "CSQ=G|ESR1|p.Asp538Gly,-|ESR1|p.X,T||",
    "CSQ=|||,||",
    "ANN=G|missense_variant|MODERATE|ESR1||||||c.1613A>G|p.Asp538Gly",
    "AF=0.1,0.2",
]


@settings(max_examples=300, deadline=None)
@given(
    alts=st.lists(st.sampled_from(ALTS), min_size=1, max_size=3),
    ref=st.sampled_from(["A", "AC", "ACC"]),
    parts=st.lists(st.sampled_from(INFO_PARTS), max_size=4),
    pos=st.sampled_from([D538G, 151600000, 1000]),
    filt=st.sampled_from(["PASS", "pass", ".", "weak_evidence"]),
    trailing=st.sampled_from(["", "\t", "\t\t"]),
    af=st.sampled_from(["0.01", "0.01,0.02", "0.01,0.02,0.03", "."]),
)
def test_no_record_shape_makes_the_reader_raise(alts, ref, parts, pos, filt, trailing, af):
    header = (
        csq_header("Allele|SYMBOL|HGVSp")
        + ANN_HEAD
        + info("END", "1", "Integer")
        + info("SVLEN", "A", "Integer")
        + info("GENE", "1")
        + info("HGVSP", "A")
        + AD_R
    )
    notes = ";".join(dict.fromkeys(parts)) or "."
    line = record(
        "GT:AF:AD", f"0/1:{af}:990,10", pos=pos, ref=ref, alt=",".join(alts), filt=filt, notes=notes
    )
    data = vcf(header, line.replace("\n", trailing + "\n"))

    result = parse_vcf(data)  # raises nothing

    for report in result.reports:
        for call in report["variants"]:
            assert call["alt"].isalpha()
            assert call.get("filter", "PASS") != "pass"
    assert all(e.line == line_of(data, "chr6\t") for e in result.errors + result.notes)
