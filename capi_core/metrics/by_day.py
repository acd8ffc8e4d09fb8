"""Scope-free aggregates per pixel, event name and UTC day, folded into any scope's figures.

A scope is whole UTC days (``Scope.params`` binds midnight of ``date_from`` and of the day after
``date_to``), one pixel or all, and a set of event names, so an aggregate grouped by pixel, event name and
day of ``event_time`` holds every scope's answer: the scope's rows are those whose day, pixel and name it
covers, and its counts are their sums. The queries that use this (``dedup_facts``,
``dedup_check_outside_window``, ``dedup_check_reused_id``, ``dedup_check_name_mismatch``,
``quality_fbp_mismatch``, ``quality_completeness``) run once per data version (memoized) instead of once
per filter change; a filter change then only folds a few thousand rows.

Owns the fold: which rows a scope covers (the SQL scope predicate, row by row) and how example lists
merge (the smallest values first, as the SQL lists them, at most ``MAX_EXAMPLES``), and how per-day sets
of distinct values unite (for a distinct count over the scope). Must not compute a metric: every count
comes from SQL, and the fold only adds counts, merges sorted example lists and unites value sets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from capi_core.models import Scope

#: Examples kept per list: as many as a finding shows (``diagnostics.registry.MAX_EXAMPLES``); each
#: day's list holds its smallest values, so the smallest of their union are the scope's smallest.
MAX_EXAMPLES = 5

Row = dict[str, Any]


def covers(scope: Scope, row: Row) -> bool:
    """Whether ``scope`` covers a row with ``pixel_id``, ``event_name`` and ``day`` (the SQL predicate:
    a null day, pixel or name passes only when the scope does not filter on it)."""
    day: dt.date | None = row["day"]
    if scope.date_from is not None and (day is None or day < scope.date_from):
        return False
    if scope.date_to is not None and (day is None or day > scope.date_to):
        return False
    if scope.pixel_id is not None and row["pixel_id"] != scope.pixel_id:
        return False
    return not scope.event_names or row["event_name"] in scope.event_names


def _sort_key(value: Any) -> tuple[bool, Any]:
    return (value is None, "" if value is None else value)  # SQL's order: nulls last


def _merge(lists: Iterable[Sequence[Any] | None], *, distinct: bool) -> list[Any] | None:
    values = [v for values in lists if values for v in values if v is not None]
    if not values:
        return None  # as SQL's filtered list() over no row
    return sorted(set(values) if distinct else values)[:MAX_EXAMPLES]


def _union(lists: Iterable[Sequence[Any] | None]) -> list[Any]:
    return sorted({v for values in lists if values for v in values if v is not None})


def fold(
    rows: Iterable[Row],
    scope: Scope,
    keys: Sequence[str],
    sums: Sequence[str],
    distinct_lists: Sequence[str] = (),
    lists: Sequence[str] = (),
    sets: Sequence[str] = (),
) -> list[Row]:
    """The rows ``scope`` covers, grouped by ``keys`` (ordered by them, nulls last): ``sums`` added,
    ``distinct_lists`` merged as sorted distinct values, ``lists`` as sorted values, each cut to
    ``MAX_EXAMPLES``; ``sets`` merged as all their distinct non-null values, sorted (never cut: a caller
    counts them, as SQL's ``count(distinct ...)`` over the covered rows would)."""
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        if covers(scope, row):
            groups.setdefault(tuple(row[k] for k in keys), []).append(row)
    folded: list[Row] = []
    for key in sorted(groups, key=lambda k: tuple(_sort_key(v) for v in k)):
        members = groups[key]
        out: Row = dict(zip(keys, key, strict=True))
        out.update({name: sum(int(m[name] or 0) for m in members) for name in sums})
        out.update({name: _merge((m[name] for m in members), distinct=True) for name in distinct_lists})
        out.update({name: _merge((m[name] for m in members), distinct=False) for name in lists})
        out.update({name: _union(m[name] for m in members) for name in sets})
        folded.append(out)
    return folded
