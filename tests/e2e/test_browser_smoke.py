"""Smoke test in a real headless browser: every page of `make run` loads without an exception box, a
screenshot of each is saved, and event names or URLs holding markup from an ingested file show as text.

Needs Debian's ``chromium`` (installed by ``.ci/run``) and the ``playwright`` package; skipped with a clear
message where either is absent (``playwright install`` is not used: it downloads browsers).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from capi_core.demo_store import build_demo_store
from capi_core.ingest import ingest_file
from capi_core.store import Store
from tests.e2e.chromium import CHROMIUM_ARGS, chromium_path, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

APP = Path(__file__).resolve().parents[2] / "app.py"
#: URL path -> title of every page of the dashboard (st.Page derives the path from the file name).
PAGES = {
    "overview": "Overview",
    "deduplication": "Deduplication",
    "reconciliation": "Reconciliation",
    "signal_quality": "Signal quality",
    "weekly_drift": "Weekly drift",
    "lead_quality": "Lead quality",
    "meta_view": "Meta's view",
    "inspector": "Event inspector",
    "contracts": "Event contracts",
    "data": "Data",
}
SCRIPT_NAME = "<script>alert(1)</script>"
IMG_URL = 'https://shop.example/<img src=x onerror="alert(2)">'
RUN_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store plus one server file whose event name and URL hold markup."""
    folder = tmp_path_factory.mktemp("browser")
    db = folder / "demo.duckdb"
    build_demo_store(db)
    hostile = folder / "hostile.jsonl"
    event = {"event_name": SCRIPT_NAME, "event_time": 1793620801, "event_id": "hostile-1",
             "action_source": "website", "event_source_url": IMG_URL,
             "user_data": {"client_user_agent": "Mozilla/5.0"}}  # fmt: skip
    hostile.write_text(json.dumps(event) + "\n", encoding="utf-8")
    with Store(db) as store:
        ingest_file(store, hostile, "server")
    return db


@contextmanager
def _streamlit(db: Path, log: Path) -> Iterator[str]:
    """`streamlit run app.py` on a free loopback port over ``db``; yields its base URL, stops it after."""
    port = free_port()
    env = {**os.environ, "CAPI_DESK_DB": str(db), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
        "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=APP.parent)
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


@pytest.fixture(scope="module")
def server(hostile_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One dashboard server for the module, over the hostile demo store."""
    chromium_path()
    with _streamlit(hostile_db, tmp_path_factory.mktemp("server") / "streamlit.log") as base:
        yield base


def _settle(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the script run has finished (the app is shown and the running indicator is gone)."""
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=RUN_TIMEOUT_MS)
    page.wait_for_selector("h1", timeout=RUN_TIMEOUT_MS)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=RUN_TIMEOUT_MS)
    page.wait_for_timeout(500)  # let late elements (charts, tables) attach
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=RUN_TIMEOUT_MS)


@pytest.fixture
def browser_page() -> Iterator[tuple[object, list[str]]]:
    """A chromium page; any JavaScript dialog (an executed alert) is recorded and dismissed."""
    from playwright.sync_api import sync_playwright

    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            yield page, dialogs
        finally:
            browser.close()


def _open(page, server: str, path: str, title: str) -> None:  # type: ignore[no-untyped-def]
    """Open a page the way a user does: the root first, then the page's link in the navigation."""
    from playwright.sync_api import expect

    if path == "overview" or not page.url.startswith(server):
        page.goto(server)
        _settle(page)
    if path != "overview":
        page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').click()
    expect(page.locator("h1").first).to_have_text(title, timeout=RUN_TIMEOUT_MS)
    _settle(page)


def test_every_page_loads_without_exception(
    server: str, browser_page: tuple[object, list[str]], tmp_path: Path
) -> None:
    """Each page, reached through the navigation: its title, the sidebar filters of the frame, no
    exception box; a full-page screenshot of each is saved in tmp_path."""
    page, dialogs = browser_page
    for path, title in PAGES.items():
        _open(page, server, path, title)
        page.screenshot(path=str(tmp_path / f"{path}.png"), full_page=True)  # type: ignore[attr-defined]
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()  # type: ignore[attr-defined]
        assert "Filters" in sidebar, f"{path}: the frame (app.py) did not run"
        assert page.locator('[data-testid="stException"]').count() == 0, f"{path} shows an exception"  # type: ignore[attr-defined]
    assert dialogs == []
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(f"{p}.png" for p in PAGES)


def test_page_url_on_a_fresh_server_runs_the_frame(
    hostile_db: Path, browser_page: tuple[object, list[str]], tmp_path: Path
) -> None:
    """A deep link as the first request of a fresh server still runs app.py (login gate, filters):
    Streamlit's legacy ``pages/`` mode would run the page alone; each page's require_frame() prevents it."""
    page, _ = browser_page
    # its own copy: the module's server holds hostile_db, and DuckDB lets one process write a file
    fresh_db = tmp_path / "fresh.duckdb"
    shutil.copyfile(hostile_db, fresh_db)
    if Path(f"{hostile_db}.wal").exists():
        shutil.copyfile(f"{hostile_db}.wal", f"{fresh_db}.wal")
    with _streamlit(fresh_db, tmp_path / "fresh.log") as base:
        page.goto(f"{base}/data")  # type: ignore[attr-defined]
        _settle(page)
        # the page switches to app.py and reruns: wait for the frame's sidebar rather than reading it once
        sidebar = page.locator('[data-testid="stSidebar"]').filter(has_text="Filters")  # type: ignore[attr-defined]
        sidebar.wait_for(timeout=RUN_TIMEOUT_MS)


def test_markup_from_a_file_renders_as_text(
    server: str, browser_page: tuple[object, list[str]], tmp_path: Path
) -> None:
    """Search the hostile copy in the inspector: its name and URL appear as literal text, no script runs,
    no <img onerror> element is created."""
    page, dialogs = browser_page
    _open(page, server, "inspector", PAGES["inspector"])
    box = page.get_by_label("Search", exact=True)  # type: ignore[attr-defined]
    box.fill("hostile-1")
    box.press("Enter")  # submits the form
    page.wait_for_selector('[data-testid="stJson"]', timeout=RUN_TIMEOUT_MS)  # type: ignore[attr-defined]
    _settle(page)
    page.screenshot(path=str(tmp_path / "inspector_hostile.png"), full_page=True)  # type: ignore[attr-defined]
    assert page.get_by_text(SCRIPT_NAME).count() >= 1  # type: ignore[attr-defined]
    assert page.get_by_text("onerror").count() >= 1  # type: ignore[attr-defined]
    assert page.locator("img[onerror]").count() == 0  # type: ignore[attr-defined]
    assert page.locator('[data-testid="stException"]').count() == 0  # type: ignore[attr-defined]
    assert dialogs == []
