"""The ctDNA timeline's labels do not run into each other, at desktop or tablet width: a
switch made today puts "ctDNA-guided switch" and "today" on the same day, the new regimen's
band starts there, and the two short marker rows are each named."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.roles import Role
from core.clock import clinic_today
from patients.models import Regimen
from tests.builders import collect, login
from tests.factories import PatientFactory, RegimenFactory, ScanFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LABELS = """
() => {
  const plot = document.querySelector('.js-plotly-plot');
  const boxes = [];
  const keep = (el, kind) => {
    const text = el.textContent.trim();
    const r = el.getBoundingClientRect();
    if (text && r.width > 0) boxes.push({kind, text, x: r.x, y: r.y, w: r.width, h: r.height});
  };
  plot.querySelectorAll('g.annotation text').forEach(el => keep(el, 'annotation'));
  plot.querySelectorAll('g.ytick text, g.y2tick text, g.y3tick text').forEach(el => keep(el, 'ytick'));
  plot.querySelectorAll('.infolayer text[class*="ytitle"], .infolayer text[class*="y2title"], .infolayer text[class*="y3title"]').forEach(el => keep(el, 'ytitle'));
  return boxes;
}
"""


def _overlaps(boxes: list[dict]) -> list[tuple[str, str]]:
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if (
                a["x"] < b["x"] + b["w"] - 1
                and b["x"] < a["x"] + a["w"] - 1
                and a["y"] < b["y"] + b["h"] - 1
                and b["y"] < a["y"] + a["h"] - 1
            ):
                found.append((a["text"], b["text"]))
    return found


def test_timeline_labels_do_not_overlap_after_a_switch_today(page):
    today = clinic_today()
    onc = UserFactory(username="dr_tl", role=Role.ONCOLOGIST)
    nurse = UserFactory(username="nurse_tl", role=Role.NURSE)
    patient = PatientFactory(mrn="MRN-TL1", oncologist=onc, family_name="Timeline")
    RegimenFactory(
        patient=patient,
        endocrine_agent="anastrozole",
        cdk46_inhibitor="ribociclib",
        started_on=today - dt.timedelta(days=420),
        ended_on=today,
        end_reason=Regimen.EndReason.CTDNA_GUIDED_SWITCH,
    )
    RegimenFactory(
        patient=patient,
        endocrine_agent="camizestrant",
        cdk46_inhibitor="ribociclib",
        started_on=today,
    )
    ScanFactory(patient=patient, performed_on=today - dt.timedelta(days=40))
    collect(patient, "ACC-TL-1", today - dt.timedelta(days=20), nurse)

    login(page, "dr_tl")
    page.goto(f"/patients/{patient.pk}/")
    page.wait_for_selector(".js-plotly-plot g.annotation")
    for width, height in ((1366, 860), (800, 1100)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(600)  # plotly redraws after a resize, debounced
        boxes = page.evaluate(LABELS)
        texts = {b["text"] for b in boxes}
        assert {"today", "ctDNA-guided switch", "Samples", "Scans"} <= texts, texts
        assert not _overlaps(boxes), (width, _overlaps(boxes))
