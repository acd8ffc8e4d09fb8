"""The dashboard on a real local Spark session (issue 6): every page renders from the demo store exported
to Parquet and read by Spark (``CAPI_DESK_ENGINE=spark``, ``CAPI_DESK_SPARK_PATH``), without an exception
or an error box, and shows the same figures as on the DuckDB demo store.

Same figures means: on every page, each ``st.metric`` (label and displayed value) equals the one the
same page shows on DuckDB; the Overview's tiles also equal ``api.headlines`` of the DuckDB report. The
displayed values are formatted (counts with separators, rates to 0.1 %), so they compare exactly.

AppTest runs the scripts in this process, so the store the dashboard opens (``ui.open_store``, a
Streamlit resource) runs on the module's one local Spark session (``spark_session`` uses getOrCreate):
the derived tables are built once, on the first page, and the pages after it reuse the store and the
cached sections. Skipped with the reason when Java or pyspark is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from app_helpers import metrics, problems
from conftest import APP, AppFactory
from streamlit.testing.v1 import AppTest

from capi_core import dashboard_api as api
from capi_core.engines.export import export_store
from capi_core.report import Report
from capi_core.store import Store

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

#: The first run opens the store on Spark (derived tables) and computes the report: minutes on 2 cores.
SPARK_TIMEOUT = 1200
ROOT = Path(__file__).resolve().parents[2]


def _page_files() -> list[str]:
    import ui

    return [ui.PAGES[key][0] for key in ui.available_pages()]


@pytest.fixture(scope="module")
def demo_parquet(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's demo store exported to Parquet, as `capi-desk export-spark` writes it."""
    folder = tmp_path_factory.mktemp("dashboard-spark") / "parquet"
    with Store(demo_db) as store:
        export_store(store, folder)
    return folder


@pytest.fixture
def open_spark_app(
    monkeypatch: pytest.MonkeyPatch, spark: SparkSession, demo_parquet: Path
) -> Iterator[AppFactory]:
    """``open_spark_app(page=None)``: the dashboard on the Spark engine after its first run."""
    monkeypatch.setenv("CAPI_DESK_ENGINE", "spark")
    monkeypatch.setenv("CAPI_DESK_SPARK_PATH", str(demo_parquet))
    monkeypatch.delenv("SPARK_REMOTE", raising=False)  # the module's local session, not a cluster

    def _open(page: str | None = None) -> AppTest:
        app = AppTest.from_file(str(APP), default_timeout=SPARK_TIMEOUT).run()
        if page is not None:
            app.switch_page(page).run()
        return app

    yield _open


@pytest.fixture(scope="module", autouse=True)
def _forget_the_spark_store() -> Iterator[None]:
    """After the module: forget the Spark store the dashboard opened and the results cached from it (the
    session it ran on is stopped by ``spark``)."""
    yield
    import ui

    ui.open_store.clear()
    ui.cached._cached.clear()


def test_overview_on_spark_shows_the_duckdb_headlines(
    open_spark_app: AppFactory, demo_report: Report
) -> None:
    """The Overview's tiles on Spark are ``api.headlines`` of the DuckDB report (same labels, same
    displayed values); the sidebar names the Spark engine and no demo banner is shown."""
    app = open_spark_app()
    assert problems(app) == []
    assert metrics(app) == {t.label: t.display for t in api.headlines(demo_report)}
    captions = [c.value.replace("\\", "") for c in app.sidebar.caption]
    assert any(c.startswith("Engine: Spark (local session)") for c in captions), captions
    assert not any("demo data" in str(i.value) for i in app.info)


@pytest.mark.parametrize("page", _page_files())
def test_page_on_spark_equals_duckdb(
    page: str, open_spark_app: AppFactory, open_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page renders on Spark without an exception or error box, and every metric it shows equals
    the same page on the DuckDB demo store (the store the Parquet files were exported from)."""
    on_spark = open_spark_app(page)
    assert problems(on_spark) == []
    assert len(on_spark.title) == 1
    shown_on_spark = metrics(on_spark)

    for name in ("CAPI_DESK_ENGINE", "CAPI_DESK_SPARK_PATH"):
        monkeypatch.delenv(name)
    on_duckdb = open_app(page)
    assert problems(on_duckdb) == []
    assert shown_on_spark == metrics(on_duckdb)
