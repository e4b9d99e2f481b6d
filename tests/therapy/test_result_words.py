"""How the patient page words an ESR1 call the switch rule does not count: named, never the
red "ESR1 mutation detected", and the tumour fraction read as for a "not detected" (found by a
sceptical review)."""

import re

import pytest

from tests.builders import payload, pending, post_report, variant

pytestmark = pytest.mark.django_db

OFF_LIST = variant(
    hgvs_p="p.Ser341Leu",
    hgvs_c="c.1022C>T",
    genome_build=None,
    chrom=None,
    pos=None,
    ref=None,
    alt=None,
    vaf_percent=0.3,
)


def esr1_paragraphs(client, patient) -> list[str]:
    html = client.get(f"/patients/{patient.pk}/").content.decode()
    return re.findall(r'<p class="esr1-result.*?</p>', html, re.S)


def test_an_off_list_esr1_call_with_low_tumour_fraction_is_not_shown_as_a_detection(
    eligible, lab_token_api, client, oncologist
):
    """The only ESR1 call is p.Ser341Leu (not on the allow-list), tumour fraction 0.2 %. The
    rule counts no ESR1 detection (no alert; the dashboard counts none either, c67166b), so
    for the allow-listed LBD mutations this is a "not detected" below 1 % tumour fraction,
    which DESIGN §1/§6 say must be shown as non-informative. The page shows a red "ESR1
    mutation detected: p.Ser341Leu" and no non-informative warning."""
    post_report(lab_token_api, payload(tumor_fraction=0.002, variants=[OFF_LIST]))
    assert not pending(eligible).exists()
    client.force_login(oncologist)
    (shown,) = esr1_paragraphs(client, eligible)
    assert "error-box" not in shown, shown
    assert "Non-informative" in shown, shown


def test_a_counted_call_beside_an_off_list_one_is_the_detection_and_the_other_is_named(
    eligible, lab_token_api, client, oncologist
):
    post_report(lab_token_api, payload(variants=[variant(), OFF_LIST]))
    client.force_login(oncologist)
    (shown,) = esr1_paragraphs(client, eligible)
    assert "ESR1 mutation detected: p.Asp538Gly (VAF 0.42%)" in shown, shown
    assert "p.Ser341Leu (VAF 0.3%): not a mutation the switch rule counts" in shown, shown
