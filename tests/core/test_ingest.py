"""Ingest guarantees (module docstring of capi_core/ingest.py), on both the fast and the Python path.

Counts are read off the fixture files: tests/fixtures/server/log.jsonl has 7 items (line 1: 2 events,
lines 2-4: 1 each, line 5: bad sent_at, line 6: no request -> 5 events, 2 quarantined, 3 tokens).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capi_core.canonical import _first, _plain_country, canonical_event, fingerprint
from capi_core.errors import UnreadableFileError
from capi_core.ingest import content_table, delete_batch, ingest_file, ingest_records
from capi_core.models import EVENT_COLUMNS, MATCH_KEYS, IncomingEvent, RowError
from capi_core.normalize import assess_key
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


# -- speed paths agree with the reference definitions ---------------------------------------------------

_TEXT = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["", "-", "|", "1:x", "é😀", "valid"]))
_CELL = {
    "varchar": _TEXT,
    "integer": st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)),
    "double": st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
    "timestamp": st.one_of(st.none(), st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31))),
}
_ROW = st.fixed_dictionaries({name: _CELL[sql_type] for name, sql_type in EVENT_COLUMNS.items()})


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(_ROW, min_size=1, max_size=5))
def test_arrow_fingerprints_equal_row_fingerprints(rows: list[dict[str, Any]]) -> None:
    """content_table's fingerprints (Arrow compute) equal canonical.fingerprint row by row."""
    table = content_table(rows, EVENT_COLUMNS)
    assert table.column("fingerprint").to_pylist() == [fingerprint(row, EVENT_COLUMNS) for row in rows]


_HEXES = st.text(alphabet="0123456789abcdefABCDEF", min_size=63, max_size=65)
_USER_VALUE = st.one_of(
    st.none(),
    _HEXES,
    st.lists(st.one_of(st.none(), st.just(""), _HEXES), max_size=3),
    st.sampled_from(["", " ", "'" + HEX, HEX + " ", HEX.upper(), HEX + ".AQ", "1.2.3.4", "01.2.3.4"]),
    st.sampled_from(["256.1.1.1", "::1", "fb.1.1762000000000.1", "Mozilla/5.0", "DE", "123"]),
    st.integers(0, 10**12),
)


@settings(max_examples=150, deadline=None)
@given(user=st.fixed_dictionaries({}, optional=dict.fromkeys(MATCH_KEYS, _USER_VALUE)))
def test_user_data_shortcuts_equal_assess_key(user: dict[str, Any]) -> None:
    """canonical_event's shortcuts for common values give assess_key's result for every key (the
    reference is the loop they replace: assess_key on the first non-empty value, record's country)."""
    event = IncomingEvent(line_no=1, channel="server", event_name="Purchase", user_data=user)
    row = canonical_event(event)
    country = _plain_country(user, None)
    for key in MATCH_KEYS:
        expected = assess_key(key, _first(user.get(key)), channel="server", country=country)
        assert (row[key], row[f"{key}_check"]) == expected, key


@pytest.mark.parametrize(
    "text",
    ["0.0.0.0", "1.2.3.4", "255.255.255.255", "203.0.113.7", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5",
     "١.2.3.4", "::1", "2001:db8::1", "1.2.3.04", " 1.2.3.4"],
)  # fmt: skip
def test_ipv4_shortcut_agrees_with_ipaddress(text: str) -> None:
    """client_ip_address is valid exactly when ipaddress parses it (the IPv4 regex only short-cuts)."""
    try:
        ipaddress.ip_address(text.strip())
        expected = "valid"
    except ValueError:
        expected = "malformed"
    assert assess_key("client_ip_address", text, channel="server")[1] == expected
