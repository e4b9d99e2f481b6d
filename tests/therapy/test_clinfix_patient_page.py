"""The patient page's ctDNA reports and draws, as a nurse reads them (clinfix page review).

Each report says its ESR1 result in words that cannot be misread: detected (with the allele
fraction), not detected (non-informative below 1% tumour fraction, DESIGN §1 and §6), filtered
calls only (not a detection, and not "not detected"), failed QC, or cancelled. A draw whose
report was cancelled says so while it awaits a new result.
"""

import re

import pytest

from tests.builders import payload, post_report

pytestmark = pytest.mark.django_db


def _page(client, user, patient) -> str:
    client.force_login(user)
    html = client.get(f"/patients/{patient.pk}/").content.decode()
    return re.sub(r"\s+", " ", html.replace("\xa0", " "))


def _report_block(html: str, name: str) -> str:
    start = html.index(f"<strong>{name}</strong>")
    end = html.find('<div class="report', start)
    return html[start : end if end != -1 else html.index("</section>", start)]


def _draws(html: str) -> str:
    start = html.index("<h2>Draws</h2>")
    return html[start : html.index("</section>", start)]


def test_a_detection_says_detected_with_its_allele_fraction(client, nurse, lab_token_api, eligible):
    post_report(lab_token_api, payload())
    block = _report_block(_page(client, nurse, eligible), "G360-2026-000123 v1")
    assert "ESR1 mutation detected: p.Asp538Gly (VAF 0.42%)" in block
    assert "not detected" not in block.lower().replace('not a "not detected"', "")


def test_not_detected_with_enough_tumour_fraction_is_informative(
    client, nurse, lab_token_api, eligible
):
    post_report(lab_token_api, payload(variants=[], tumor_fraction=0.012))
    block = _report_block(_page(client, nurse, eligible), "G360-2026-000123 v1")
    assert "ESR1 not detected" in block
    assert "ctDNA tumour fraction 1.2%: informative" in block
    assert "Non-informative" not in block
    assert "mutation detected" not in block


def test_not_detected_with_low_tumour_fraction_is_non_informative(
    client, nurse, lab_token_api, eligible
):
    post_report(lab_token_api, payload(variants=[], tumor_fraction=0.004))
    block = _report_block(_page(client, nurse, eligible), "G360-2026-000123 v1")
    assert "ESR1 not detected" in block
    assert "Non-informative: ctDNA tumour fraction 0.4%, below 1%" in block


def test_not_detected_without_tumour_fraction_is_non_informative(
    client, nurse, lab_token_api, eligible
):
    post_report(lab_token_api, payload(variants=[], tumor_fraction=None))
    block = _report_block(_page(client, nurse, eligible), "G360-2026-000123 v1")
    assert "ESR1 not detected" in block
    assert "Non-informative: ctDNA tumour fraction not reported" in block


def test_other_genes_only_is_esr1_not_detected(client, nurse, lab_token_api, eligible):
    body = payload(variants=[{"gene": "PIK3CA", "hgvs_p": "p.His1047Arg", "vaf": 0.02}])
    post_report(lab_token_api, body)
    block = _report_block(_page(client, nurse, eligible), "G360-2026-000123 v1")
    assert "ESR1 not detected" in block
    assert "p.His1047Arg" in block  # the other gene's call is still listed


def test_filtered_calls_only_is_neither_a_detection_nor_not_detected(
    client, nurse, lab_token_api, eligible
):
    body = payload(
        variants=[{"gene": "ESR1", "hgvs_p": "p.Asp538Gly", "vaf": 0.001, "filter": "germline"}]
    )
    post_report(lab_token_api, body)
    block = _report_block(_page(client, nurse, eligible), "G360-2026-000123 v1")
    assert "ESR1: filtered calls only (not a detection)" in block
    assert "ESR1 not detected" not in block
    assert "ESR1 mutation detected" not in block


def test_failed_qc_says_failed_never_not_detected(client, nurse, lab_token_api, eligible):
    post_report(lab_token_api, payload(qc_status="fail", variants=[]))
    block = _report_block(_page(client, nurse, eligible), "G360-2026-000123 v1")
    assert "Failed QC: no ESR1 result" in block
    assert "ESR1 not detected" not in block


def test_insufficient_sample_says_failed_qc(client, nurse, lab_token_api, eligible):
    post_report(lab_token_api, payload(qc_status="insufficient", variants=[]))
    block = _report_block(_page(client, nurse, eligible), "G360-2026-000123 v1")
    assert "Failed QC (insufficient sample): no ESR1 result" in block


def test_a_cancelled_report_says_cancelled_and_its_draw_says_why_it_awaits(
    client, nurse, lab_token_api, eligible
):
    post_report(lab_token_api, payload())
    post_report(lab_token_api, payload(version=2, status="cancelled", variants=[]))
    html = _page(client, nurse, eligible)
    cancelled = _report_block(html, "G360-2026-000123 v2")
    assert "Cancelled by the lab: no ESR1 result" in cancelled
    assert "ESR1 not detected" not in cancelled
    earlier = _report_block(html, "G360-2026-000123 v1")
    # The retracted version's detection is not read as a current one.
    assert "Superseded by v2 (cancelled)" in earlier
    draws = _draws(html)
    assert "ACC-000123" in draws
    assert (
        "Awaiting a new result: report G360-2026-000123 was cancelled by the lab "
        "(v2, reported 10 Nov 2026)." in draws
    )


def test_a_draw_awaiting_its_first_result_says_awaiting(client, nurse, eligible):
    draws = _draws(_page(client, nurse, eligible))
    assert "Awaiting result" in draws
    assert "cancelled" not in draws.lower()


@pytest.mark.parametrize(
    ("kwargs", "kind"),
    [
        ({"status": "cancelled", "qc_status": "pass", "calls": [("ESR1", "p.D538G", 0.1, "")]},
         "cancelled"),
        ({"status": "final", "qc_status": "fail", "calls": []}, "failed_qc"),
        ({"status": "final", "qc_status": "pass", "calls": []}, "not_detected"),
        ({"status": "final", "qc_status": "pass", "calls": [("ESR1", "p.D538G", 0.1, "PASS")]},
         "detected"),
        ({"status": "final", "qc_status": "pass", "calls": [("ESR1", "p.D538G", 0.1, ".")]},
         "detected"),
        ({"status": "final", "qc_status": "pass", "calls": [("ESR1", "p.D538G", 0.1, "LowQ")]},
         "filtered_only"),
        ({"status": "amended", "qc_status": "pass",
          "calls": [("ESR1", "p.D538G", 0.1, "LowQ"), ("ESR1", "p.Y537S", 0.2, "")]},
         "detected"),
        ({"status": "final", "qc_status": "pass", "calls": [("TP53", "p.R175H", 0.1, "")]},
         "not_detected"),
    ],
)  # fmt: skip
def test_esr1_result_kinds(kwargs, kind):
    from therapy.presentation import esr1_result

    calls = [
        type("Call", (), {"gene": g, "hgvs_p": p, "vaf": v, "filter": f})()
        for g, p, v, f in kwargs["calls"]
    ]
    result = esr1_result(
        status=kwargs["status"],
        qc_status=kwargs["qc_status"],
        tumor_fraction=None,
        calls=calls,
    )
    assert result.kind == kind


def _moved_to(other) -> dict:
    """v2 of her report, corrected to `other`'s draw ACC-000200."""
    return payload(
        version=2,
        status="corrected",
        accession="ACC-000200",
        patient={"mrn": other.mrn, "date_of_birth": other.date_of_birth.isoformat()},
    )


def test_a_report_corrected_to_another_patient_says_it_is_not_hers(
    client, nurse, lab_token_api, eligible, other
):
    """Found by the brk3 review (C2): v1 read "Superseded by a later version. This version
    said: ESR1 mutation detected", with no later version on her page to read."""
    post_report(lab_token_api, payload())
    post_report(lab_token_api, _moved_to(other))
    html = _page(client, nurse, eligible)
    block = _report_block(html, "G360-2026-000123 v1")
    assert "Corrected to another patient: this result is not hers." in block
    assert "Superseded" not in block.replace('badge-superseded">superseded', "")
    assert "mutation detected" not in block
    assert "p.Asp538Gly" not in block  # the other patient's result, not hers
    # Nothing of the other patient.
    for theirs in (other.mrn, "ACC-000200", f"{other.given_name} {other.family_name}", "1970"):
        assert theirs not in html, theirs


def test_a_report_corrected_away_and_back_is_superseded_not_moved(
    client, nurse, lab_token_api, eligible, other
):
    post_report(lab_token_api, payload())
    post_report(lab_token_api, _moved_to(other))
    post_report(lab_token_api, payload(version=3, status="corrected"))
    block = _report_block(_page(client, nurse, eligible), "G360-2026-000123 v1")
    assert "Corrected to another patient" not in block
    assert "Superseded by a later version" in block
