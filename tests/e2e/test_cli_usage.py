"""The CLI's contract for usage: --help teaches, bad usage exits 2 with one line, the store is untouched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from capi_core.cli import main
from capi_core.store import Store


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m capi_core ARGS`` in a real subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "capi_core", *args], capture_output=True, text=True, check=False
    )


def test_help_lists_commands_and_examples() -> None:
    out = run_cli("--help")
    assert out.returncode == 0
    for word in ("ingest", "report", "demo", "app", "examples:", "--db"):
        assert word in out.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["ingest", "--source", "nope", "x.csv"],
        ["report", "--from", "yesterday"],
        ["report", "--format", "pdf"],
        ["frobnicate"],
    ],
)
def test_bad_usage_exits_2(args: list[str], tmp_path: Path) -> None:
    out = run_cli("--db", str(tmp_path / "s.duckdb"), *args)
    assert out.returncode == 2
    assert "error" in out.stderr


def test_missing_file_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["--db", str(tmp_path / "s.duckdb"), "ingest", "--source", "server", str(tmp_path / "nope.jsonl")]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("capi-desk: error:") and err.count("\n") == 1


def test_bad_map_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "o.csv"
    file.write_text("id,date\n1,2026-11-02\n", encoding="utf-8")
    code = main(
        ["--db", str(tmp_path / "s.duckdb"), "ingest", "--source", "orders", "--map", "oops", str(file)]
    )
    assert code == 2
    assert "COL=FIELD" in capsys.readouterr().err


def test_undo_unknown_batch_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Store(tmp_path / "s.duckdb").close()  # an empty store (a missing one is its own error: no store at)
    assert main(["--db", str(tmp_path / "s.duckdb"), "undo", "42"]) == 2
    assert "no batch 42" in capsys.readouterr().err
