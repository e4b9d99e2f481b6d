"""The D538G hotspot under a gene label that is not exactly "ESR1" (DESIGN §5, §6): found by
a sceptical review, every label below stored the call as another gene and the page said
"ESR1 not detected". Now the label is folded (invisible characters, full-width letters,
ESR1's HGNC aliases) or refused with a 400 naming the field; never a silent "not detected"."""

import re

import pytest

from liquidbiopsy.models import LabReport, VariantCall
from tests.builders import payload, pending, send_file, variant
from therapy.owed import reconcile_owed_run

pytestmark = pytest.mark.django_db

LABELS = [
    "ESR1\u200b",  # a zero-width space pasted with the symbol: invisible on every page
    "\ufeffESR1",  # a byte-order mark from a LIMS export
    "\uff25\uff33\uff32\uff11",  # full-width ESR1 (an East Asian input method)
    "ESR1 (NM_000125.4)",
    "NR3A1",  # ESR1's HGNC alias
]


@pytest.mark.parametrize("gene", LABELS)
def test_the_d538g_hotspot_is_never_stored_as_another_gene_and_shown_as_not_detected(
    eligible, lab_token_api, client, oncologist, gene
):
    """The call is p.Asp538Gly on NM_000125.4 at GRCh38 chr6:152098791 A>G: D538G by protein
    and by position ("a genomic position alone must also match"). With any of these gene
    labels the report is stored (201) as a call of some other gene: no alert, and the patient
    page says "ESR1 not detected". Either it is ESR1 (an alert), or a 400 names
    variants[0].gene; never a silent "not detected"."""
    answer = lab_token_api.post(
        "/api/v1/reports/", payload(variants=[variant(gene=gene)]), format="json"
    )
    if answer.status_code == 400:
        assert "variants[0].gene" in answer.json()["extra"]["fields"]
        return
    assert answer.status_code == 201, answer.json()
    client.force_login(oncologist)
    html = client.get(f"/patients/{eligible.pk}/").content.decode()
    shown = " ".join(re.findall(r'<p class="esr1-result.*?</p>', html, re.S))
    assert "ESR1 not detected" not in shown, shown
    assert pending(eligible, "switch_recommended").exists()


def test_an_esr1_hotspot_labelled_as_another_gene_is_not_silently_that_gene(
    eligible, lab_token_api
):
    """gene PIK3CA, but transcript NM_000125.4 (ESR1's), p.Asp538Gly and the D538G position:
    the fields contradict each other; the product stores a PIK3CA call (201), no alert."""
    answer = lab_token_api.post(
        "/api/v1/reports/", payload(variants=[variant(gene="PIK3CA")]), format="json"
    )
    assert answer.status_code == 400 or pending(eligible).exists(), answer.json()


@pytest.mark.parametrize(
    ("gene", "field"),
    [
        ("ESR1 (NM_000125.4)", "variants[0].gene"),
        ("PIK3CA", "variants[0].gene"),
    ],
)
def test_a_label_that_is_not_a_symbol_or_contradicts_esr1_is_refused(
    eligible, lab_token_api, gene, field
):
    answer = lab_token_api.post(
        "/api/v1/reports/", payload(variants=[variant(gene=gene)]), format="json"
    )
    assert answer.status_code == 400, answer.json()
    assert field in answer.json()["extra"]["fields"]
    assert not LabReport.objects.exists()


def test_another_gene_on_its_own_transcript_is_stored_as_that_gene(eligible, lab_token_api):
    call = {
        "gene": "pik3ca",
        "hgvs_p": "p.His1047Arg",
        "transcript": "NM_006218.4",
        "genome_build": "GRCh38",
        "chrom": "3",
        "pos": 179234297,
        "ref": "A",
        "alt": "G",
        "vaf_percent": 1.5,
    }
    answer = lab_token_api.post("/api/v1/reports/", payload(variants=[call]), format="json")
    assert answer.status_code == 201, answer.json()
    assert [v["gene"] for v in answer.json()["variants"]] == ["PIK3CA"]
    assert not pending(eligible).exists()


def test_a_lower_case_alias_through_a_file_is_esr1(eligible, lab_token_api):
    answer = send_file(lab_token_api, payload(variants=[variant(gene="nr3a1")]))
    assert answer.json()["state"] == "done", answer.json()
    assert VariantCall.objects.get().gene == "ESR1"
    reconcile_owed_run()  # what the worker's nudge runs
    assert pending(eligible, "switch_recommended").exists()
