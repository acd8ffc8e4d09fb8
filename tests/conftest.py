"""Shared fixtures: a fresh store file per test, the real samples folder (skip when absent), and one
local Spark session for every Spark test of the run (skip with the reason when Java or pyspark is
missing)."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from capi_core.demo_store import build_demo_store
from capi_core.models import Scope
from capi_core.report import Report, build_report
from capi_core.store import Store

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLES = REPO.parent / "shared" / "samples" / "real"


@pytest.fixture(autouse=True)
def _isolated_default_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test (nor a CLI subprocess it starts) may open the repo's data/demo.duckdb: a test that forgot
    --db would otherwise leave an empty store there, and `make run` would then open on nothing."""
    monkeypatch.setenv("CAPI_DESK_DB", str(tmp_path_factory.getbasetemp() / "default-store.duckdb"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A new store in a real DuckDB file."""
    with Store(tmp_path / "store.duckdb") as opened:
        yield opened


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store, built once (10-20 s) into a session folder; tests must not write to it."""
    target = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo_store(target)
    return target


@pytest.fixture(scope="session")
def demo_report(demo_db: Path) -> Report:
    """The report over the whole demo store, as the CLI would compute it."""
    with Store(demo_db) as store:
        return build_report(store, Scope())


@pytest.fixture
def samples() -> Path:
    """``../shared/samples/real``; the test is skipped when the folder is absent."""
    if not SAMPLES.is_dir():
        pytest.skip(f"real samples not present at {SAMPLES}")
    return SAMPLES


def spark_skip_reason() -> str | None:
    """Why a local Spark session cannot start here, or None (``.ci/run`` installs both, so CI runs them)."""
    if shutil.which("java") is None:
        return "Java is not installed (apt-get install openjdk-17-jre-headless)"
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -e '.[spark]')"
    return None


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """One local Spark session (``spark_session()``: local[2], UTC, TIMESTAMP_NTZ, ANSI off) shared by every
    Spark test module: starting one costs ~15 s and ~1.5 GB. Tests that change a setting restore it."""
    reason = spark_skip_reason()
    if reason:
        pytest.skip(f"Spark test not run: {reason}")
    from capi_core.engines.spark import spark_session

    with warnings.catch_warnings():
        # pyspark warns at import that it does not certify the installed pandas; the engine does not use it
        warnings.simplefilter("ignore", FutureWarning)
        session = spark_session()
    yield session
    session.stop()
