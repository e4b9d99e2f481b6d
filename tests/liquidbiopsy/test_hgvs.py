"""HGVS protein descriptions: every class of the grammar, for several genes, one canonical form.

The valid strings below were also checked to parse with the biocommons `hgvs` 1.5.7 parser
(with an NP_ prefix), except lower-case ones, repeats and alleles, which it does not read
and DESIGN §6 requires.
"""

import pytest

from liquidbiopsy.hgvs import normalise_protein_change, parse_protein_change


@pytest.mark.parametrize(
    ("given", "canonical", "kind"),
    [
        # ESR1: every spelling of one change is one form.
        ("p.Asp538Gly", "p.Asp538Gly", "missense"),
        ("p.(Asp538Gly)", "p.Asp538Gly", "missense"),
        ("NP_000116.2:p.(Asp538Gly)", "p.Asp538Gly", "missense"),
        ("NP_000116.2:p.Asp538Gly", "p.Asp538Gly", "missense"),
        ("ENSP00000206249.3:p.Tyr537Ser", "p.Tyr537Ser", "missense"),
        ("(p.Asp538Gly)", "p.Asp538Gly", "missense"),
        ("p.asp538gly", "p.Asp538Gly", "missense"),
        ("P.ASP538GLY", "p.Asp538Gly", "missense"),
        ("D538G", "p.Asp538Gly", "missense"),
        ("p.D538G", "p.Asp538Gly", "missense"),
        ("d538g", "p.Asp538Gly", "missense"),
        ("Asp538Gly", "p.Asp538Gly", "missense"),
        ("y537s", "p.Tyr537Ser", "missense"),
        ("  p.Leu536His  ", "p.Leu536His", "missense"),
        ("E380Q", "p.Glu380Gln", "missense"),
        ("p.(Val422del)", "p.Val422del", "deletion"),
        ("V422del", "p.Val422del", "deletion"),
        # PIK3CA, TP53, AKT1, ERBB2, BRCA2, PTEN...: every class.
        ("p.His1047Arg", "p.His1047Arg", "missense"),
        ("p.E545K", "p.Glu545Lys", "missense"),
        ("NP_000537.3:p.(Arg273His)", "p.Arg273His", "missense"),
        ("p.Trp24Ter", "p.Trp24Ter", "nonsense"),
        ("p.Trp24*", "p.Trp24Ter", "nonsense"),
        ("Y537*", "p.Tyr537Ter", "nonsense"),
        ("p.Arg273=", "p.Arg273=", "synonymous"),
        ("p.Met1?", "p.Met1?", "unknown"),
        ("p.Arg213GlnfsTer34", "p.Arg213GlnfsTer34", "frameshift"),
        ("p.Arg213Glnfs*34", "p.Arg213GlnfsTer34", "frameshift"),
        ("p.R213Qfs*34", "p.Arg213GlnfsTer34", "frameshift"),
        ("p.(Arg97fs)", "p.Arg97fs", "frameshift"),
        ("p.Pro72ArgfsTer?", "p.Pro72ArgfsTer?", "frameshift"),
        ("p.Leu2_Val3del", "p.Leu2_Val3del", "deletion"),
        ("p.Lys23_Leu24insArgSerGln", "p.Lys23_Leu24insArgSerGln", "insertion"),
        ("p.K23_L24insRSQ", "p.Lys23_Leu24insArgSerGln", "insertion"),
        ("p.K23_L24insFSQ", "p.Lys23_Leu24insPheSerGln", "insertion"),
        ("p.Lys23_Leu24ins(10)", "p.Lys23_Leu24ins(10)", "insertion"),
        ("p.Cys28delinsTrpVal", "p.Cys28delinsTrpVal", "delins"),
        ("p.C28_K29delinsW", "p.Cys28_Lys29delinsTrp", "delins"),
        ("p.Gly4_Gln6dup", "p.Gly4_Gln6dup", "duplication"),
        ("p.G4dup", "p.Gly4dup", "duplication"),
        ("p.Met1ext-5", "p.Met1ext-5", "extension"),
        ("p.Ter110GlnextTer17", "p.Ter110GlnextTer17", "extension"),
        ("p.*110Glnext*17", "p.Ter110GlnextTer17", "extension"),
        ("p.Ter327ArgextTer?", "p.Ter327ArgextTer?", "extension"),
        ("p.Ala2[10]", "p.Ala2[10]", "repeat"),
        ("p.[Ser73Arg;Asn116Ser]", "p.[Ser73Arg;Asn116Ser]", "allele"),
        ("p.?", "p.?", "unknown"),
        ("p.0", "p.0", "no_protein"),
        ("p.0?", "p.0", "no_protein"),
        ("p.=", "p.=", "no_change"),
        ("p.(=)", "p.=", "no_change"),
    ],
)
def test_every_class_of_the_grammar_reads_into_one_canonical_form(given, canonical, kind):
    change = parse_protein_change(given)
    assert (change.canonical, change.kind) == (canonical, kind)
    assert normalise_protein_change(given) == canonical


def test_the_accession_is_kept_apart_from_the_change():
    change = parse_protein_change("NP_000116.2:p.(Asp538Gly)")
    assert (change.accession, change.start, change.ref, change.alt) == (
        "NP_000116.2",
        538,
        "Asp",
        "Gly",
    )


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "ESR1",
        "c.1613A>G",
        "g.152098791A>G",
        "p.Asp538Xyz",
        "B538G",
        "p.538G",
        "p.Asp538",
        "p.Asp538Gly Gly",
        "NP_000116.2:D538G",
        "p.(Asp538Gly",
        "p.Asp_538Gly",
        "p.Asp538Glyfoo",
        "p.Lys23insArg",  # an insertion needs the two flanking residues
        "p.del",
        "p.Asp538Gly" * 30,
    ],
)
def test_unreadable_changes_are_refused_with_the_value(bad):
    with pytest.raises(ValueError, match="is not an HGVS protein change"):
        normalise_protein_change(bad)
