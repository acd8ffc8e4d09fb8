"""Derived tables rebuilt inside the ingest / undo transaction: dedup verdicts, signal checks, reconciliation.

Meta's dedup model needs every copy of a key across all dates (a 48 h window can straddle any filter),
so it is computed once per change of the store, not per page view; the per-copy signal checks do not
depend on the scope either and are read by several metrics and diagnostics, so they are built once too.
Reconciliation links copies to truth records over the whole store (a copy's order can fall outside any
date filter): the would-be pairs, the latest truth versions, each copy's link and each record's verdict
are derived here, and the scoped ``recon_*.sql`` queries only filter them. Each entry is a query in
``capi_core/queries/`` whose result replaces one table.
"""

from __future__ import annotations

import hashlib

from capi_core.store import Transaction, load_query, quote_ident

#: derived table -> query that computes it, in dependency order.
DERIVED_TABLES: dict[str, str] = {
    "copy_verdicts": "dedup_model",
    "copy_signal_checks": "derived_copy_checks",
    "would_be_pairs": "dedup_would_be_pairs",
    "truth_current": "derived_recon_truth",
    "copy_truth_links": "derived_recon_links",
    "truth_verdicts": "derived_recon_records",
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
    tx.execute(
        "record derived state", "insert into derived_state values ($sha)", {"sha": definition_sha256()}
    )
