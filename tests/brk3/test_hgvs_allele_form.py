"""ESR1 changes written in HGVS allele form (DESIGN §5: "Match on protein change, accepting
every HGVS form of it"). `p.[Asp538Gly;Tyr537Ser]` (two changes in cis, HGVS's allele
syntax) is accepted as valid HGVS, stored, and then matched to nothing: no alert, and the
patient page reads "No qualifying ESR1 mutation detected ... tumour fraction 5 %: informative".
Counting each change, or refusing the form (as p.[Asp538Gly] alone is refused), would both do;
storing two allow-listed mutations as an informative negative does not. Found by the brk3
review (REPORT.md F8)."""

import datetime as dt

import pytest

from liquidbiopsy.models import LabReport
from tests.builders import URL, payload, pending, variant

pytestmark = pytest.mark.django_db


def test_an_allele_of_two_allow_listed_esr1_changes_is_counted_or_refused(
    her, scan, drawn, lab_token_api
):
    scan(her, dt.date(2026, 10, 20), "no_progression")
    drawn(her)
    body = payload(
        variants=[
            variant(
                hgvs_p="p.[Asp538Gly;Tyr537Ser]",
                hgvs_c=None,
                pos=None,
                chrom=None,
                ref=None,
                alt=None,
                genome_build=None,
            )
        ]
    )
    answer = lab_token_api.post(URL, body, format="json")
    if answer.status_code == 400:  # refused, naming the field: the lab resends it plainly
        assert "variants[0].hgvs_p" in answer.json()["extra"]["fields"]
        assert LabReport.objects.count() == 0
        return
    assert answer.status_code == 201, answer.json()
    assert pending(her, "switch_recommended").exists(), (
        "D538G and Y537S in allele form were stored and counted as no ESR1 mutation"
    )


@pytest.mark.parametrize(
    "hgvs_p",
    ["p.Asp\uff15\uff13\uff18Gly", "D\uff15\uff13\uff18G", "p.Asp\u0665\u0663\u0668Gly"],
    ids=["fullwidth-digits", "fullwidth-digits-one-letter", "arabic-indic-digits"],
)
def test_a_protein_change_with_non_ascii_digits_is_counted_or_refused(
    hgvs_p, her, scan, drawn, lab_token_api
):
    """Python's \\d matches any Unicode digit: 'p.Asp538Gly' written with full-width (CJK input
    methods) or Arabic-Indic digits is accepted and stored with those digits, then matched to
    nothing ("No qualifying ESR1 mutation detected ... informative"). The wholly full-width
    form is refused; these must be read as 538 or refused too."""
    scan(her, dt.date(2026, 10, 20), "no_progression")
    drawn(her)
    body = payload(
        variants=[
            variant(
                hgvs_p=hgvs_p,
                hgvs_c=None,
                pos=None,
                chrom=None,
                ref=None,
                alt=None,
                genome_build=None,
            )
        ]
    )
    answer = lab_token_api.post(URL, body, format="json")
    if answer.status_code == 400:
        assert "variants[0].hgvs_p" in answer.json()["extra"]["fields"]
        assert LabReport.objects.count() == 0
        return
    assert answer.status_code == 201, answer.json()
    assert pending(her, "switch_recommended").exists(), (
        f"{hgvs_p!r} was stored and counted as no ESR1 mutation"
    )
