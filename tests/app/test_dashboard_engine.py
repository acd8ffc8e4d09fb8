"""The dashboard on the Spark engine (issue 6), without a JVM: ``open_spark_store`` is replaced by a fake
that hands back a DuckDB ``Store`` on the demo store, so the pages run exactly as they would on Spark's
answers while the test checks what the engine choice changes (sidebar, demo banner, Data page)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from app_helpers import metrics, problems
from conftest import APP, TIMEOUT, AppFactory
from streamlit.testing.v1 import AppTest

from capi_core import dashboard_api as api
from capi_core.engines import spark
from capi_core.report import Report
from capi_core.store import Store

LOCATION = "/lake/capi-engine-test"
TOKEN = "s3cr3t-token-value"
REMOTE = f"sc://spark.example.com:15002/;use_ssl=true;token={TOKEN}"


@pytest.fixture
def spark_calls(monkeypatch: pytest.MonkeyPatch, demo_db: Path) -> Iterator[list[dict[str, Any]]]:
    """The dashboard configured for Spark through the environment; the fake records each open."""
    calls: list[dict[str, Any]] = []

    def fake_open_spark_store(*, remote: str | None, location: str | None, **_: Any) -> Store:
        calls.append({"remote": remote, "location": location})
        return Store(demo_db)  # the configuration the DuckDB pages open it with (DuckDB wants one)

    monkeypatch.setattr(spark, "open_spark_store", fake_open_spark_store)
    monkeypatch.setenv("CAPI_DESK_ENGINE", "spark")
    monkeypatch.setenv("CAPI_DESK_SPARK_PATH", LOCATION)
    monkeypatch.setenv("SPARK_REMOTE", REMOTE)
    yield calls
    import ui  # the AppTests imported it; forget the fake's handle for later tests

    ui.open_store.clear()


def _every_text(app: Any) -> str:
    """Every string the last run rendered (markdown, captions, infos, errors, metrics...)."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "text", "title"):
        parts += [str(element.value) for element in app.get(kind)]
    parts += [f"{m.label} {m.value}" for m in app.metric]
    return "\n".join(parts)


def test_overview_renders_through_the_spark_store(
    open_app: AppFactory, spark_calls: list[dict[str, Any]], demo_report: Report
) -> None:
    """The Overview's tiles are ``api.headlines`` of the demo report (the fake answers from the demo
    store), the store was opened through ``open_spark_store`` with the configured location and remote,
    and the sidebar names the engine with the remote's host only."""
    app = open_app()
    assert problems(app) == []
    assert spark_calls and spark_calls[0] == {"remote": REMOTE, "location": LOCATION}
    assert metrics(app) == {t.label: t.display for t in api.headlines(demo_report)}

    captions = [c.value for c in app.sidebar.caption]
    engine_line = next(c for c in captions if c.startswith("Engine:"))
    plain = engine_line.replace("\\", "")
    assert "Spark" in plain and "sc://spark.example.com:15002" in plain and LOCATION in plain
    assert TOKEN not in _every_text(app) and "token" not in plain
    assert not any("demo data" in str(i.value) for i in app.info), "no demo banner on Spark"


def test_data_page_disables_upload_and_explains(
    open_app: AppFactory, spark_calls: list[dict[str, Any]]
) -> None:
    app = open_app("pages/data.py")
    assert problems(app) == []
    assert app.file_uploader[0].proto.disabled
    notes = [str(i.value) for i in app.info]
    assert any("uploads are off here" in n and "--engine spark" in n and "ingest" in n for n in notes)
    assert not any("demo store" in str(w.value) for w in app.warning)
    assert all(b.disabled for b in app.button if b.key and b.key.startswith("undo_"))
    assert TOKEN not in _every_text(app)


def test_duckdb_data_page_keeps_upload(open_app: AppFactory) -> None:
    """The default engine is unchanged: upload enabled, no Spark note."""
    app = open_app("pages/data.py")
    assert not app.file_uploader[0].proto.disabled
    assert not any("uploads are off here" in str(i.value) for i in app.info)


def test_engine_from_secrets(
    monkeypatch: pytest.MonkeyPatch, spark_calls: list[dict[str, Any]], demo_db: Path
) -> None:
    """With no engine variables the secrets' ``[engine]`` table decides."""
    for name in ("CAPI_DESK_ENGINE", "CAPI_DESK_SPARK_PATH", "SPARK_REMOTE"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("CAPI_DESK_DB", str(demo_db))
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    app.secrets["engine"] = {"name": "spark", "spark_path": LOCATION + "-secrets"}
    app.run()
    assert problems(app) == []
    assert spark_calls[-1] == {"remote": None, "location": LOCATION + "-secrets"}
    assert any("local session" in c.value for c in app.sidebar.caption)


def test_bad_engine_setting_is_a_clear_error(open_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPI_DESK_ENGINE", "hive")
    app = open_app()
    assert any("unknown engine" in e for e in problems(app))
