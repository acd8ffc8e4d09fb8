"""Fixtures for the dashboard tests: one demo store per session, a scratch copy per flow test, and an
AppTest factory pointed at a store through ``CAPI_DESK_DB`` (the variable the dashboard reads)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "app.py"
PAGES = ("pages/overview.py", "pages/reconciliation.py", "pages/signal_quality.py", "pages/data.py")
TIMEOUT = 120  # the first run imports pandas/plotly and computes a report


@pytest.fixture
def scratch_db(demo_db: Path, tmp_path: Path) -> Path:
    """A private copy of the demo store for tests that ingest or undo."""
    target = tmp_path / "scratch.duckdb"
    shutil.copy(demo_db, target)
    return target


AppFactory = Callable[..., AppTest]


@pytest.fixture(autouse=True)
def frame_runs_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run app.py's st.navigation frame on every AppTest run, as a live server does.

    A folder named ``pages/`` beside app.py makes Streamlit start in its legacy multipage mode until the
    first st.navigation call turns it off for the process; AppTest resets that flag before every run, so
    reruns would execute a page without the frame (no sidebar filters). Keeping the flag off reproduces
    the server after its first run.
    """
    monkeypatch.setattr(script_runner, "PagesManager", SimpleNamespace(uses_pages_directory=False))


@pytest.fixture
def open_app(monkeypatch: pytest.MonkeyPatch, demo_db: Path) -> AppFactory:
    """``open_app(page=None, db=demo_db)``: the dashboard after its first run, on ``page`` if given."""

    def _open(page: str | None = None, db: Path = demo_db) -> AppTest:
        monkeypatch.setenv("CAPI_DESK_DB", str(db))
        app = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
        if page is not None:
            app.switch_page(page).run()
        return app

    return _open
