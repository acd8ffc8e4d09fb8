"""Store: schema creation, versioning, transactions, error translation, identifier allow-lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from capi_core.errors import SchemaVersionError, StoreError
from capi_core.queries import quote_ident
from capi_core.store import SCHEMA_VERSION, Store


def test_new_store_has_current_schema(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        assert store.schema_version == SCHEMA_VERSION
        tables = {r[0] for r in store.query("t", "select table_name from information_schema.tables").rows}
    assert {"batches", "events", "truth", "quarantine", "annotations", "push_log"} <= tables


def test_reopen_does_not_migrate_twice(tmp_path: Path) -> None:
    Store(tmp_path / "s.duckdb").close()
    with Store(tmp_path / "s.duckdb") as store:
        assert store.query("n", "select count(*) from schema_info").scalar() == SCHEMA_VERSION


def test_newer_store_is_refused(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store, store.transaction() as tx:
        tx.execute("bump", "insert into schema_info values (99, now())")
    with pytest.raises(SchemaVersionError):
        Store(tmp_path / "s.duckdb")


def test_duckdb_errors_are_translated_with_the_query_name(store: Store) -> None:
    with pytest.raises(StoreError, match="my query"):
        store.query("my query", "select * from no_such_table")


def test_transaction_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.execute("note", "insert into annotations values (1, date '2026-11-02', 'x', now())")
        raise RuntimeError("boom")
    assert store.query("n", "select count(*) from annotations").scalar() == 0


def test_values_are_bound_not_formatted(store: Store) -> None:
    hostile = "x'); drop table events; --"
    assert store.query("echo", "select $v", {"v": hostile}).scalar() == hostile
    assert store.query("n", "select count(*) from events").scalar() == 0


def test_quote_ident_allows_only_listed_names() -> None:
    assert quote_ident("events", ["events"]) == '"events"'
    with pytest.raises(ValueError):
        quote_ident("events; drop table x", ["events"])
