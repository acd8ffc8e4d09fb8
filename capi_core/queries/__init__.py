"""The metric SQL files and how they are put together: ``load_query(name)`` is the one way a ``.sql`` file
becomes a statement, and ``quote_ident`` the one way an identifier enters SQL text.

Owns: reading ``capi_core/queries/<name>.sql`` (``spark/`` and ``fragments/`` below it) and expanding its
``-- @include NAME`` lines; quoting identifiers from an allow-list.
Must not: run SQL (``store.Store.query`` and ``Transaction.execute`` do) or build SQL from values (values
are always bound as ``$name`` parameters).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from importlib import resources

__all__ = ["load_query", "quote_ident"]


@cache
def load_query(name: str) -> str:
    """The text of ``capi_core/queries/<name>.sql``, its ``-- @include NAME`` lines expanded.

    A line that is only ``-- @include spark/_fragment`` is replaced by the (expanded) text of
    ``capi_core/queries/spark/_fragment.sql``, so queries can share CTE chains without copies. Includes
    nest; a cycle, or a NAME other than lowercase ``a-z0-9_`` path parts joined by ``/``, is a ValueError.
    """
    return _expand_query(name, ())


_INCLUDE_LINE = re.compile(r"^[ \t]*-- @include[ \t]+(?P<name>\S*)[ \t]*$", re.MULTILINE)
_INCLUDE_NAME = re.compile(r"[a-z0-9_]+(?:/[a-z0-9_]+)*")


def _query_text(name: str) -> str:
    """The raw text of one query file (no includes expanded)."""
    return resources.files("capi_core.queries").joinpath(f"{name}.sql").read_text(encoding="utf-8")


def _expand_query(name: str, chain: tuple[str, ...]) -> str:
    """``name``'s text with includes expanded; ``chain`` = the files including it (cycle guard)."""

    def include(match: re.Match[str]) -> str:
        child = match["name"]
        if not _INCLUDE_NAME.fullmatch(child):
            raise ValueError(f"bad include name {child!r} in query {name!r}")
        if child in (*chain, name):
            raise ValueError(f"include cycle: {' -> '.join((*chain, name, child))}")
        return _expand_query(child, (*chain, name)).rstrip("\n")

    return _INCLUDE_LINE.sub(include, _query_text(name))


def quote_ident(name: str, allowed: Sequence[str]) -> str:
    """Quote an identifier that must be one of ``allowed`` (never a value from a user or a file)."""
    if name not in allowed:
        raise ValueError(f"identifier {name!r} is not allowed here")
    return '"' + name.replace('"', '""') + '"'
