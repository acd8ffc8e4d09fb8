"""Derived tables rebuilt inside the ingest / undo transaction: per-copy dedup verdicts and signal checks.

Meta's dedup model needs every copy of a key across all dates (a 48 h window can straddle any filter),
so it is computed once per change of the store, not per page view; the per-copy signal checks do not
depend on the scope either and are read by several metrics and diagnostics, so they are built once too. Each entry is a query in
``capi_core/queries/`` whose result replaces one table.
"""

from __future__ import annotations

import hashlib

from capi_core.store import Transaction, load_query, quote_ident

#: derived table -> query that computes it, in dependency order.
DERIVED_TABLES: dict[str, str] = {
    "copy_verdicts": "dedup_model",
    "copy_signal_checks": "derived_copy_checks",
}


def definition_sha256() -> str:
    """Hash of every derived query's text: a store built with other SQL must be rebuilt."""
    digest = hashlib.sha256()
    for table, query in DERIVED_TABLES.items():
        digest.update(f"{table}\0{load_query(query)}\0".encode())
    return digest.hexdigest()


def refresh(tx: Transaction) -> None:
    """Recompute every derived table from the canonical tables and record which SQL built them."""
    for table, query in DERIVED_TABLES.items():
        name = quote_ident(table, list(DERIVED_TABLES))
        tx.execute(f"drop {table}", f"drop table if exists {name}")
        tx.execute(f"derive {table}", f"create table {name} as\n{load_query(query)}")
    tx.execute("forget derived state", "delete from derived_state")
    tx.execute("record derived state", "insert into derived_state values ($sha)", {"sha": definition_sha256()})
