"""Headless Chromium (Debian's package) driven by Playwright against the live test server.

Playwright never downloads a browser here: it launches /usr/bin/chromium (CHROMIUM_PATH).
Each test saves screenshots of its last page at desktop (1366 px) and tablet (800 px) width
under test-artifacts/screenshots/, and runs axe-core (axe-playwright-python, which ships
axe.min.js: nothing is fetched) over every page the test reached: a serious or critical
violation fails the test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# for set-up are safe (they do not overlap with the browser's requests).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

DESKTOP = {"width": 1366, "height": 860}
TABLET = {"width": 800, "height": 1100}
AXE_IMPACTS_THAT_FAIL = frozenset({"serious", "critical"})
# Pages that are not this product's templates (Django admin, the API docs' Swagger UI):
# their findings are reported in the test output, not failed on.
AXE_REPORT_ONLY_PREFIXES = ("/admin/", "/api/")
# Known findings, reported (printed) until fixed; none at present.
AXE_KNOWN: frozenset[tuple[str, str]] = frozenset()


def _known(path: str, violation: dict) -> bool:
    return any(path.startswith(p) and violation["id"] == rule for p, rule in AXE_KNOWN)


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in results.response["violations"]
        if v.get("impact") in AXE_IMPACTS_THAT_FAIL
    ]


def _axe_every_page(context, base_url: str, paths: list[str]) -> dict[str, list[dict]]:
    """Open each page the test reached again (GET, same session) and run axe on it."""
    from playwright.sync_api import Error as PlaywrightError

    found = {}
    checker = context.new_page()
    try:
        for path in paths:
            try:
                response = checker.goto(base_url + path)
            except PlaywrightError:  # a page reached by POST only (405 on GET): not re-openable
                continue
            if response is None or response.status >= 400:
                continue
            checker.wait_for_load_state("networkidle")
            violations = axe_violations(checker)
            if violations:
                found[path] = violations
    finally:
        checker.close()
    return found


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    page = context.new_page()
    external: list[str] = []
    visited: list[str] = []

    def watch(req):
        if not req.url.startswith(live_server.url) and not req.url.startswith("data:"):
            external.append(req.url)

    def loaded(frame):
        if frame == page.main_frame and frame.url.startswith(live_server.url):
            path = frame.url[len(live_server.url) :]
            if path not in visited and "/logout" not in path:
                visited.append(path)

    page.on("request", watch)
    page.on("framenavigated", loaded)
    page.set_default_timeout(15000)
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = request.node.name
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(TABLET)
    page.wait_for_timeout(400)  # plotly's responsive charts redraw after the resize, debounced
    page.screenshot(path=str(ARTIFACTS / f"{name}-tablet.png"), full_page=True)
    found = _axe_every_page(context, live_server.url, visited)
    context.close()
    assert not external, f"requests to other hosts: {external}"
    ours, others = {}, {}
    for path, violations in found.items():
        for v in violations:
            report_only = path.startswith(AXE_REPORT_ONLY_PREFIXES) or _known(path, v)
            (others if report_only else ours).setdefault(path, []).append(v)
    if others:
        print(f"axe (report only, not our templates): {others}")  # noqa: T201
    assert not ours, f"axe-core serious/critical violations: {ours}"
