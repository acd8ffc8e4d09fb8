"""Shared fixtures: a fresh store file per test, the real samples folder (skip when absent)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from capi_core.store import Store

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


@pytest.fixture
def samples() -> Path:
    """``../shared/samples/real``; the test is skipped when the folder is absent."""
    if not SAMPLES.is_dir():
        pytest.skip(f"real samples not present at {SAMPLES}")
    return SAMPLES
