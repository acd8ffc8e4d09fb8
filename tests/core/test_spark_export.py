"""`capi-desk export-spark`: a store's canonical tables as Parquet folders (no Spark needed to test it)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from capi_core.cli import main
from capi_core.engines.export import MARKER, canonical_tables, exported_tables
from capi_core.store import Store
from tests.factories import copy, load, load_truth, order


def _store(path: Path) -> None:
    """Two copies (browser + server of order #1001) and the order: 2 events, 1 truth row, 2 batches."""
    with Store(path) as store:
        load(store, [copy("browser"), copy("server", minute=1)])
        load_truth(store, [order()])


def test_export_writes_each_canonical_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Row counts as loaded: events 2, truth 1, batches 2; derived tables are not exported (Spark rebuilds
    them) and DuckDB's derived_state bookkeeping neither."""
    db, target = tmp_path / "s.duckdb", tmp_path / "pq"
    _store(db)
    assert main(["--db", str(db), "export-spark", "--to", str(target)]) == 0
    assert "events: 2 rows" in capsys.readouterr().out
    assert pq.read_table(target / "events").num_rows == 2
    assert pq.read_table(target / "truth").num_rows == 1
    assert pq.read_table(target / "batches").num_rows == 2
    assert (target / MARKER).exists()
    assert not (target / "copy_verdicts").exists() and not (target / "derived_state").exists()
    assert exported_tables(str(target)) == [name for name in canonical_tables() if (target / name).exists()]
    assert {"events", "truth", "batches", "quarantine"} <= set(exported_tables(str(target)))


def test_export_again_replaces_an_earlier_export(tmp_path: Path) -> None:
    db, target = tmp_path / "s.duckdb", tmp_path / "pq"
    _store(db)
    assert main(["--db", str(db), "export-spark", "--to", str(target)]) == 0
    assert main(["--db", str(db), "export-spark", "--to", str(target)]) == 0
    assert pq.read_table(target / "events").num_rows == 2


def test_export_refuses_a_folder_holding_other_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, target = tmp_path / "s.duckdb", tmp_path / "pq"
    _store(db)
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["--db", str(db), "export-spark", "--to", str(target)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_spark_engine_needs_a_location(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--engine spark without --spark-path: exit 2 with a hint, before any Spark session starts."""
    assert main(["--engine", "spark", "report"]) == 2
    assert "--spark-path" in capsys.readouterr().err


def test_spark_remote_must_be_a_connect_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pyspark")
    assert (
        main(["--engine", "spark", "--spark-remote", "http://x", "--spark-path", str(tmp_path), "report"])
        == 2
    )
    err = capsys.readouterr().err
    assert "sc://" in err and "http://x" not in err  # never echoed: a URL may carry a token


def test_spark_errors_never_repeat_a_token() -> None:
    """A Spark Connect error quoting the URL keeps the token out of the one-line reason."""
    from capi_core.engines.spark import failure_reason

    err = RuntimeError(
        "An error occurred while calling x\n: cannot reach sc://h:443/;use_ssl=true;token=s3cr3t"
    )
    assert failure_reason(err) == "cannot reach sc://h:443/;use_ssl=true;token=***"
