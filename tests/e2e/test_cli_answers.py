"""Every page's answer from the command line, in real subprocesses on a small demo shop (built once with
``demo --files``): ``inspect``, ``pairs``, ``contracts fix``, the tables of ``batches`` & co., ``report``'s
default format on a terminal and in a pipe, ``ingest``'s progress bar, last line and refusals, and the
demo's kept files. Terminals are real pseudo-terminals (``pty``)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from capi_core.meta.preflight import check_events
from capi_core.normalize import hash_value

PIXEL = "1234567890123456"  # the demo's main pixel (a second one sends a few events too)
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def cli(db: Path, *args: str | Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m capi_core --db DB ARGS`` in a fresh interpreter, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "capi_core", "--db", str(db), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        input=stdin,
    )


def cli_on_terminal(db: Path, *args: str | Path, terminal: str) -> tuple[int, str, str]:
    """The command with ``terminal`` ("stdout" or "stderr") attached to a pseudo-terminal and the other
    stream to a pipe; returns (exit code, stdout, stderr) as text (the terminal's side with its escapes).
    The piped stream is read once the terminal closes: keep it small (under a pipe buffer)."""
    master, slave = pty.openpty()
    streams: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, terminal: slave}
    with subprocess.Popen(
        [sys.executable, "-m", "capi_core", "--db", str(db), *map(str, args)],
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "200", "TERM": "xterm"},
        **streams,
    ) as proc:
        os.close(slave)
        seen = bytearray()
        while True:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
        other = proc.stderr if terminal == "stdout" else proc.stdout
        piped = other.read().decode() if other is not None else ""
        code = proc.wait(timeout=300)
    os.close(master)
    shown = seen.decode(errors="replace")
    return (code, shown, piped) if terminal == "stdout" else (code, piped, shown)


def one_line_error(run: subprocess.CompletedProcess[str], *words: str) -> None:
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.startswith("capi-desk: error:") and run.stderr.count("\n") == 1, run.stderr
    assert "Traceback" not in run.stderr
    for word in words:
        assert word in run.stderr


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A 300-order demo store, its input files kept with ``--files``."""
    folder = tmp_path_factory.mktemp("answers")
    db, files = folder / "demo.duckdb", folder / "demo-files"
    built = cli(db, "demo", "--orders", "300", "--files", files)
    assert built.returncode == 0, built.stderr
    order = (files / "orders_export.csv").read_text(encoding="utf-8").splitlines()[1].split(",")
    return {"db": db, "files": files, "built": built, "order": order[0], "email": order[1], "folder": folder}


# --- demo --files ------------------------------------------------------------------------------------


def test_demo_keeps_its_files_and_says_how_to_ingest_them(demo: dict[str, Any]) -> None:
    files: Path = demo["files"]
    kept = {path.name for path in files.iterdir()}
    assert {
        "orders_export.csv",
        "crm_leads.csv",
        "capi_log.jsonl",
        "pixel_beacons.txt",
        "manifest.json",
    } <= kept
    out = demo["built"].stdout
    assert f"input files kept in {files}" in out
    assert f"capi-desk --db practice.duckdb ingest --source orders {files / 'orders_export.csv'}" in out
    assert "meta-quality load" in out and f"--pixel-id {PIXEL}" in out


def test_demo_never_overwrites_kept_files(demo: dict[str, Any]) -> None:
    before = demo["db"].stat().st_mtime_ns
    again = cli(demo["db"], "demo", "--orders", "300", "--files", demo["files"])
    one_line_error(again, "already holds", "nothing was built")
    assert demo["db"].stat().st_mtime_ns == before


def test_demo_help_says_where_everything_goes(demo: dict[str, Any]) -> None:
    shown = cli(demo["db"], "demo", "--help").stdout
    for words in ("where everything goes", "--files DIR", "data/demo.duckdb", "manifest.json", "examples:"):
        assert words in shown


# --- report: Markdown on a terminal, JSON in a pipe ------------------------------------------------------


def test_report_is_markdown_on_a_terminal_and_json_in_a_pipe(demo: dict[str, Any]) -> None:
    piped = cli(demo["db"], "report")
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["schema_version"]
    code, shown, _ = cli_on_terminal(demo["db"], "report", terminal="stdout")
    assert code == 0
    assert shown.lstrip().startswith("# ") and not shown.lstrip().startswith("{")
    forced = cli(demo["db"], "report", "--format", "md")
    assert forced.stdout.lstrip().startswith("# ")


def test_report_help_says_how_the_format_is_chosen(demo: dict[str, Any]) -> None:
    shown = " ".join(cli(demo["db"], "report", "--help").stdout.split())
    assert "Markdown when stdout is a terminal, JSON when it is a pipe or a file" in shown
    assert "examples:" in shown


# --- inspect ----------------------------------------------------------------------------------------------


def test_inspect_an_order(demo: dict[str, Any]) -> None:
    run = cli(demo["db"], "inspect", demo["order"])
    assert run.returncode == 0, run.stderr
    for words in ("Searched anything:", "Backend record", "Timeline (earliest receipt first)", "received_at",
                  "Dedup verdict of each copy", "Counted"):  # fmt: skip
        assert words in run.stdout
    as_json = json.loads(cli(demo["db"], "inspect", demo["order"], "--json").stdout)
    assert as_json["records"] and as_json["copies"]


@pytest.mark.parametrize("given", ["argument", "stdin"])
def test_inspect_an_email_prints_only_its_hash(demo: dict[str, Any], given: str) -> None:
    email = demo["email"]
    args = (email,) if given == "argument" else ("-",)
    run = cli(demo["db"], "inspect", *args, "--payload", stdin=f" {email.upper()}\n")
    assert run.returncode == 0, run.stderr
    digest = hash_value("em", email)
    assert f"Searched email: {digest}" in run.stdout
    assert email.lower() not in (run.stdout + run.stderr).lower()
    assert "Backend record" in run.stdout


def test_inspect_nothing_found_and_bad_usage(demo: dict[str, Any]) -> None:
    missing = cli(demo["db"], "inspect", "no-such-id")
    assert missing.returncode == 0
    assert "Nothing found" in missing.stdout
    one_line_error(cli(demo["db"], "inspect", "-", stdin="\n"), "nothing to look for")
    one_line_error(cli(demo["folder"] / "typo.duckdb", "inspect", "1"), "no store at")
    assert "examples:" in cli(demo["db"], "inspect", "--help").stdout


# --- pairs ------------------------------------------------------------------------------------------------


def test_pairs_show_why_and_the_fields_that_differ(demo: dict[str, Any]) -> None:
    run = cli(demo["db"], "pairs", "--limit", "3")
    assert run.returncode == 0, run.stderr
    assert "pairs Meta counts twice, latest first" in run.stdout
    assert run.stdout.count("Counted twice:") == 3
    assert run.stdout.count("field") >= 3 and "browser copy" in run.stdout and "server copy" in run.stdout
    pairs = json.loads(cli(demo["db"], "pairs", "--limit", "2", "--json").stdout)
    assert len(pairs) == 2
    assert {"pair", "verdict", "fields"} <= set(pairs[0])
    assert any(field["differs"] for field in pairs[0]["fields"])


def test_pairs_bad_scope_is_one_line(demo: dict[str, Any]) -> None:
    one_line_error(cli(demo["db"], "pairs", "--event", "NotAnEvent"), "no event 'NotAnEvent'")
    one_line_error(cli(demo["db"], "pairs", "--from", "2026-12-01", "--to", "2026-11-01"), "is after")


# --- contracts fix ----------------------------------------------------------------------------------------


def test_contracts_fix_writes_what_push_takes(demo: dict[str, Any]) -> None:
    out = demo["folder"] / "fixed.json"
    run = cli(demo["db"], "contracts", "fix", "--pixel-id", PIXEL, "--limit", "5", "--out", out)
    assert run.returncode == 0, run.stderr
    events = json.loads(out.read_text(encoding="utf-8"))
    assert 0 < len(events) <= 5
    assert check_events(events) == []  # push would send every one of them
    assert "fixed event_time" in run.stderr or "fixed event_id" in run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("5 violating copies corrected")
    assert f"capi-desk push --pixel-id {PIXEL} --test-event-code CODE --events {out}" in last
    to_stdout = cli(demo["db"], "contracts", "fix", "--pixel-id", PIXEL, "--limit", "2")
    assert len(json.loads(to_stdout.stdout)) <= 2


def test_contracts_fix_asks_which_pixel(demo: dict[str, Any]) -> None:
    one_line_error(cli(demo["db"], "contracts", "fix"), "which pixel?", "--pixel-id")


# --- tables -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "header"),
    [
        (("batches",), ["batch_id", "source", "format", "file_name", "rows_read", "rows_stored",
                        "rows_quarantined", "ingested_at"]),
        (("meta-quality", "list"), ["snapshot_id", "fetched_at", "pixel_id", "source", "source_name",
                                    "events"]),
        (("annotate", "list"), ["id", "day", "note"]),
    ],
)  # fmt: skip
def test_lists_print_a_header_and_aligned_columns(
    demo: dict[str, Any], args: tuple[str, ...], header: list[str]
) -> None:
    run = cli(demo["db"], *args)
    assert run.returncode == 0, run.stderr
    first, *rows = run.stdout.splitlines()
    assert first.split() == header
    assert rows
    starts = [first.index(name) for name in header[1:2]]  # the second column starts at one place
    for row in rows:
        assert row == row.rstrip()
        assert row[starts[0] - 2 : starts[0]] == "  " and row[starts[0]] != " "


def test_leads_show_is_a_table_and_shows_outer_spaces(demo: dict[str, Any]) -> None:
    run = cli(demo["db"], "leads", "show")
    lines = run.stdout.splitlines()
    assert lines[1].split() == ["event_name", "copies"]
    assert any(line.startswith("'AddToCart '") for line in lines)  # the demo's trailing-space variant


# --- ingest -----------------------------------------------------------------------------------------------


def test_ingest_ends_with_what_to_run_next_and_says_how_to_redo(demo: dict[str, Any]) -> None:
    db = demo["folder"] / "practice.duckdb"
    first = cli(db, "ingest", "--source", "orders", demo["files"] / "orders_export.csv")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith("orders_export.csv (shopify_orders) -> batch 1")
    assert lines[-1].startswith("1 of 1 files ingested: 300 records stored, 0 quarantined; next: ")
    assert f"`capi-desk --db {db} ingest --source server CAPI_LOG.jsonl`" in lines[-1]
    again = cli(db, "ingest", "--source", "orders", demo["files"] / "orders_export.csv")
    assert "already ingested as batch 1; nothing changed" in again.stdout
    assert f"`capi-desk --db {db} undo 1`, then ingest it again" in again.stdout
    assert again.stdout.splitlines()[-1].startswith("nothing new ingested; next: ")


def test_ingest_draws_one_bar_on_a_terminal(demo: dict[str, Any]) -> None:
    db = demo["folder"] / "bar.duckdb"
    files = [demo["files"] / "pixel_beacons.txt", demo["files"] / "lead_beacons.txt"]
    code, out, err = cli_on_terminal(db, "ingest", "--source", "browser", *files, terminal="stderr")
    assert code == 0, err
    assert "100%" in err and "pixel_beacons.txt: " in err and "lead_beacons.txt: " in err
    assert "updating" in err  # the derived tables are phases of the same bar
    assert out.splitlines()[0].startswith("pixel_beacons.txt (pixel_beacons) -> batch 1")
    assert out.splitlines()[-1].startswith("2 of 2 files ingested")
    quiet = cli(demo["folder"] / "quiet.duckdb", "ingest", "--source", "browser", files[1])
    assert quiet.stderr == ""  # no bar when stderr is not a terminal


@pytest.mark.parametrize(
    ("source", "name", "right"),
    [
        ("browser", "capi_log.jsonl", "server"),
        ("server", "pixel_beacons.txt", "browser"),
        ("orders", "crm_leads.csv", "leads"),
    ],
)
def test_ingest_refuses_a_file_of_another_source(
    demo: dict[str, Any], source: str, name: str, right: str
) -> None:
    db = demo["folder"] / f"wrong-{source}.duckdb"
    run = cli(db, "ingest", "--source", source, demo["files"] / name)
    one_line_error(run, f"--source {right}", "nothing was stored")
    assert not db.exists()  # a refused first ingest leaves no store behind


def test_generic_csv_lists_what_it_does_not_read_before_storing(demo: dict[str, Any]) -> None:
    path = demo["folder"] / "kunden.csv"
    path.write_text(
        "order_id,created_at,Kunden E-Mail,Notiz\nA-1,2026-11-02,a@example.com,hi\n", encoding="utf-8"
    )
    run = cli(demo["folder"] / "generic.duckdb", "ingest", "--source", "orders", path)
    assert run.returncode == 0, run.stderr
    notes = run.stderr.splitlines()
    assert notes[0] == (
        "capi-desk: note: kunden.csv: columns not read: 'Kunden E-Mail', 'Notiz'; fields stored empty: "
        "paid_at, status_raw, value, currency, email, phone, external_id, fbp, fbc, country"
    )
    assert notes[1] == "capi-desk: note:   --map 'Kunden E-Mail=email' would read 'Kunden E-Mail' as email"
    assert "a@example.com" not in run.stderr
    mapped = cli(
        demo["folder"] / "mapped.duckdb", "ingest", "--source", "orders", "--map", "Kunden E-Mail=email", path
    )
    assert "'Kunden E-Mail'" not in mapped.stderr and "'Notiz'" in mapped.stderr
