"""Another process holding a store file, as a running ``capi-desk ingest`` does: DuckDB's file lock is per
process, so the tests hold it from a child process (holding it in the test process would be a different,
in-process conflict)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HOLD = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
print("held", flush=True)
sys.stdin.read()  # until the test closes our stdin
con.close()
"""


@contextmanager
def held_by_another_process(db: Path, *, read_only: bool = False) -> Iterator[subprocess.Popen[str]]:
    """While the block runs, a child process holds ``db`` open (read-write unless ``read_only``)."""
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(db), "ro" if read_only else "rw"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "held", "the holder could not open the store"
        yield child
    finally:
        release(child)


def release(child: subprocess.Popen[str]) -> None:
    """Let the holder close the store and end (idempotent)."""
    if child.stdin is not None and not child.stdin.closed:
        child.stdin.close()
    child.wait(timeout=30)
    if child.stdout is not None:
        child.stdout.close()
