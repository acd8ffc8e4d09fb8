"""Derived tables, kept up to date inside the ingest / undo transaction: dedup verdicts, signal checks,
reconciliation.

Meta's dedup model needs every copy of a key across all dates (a 48 h window can straddle any filter),
so it is computed once per change of the store, not per page view; the per-copy signal checks do not
depend on the scope either and are read by several metrics and diagnostics, so they are built once too.
Reconciliation links copies to truth records over the whole store (a copy's order can fall outside any
date filter): the would-be pairs, the latest truth versions, each copy's link and each record's verdict
are derived here, and the scoped ``recon_*.sql`` queries only filter them. Each entry is a query in
``capi_core/queries/`` whose result is one table.

Owns two ways of keeping them:

- ``refresh``: every table recomputed from the canonical tables (``capi-desk rebuild``, a store whose
  derived SQL changed, a changed setting).
- ``update`` / ``remove_batch``: an ingest or an undo recomputes the per-copy tables (``COPY_TABLES``)
  only for the copies it adds or removes and the copies linked to them through a shared key
  (``copy_match_keys``, transitively): every row those queries give a copy depends only on copies linked
  to it, so recomputing the linked set with the same SQL gives the rows a full rebuild would. The
  reconciliation tables (``RECON_TABLES``) hang on store-wide choices (each dataset's join key, the
  truth export's period) and are recomputed whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from capi_core.store import Transaction, load_query, quote_ident

#: per-copy derived tables -> the query computing them, in dependency order. A copy's rows depend only on
#: copies sharing a key of ``copy_match_keys`` with it (see derived_copy_match_keys.sql).
COPY_TABLES: dict[str, str] = {
    "copy_verdicts": "dedup_model",
    "copy_signal_checks": "derived_copy_checks",
    "would_be_pairs": "dedup_would_be_pairs",
}
#: reconciliation tables, recomputed whole after the per-copy tables.
RECON_TABLES: dict[str, str] = {
    "truth_current": "derived_recon_truth",
    "copy_truth_links": "derived_recon_links",
    "truth_verdicts": "derived_recon_records",
}
#: derived table -> query that computes it, in dependency order (the tables every engine builds).
DERIVED_TABLES: dict[str, str] = {**COPY_TABLES, **RECON_TABLES}
#: the linking keys of every copy: DuckDB bookkeeping for ``update``, never read by a metric or exported.
MATCH_KEYS_TABLE = "copy_match_keys"
_MATCH_KEYS_QUERY = "derived_copy_match_keys"
_KEY_COLUMNS = ("k_dedup", "k_fbp", "k_ext", "k_em", "k_order", "k_order_event_id")
_ALL_TABLES = [*DERIVED_TABLES, MATCH_KEYS_TABLE]
_SCRATCH = ("_changed", "_linked", "_frontier", "_seen_keys", "_new_keys", "_linked_events")
#: a linked set past this share of the store is recomputed whole: a full rebuild is then cheaper.
FULL_REBUILD_SHARE = 0.5

Progress = Callable[[str], None]


def definition_sha256() -> str:
    """Hash of every derived query's text: a store built with other SQL must be rebuilt."""
    digest = hashlib.sha256()
    for table, query in [*DERIVED_TABLES.items(), (MATCH_KEYS_TABLE, _MATCH_KEYS_QUERY)]:
        digest.update(f"{table}\0{load_query(query)}\0".encode())
    return digest.hexdigest()


def _name(table: str) -> str:
    return quote_ident(table, _ALL_TABLES)


def _record_state(tx: Transaction) -> None:
    tx.execute("forget derived state", "delete from derived_state")
    tx.execute(
        "record derived state", "insert into derived_state values ($sha)", {"sha": definition_sha256()}
    )


def refresh(tx: Transaction, progress: Progress | None = None) -> None:
    """Recompute every derived table from the canonical tables and record which SQL built them."""
    for table, query in [(MATCH_KEYS_TABLE, _MATCH_KEYS_QUERY), *DERIVED_TABLES.items()]:
        if progress is not None:
            progress(table)
        tx.execute(f"drop {table}", f"drop table if exists {_name(table)}")
        tx.execute(f"derive {table}", f"create table {_name(table)} as\n{load_query(query)}")
    _record_state(tx)


def _refresh_recon(tx: Transaction, progress: Progress | None) -> None:
    for table, query in RECON_TABLES.items():
        if progress is not None:
            progress(table)
        tx.execute(f"drop {table}", f"drop table if exists {_name(table)}")
        tx.execute(f"derive {table}", f"create table {_name(table)} as\n{load_query(query)}")


def _drop_scratch(tx: Transaction) -> None:
    tx.execute("drop linked events view", "drop view if exists temp.events")
    for table in _SCRATCH:
        tx.execute(f"drop {table}", f"drop table if exists temp.{quote_ident(table, _SCRATCH)}")


def _link(tx: Transaction) -> int:
    """Grow ``_linked`` from ``_changed`` until no copy outside it shares a key with a copy inside.

    Returns how many copies are linked. Each round looks up only the keys the last round found.
    """
    keys = _name(MATCH_KEYS_TABLE)
    # the frontier's rows first (few), then their keys; a union of one semi join per key column (an OR of
    # IN lists over the whole table would not be a hash join)
    frontier_keys = " union ".join(
        f"select {column} as h from f where {column} is not null"  # noqa: S608 (fixed names)
        for column in _KEY_COLUMNS
    )
    new_keys = (
        f"create temp table _new_keys as with f as (select k.* from {keys} k semi join _frontier r "  # noqa: S608
        f"on r.fingerprint = k.fingerprint and r.occurrence = k.occurrence)\n"
        f"select h from ({frontier_keys}) except select h from _seen_keys"
    )
    matches = " union ".join(
        f"select k.fingerprint, k.occurrence from {keys} k where k.{column} in (select h from _new_keys)"  # noqa: S608
        for column in _KEY_COLUMNS
    )
    tx.execute("linked copies", "create temp table _linked as select fingerprint, occurrence from _changed")
    tx.execute("link frontier", "create temp table _frontier as select fingerprint, occurrence from _changed")
    tx.execute("seen keys", "create temp table _seen_keys (h ubigint)")
    while True:
        tx.execute("new keys", new_keys)
        if not tx.execute("any new key", "select count(*) from _new_keys").scalar():
            break
        tx.execute("remember keys", "insert into _seen_keys select h from _new_keys")
        tx.execute("drop frontier", "drop table _frontier")
        tx.execute(
            "next frontier",
            f"""create temp table _frontier as
select m.fingerprint, m.occurrence from ({matches}) m
where not exists (
  select 1 from _linked l where l.fingerprint = m.fingerprint and l.occurrence = m.occurrence
)""",  # noqa: S608 (fixed names)
        )
        tx.execute("grow linked", "insert into _linked select fingerprint, occurrence from _frontier")
        tx.execute("drop new keys", "drop table _new_keys")
    return int(tx.execute("linked count", "select count(*) from _linked").scalar())


def _recompute_linked(tx: Transaction, progress: Progress | None) -> None:
    """Delete the per-copy rows of ``_linked`` copies and compute them again from their events."""
    # The queries read `events`: a temp view of that name (temp objects come first in DuckDB's search
    # path) shows them only the linked copies, so the same SQL that builds the store computes the subset.
    tx.execute(
        "linked events",
        """create temp table _linked_events as
select e.* from events e
semi join _linked l on l.fingerprint = e.fingerprint and l.occurrence = e.occurrence""",
    )
    for table, query in COPY_TABLES.items():
        if progress is not None:
            progress(table)
        name = _name(table)
        sides = (
            ("browser_fingerprint", "browser_occurrence"), ("server_fingerprint", "server_occurrence")
        ) if table == "would_be_pairs" else (("fingerprint", "occurrence"),)  # fmt: skip
        for fingerprint, occurrence in sides:  # one semi join per side (an OR would not be a hash join)
            tx.execute(
                f"forget {table}",
                f"delete from {name} t where exists (select 1 from _linked l "  # noqa: S608 (fixed names)
                f"where l.fingerprint = t.{fingerprint} and l.occurrence = t.{occurrence})",
            )
        tx.execute("show linked events", "create temp view events as select * from _linked_events")
        try:
            tx.execute(f"update {table}", f"insert into {name}\n{load_query(query)}")
        finally:
            tx.execute("hide linked events", "drop view temp.events")


def update(
    tx: Transaction,
    batch_id: int,
    *,
    events_changed: bool,
    truth_changed: bool,
    progress: Progress | None = None,
) -> None:
    """Bring the derived tables up to date after batch ``batch_id`` was stored (inside its transaction).

    ``events_changed`` / ``truth_changed``: whether the batch stored event copies / truth records.
    """
    if not (events_changed or truth_changed):
        return
    if _stale(tx):
        refresh(tx, progress)
        return
    if events_changed:
        keys = _name(MATCH_KEYS_TABLE)
        tx.execute(
            "match keys of the batch",
            f"insert into {keys}\nselect * from ({load_query(_MATCH_KEYS_QUERY)}) k "  # noqa: S608
            "where exists (select 1 from events b where b.batch_id = $batch_id "
            "and b.fingerprint = k.fingerprint and b.occurrence = k.occurrence)",
            {"batch_id": batch_id},
        )
        tx.execute(
            "changed copies",
            "create temp table _changed as "
            "select fingerprint, occurrence from events where batch_id = $batch_id",
            {"batch_id": batch_id},
        )
        if not _update_copies(tx, progress):
            return
    _refresh_recon(tx, progress)


def remove_batch(
    tx: Transaction, batch_id: int, delete: Callable[[], None], progress: Progress | None = None
) -> None:
    """Run ``delete`` (which removes batch ``batch_id``'s rows) and bring the derived tables up to date."""
    if _stale(tx):
        delete()
        refresh(tx, progress)
        return
    tx.execute(
        "changed copies",
        "create temp table _changed as select fingerprint, occurrence from events where batch_id = $batch_id",
        {"batch_id": batch_id},
    )
    if not tx.execute("any changed copy", "select count(*) from _changed").scalar():
        _drop_scratch(tx)
        delete()
        _refresh_recon(tx, progress)
        return
    linked = _link(tx)  # before the rows go: their keys say which copies they were linked to
    delete()
    keys = _name(MATCH_KEYS_TABLE)
    tx.execute(
        "forget match keys",
        f"delete from {keys} k where exists (select 1 from _changed c "  # noqa: S608
        "where c.fingerprint = k.fingerprint and c.occurrence = k.occurrence)",
    )
    if _too_many(tx, linked):
        _drop_scratch(tx)
        refresh(tx, progress)
        return
    _recompute_linked(tx, progress)
    _drop_scratch(tx)
    _refresh_recon(tx, progress)


def _update_copies(tx: Transaction, progress: Progress | None) -> bool:
    """Per-copy tables for ``_changed``; False when it fell back to a full refresh (nothing left to do)."""
    if not tx.execute("any changed copy", "select count(*) from _changed").scalar():
        _drop_scratch(tx)
        return True
    if progress is not None:
        progress("linked copies")
    linked = _link(tx)
    if _too_many(tx, linked):
        _drop_scratch(tx)
        refresh(tx, progress)
        return False
    _recompute_linked(tx, progress)
    _drop_scratch(tx)
    return True


def _too_many(tx: Transaction, linked: int) -> bool:
    total = int(tx.execute("copies", "select count(*) from events").scalar())
    return linked > FULL_REBUILD_SHARE * total


def _stale(tx: Transaction) -> bool:
    """True when the derived tables were built by other SQL (or never): only a full rebuild is right."""
    built = tx.execute("derived state", "select max(sql_sha256) from derived_state").scalar()
    return bool(built != definition_sha256())
