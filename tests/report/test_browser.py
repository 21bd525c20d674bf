"""The demo's report in a real browser: headless Chromium (Debian's package) driven by Playwright
loads the page without console errors, and every figure decodes and shows with its caption."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.report.test_demo import FIGURES


def _chromium() -> str:
    path = os.environ.get("EDGESIM_CHROMIUM") or shutil.which("chromium")
    if path is None:
        pytest.skip("chromium is not installed (make test installs Debian's package where it "
                    "runs as root with apt; else: apt-get install chromium)")
    return path


def test_report_loads_in_chromium_without_errors(demo: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    exe = _chromium()
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        # --no-sandbox: Chromium's sandbox refuses to run as root, as CI machines often do
        browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
            page.goto((demo / "index.html").as_uri(), wait_until="load")
            images = page.evaluate(
                "Array.from(document.querySelectorAll('figure img')).map(i => "
                "({alt: i.alt, ok: i.complete && i.naturalWidth > 0, "
                "shown: i.getBoundingClientRect().width > 100}))")
            captions = page.locator("figcaption").all_inner_texts()
            header = page.locator("header").inner_text()
            first_table_below_figures = page.evaluate(
                "document.querySelector('figure').getBoundingClientRect().top < "
                "document.querySelector('table').getBoundingClientRect().top")
        finally:
            browser.close()
    assert errors == []
    assert len(images) == len(FIGURES)
    assert all(i["ok"] and i["shown"] for i in images), images
    assert len(captions) == len(FIGURES) and all(len(c) > 60 for c in captions)
    assert "edgesim" in header and first_table_below_figures
