"""Builds, chromosome forms and ESR1 matching (DESIGN §5, §6): pure tables, no database."""

from decimal import Decimal

import pytest
from django.conf import settings

from liquidbiopsy.coordinates import normalise_build, normalise_chrom
from liquidbiopsy.esr1 import DISCORDANT, NON_CANONICAL_TRANSCRIPT, Esr1Call, load_allowlist

ALLOWLIST = load_allowlist(str(settings.ESR1_ALLOWLIST_PATH))
LBD = load_allowlist(str(settings.ESR1_ALLOWLIST_PATH), any_lbd_missense=True)


@pytest.mark.parametrize(
    ("given", "build"),
    [
        ("GRCh38", "GRCh38"),
        ("grch38", "GRCh38"),
        ("hg38", "GRCh38"),
        ("HG38", "GRCh38"),
        ("GRCh38.p14", "GRCh38"),
        ("GRCh37", "GRCh37"),
        ("hg19", "GRCh37"),
        ("b37", "GRCh37"),
    ],
)
def test_every_build_alias_reads_as_its_build(given, build):
    assert normalise_build(given) == build


@pytest.mark.parametrize("bad", ["hg18", "GRCh36", "T2T-CHM13", "38", "", "GRCh38x"])
def test_unknown_builds_are_refused_naming_the_value(bad):
    with pytest.raises(ValueError, match="Unknown genome build"):
        normalise_build(bad)


@pytest.mark.parametrize(
    ("chrom", "build", "canonical"),
    [
        ("6", "GRCh38", "6"),
        ("chr6", "GRCh38", "6"),
        ("CHR6", "GRCh38", "6"),
        ("Chr6", "GRCh37", "6"),
        ("NC_000006.12", "GRCh38", "6"),
        ("NC_000006.11", "GRCh37", "6"),
        ("nc_000006.12", "GRCh38", "6"),
        ("chrX", "GRCh38", "X"),
        ("NC_000023.11", "GRCh38", "X"),
        ("NC_000001.10", "GRCh37", "1"),
        ("chrM", "GRCh38", "MT"),
        ("MT", "GRCh37", "MT"),
        ("NC_012920.1", "GRCh37", "MT"),
        ("17", None, "17"),
    ],
)
def test_every_chromosome_form_reads_as_one_name(chrom, build, canonical):
    assert normalise_chrom(chrom, build) == canonical


@pytest.mark.parametrize(
    ("chrom", "build", "message"),
    [
        ("NC_000006.12", "GRCh37", "is a GRCh38 accession"),
        ("NC_000006.11", "GRCh38", "is a GRCh37 accession"),
        ("chr23", "GRCh38", "Unknown chromosome"),
        ("chr6_GL000250v2_alt", "GRCh38", "Unknown chromosome"),
        ("NC_000006.13", "GRCh38", "Unknown chromosome"),
        ("six", "GRCh38", "Unknown chromosome"),
    ],
)
def test_unknown_chromosomes_and_contradicting_accessions_are_refused(chrom, build, message):
    with pytest.raises(ValueError, match=message):
        normalise_chrom(chrom, build)


def call(hgvs_p="", **position):
    return Esr1Call(hgvs_p=hgvs_p, vaf=Decimal("0.004"), **position)


D538G_38 = {"genome_build": "GRCh38", "chrom": "6", "pos": 152098791, "ref": "A", "alt": "G"}
D538G_37 = {"genome_build": "GRCh37", "chrom": "6", "pos": 152419926, "ref": "A", "alt": "G"}


@pytest.mark.parametrize(
    ("given", "protein"),
    [
        # Every HGVS form of the protein change.
        (call("p.Asp538Gly"), "p.Asp538Gly"),
        (call("NP_000116.2:p.(Asp538Gly)"), "p.Asp538Gly"),
        (call("p.asp538gly"), "p.Asp538Gly"),
        (call("(p.Asp538Gly)"), "p.Asp538Gly"),
        (call("D538G"), "p.Asp538Gly"),
        # A genomic position alone, in any chromosome form and either build.
        (call(**D538G_38), "p.Asp538Gly"),
        (call(**{**D538G_38, "chrom": "CHR6"}), "p.Asp538Gly"),
        (call(**{**D538G_38, "chrom": "Chr6"}), "p.Asp538Gly"),
        (call(**{**D538G_38, "chrom": "NC_000006.12"}), "p.Asp538Gly"),
        (call(**D538G_37), "p.Asp538Gly"),
        (call(**{**D538G_37, "genome_build": "hg19", "chrom": "chr6"}), "p.Asp538Gly"),
        (call(genome_build="GRCh37", chrom="6", pos=152419923, ref="A", alt="C"), "p.Tyr537Ser"),
        # The GRCh38 position labelled GRCh37 is another place in GRCh37: no match.
        (call(**{**D538G_38, "genome_build": "GRCh37"}), None),
        # The right position with the wrong alleles is not the variant.
        (call(**{**D538G_38, "alt": "T"}), None),
        # Not allow-listed, or not ESR1's LBD.
        (call("p.Glu380Lys"), None),
        (call("p.Arg213GlnfsTer34"), None),
        (call("p.?"), None),
    ],
)
def test_identify_matches_protein_or_position_in_either_build(given, protein):
    assert ALLOWLIST.identify(given) == protein


def test_protein_and_position_that_disagree_qualify_and_are_flagged_discordant():
    match = ALLOWLIST.match(call("p.Tyr537Ser", **D538G_38))
    assert match.protein == "p.Tyr537Ser"  # the canonical transcript's protein
    assert match.by_position == "p.Asp538Gly"
    assert DISCORDANT in match.flags

    # Only one of the two matching still qualifies, flagged.
    by_position_only = ALLOWLIST.match(call("p.Glu380Lys", **D538G_38))
    assert by_position_only.protein == "p.Asp538Gly"
    assert by_position_only.flags == (DISCORDANT,)
    by_protein_only = ALLOWLIST.match(call("p.Asp538Gly", **{**D538G_38, "pos": 152098700}))
    assert by_protein_only.protein == "p.Asp538Gly"
    assert by_protein_only.flags == (DISCORDANT,)


def test_agreeing_protein_and_position_are_not_flagged():
    assert ALLOWLIST.match(call("p.Asp538Gly", **D538G_37)).flags == ()


def test_a_non_canonical_transcript_never_overrides_an_allow_listed_position():
    # p.Tyr537Ser numbered on another transcript, at the D538G position: the position decides.
    match = ALLOWLIST.match(call("p.Tyr537Ser", transcript="NM_001122742.1", **D538G_38))
    assert match.protein == "p.Asp538Gly"
    assert set(match.flags) == {DISCORDANT, NON_CANONICAL_TRANSCRIPT}

    # A protein accession names the transcript as well.
    other = ALLOWLIST.match(call("NP_001116214.1:p.(Glu380Lys)", **D538G_38))
    assert other.protein == "p.Asp538Gly"
    assert NON_CANONICAL_TRANSCRIPT in other.flags


def test_canonical_transcript_versions_and_ensembl_ids_are_canonical():
    for transcript in ("NM_000125.4", "NM_000125.3", "ENST00000206249.8", ""):
        assert ALLOWLIST.match(call("p.Asp538Gly", transcript=transcript)).flags == ()


def test_any_lbd_missense_option_reads_the_codon_from_the_parsed_change():
    assert LBD.identify(call("p.Glu542Lys")) == "p.Glu542Lys"
    assert LBD.identify(call("E542K")) == "p.Glu542Lys"
    assert LBD.identify(call("p.Glu542Ter")) is None  # nonsense, not missense
    assert LBD.identify(call("p.Glu542=")) is None
    assert LBD.identify(call("p.Ala309Val")) is None  # before the LBD
