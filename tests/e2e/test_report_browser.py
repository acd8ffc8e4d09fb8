"""The HTML report in a real headless browser: it renders offline with no console error, its charts are
there, it shows the date window, and a screenshot of its first screen is a sane, non-blank picture.

``UPDATE_GOLDEN=1`` also saves that screenshot as ``docs/report-screenshot.png`` (the README's first
screen). Needs Debian's ``chromium`` and the ``playwright`` package; skipped with the reason otherwise.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from capi_core.demo_store import build_demo_store
from capi_core.report import build_report, render_html
from capi_core.store import Store
from tests.e2e.chromium import CHROMIUM_ARGS, chromium_path

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "report-screenshot.png"


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report-browser")
    build_demo_store(folder / "demo.duckdb")
    with Store(folder / "demo.duckdb") as store:
        page = render_html(build_report(store))
    target = folder / "report.html"
    target.write_text(page, encoding="utf-8")
    return target


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_html_report_renders_offline_with_its_charts(report_file: Path, tmp_path: Path) -> None:
    chromium = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 1000}, offline=True)
            page = context.new_page()
            errors: list[str] = []
            requests: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url) if not r.url.startswith("file:") else None)
            page.goto(report_file.as_uri())
            assert errors == []
            assert requests == []  # self-contained: nothing fetched
            assert page.locator("figure svg").count() >= 4  # per day, waterfall, EMQ history, coverage
            assert page.locator("script").count() == 0
            body = page.inner_text("body")
            assert "Window: 2026-10-05 00:52 to 2026-11-15 22:35" in body
            assert "The 3 things that matter this week" in body
            shot = page.screenshot()
        finally:
            browser.close()
    width, height = _png_size(shot)
    assert (width, height) == (1200, 1000)
    assert len(shot) > 30_000, "a blank page compresses to a few kilobytes"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        SCREENSHOT.parent.mkdir(exist_ok=True)
        SCREENSHOT.write_bytes(shot)
