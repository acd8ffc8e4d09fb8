"""Ingest guarantees (module docstring of capi_core/ingest.py), on both the fast and the Python path.

Counts are read off the fixture files: tests/fixtures/server/log.jsonl has 7 items (line 1: 2 events,
lines 2-4: 1 each, line 5: bad sent_at, line 6: no request -> 5 events, 2 quarantined, 3 tokens).
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capi_core.errors import UnreadableFileError
from capi_core.ingest import delete_batch, ingest_file, ingest_records
from capi_core.models import IncomingEvent, RowError
from capi_core.store import Store
from tests.conftest import FIXTURES

LOG = FIXTURES / "server" / "log.jsonl"
HEX = "834766578815c94aab5692b31ccde3491d1dcda5c2e1d5e71b351582032258f6"


def _counts(store: Store) -> tuple[int, int, int]:
    return (
        store.query("events", "select count(*) from events").scalar(),
        store.query("quarantine", "select count(*) from quarantine").scalar(),
        store.query("batches", "select count(*) from batches").scalar(),
    )


def _event_line(i: int) -> str:
    return orjson.dumps(
        {"event_name": "Purchase", "event_time": 1762000000 + i, "user_data": {"em": HEX}}
    ).decode()


@pytest.mark.parametrize("fast", [True, False])
def test_reingest_is_a_no_op(store: Store, fast: bool) -> None:
    first = ingest_file(store, LOG, "server", fast=fast)
    second = ingest_file(store, LOG, "server", fast=fast)
    assert (first.rows_read, first.rows_stored, first.rows_quarantined, first.secrets_stripped) == (
        7,
        5,
        2,
        3,
    )
    assert second.already_ingested and second.batch_id == first.batch_id
    assert _counts(store) == (5, 2, 1)


@pytest.mark.parametrize("fast", [True, False])
def test_failed_file_leaves_store_unchanged(store: Store, tmp_path: Path, fast: bool) -> None:
    """Every line bad: the file is refused and nothing (not even quarantine) is written."""
    ingest_file(store, LOG, "server", fast=fast)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"event_name": "Purchase", "event_time": 1}\n'.replace("Purchase", "") * 3)
    with pytest.raises(UnreadableFileError, match="no record could be read"):
        ingest_file(store, bad, "server", fmt="capi_events", fast=fast)
    assert _counts(store) == (5, 2, 1)


@pytest.mark.parametrize("fast", [True, False])
def test_overlapping_files_not_double_counted(store: Store, tmp_path: Path, fast: bool) -> None:
    """a: events 0-3, b: events 2-5 -> 6 distinct; b stores 2 new, 2 already stored."""
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("\n".join(_event_line(i) for i in range(4)) + "\n")
    b.write_text("\n".join(_event_line(i) for i in range(2, 6)) + "\n")
    ingest_file(store, a, "server", fast=fast)
    second = ingest_file(store, b, "server", fast=fast)
    assert (second.rows_stored, second.rows_already_stored) == (2, 2)
    assert _counts(store)[0] == 6


def test_duplicates_within_a_file_are_occurrences(store: Store, tmp_path: Path) -> None:
    """The same event on lines 1, 2 and 4 (line 3 differs): occurrences 1, 2, 3 by line."""
    path = tmp_path / "dup.jsonl"
    path.write_text("\n".join([_event_line(0), _event_line(0), _event_line(1), _event_line(0)]) + "\n")
    assert ingest_file(store, path, "server").rows_stored == 4
    rows = store.query("occ", "select line_no, occurrence from events order by line_no").rows
    assert rows == [(1, 1), (2, 2), (3, 1), (4, 3)]


@pytest.mark.parametrize("fast", [True, False])
def test_undo_removes_the_batch(store: Store, fast: bool) -> None:
    result = ingest_file(store, LOG, "server", fast=fast)
    assert result.batch_id is not None
    assert delete_batch(store, result.batch_id)
    assert not delete_batch(store, result.batch_id)
    assert _counts(store) == (0, 0, 0)
    assert ingest_file(store, LOG, "server", fast=fast).rows_stored == 5


@settings(max_examples=25, deadline=None, derandomize=True)
@given(items=st.lists(st.tuples(st.booleans(), st.integers(0, 3)), min_size=1, max_size=12))
def test_read_is_stored_plus_already_plus_quarantined(items: list[tuple[bool, int]]) -> None:
    """Any mix of good (possibly repeated) events and bad rows: read = stored + already + quarantined."""
    records = [
        IncomingEvent(line_no=n, channel="server", event_name="Lead", event_time_raw=1762000000 + k)
        if good
        else RowError(n, "bad", "")
        for n, (good, k) in enumerate(items, start=1)
    ]
    store = Store()
    if not any(good for good, _ in items):
        with pytest.raises(UnreadableFileError):
            ingest_records(store, records, "server", label="mix")
        return
    result = ingest_records(store, records, "server", label="mix")
    assert result.rows_read == len(items)
    assert result.rows_read == result.rows_stored + result.rows_already_stored + result.rows_quarantined
    again = ingest_records(store, records, "server", label="mix-2")
    assert (again.rows_stored, again.rows_already_stored) == (0, result.rows_stored)
