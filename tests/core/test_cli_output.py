"""The CLI's own output logic, without a subprocess: aligned tables, the ingest bar's phases, the last line
of ``ingest`` (what to run next) and ``report``'s default format."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from capi_core.cli.main import _ingest_line, ingest_summary, report_format
from capi_core.cli.output import READ_SHARE, IngestPhases, print_table
from capi_core.ingest import IngestResult


def test_print_table_aligns_under_a_header() -> None:
    out = io.StringIO()
    print_table(
        ("batch_id", "file_name", "rows", "at"),
        [(1, "orders.csv", 1500, dt.datetime(2026, 11, 2, 9, 30)), (12, "x [b]y[/b]\x1b[31m", 3, None)],
        file=out,
    )
    assert out.getvalue().splitlines() == [
        "batch_id  file_name           rows  at",
        "       1  orders.csv          1500  2026-11-02 09:30:00",
        "      12  x [b]y[/b]\\x1b[31m     3",  # markup shown as text, the escape byte escaped
    ]


def test_print_table_never_wraps_off_a_terminal() -> None:
    out = io.StringIO()
    long = "x" * 300
    print_table(("name", "n"), [(long, 1)], file=out)
    assert out.getvalue().splitlines()[1] == f"{long}  1"


def test_ingest_phases_fill_one_bar_through_every_file_and_step() -> None:
    shown: list[tuple[float, str]] = []
    phases = IngestPhases(["a.csv", "b.jsonl"], [100, 300], lambda done, text: shown.append((done, text)))
    phases.start(0)
    phases.rows(50)
    assert shown[-1] == (pytest.approx(0.25 * 0.5 * READ_SHARE), "a.csv: reading, 50 records")
    phases.stage("stored 100 of 100 records")
    phases.stage("updating copy_verdicts")
    phases.finish(0)
    assert shown[-1] == (pytest.approx(0.25), "a.csv: done")
    phases.start(1)
    phases.rows(3000)  # more records than the estimate: reading stops at its share
    assert shown[-1][0] == pytest.approx(0.25 + 0.75 * READ_SHARE)
    for table in ("linked copies", *[f"updating t{i}" for i in range(30)]):  # more steps than expected
        phases.stage(table)
    assert shown[-1][0] <= 1.0
    phases.finish(1)
    assert shown[-1] == (1.0, "b.jsonl: done")
    dones = [done for done, _ in shown]
    assert dones == sorted(dones), "the bar never goes back"
    assert {text.split(":")[0] for _, text in shown} == {"a.csv", "b.jsonl"}


def _result(**fields: object) -> IngestResult:
    base: dict[str, object] = {
        "batch_id": 3, "source": "orders", "format": "generic_orders", "file_name": "o.csv", "rows_read": 10,
        "rows_stored": 9, "rows_already_stored": 0, "rows_quarantined": 1, "secrets_stripped": 0,
    }  # fmt: skip
    return IngestResult(**{**base, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sources", "next_step"),
    [
        ({"server"}, "`capi-desk --db s.duckdb ingest --source orders ORDERS.csv` (or --source leads)"),
        ({"orders"}, "`capi-desk --db s.duckdb ingest --source server CAPI_LOG.jsonl` (and browser)"),
        ({"leads", "server"}, "`capi-desk --db s.duckdb ingest --source browser BEACONS.txt` (or a HAR)"),
        ({"orders", "browser"}, "`capi-desk --db s.duckdb ingest --source server CAPI_LOG.jsonl`"),
        ({"orders", "browser", "server"}, "`capi-desk --db s.duckdb report`"),
        ({"orders", "browser", "server", "meta"}, "`capi-desk --db s.duckdb app` for the dashboard"),
    ],
)
def test_ingest_summary_says_what_to_run_next(sources: set[str], next_step: str) -> None:
    line = ingest_summary([_result()], sources, " --db s.duckdb")
    assert line.startswith("1 of 1 files ingested: 9 records stored, 1 quarantined; next: ")
    assert next_step in line
    assert "\n" not in line


def test_ingest_summary_of_files_already_ingested() -> None:
    line = ingest_summary([_result(already_ingested=True)], {"orders", "server", "browser"})
    assert line.startswith("nothing new ingested; next: `capi-desk report`")


def test_already_ingested_says_how_to_undo_and_reingest() -> None:
    line = _ingest_line(_result(already_ingested=True), " --db s.duckdb")
    assert line.startswith("o.csv: already ingested as batch 3; nothing changed. To read it again")
    assert "`capi-desk --db s.duckdb undo 3`, then ingest it again" in line
    stage_map = _ingest_line(_result(already_ingested=True, stage_map_not_applied=True))
    assert stage_map.count("undo 3") == 1  # the --stage-map sentence says it already
    assert _ingest_line(_result()) == _result().summary


@pytest.mark.parametrize(("to_terminal", "fmt"), [(True, "md"), (False, "json")])
def test_report_format_default(to_terminal: bool, fmt: str) -> None:
    assert report_format(to_terminal=to_terminal) == fmt
