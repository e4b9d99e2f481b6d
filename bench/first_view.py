"""First view of a patient page in a real browser, cold cache: what a clinician waits for.

Usage: with the product running (`bash scripts/run.sh`, demo data), in another shell:

    .venv/bin/python bench/first_view.py            # BASE_URL=http://127.0.0.1:8000, RUNS=5

Logs in as the demo oncologist in headless Debian chromium (Playwright, /usr/bin/chromium),
opens the first patient page the home page links to in a new browser context each run (no
cache), and prints one JSON line: server time to first byte, first contentful paint,
DOMContentLoaded and the load event (the timeline drawn by plotly.js), and the bytes of the
chart script, per run and as medians. Budget (issue 13): a first view under 1 s.
"""

from __future__ import annotations

import json
import os
import statistics

from playwright.sync_api import sync_playwright

BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:8000").rstrip("/")
RUNS = int(os.environ.get("RUNS", "5"))
USER, PASSWORD = "oncologist", "oncologist-demo-2026"
TIMINGS = """() => {
  const n = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const chart = performance.getEntriesByType('resource').find(e => e.name.includes('plotly'));
  return {ttfb_ms: n.responseStart, fcp_ms: paint ? paint.startTime : null,
          dcl_ms: n.domContentLoadedEventEnd, load_ms: n.loadEventEnd,
          chart_script_bytes: chart ? chart.transferSize : null};
}"""
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip


def main() -> None:
    runs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for _ in range(RUNS):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(f"{BASE_URL}/accounts/login/")
            page.fill("input[name=username]", USER)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            href = page.evaluate(
                "() => [...document.querySelectorAll('a')].map(a => a.getAttribute('href'))"
                ".find(h => /^\\/patients\\/\\d+\\/$/.test(h || ''))"
            )
            page.goto(BASE_URL + href)
            page.wait_for_load_state("load")
            page.locator("#timeline .main-svg").first.wait_for()
            runs.append(
                {
                    k: (round(v) if v is not None else None)
                    for k, v in page.evaluate(TIMINGS).items()
                }
            )
            context.close()
        browser.close()
    medians = {k: statistics.median(r[k] for r in runs if r[k] is not None) for k in runs[0]}
    print(json.dumps({"bench": "first_view", "runs": runs, "median": medians,
                      "budget_load_ms": 1000, "within_budget": medians["load_ms"] <= 1000}))  # fmt: skip


if __name__ == "__main__":
    main()
