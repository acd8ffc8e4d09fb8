"""Shared fixtures: a fresh store file per test, the real samples folder (skip when absent)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from capi_core.store import Store

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLES = REPO.parent / "shared" / "samples" / "real"


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
