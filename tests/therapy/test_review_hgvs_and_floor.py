"""ESR1 matching (DESIGN §5): "Match on protein change, accepting every HGVS form of it
(3-letter p.Asp538Gly, parenthesised p.(Asp538Gly), with an accession prefix
NP_000116.2:p.(Asp538Gly), 1-letter D538G, any letter case)"; and the allele-fraction floor:
the rule is evaluated for reports "carrying at least one ESR1 variant on the allow-list with
allele fraction at or above the floor"."""

import pytest

from liquidbiopsy.models import VariantCall
from tests.builders import ack, later_report, payload, pending, post_report, variant

pytestmark = pytest.mark.django_db

PROTEIN_ONLY = {"genome_build": None, "chrom": None, "pos": None, "ref": None, "alt": None}


@pytest.mark.parametrize(
    ("hgvs_p", "canonical"),
    [
        ("p.(Asp538Gly)", "p.Asp538Gly"),
        ("NP_000116.2:p.(Asp538Gly)", "p.Asp538Gly"),
        ("NP_000116.2:p.D538G", "p.Asp538Gly"),
        ("p.(D538G)", "p.Asp538Gly"),
        ("d538g", "p.Asp538Gly"),
        ("p.ASP538GLY", "p.Asp538Gly"),
        ("(p.Asp538Gly)", "p.Asp538Gly"),
        ("p.Y537S", "p.Tyr537Ser"),
        ("p.(Leu536Gln)", "p.Leu536Gln"),
        ("p.V422del", "p.Val422del"),
        ("p.(Val422del)", "p.Val422del"),
        ("L469V", "p.Leu469Val"),
        ("ENSP00000206249.3:p.(Glu380Gln)", "p.Glu380Gln"),
    ],
)
def test_every_protein_spelling_raises_the_switch_alert(lab_token_api, eligible, hgvs_p, canonical):
    body = payload(variants=[variant(hgvs_p=hgvs_p, hgvs_c=None, **PROTEIN_ONLY)])
    (alert,) = post_report(lab_token_api, body)["alerts"]
    assert alert["kind"] == "switch_recommended"
    assert pending(eligible).get().variants == [[canonical, "0.0042"]]


def test_a_non_listed_esr1_change_in_any_form_raises_nothing(lab_token_api, eligible):
    body = payload(
        variants=[
            variant(hgvs_p="p.(Asp538Asn)", hgvs_c=None, **PROTEIN_ONLY),
            variant(hgvs_p="p.Glu380Ter", hgvs_c=None, **PROTEIN_ONLY),
        ]
    )
    assert post_report(lab_token_api, body)["alerts"] == []


def test_two_esr1_variants_one_below_the_floor_shows_only_the_qualifying_one(
    lab_token_api, eligible, nurse, oncologist_api, settings
):
    settings.ESR1_VAF_FLOOR = 0.001  # 0.1%
    y537s_low = variant(
        hgvs_p="p.Tyr537Ser", hgvs_c="c.1610A>C", pos=152098788, ref="A", alt="C",
        vaf_percent=0.05,
    )  # fmt: skip
    (alert,) = post_report(lab_token_api, payload(variants=[variant(), y537s_low]))["alerts"]
    assert alert["kind"] == "switch_recommended"
    stored = pending(eligible).get()
    assert stored.variants == [["p.Asp538Gly", "0.0042"]]
    assert VariantCall.objects.filter(gene="ESR1").count() == 2  # both stored, both shown
    # Declined; then Y537S rises above the floor: a variant the rule has not seen before.
    assert (
        ack(
            oncologist_api, stored, decision="decline", reason_code="patient_preference"
        ).status_code
        == 200
    )
    y537s = dict(y537s_low, vaf_percent=0.3)
    answer = post_report(lab_token_api, later_report(eligible, nurse, variants=[variant(), y537s]))
    assert [a["kind"] for a in answer["alerts"]] == ["switch_recommended"]


def test_only_a_variant_below_the_floor_raises_nothing(lab_token_api, eligible, settings):
    settings.ESR1_VAF_FLOOR = 0.005  # 0.5%
    assert post_report(lab_token_api, payload())["alerts"] == []  # D538G at 0.42%
    assert not pending(eligible).exists()


def test_a_variant_exactly_at_the_floor_qualifies(lab_token_api, eligible, settings):
    settings.ESR1_VAF_FLOOR = 0.0042
    (alert,) = post_report(lab_token_api, payload())["alerts"]
    assert alert["kind"] == "switch_recommended"
