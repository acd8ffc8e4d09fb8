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
  reconciliation tables follow the same plan with their own links (``recon_match_keys``: a copy's group,
  pair partner, event_id peers, and the truth records it can link to): the truth records the batch
  touched, the copies that can link to them or whose dedup rows changed, and the records those copies
  link to, before and after. Two store-wide choices are checked rather than assumed: each dataset's join
  key (chosen over every copy: the stored copies' counts are handed to the query in
  ``recon_rate_offsets``; if the choice changes, the reconciliation is rebuilt whole) and the truth
  export's period (when it moves, the links query decides again every phantom reason it can change).

The queries run unchanged on a subset: ``events``, ``truth`` or ``truth_current`` are shadowed by temp
views of the same name (DuckDB resolves temp objects first), so the SQL that builds the store is the SQL
that updates it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from capi_core.queries import load_query, quote_ident

if TYPE_CHECKING:  # a type only: the store runs derived (store.py imports this module)
    from capi_core.store import Transaction

#: per-copy derived tables -> the query computing them, in dependency order. A copy's rows depend only on
#: copies sharing a key of ``copy_match_keys`` with it (see derived_copy_match_keys.sql).
COPY_TABLES: dict[str, str] = {
    "copy_verdicts": "dedup_model",
    "copy_signal_checks": "derived_copy_checks",
    "would_be_pairs": "dedup_would_be_pairs",
}
#: reconciliation tables, after the per-copy tables (``recon_rate_offsets`` is always empty: see its SQL).
RECON_TABLES: dict[str, str] = {
    "recon_rate_offsets": "derived_recon_rate_offsets",
    "truth_current": "derived_recon_truth",
    "copy_truth_links": "derived_recon_links",
    "truth_verdicts": "derived_recon_records",
}
#: derived table -> query that computes it, in dependency order (the tables every engine builds).
DERIVED_TABLES: dict[str, str] = {**COPY_TABLES, **RECON_TABLES}
#: the linking keys of every copy: DuckDB bookkeeping for ``update``, never read by a metric or exported.
MATCH_KEYS_TABLE = "copy_match_keys"
_MATCH_KEYS_QUERY = "derived_copy_match_keys"
#: the reconciliation links of every dataset copy (the same kind of bookkeeping).
RECON_KEYS_TABLE = "recon_match_keys"
_RECON_KEYS_QUERY = "derived_recon_match_keys"
_BOOKKEEPING = {MATCH_KEYS_TABLE: _MATCH_KEYS_QUERY, RECON_KEYS_TABLE: _RECON_KEYS_QUERY}
_KEY_COLUMNS = ("k_dedup", "k_fbp", "k_ext", "k_em", "k_order", "k_order_event_id")
#: every table ``refresh`` builds (derived and bookkeeping), e.g. to compare two stores.
ALL_TABLES: tuple[str, ...] = (*DERIVED_TABLES, *_BOOKKEEPING)
_SCRATCH = (
    "_changed", "_changed_truth", "_copy_linked", "_copy_frontier", "_copy_seen", "_copy_new",
    "_linked_events", "_record_keys", "_old_recon_keys", "_recon_linked", "_recon_frontier", "_recon_seen",
    "_recon_new", "_recon_records", "_old_window", "recon_rate_offsets", "_shadow_rows",
)  # fmt: skip
_SHADOWS = ("events", "truth", "truth_current")
#: the truth export's period per kind, as derived_recon_links.sql's `truth_window` computes it
_TRUTH_WINDOW = (
    "select kind, min(created_at) as first_created, max(created_at) as last_created "
    "from truth_current group by kind"
)
_COPY_COLUMNS = (
    "fingerprint", "occurrence", "browser_fingerprint", "browser_occurrence", "server_fingerprint",
    "server_occurrence",
)  # fmt: skip
#: a linked set past this share of the store is recomputed whole: a full rebuild is then cheaper.
FULL_REBUILD_SHARE = 0.5

Progress = Callable[[str], None]


def definition_sha256() -> str:
    """Hash of every derived query's text: a store built with other SQL must be rebuilt."""
    digest = hashlib.sha256()
    for table, query in [*DERIVED_TABLES.items(), *_BOOKKEEPING.items()]:
        digest.update(f"{table}\0{load_query(query)}\0".encode())
    return digest.hexdigest()


def _name(table: str) -> str:
    return quote_ident(table, ALL_TABLES)


def _record_state(tx: Transaction) -> None:
    tx.execute("forget derived state", "delete from derived_state")
    tx.execute(
        "record derived state", "insert into derived_state values ($sha)", {"sha": definition_sha256()}
    )


def refresh(tx: Transaction, progress: Progress | None = None) -> None:
    """Recompute every derived table from the canonical tables and record which SQL built them."""
    _build(tx, _build_order(), progress)
    _record_state(tx)


def _build_order() -> list[tuple[str, str]]:
    """Every table with its query, each after what it reads (recon keys read verdicts and pairs)."""
    return [
        (MATCH_KEYS_TABLE, _MATCH_KEYS_QUERY),
        *COPY_TABLES.items(),
        (RECON_KEYS_TABLE, _RECON_KEYS_QUERY),
        *RECON_TABLES.items(),
    ]


def _build(tx: Transaction, tables: Sequence[tuple[str, str]], progress: Progress | None) -> None:
    """Each (table, query) recomputed whole, in order."""
    _drop_scratch(tx)  # a fallback from an incremental update leaves its scratch tables
    for table, query in tables:
        if progress is not None:
            progress(table)
        tx.execute(f"drop {table}", f"drop table if exists {_name(table)}")
        tx.execute(f"derive {table}", f"create table {_name(table)} as\n{load_query(query)}")


def _rebuild_recon(tx: Transaction, progress: Progress | None) -> None:
    """The reconciliation tables recomputed whole (the per-copy tables are up to date)."""
    _build(tx, [(RECON_KEYS_TABLE, _RECON_KEYS_QUERY), *RECON_TABLES.items()], progress)


def refresh_reconciliation(tx: Transaction, progress: Progress | None = None) -> None:
    """Recompute the reconciliation tables whole, e.g. after a setting they read changed (the order
    channels); the per-copy tables do not read settings and stay as they are."""
    _rebuild_recon(tx, progress)


def _drop_scratch(tx: Transaction) -> None:
    for view in _SHADOWS:
        tx.execute(f"drop {view} view", f"drop view if exists temp.{quote_ident(view, _SHADOWS)}")
    for table in _SCRATCH:
        tx.execute(f"drop {table}", f"drop table if exists temp.{quote_ident(table, _SCRATCH)}")


def _grow(tx: Transaction, prefix: str, frontier_keys: str, copies_of_keys: str) -> int:
    """Grow temp table ``<prefix>_linked`` (holding the seed copies) to a fixed point: until no copy
    outside it shares a key with a copy inside. Returns how many copies it holds.

    ``frontier_keys`` selects column ``h`` (the keys of the copies in ``<prefix>_frontier``),
    ``copies_of_keys`` the copies (fingerprint, occurrence) having a key in ``<prefix>_new``. Each round
    looks up only the keys the last round found.
    """
    linked, frontier, seen, new = (
        quote_ident(f"{prefix}_{part}", _SCRATCH) for part in ("linked", "frontier", "seen", "new")
    )
    tx.execute(f"{prefix} seen keys", f"create temp table {seen} (h ubigint)")
    tx.execute(f"{prefix} frontier", f"create temp table {frontier} as select * from {linked}")  # noqa: S608
    while True:
        tx.execute(
            f"{prefix} new keys",
            f"create temp table {new} as select distinct h from ({frontier_keys}) k "  # noqa: S608
            f"where h is not null except select h from {seen}",
        )
        if not tx.execute(f"{prefix} any new key", f"select count(*) from {new}").scalar():  # noqa: S608
            break
        tx.execute(f"{prefix} remember keys", f"insert into {seen} select h from {new}")  # noqa: S608
        tx.execute(f"{prefix} drop frontier", f"drop table {frontier}")
        tx.execute(
            f"{prefix} next frontier",
            f"create temp table {frontier} as select distinct m.fingerprint, m.occurrence "  # noqa: S608
            f"from ({copies_of_keys}) m where not exists (select 1 from {linked} l "
            "where l.fingerprint = m.fingerprint and l.occurrence = m.occurrence)",
        )
        tx.execute(f"{prefix} grow", f"insert into {linked} select * from {frontier}")  # noqa: S608
        tx.execute(f"{prefix} drop new keys", f"drop table {new}")
    return int(tx.execute(f"{prefix} linked count", f"select count(*) from {linked}").scalar())  # noqa: S608


def _link(tx: Transaction) -> int:
    """``_copy_linked``: ``_changed`` and every copy sharing a ``copy_match_keys`` key with it,
    transitively."""
    keys = _name(MATCH_KEYS_TABLE)
    # the frontier's rows first (few), then their keys; a union of one semi join per key column (an OR of
    # IN lists over the whole table would not be a hash join)
    frontier_keys = " union all ".join(
        f"select {column} as h from f"  # noqa: S608 (fixed names)
        for column in _KEY_COLUMNS
    )
    copies_of_keys = " union ".join(
        f"select k.fingerprint, k.occurrence from {keys} k where k.{column} in (select h from _copy_new)"  # noqa: S608
        for column in _KEY_COLUMNS
    )
    tx.execute(
        "linked copies", "create temp table _copy_linked as select fingerprint, occurrence from _changed"
    )
    return _grow(
        tx,
        "_copy",
        f"with f as (select k.* from {keys} k semi join _copy_frontier r "  # noqa: S608
        f"on r.fingerprint = k.fingerprint and r.occurrence = k.occurrence) {frontier_keys}",
        copies_of_keys,
    )


def _events_of(copies: str) -> str:
    """A select of the ``events`` rows of the copies in temp table ``copies`` (fingerprint, occurrence).

    The join reads two columns of every row, then the rows found are fetched by rowid: far cheaper on a
    large store than carrying every column through the join.
    """
    name = quote_ident(copies, _SCRATCH)
    return (
        "select * from events where rowid in (select e.rowid from events e "  # noqa: S608 (fixed names)
        f"semi join {name} c on c.fingerprint = e.fingerprint and c.occurrence = e.occurrence)"
    )


def _forget(
    tx: Transaction, table: str, copies: str, columns: tuple[str, str] = ("fingerprint", "occurrence")
) -> None:
    """Delete the rows of ``table`` whose copy (``columns``) is in temp table ``copies``."""
    fingerprint, occurrence = (quote_ident(column, _COPY_COLUMNS) for column in columns)
    tx.execute(
        f"forget {table}",
        f"delete from {_name(table)} t where exists (select 1 from {quote_ident(copies, _SCRATCH)} c "  # noqa: S608
        f"where c.fingerprint = t.{fingerprint} and c.occurrence = t.{occurrence})",
    )


@contextmanager
def _showing(tx: Transaction, view: str, rows_table: str) -> Iterator[None]:
    """Inside the block, ``view`` (one of ``_SHADOWS``) is a temp view of temp table ``rows_table``."""
    shadow = quote_ident(view, _SHADOWS)
    source = quote_ident(rows_table, _SCRATCH)
    tx.execute(f"show {view} subset", f"create temp view {shadow} as select * from {source}")  # noqa: S608
    try:
        yield
    finally:
        tx.execute(f"hide {view} subset", f"drop view temp.{shadow}")


def _recompute_linked(tx: Transaction, progress: Progress | None) -> None:
    """Delete the per-copy rows of ``_copy_linked`` copies and compute them again from their events."""
    # The queries read `events`: a temp view of that name (temp objects come first in DuckDB's search
    # path) shows them only the linked copies, so the same SQL that builds the store computes the subset.
    tx.execute("linked events", f"create temp table _linked_events as {_events_of('_copy_linked')}")
    for table, query in COPY_TABLES.items():
        if progress is not None:
            progress(table)
        sides = (
            ("browser_fingerprint", "browser_occurrence"), ("server_fingerprint", "server_occurrence")
        ) if table == "would_be_pairs" else (("fingerprint", "occurrence"),)  # fmt: skip
        for columns in sides:  # one semi join per side (an OR would not be a hash join)
            _forget(tx, table, "_copy_linked", columns)
        with _showing(tx, "events", "_linked_events"):
            tx.execute(f"update {table}", f"insert into {_name(table)}\n{load_query(query)}")


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
    _note_changes(tx, batch_id)
    if events_changed:
        keys = _name(MATCH_KEYS_TABLE)
        _shadowed(
            tx, "events", "select * from events where batch_id = $batch_id",
            "match keys of the batch", f"insert into {keys}\n{load_query(_MATCH_KEYS_QUERY)}",
            {"batch_id": batch_id},
        )  # fmt: skip
    if progress is not None:
        progress("linked copies")
    if _too_many(tx, _link(tx)):
        refresh(tx, progress)
        return
    _finish(tx, progress, before_saved=False)


def remove_batch(
    tx: Transaction, batch_id: int, delete: Callable[[], None], progress: Progress | None = None
) -> None:
    """Run ``delete`` (which removes batch ``batch_id``'s rows) and bring the derived tables up to date."""
    if _stale(tx):
        delete()
        refresh(tx, progress)
        return
    _note_changes(tx, batch_id)
    linked = _link(tx)  # before the rows go: their keys say which copies they were linked to
    _recon_before(tx)
    delete()
    _forget(tx, MATCH_KEYS_TABLE, "_changed")
    if _too_many(tx, linked):
        refresh(tx, progress)
        return
    _finish(tx, progress, before_saved=True)


def _note_changes(tx: Transaction, batch_id: int) -> None:
    """``_changed``: the batch's copies; ``_changed_truth``: the truth records (kind, id) it touches."""
    tx.execute(
        "changed copies",
        "create temp table _changed as select fingerprint, occurrence from events where batch_id = $batch_id",
        {"batch_id": batch_id},
    )
    tx.execute(
        "changed truth",
        "create temp table _changed_truth as select distinct kind, truth_id from truth "
        "where batch_id = $batch_id and truth_id is not null",
        {"batch_id": batch_id},
    )


def _finish(tx: Transaction, progress: Progress | None, *, before_saved: bool) -> None:
    """The per-copy rows of ``_copy_linked``, then the reconciliation they and ``_changed_truth`` reach.

    ``before_saved``: ``_recon_before`` already ran (an undo saves it before the rows go).
    """
    if not before_saved:
        _recon_before(tx)
    _recompute_linked(tx, progress)
    if not _update_recon(tx, progress):
        _rebuild_recon(tx, progress)
    _drop_scratch(tx)


def _recon_before(tx: Transaction) -> None:
    """What the reconciliation update needs from before the change: the truth export's period, the
    changed records' keys, and the recon keys of the linked copies (links that may be undone)."""
    tx.execute("old truth window", f"create temp table _old_window as {_TRUTH_WINDOW}")
    tx.execute("record keys", "create temp table _record_keys (h ubigint)")
    _add_record_keys(tx)
    tx.execute(
        "old recon keys",
        f"create temp table _old_recon_keys as select k.* from {_name(RECON_KEYS_TABLE)} k "  # noqa: S608
        "semi join _copy_linked l on l.fingerprint = k.fingerprint and l.occurrence = k.occurrence",
    )


def _add_record_keys(tx: Transaction) -> None:
    """The keys of the changed truth records as they are in ``truth_current`` now (derived_recon_match_keys
    hashes a copy's side of each the same way)."""
    tx.execute(
        "changed record keys",
        """insert into _record_keys
select h from (
  select hash('id', r.kind, r.truth_id) as h from truth_current r semi join _changed_truth c
    on c.kind = r.kind and c.truth_id = r.truth_id
  union all
  select hash('fbp', r.kind, r.fbp) from truth_current r semi join _changed_truth c
    on c.kind = r.kind and c.truth_id = r.truth_id where r.fbp is not null
  union all
  select hash('em', r.kind, r.em) from truth_current r semi join _changed_truth c
    on c.kind = r.kind and c.truth_id = r.truth_id where r.em is not null
) keyed""",
    )


def _shadowed(
    tx: Transaction, view: str, rows: str, name: str, sql: str, params: dict[str, Any] | None = None
) -> None:
    """Run ``sql`` while a temp view named ``view`` (one of ``_SHADOWS``) shows only ``rows``.

    ``rows`` (with ``params``) is materialized before the view exists (so it reads the real table), and
    the view reads that.
    """
    tx.execute(f"{view} subset", f"create temp table _shadow_rows as {rows}", params)
    with _showing(tx, view, "_shadow_rows"):
        tx.execute(name, sql)
    tx.execute(f"drop {view} subset", "drop table temp._shadow_rows")


def _link_recon(tx: Transaction) -> int:
    """``_recon_linked``: the dataset copies whose link may change, and every copy whose link depends on
    one of them (group, pair partner, event_id peers), transitively, over the links before and after.

    When the truth export's period moved, the unlinked copies whose phantom reason depends on it
    (outside the period, no order key, or unknown) are seeds too, so the links query decides their reason
    again.
    """
    moved = tx.execute(
        "truth window moved",
        f"select count(*) from ({_TRUTH_WINDOW}) n full join _old_window o on o.kind = n.kind "  # noqa: S608
        "where o.first_created is distinct from n.first_created "
        "or o.last_created is distinct from n.last_created",
    ).scalar()
    phantoms = (
        f"union select fingerprint, occurrence from {_name('copy_truth_links')} "  # noqa: S608
        "where truth_id is null and phantom_reason in ('outside_truth_window', 'no_order_key', 'unknown_id')"
        if moved
        else ""
    )
    keys = _name(RECON_KEYS_TABLE)
    edges = (
        f"(select fingerprint, occurrence, h from {keys} where rel = 'copy' union all "  # noqa: S608
        "select fingerprint, occurrence, h from _old_recon_keys where rel = 'copy')"
    )
    tx.execute(
        "recon seeds",
        f"""create temp table _recon_linked as
select k.fingerprint, k.occurrence from {keys} k
where k.rel = 'record' and k.h in (select h from _record_keys)
union
select k.fingerprint, k.occurrence from {keys} k
semi join _copy_linked l on l.fingerprint = k.fingerprint and l.occurrence = k.occurrence
union
select fingerprint, occurrence from _old_recon_keys
{phantoms}""",  # noqa: S608 (fixed names)
    )
    return _grow(
        tx,
        "_recon",
        f"select e.h from {edges} e semi join _recon_frontier f "  # noqa: S608
        "on f.fingerprint = e.fingerprint and f.occurrence = e.occurrence",
        f"select e.fingerprint, e.occurrence from {edges} e where e.h in (select h from _recon_new)",  # noqa: S608
    )


def _update_recon(tx: Transaction, progress: Progress | None) -> bool:
    """Reconciliation rows of the copies and records the change reaches; False when a store-wide choice
    changed (the caller rebuilds the reconciliation whole)."""
    recon_keys, links, verdicts = _name(RECON_KEYS_TABLE), _name("copy_truth_links"), _name("truth_verdicts")
    if progress is not None:
        progress("truth_current")
    current = _name("truth_current")
    tx.execute(
        "forget truth_current",
        f"delete from {current} r where exists (select 1 from _changed_truth c "  # noqa: S608
        "where c.kind = r.kind and c.truth_id = r.truth_id)",
    )
    _shadowed(
        tx, "truth",
        "select t.* from truth t semi join _changed_truth c on c.kind = t.kind and c.truth_id = t.truth_id",
        "update truth_current", f"insert into {current}\n{load_query('derived_recon_truth')}",
    )  # fmt: skip
    _add_record_keys(tx)
    # the linked copies' recon keys as they are now (their verdicts and pairs may have changed)
    _forget(tx, RECON_KEYS_TABLE, "_copy_linked")
    with _showing(tx, "events", "_linked_events"):
        tx.execute("update recon keys", f"insert into {recon_keys}\n{load_query(_RECON_KEYS_QUERY)}")
    if progress is not None:
        progress("copy_truth_links")
    reached = _link_recon(tx)
    stored = int(tx.execute("stored links", f"select count(*) from {links}").scalar())  # noqa: S608
    if reached > FULL_REBUILD_SHARE * max(stored, 1) and reached > 10_000:
        return False
    # records whose copies may change: the changed ones and those the reached copies link to now
    tx.execute(
        "reached records",
        f"create temp table _recon_records as select kind, truth_id from _changed_truth union "  # noqa: S608
        f"select l.kind, l.truth_id from {links} l semi join _recon_linked r "
        "on r.fingerprint = l.fingerprint and r.occurrence = l.occurrence where l.truth_id is not null",
    )
    _forget(tx, "copy_truth_links", "_recon_linked")
    tx.execute(
        "rate offsets",
        "create temp table recon_rate_offsets as select dataset, kind, count(*) as copies, "  # noqa: S608
        "count(*) filter (where lead_linked) as lead_linked, "
        "count(*) filter (where order_linked) as order_linked, "
        "count(*) filter (where event_linked) as event_linked, "
        "count(*) filter (where token_linked) as token_linked "
        f"from {links} group by dataset, kind",
    )
    _shadowed(
        tx, "events",
        _events_of("_recon_linked"),
        "update links", f"insert into {links}\n{load_query('derived_recon_links')}",
    )  # fmt: skip
    changed_key = tx.execute(
        "join key changed",
        f"select count(*) from (select dataset from {links} "  # noqa: S608
        "group by dataset having count(distinct coalesce(join_key, '')) > 1)",
    ).scalar()
    if changed_key:
        return False
    tx.execute(
        "records linked now",
        f"insert into _recon_records select l.kind, l.truth_id from {links} l semi join _recon_linked r "  # noqa: S608
        "on r.fingerprint = l.fingerprint and r.occurrence = l.occurrence where l.truth_id is not null",
    )
    if progress is not None:
        progress("truth_verdicts")
    tx.execute(
        "forget verdicts",
        f"delete from {verdicts} v where exists (select 1 from _recon_records r "  # noqa: S608
        "where r.kind = v.kind and r.truth_id = v.truth_id)",
    )
    _shadowed(
        tx, "truth_current",
        "select t.* from truth_current t semi join (select distinct kind, truth_id from _recon_records) r "
        "on r.kind = t.kind and r.truth_id = t.truth_id",
        "update verdicts", f"insert into {verdicts}\n{load_query('derived_recon_records')}",
    )  # fmt: skip
    return True


def _too_many(tx: Transaction, linked: int) -> bool:
    total = int(tx.execute("copies", "select count(*) from events").scalar())
    return linked > FULL_REBUILD_SHARE * total


def _stale(tx: Transaction) -> bool:
    """True when the derived tables were built by other SQL (or never): only a full rebuild is right."""
    built = tx.execute("derived state", "select max(sql_sha256) from derived_state").scalar()
    return bool(built != definition_sha256())
