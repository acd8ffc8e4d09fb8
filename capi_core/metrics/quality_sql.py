"""Runs the signal-quality SQL: every ``queries/quality_*.sql`` reads the per-copy CTE ``copy_checks``.

``queries/quality_copy_checks.sql`` is the one definition of a valid match key, an invalid fbc / fbp and
an insufficient key combination; this module prepends it to each quality query, binds the scope, and
hands back the aggregated rows. It holds no metric logic and never touches DuckDB directly.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from capi_core.models import Scope
from capi_core.store import Store, load_query

_BASE = "quality_copy_checks"


@cache
def quality_sql(name: str) -> str:
    """``queries/<name>.sql`` with the ``copy_checks`` CTE in front (only files, never values)."""
    if not name.startswith("quality_") or name == _BASE:
        raise ValueError(f"{name!r} is not a quality query")
    return "\n".join(
        ("with copy_checks as (", load_query(_BASE), ")", "select * from (", load_query(name), ") as result")
    )


def run_quality(store: Store, name: str, scope: Scope, **params: Any) -> list[dict[str, Any]]:
    """Rows of the quality query ``name`` over ``scope`` (extra ``params`` bound as ``$name``)."""
    return store.query(name, quality_sql(name), {**scope.params(), **params}).dicts()


def examples(value: Any) -> list[str]:
    """Example ids from a SQL list (null when the filter matched nothing)."""
    return [str(item) for item in value or [] if item is not None]
