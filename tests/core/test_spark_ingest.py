"""Ingest onto Spark (``capi_core/engines/spark_ingest.py``) keeps the DuckDB ingest's guarantees.

* parity: the demo shop's orders, CAPI log and Pixel beacons ingested by Spark give the same rows
  (fingerprint and occurrence included), quarantine, batch counts and report JSON as the DuckDB ingest;
* the Spark path itself (a strict test mapping query, ``tests/fixtures/spark_ingest/strict_capi_events.sql``,
  standing in for the real ones) equals the Python reader on a fixture with bad lines, raw PII, a token,
  duplicates and a double Spark prints differently from Python, with the file split into many partitions;
* re-ingest is a no-op, a row already stored is not stored twice, a failure after the rows are written
  leaves the report unchanged, line numbers are exact across partitions, no raw PII or token reaches the
  location, and the CLI runs end to end.

Skipped (with the reason) when Java or pyspark is missing. One local Spark session serves the module.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
import pytest

from capi_core import cli, fast_ingest
from capi_core.demo import generate, scaled_config
from capi_core.engines import spark_ingest, spark_location
from capi_core.engines.export import canonical_tables, export_store
from capi_core.errors import UnreadableFileError
from capi_core.ingest import ingest_file
from capi_core.models import EVENT_COLUMNS
from capi_core.readers import ReadOptions
from capi_core.report import build_report
from capi_core.report_compare import differences
from capi_core.store import Store

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "spark_ingest"
EVENTS = FIXTURES / "events.jsonl"
PIXEL = ReadOptions(pixel_id="123")
DEMO_FILES = (("orders", "orders_export.csv"), ("server", "capi_log.jsonl"), ("browser", "pixel_beacons.txt"))
#: Raw values in events.jsonl that must never be stored (email, phone in two spellings, the token).
RAW_SECRETS = ("Jane.Doe@Example.com", "jane.doe@example.com", "555-0123", "6505550123", "EAABtestTOKEN123")


@pytest.fixture
def strict_mapping(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The test mapping query for capi_events; returns the list the routed line numbers land in."""
    sql = (FIXTURES / "strict_capi_events.sql").read_text(encoding="utf-8")
    monkeypatch.setattr(spark_ingest, "mapping_query", lambda fmt: sql if fmt == "capi_events" else None)
    routed: list[int] = []
    line_items = fast_ingest.line_items

    def counting(reader: Any, line_no: int, line: str, options: ReadOptions) -> Iterator[Any]:
        routed.append(line_no)
        return line_items(reader, line_no, line, options)

    monkeypatch.setattr(fast_ingest, "line_items", counting)
    return routed


@pytest.fixture
def small_splits(spark: SparkSession) -> Iterator[None]:
    """Files split every 400 bytes, so even the small fixtures span several partitions."""
    spark.conf.set("spark.sql.files.maxPartitionBytes", "400")
    yield
    spark.conf.unset("spark.sql.files.maxPartitionBytes")


_CONTENT = [name for name in EVENT_COLUMNS if name != "batch_id"]
_QUARANTINE = ["line_no", "reason", "raw_masked"]
_BATCH = ["source", "format", "file_name", "file_sha256", "rows_read", "rows_stored", "rows_already_stored",
          "rows_quarantined", "secrets_stripped"]  # fmt: skip


def _duck_rows(store: Store, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    cols = ", ".join(columns)
    return sorted(store.query("rows", f"select {cols} from {table}").rows, key=repr)


def _spark_rows(spark: SparkSession, location: str, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    frame = spark_location.visible_tables(spark, location, (table,))[table]
    return sorted((tuple(row) for row in frame.select(*columns).collect()), key=repr)


def _report(store: Store) -> dict[str, Any]:
    return json.loads(build_report(store).model_dump_json())  # type: ignore[no-any-return]


def _spark_report(spark: SparkSession, location: str) -> dict[str, Any]:
    from capi_core.engines.spark import open_spark_store

    store = open_spark_store(remote=None, location=location, session=spark)
    try:
        return _report(store)
    finally:
        store.close()


def _assert_same_tables(store: Store, spark: SparkSession, location: str) -> None:
    for table, columns in (("events", _CONTENT), ("quarantine", _QUARANTINE), ("batches", _BATCH)):
        duck, on_spark = _duck_rows(store, table, columns), _spark_rows(spark, location, table, columns)
        assert len(duck) == len(on_spark), table
        for a, b in zip(duck, on_spark, strict=True):
            assert a == b, f"{table}: {a} != {b}"


def _fail(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("injected failure")


def test_demo_files_match_duckdb(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo shop (200 orders) ingested both ways: equal rows, quarantine, batches and report JSON.

    Whatever formats ``SPARK_SQL_FORMATS`` maps at the time run on Spark; the others take the Python
    path, so this parity holds at every stage of the mapping queries. Before the report is compared, a
    fourth file (lead_beacons.txt) fails on Spark after its events were written (the batch row write
    raises, and the written files are left in place on purpose): the report must still equal the DuckDB
    store's, which never saw that file.
    """
    demo = tmp_path / "demo"
    demo.mkdir()
    generate(demo, scaled_config(200))
    location = str(tmp_path / "lake")
    with Store(tmp_path / "duck.duckdb") as store:
        for source, name in DEMO_FILES:
            duck = ingest_file(store, demo / name, source)  # type: ignore[arg-type]
            on_spark = spark_ingest.ingest_spark(spark, location, str(demo / name), source)  # type: ignore[arg-type]
            assert on_spark.summary == duck.summary
        _assert_same_tables(store, spark, location)
        with monkeypatch.context() as patch:
            patch.setattr(spark_location, "batch_frame", _fail)
            patch.setattr(spark_location.Appender, "discard", lambda self: None)
            with pytest.raises(RuntimeError, match="injected"):
                spark_ingest.ingest_spark(spark, location, str(demo / "lead_beacons.txt"), "browser")
        orphans = spark_location.raw_tables(spark, location, ("events",))["events"].where("batch_id = 4")
        assert orphans.count() > 0  # written, never committed
        assert not differences(_report(store), _spark_report(spark, location))


def test_spark_path_matches_python_reader(
    spark: SparkSession, tmp_path: Path, strict_mapping: list[int], small_splits: None
) -> None:
    """events.jsonl (10 lines, split into 3 partitions) on the Spark path equals the DuckDB ingest.

    Lines 1, 2 and 10 fit the strict mapping (SQL rows; line 3 is blank). Python reads line 4 (compact
    JSON), 5 (10000000.5 prints as 1.00000005E7 in Spark), 6 (raw email and phone), 7 (a token), 8 (not
    JSON) and 9 (no event_name): read 9 = stored 7 + quarantined 2; lines 1, 2 and 4 are one event, so
    their occurrences are 1, 2, 3 in line order across the two paths.
    """
    location = str(tmp_path / "lake")
    result = spark_ingest.ingest_spark(
        spark, location, str(EVENTS), "server", fmt="capi_events", options=PIXEL
    )
    assert sorted(set(strict_mapping)) == [4, 5, 6, 7, 8, 9]
    assert (result.rows_read, result.rows_stored, result.rows_already_stored) == (9, 7, 0)
    assert (result.rows_quarantined, result.secrets_stripped) == (2, 1)
    with Store(tmp_path / "duck.duckdb") as store:
        ingest_file(store, EVENTS, "server", fmt="capi_events", options=PIXEL)
        _assert_same_tables(store, spark, location)
    occurrences = _spark_rows(spark, location, "events", ["line_no", "occurrence"])
    assert [occ for line, occ in occurrences if line in (1, 2, 4)] == [1, 2, 3]


def test_files_spark_reads_differently_take_the_python_path(
    spark: SparkSession, tmp_path: Path, strict_mapping: list[int]
) -> None:
    """A byte-order mark (Python drops it, Spark keeps it) or a JSON array document (not JSONL) sends the
    whole file to the Python path: no line is routed, and the rows and counts equal the DuckDB ingest's
    (events.jsonl behind a BOM: read 9, stored 7, quarantined 2; the array: its 2 events)."""
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + EVENTS.read_bytes())
    document = tmp_path / "array.json"
    events = [json.loads(line) for line in EVENTS.read_text(encoding="utf-8").splitlines()[:2]]
    document.write_text(json.dumps(events, indent=2), encoding="utf-8")
    location = str(tmp_path / "lake")
    with Store(tmp_path / "duck.duckdb") as store:
        for path in (bom, document):
            duck = ingest_file(store, path, "server", fmt="capi_events", options=PIXEL)
            on_spark = spark_ingest.ingest_spark(
                spark, location, str(path), "server", fmt="capi_events", options=PIXEL
            )
            assert on_spark.summary == duck.summary
        _assert_same_tables(store, spark, location)
    assert strict_mapping == []


def test_reingest_and_rows_already_stored(
    spark: SparkSession, tmp_path: Path, strict_mapping: list[int]
) -> None:
    """The same file again changes nothing; a new file repeating lines 1-2 (same event twice) plus one
    new event stores 1 and counts 2 as already stored (occurrences 1 and 2 exist): read 3 = 1 + 2 + 0."""
    location = str(tmp_path / "lake")
    first = spark_ingest.ingest_spark(
        spark, location, str(EVENTS), "server", fmt="capi_events", options=PIXEL
    )
    again = spark_ingest.ingest_spark(
        spark, location, str(EVENTS), "server", fmt="capi_events", options=PIXEL
    )
    assert again.already_ingested and again.batch_id == first.batch_id
    lines = EVENTS.read_text(encoding="utf-8").splitlines()
    repeat = tmp_path / "repeat.jsonl"
    repeat.write_text("\n".join([*lines[:2], lines[9].replace("e3", "e9")]) + "\n", encoding="utf-8")
    second = spark_ingest.ingest_spark(
        spark, location, str(repeat), "server", fmt="capi_events", options=PIXEL
    )
    assert (second.batch_id, second.rows_read, second.rows_stored, second.rows_already_stored) == (2, 3, 1, 2)
    assert len(_spark_rows(spark, location, "events", ["fingerprint"])) == 7 + 1
    assert len(_spark_rows(spark, location, "batches", ["batch_id"])) == 2


def test_appends_to_an_export_of_a_duckdb_store(spark: SparkSession, tmp_path: Path) -> None:
    """A folder `export-spark` wrote is appended to: the file ingested into DuckDB before the export is
    recognised by its SHA-256 (already ingested as batch 1), and a file repeating its first two lines
    (the same event twice) plus one new event becomes batch 2: stored 1, already stored 2."""
    with Store(tmp_path / "duck.duckdb") as store:
        ingest_file(store, EVENTS, "server", fmt="capi_events", options=PIXEL)
        export_store(store, tmp_path / "export")
    location = str(tmp_path / "export")
    again = spark_ingest.ingest_spark(
        spark, location, str(EVENTS), "server", fmt="capi_events", options=PIXEL
    )
    assert again.already_ingested and again.batch_id == 1
    lines = EVENTS.read_text(encoding="utf-8").splitlines()
    repeat = tmp_path / "repeat.jsonl"
    repeat.write_text("\n".join([*lines[:2], lines[9].replace("e3", "e9")]) + "\n", encoding="utf-8")
    second = spark_ingest.ingest_spark(
        spark, location, str(repeat), "server", fmt="capi_events", options=PIXEL
    )
    assert (second.batch_id, second.rows_stored, second.rows_already_stored) == (2, 1, 2)
    assert len(_spark_rows(spark, location, "events", ["fingerprint"])) == 7 + 1


def test_failure_after_rows_written_changes_nothing(
    spark: SparkSession, tmp_path: Path, strict_mapping: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure when the batch row is written (events and quarantine already on disk, and left there
    on purpose) leaves every visible table as it was; the next ingest takes a batch id above the orphans.
    (The report over such a location is compared with DuckDB's in test_demo_files_match_duckdb.)"""
    location = str(tmp_path / "lake")
    repeat = tmp_path / "two.jsonl"
    repeat.write_text("\n".join(EVENTS.read_text(encoding="utf-8").splitlines()[:2]) + "\n", encoding="utf-8")
    spark_ingest.ingest_spark(spark, location, str(repeat), "server", fmt="capi_events", options=PIXEL)
    tables = {"events": _CONTENT, "quarantine": _QUARANTINE, "batches": _BATCH}
    before = {name: _spark_rows(spark, location, name, columns) for name, columns in tables.items()}
    with monkeypatch.context() as patch:
        patch.setattr(spark_location, "batch_frame", _fail)
        patch.setattr(spark_location.Appender, "discard", lambda self: None)
        with pytest.raises(RuntimeError, match="injected"):
            spark_ingest.ingest_spark(
                spark, location, str(EVENTS), "server", fmt="capi_events", options=PIXEL
            )
    raw = spark_location.raw_tables(spark, location, ("events", "quarantine"))
    assert raw["events"].where("batch_id = 2").count() == 5  # 7 events, 2 of them stored by batch 1
    assert raw["quarantine"].where("batch_id = 2").count() == 2
    assert {name: _spark_rows(spark, location, name, columns) for name, columns in tables.items()} == before
    retry = spark_ingest.ingest_spark(
        spark, location, str(EVENTS), "server", fmt="capi_events", options=PIXEL
    )
    assert (retry.batch_id, retry.rows_stored, retry.rows_already_stored) == (3, 5, 2)
    assert len(_spark_rows(spark, location, "events", ["fingerprint"])) == 2 + 5


def test_failure_on_a_local_folder_removes_the_files(
    spark: SparkSession, tmp_path: Path, strict_mapping: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a local folder a failed ingest also deletes the files it wrote: the folder lists as before."""
    location = tmp_path / "lake"
    spark_location.prepare(spark, str(location))
    files = sorted(p.relative_to(location) for p in location.rglob("*"))

    monkeypatch.setattr(spark_location, "batch_frame", _fail)
    with pytest.raises(RuntimeError, match="injected"):
        spark_ingest.ingest_spark(
            spark, str(location), str(EVENTS), "server", fmt="capi_events", options=PIXEL
        )
    assert sorted(p.relative_to(location) for p in location.rglob("*")) == files


def test_line_numbers_across_partitions(spark: SparkSession, tmp_path: Path) -> None:
    """3,000 lines of 0-80 characters (blank and non-ASCII ones included) split every 2 KiB: every line
    number equals Python's enumerate(start=1) and the file really spans many splits."""
    from pyspark.sql import functions as F

    from capi_core.engines.spark_lines import numbered_lines

    path = tmp_path / "lines.txt"
    texts = [("é" if n % 7 == 0 else "x") * (n * 37 % 81) + f" {n}" * (n % 3 != 0) for n in range(3000)]
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "2048")
    try:
        blocks = spark.read.text(str(path)).select(F.col("_metadata.file_block_start")).distinct().count()
        lines, clean = numbered_lines(spark, str(path), path.name)
        got = {int(n): t for n, t in lines.collect()}
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert blocks > 10 and clean
    assert got == dict(enumerate(path.read_text(encoding="utf-8").splitlines(), start=1))


def test_no_raw_pii_or_token_under_the_location(
    spark: SparkSession, tmp_path: Path, strict_mapping: list[int]
) -> None:
    """After ingesting events.jsonl (raw email, phone and access token), no file under the location holds
    them: neither its bytes nor any value of any Parquet column."""
    location = tmp_path / "lake"
    spark_ingest.ingest_spark(spark, str(location), str(EVENTS), "server", fmt="capi_events", options=PIXEL)
    for path in location.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        assert not any(secret.encode() in data for secret in RAW_SECRETS), path
        if path.suffix == ".parquet":
            text = json.dumps(pq.read_table(path).to_pylist(), default=str)
            assert not any(secret in text for secret in RAW_SECRETS), path


def test_new_location_has_the_schema_of_a_fresh_export(spark: SparkSession, tmp_path: Path) -> None:
    """Every canonical table exists at a new location, and after a Spark ingest every Parquet file of
    ``events`` and ``batches`` still has the column names and types DuckDB's export writes."""
    location = tmp_path / "lake"
    spark_ingest.ingest_spark(spark, str(location), str(EVENTS), "server", fmt="capi_events", options=PIXEL)
    with Store(tmp_path / "fresh.duckdb") as store:
        export_store(store, tmp_path / "fresh")
    assert all((location / name).is_dir() for name in canonical_tables())
    for table in ("events", "batches", "quarantine"):
        expected = [(f.name, f.type) for f in pq.read_schema(tmp_path / "fresh" / table / "part-0.parquet")]
        for path in (location / table).glob("*.parquet"):
            assert [(f.name, f.type) for f in pq.read_schema(path)] == expected, path


def test_cli_ingest_batches_undo(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`capi-desk --engine spark` ingest prints the DuckDB summary line, batches lists it, undo hides it
    (ingesting the file again is then a new batch, 2); a missing file is exit 2 naming the file."""
    location = str(tmp_path / "lake")
    spark_args = ["--engine", "spark", "--spark-path", location]
    ingest = [*spark_args, "ingest", "--source", "server", "--format", "capi_events", "--pixel-id", "123"]
    assert cli.main([*ingest, str(EVENTS)]) == 0
    out = capsys.readouterr().out
    assert "events.jsonl (capi_events) -> batch 1: read 9, stored 7, quarantined 2" in out
    assert cli.main([*spark_args, "batches"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split()[:3] == ["batch_id", "source", "format"]
    assert row.split()[:7] == ["1", "server", "capi_events", "events.jsonl", "9", "7", "2"]
    assert cli.main([*spark_args, "undo", "1"]) == 0
    assert "batch 1 removed" in capsys.readouterr().out
    assert cli.main([*spark_args, "batches"]) == 0
    assert "no batches yet" in capsys.readouterr().out
    assert cli.main([*spark_args, "undo", "1"]) == 2
    assert cli.main([*ingest, str(tmp_path / "missing.jsonl")]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
    assert cli.main([*ingest, str(EVENTS)]) == 0  # after undo the file is new again: batch 2
    assert "-> batch 2: read 9, stored 7" in capsys.readouterr().out


def test_ingest_help_says_what_spark_ingest_does(capsys: pytest.CaptureFixture[str]) -> None:
    """`capi-desk ingest --help` explains the Spark ingest (no session needed)."""
    with pytest.raises(SystemExit):
        cli.main(["ingest", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--engine spark" in text and "Spark SQL" in text


def test_remote_file_read_by_python_is_one_batch(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A remote file whose format Python reads (copied to the driver) keeps its listed identity: the
    second ingest finds the first batch (already ingested), no second batch is written. The "remote"
    file is a local one Spark lists like a lake object (``_is_remote`` patched); no mapping query, so
    the copy path is taken: read 9, stored 7, quarantined 2 as the DuckDB ingest of events.jsonl."""
    monkeypatch.setattr(spark_ingest, "_is_remote", lambda path: True)
    monkeypatch.setattr(spark_ingest, "mapping_query", lambda fmt: None)
    location = str(tmp_path / "lake")
    first = spark_ingest.ingest_spark(
        spark, location, str(EVENTS), "server", fmt="capi_events", options=PIXEL
    )
    assert (first.batch_id, first.rows_read, first.rows_stored) == (1, 9, 7)
    again = spark_ingest.ingest_spark(
        spark, location, str(EVENTS), "server", fmt="capi_events", options=PIXEL
    )
    assert again.already_ingested and again.batch_id == 1
    assert len(_spark_rows(spark, location, "batches", ["batch_id"])) == 1


def test_cli_ingests_a_folder_with_glob_and_colon_names(
    spark: SparkSession, tmp_path: Path, strict_mapping: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder is ingested file by file, sorted, one batch and one line each; names Hadoop would read
    as a glob (``a[1].jsonl``, which as a glob matches ``a1.jsonl``) or a URI (``a:b.jsonl``) are read
    as themselves. a1 = lines 1-2 (one event twice): read 2, stored 2. a:b = lines 1-2 plus a new
    event: read 3, stored 1 (occurrences 1-2 exist). a[1] = all of events.jsonl: read 9, of its 7
    events 2 are stored already (occurrences 1-2 of the event on lines 1, 2, 4), so stored 5."""
    folder = tmp_path / "raw"
    folder.mkdir()
    lines = EVENTS.read_text(encoding="utf-8").splitlines()
    (folder / "a1.jsonl").write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
    (folder / "a:b.jsonl").write_text("\n".join([*lines[:2], lines[9].replace("e3", "e9")]) + "\n", "utf-8")
    shutil.copy(EVENTS, folder / "a[1].jsonl")
    spark_args = ["--engine", "spark", "--spark-path", str(tmp_path / "lake")]
    ingest = [*spark_args, "ingest", "--source", "server", "--format", "capi_events", "--pixel-id", "123"]
    assert cli.main([*ingest, str(folder)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" (")[0] for line in out] == ["a1.jsonl", "a:b.jsonl", "a[1].jsonl"]
    assert "-> batch 1: read 2, stored 2" in out[0]
    assert "-> batch 2: read 3, stored 1, already stored 2" in out[1]
    assert "-> batch 3: read 9, stored 5, already stored 2" in out[2]
    assert spark_ingest.expand_paths(None, str(folder / "a?.jsonl")) == [str(folder / "a1.jsonl")]


def test_expand_paths_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    """As on DuckDB: a device (``/dev/zero`` would be read forever), a missing file or a named pipe is
    refused with one clear error before Spark reads anything."""
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    for path, message in (
        ("/dev/zero", "zero is not a regular file"),
        (str(tmp_path / "missing.jsonl"), "cannot open missing.jsonl"),
        (str(fifo), "pipe.jsonl is not a regular file"),
    ):
        with pytest.raises(UnreadableFileError, match=message):
            spark_ingest.expand_paths(None, path)


def test_cli_spark_errors_are_one_line(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Spark's exceptions reach the CLI user as one line and exit 2: batches and undo on a mistyped
    --spark-path (an analysis error: Spark's first line, naming the path), and a Spark failure during
    ingest whose message quotes data (reported by its type only, the data never shown)."""
    from pyspark.errors import PySparkException

    typo = ["--engine", "spark", "--spark-path", str(tmp_path / "typo")]
    for command in (["batches"], ["undo", "1"]):
        assert cli.main([*typo, *command]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err and "typo" in err, err

    def leaking(*args: Any, **kwargs: Any) -> Any:
        raise PySparkException(message="cannot cast 'Jane.Doe@Example.com' to int")

    monkeypatch.setattr(spark_location, "next_batch_id", leaking)
    lake = ["--engine", "spark", "--spark-path", str(tmp_path / "lake")]
    assert cli.main([*lake, "ingest", "--source", "server", "--format", "capi_events", str(EVENTS)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "PySparkException" in err and "Jane" not in err, err


def test_failed_checks_leave_no_location(spark: SparkSession, tmp_path: Path) -> None:
    """A missing file or an unknown --format fails before the location is created; ingest_spark also
    restores the session settings it relies on (ANSI off here) before anything else."""
    from capi_core.errors import InputError

    location = tmp_path / "lake"
    spark.conf.set("spark.sql.ansi.enabled", "true")
    with pytest.raises(InputError, match=r"missing\.jsonl"):
        spark_ingest.ingest_spark(spark, str(location), str(tmp_path / "missing.jsonl"), "server")
    assert spark.conf.get("spark.sql.ansi.enabled") == "false"
    with pytest.raises(InputError, match="unknown format 'nope'"):
        spark_ingest.ingest_spark(spark, str(location), str(EVENTS), "server", fmt="nope")
    assert not location.exists()


def test_prepare_completes_an_interrupted_setup(spark: SparkSession, tmp_path: Path) -> None:
    """A local location missing one table (setup interrupted) gets exactly that table back, with the
    fresh export's schema; a remote location writes ``batches`` (its readiness mark) last."""
    location = tmp_path / "lake"
    spark_location.prepare(spark, str(location))
    expected = pq.read_schema(next((location / "truth").glob("*.parquet")))
    shutil.rmtree(location / "truth")
    spark_location.prepare(spark, str(location))
    assert pq.read_schema(next((location / "truth").glob("*.parquet"))) == expected
    assert all((location / name).is_dir() for name in canonical_tables())
    order = spark_location.remote_setup_order()
    assert order[-1] == "batches" and sorted(order) == sorted(canonical_tables())
