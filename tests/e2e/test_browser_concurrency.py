"""Issue 12, cases 1 and 2 in a real headless browser: the dashboard as teams use it, several tabs at once
and a scheduled ``capi-desk ingest`` running beside it.

1. A fresh clone (no demo store yet), three tabs opened at once: the demo store is built once, every tab
   ends on the Overview, none shows a write-write conflict, a failed migration or a traceback.
2. The dashboard open on a store: it holds no lock (a CLI command with ``--wait 0`` gets in at once); while
   an ingest holds the store a reload shows the last figures under a note, never DuckDB's lock text; the
   CLI ingest waiting beside it lands (exit 0) and the page then shows the new data version; the next
   file of the same scheduled job, ingested after the page settled, shows up without a reload too.

Needs Debian's ``chromium`` and the ``playwright`` package, like tests/e2e/test_browser_smoke.py (whose
helpers are repeated here: test modules do not import each other).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from capi_core.demo_store import build_demo_store
from tests.e2e.chromium import CHROMIUM_ARGS, chromium_path, free_port
from tests.holder import held_by_another_process, release

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app.py"
SERVER_FILE = REPO / "tests" / "fixtures" / "server" / "events.jsonl"
BROWSER_FILE = REPO / "tests" / "fixtures" / "browser" / "browser_events.jsonl"
RUN_TIMEOUT_MS = 120_000
#: Text a tab must never show: what the races and the lock used to put on screen.
NEVER_SHOWN = (
    "conflict", "Traceback", "Error", "migration", "FileNotFoundError", ".building", "Could not set lock",
    "Conflicting lock",
)  # fmt: skip
NOTE = "An ingest is running on this store; these figures are from"


@contextmanager
def _streamlit(env: dict[str, str], log: Path) -> Iterator[str]:
    """`streamlit run app.py` on a free loopback port with ``env``; yields its base URL, stops it after."""
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
        "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
    ]  # fmt: skip
    env = {**env, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _settle(page: Any) -> None:
    """Wait until the script run has finished (the app is shown and the running indicator is gone)."""
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=RUN_TIMEOUT_MS)
    page.wait_for_selector("h1", timeout=RUN_TIMEOUT_MS)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=RUN_TIMEOUT_MS)
    page.wait_for_timeout(500)  # let late elements (charts, tables) attach
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=RUN_TIMEOUT_MS)


def _main_text(page: Any) -> str:
    return str(page.locator('[data-testid="stMain"]').inner_text())


def _copies(page: Any) -> int:
    """The Overview's "N copies received" (it changes with every ingest of a log)."""
    found = re.search(r"([\d,]+) copies received", _main_text(page))
    assert found, _main_text(page)[:2000]
    return int(found[1].replace(",", ""))


def _copies_once_changed(page: Any, before: int) -> int:
    """The copies shown once they differ from ``before`` (or ``before`` when they never do in time)."""
    deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        found = re.search(r"([\d,]+) copies received", _main_text(page))
        if found and int(found[1].replace(",", "")) != before:
            _settle(page)
            return _copies(page)
        page.wait_for_timeout(500)
    return before


def _cli(db: Path, *args: str | Path) -> list[str]:
    return [sys.executable, "-m", "capi_core", "--db", str(db), *map(str, args)]


def test_three_tabs_on_a_fresh_clone_build_the_demo_store_once(browser: Any, tmp_path: Path) -> None:
    """``streamlit run app.py`` with no demo store yet (what `make run` leaves to the dashboard when the
    store is deleted, and what a deployment without `capi-desk app` does), three tabs opened at once."""
    from playwright.sync_api import expect

    demo = tmp_path / "data" / "demo.duckdb"
    env = {key: value for key, value in os.environ.items() if key != "CAPI_DESK_DB"}
    env["CAPI_DESK_DEMO_DB"] = str(demo)
    with _streamlit(env, tmp_path / "streamlit.log") as base:
        tabs = [browser.new_page(viewport={"width": 1400, "height": 1000}) for _ in range(3)]
        for tab in tabs:
            tab.goto(base)
        for index, tab in enumerate(tabs):
            expect(tab.locator("h1").first).to_have_text("Overview", timeout=RUN_TIMEOUT_MS)
            _settle(tab)
            tab.screenshot(path=str(tmp_path / f"tab{index}.png"), full_page=True)
            assert tab.locator('[data-testid="stException"]').count() == 0
            shown = tab.locator('[data-testid="stApp"]').inner_text()
            assert not [word for word in NEVER_SHOWN if word in shown], shown[:3000]
            assert _copies(tab) > 0
    assert demo.is_file()
    assert not list(demo.parent.glob("*.building*")), "no build was left half-done"
    done = subprocess.run(_cli(demo, "batches"), capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1 + 7, "one build: a header, then the demo's seven files once"


def test_dashboard_beside_a_scheduled_ingest(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    db = tmp_path / "shop.duckdb"
    build_demo_store(db, orders=300)
    env = {**os.environ, "CAPI_DESK_DB": str(db)}
    with _streamlit(env, tmp_path / "streamlit.log") as base:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(base)
        _settle(page)
        before = _copies(page)

        # an open dashboard holds nothing: a CLI command that will not wait at all gets in
        idle = subprocess.run(_cli(db, "--wait", "0", "batches"), capture_output=True, text=True, cwd=REPO)
        assert idle.returncode == 0, idle.stderr

        with held_by_another_process(db) as ingest_running:
            page.reload()
            _settle(page)
            note = page.get_by_text(NOTE)
            expect(note).to_be_visible(timeout=RUN_TIMEOUT_MS)
            page.screenshot(path=str(tmp_path / "busy.png"), full_page=True)
            shown = page.locator('[data-testid="stApp"]').inner_text()
            assert not [word for word in NEVER_SHOWN if word in shown], shown[:3000]
            assert _copies(page) == before, "the last figures stay on screen"

            # a scheduled ingest starting now waits for the one running, then lands
            cron = subprocess.Popen(
                _cli(db, "ingest", "--source", "server", SERVER_FILE),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
            )  # fmt: skip
            time.sleep(2)
            assert cron.poll() is None, "the ingest waits for the store"
            release(ingest_running)
            out, err = cron.communicate(timeout=300)
        assert cron.returncode == 0, err
        assert "events.jsonl" in out

        # the page notices by itself that the store is free again, and reads the new data version (if it
        # read the store in the instant between the two writers, its watch catches the second one)
        expect(note).to_have_count(0, timeout=RUN_TIMEOUT_MS)
        _settle(page)
        after_cron = _copies_once_changed(page, before)
        assert after_cron > before

        # the next file of the same scheduled job lands after the page has settled: the page, which saw an
        # ingest a moment ago, keeps watching and shows it without a reload
        second = subprocess.run(
            _cli(db, "ingest", "--source", "browser", BROWSER_FILE), capture_output=True, text=True, cwd=REPO
        )
        assert second.returncode == 0, second.stderr
        assert _copies_once_changed(page, after_cron) > after_cron
        page.reload()
        _settle(page)
        assert _copies(page) > before
        assert page.locator('[data-testid="stException"]').count() == 0
