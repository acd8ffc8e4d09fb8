"""Every SQL file under ``capi_core/queries`` is one whole statement once its ``-- @include`` lines are
expanded.

One way to compose SQL: a query file is run as it stands (``store.load_query``), never glued to another in
Python; what several queries share is a fragment under ``queries/fragments/`` (or ``queries/spark/_*.sql``)
that only ever reaches the database through an include line, so fragments are parsed through the files
that include them. DuckDB's own parser reads the DuckDB files (parameters left unbound); sqlglot's Spark
dialect reads the Spark ingest files.
"""

from __future__ import annotations

import re
from importlib import resources
from importlib.resources.abc import Traversable

import duckdb
import pytest
import sqlglot

from capi_core.metrics.reconcile import chained_query
from capi_core.models import Scope
from capi_core.queries import load_query

_QUERIES = resources.files("capi_core.queries")
#: DuckDB macro scripts of the fast ingest (several statements, split by fast_ingest.py)
_SCRIPTS = ("ingest_fast_macros",)
_INCLUDE = re.compile(r"^[ \t]*-- @include[ \t]+(\S+)[ \t]*$", re.MULTILINE)


def _names(folder: Traversable, prefix: str = "") -> list[str]:
    return sorted(
        prefix + path.name.removesuffix(".sql")
        for path in folder.iterdir()
        if path.name.endswith(".sql") and not path.name.startswith("_")
    )


_DUCKDB = _names(_QUERIES)
_SPARK = _names(_QUERIES.joinpath("spark"), "spark/")
_FRAGMENTS = [
    *_names(_QUERIES.joinpath("fragments"), "fragments/"),
    *sorted(
        "spark/" + path.name.removesuffix(".sql")
        for path in _QUERIES.joinpath("spark").iterdir()
        if path.name.startswith("_") and path.name.endswith(".sql")
    ),
]


def _statements(sql: str) -> int:
    return len(duckdb.connect().extract_statements(sql))


@pytest.mark.parametrize("name", _DUCKDB)
def test_query_file_is_one_statement(name: str) -> None:
    count = _statements(load_query(name))
    assert count >= 1 if name in _SCRIPTS else count == 1


@pytest.mark.parametrize("name", [name for name in _DUCKDB if name.startswith("recon_")])
def test_recon_query_parses_with_a_pixel_filter(name: str) -> None:
    """reconcile puts fragments/scoped_records_pixel.sql in place of fragments/scoped_records.sql."""
    assert _statements(chained_query(name, Scope(pixel_id="1"))) == 1


@pytest.mark.parametrize("name", _SPARK)
def test_spark_file_is_one_statement(name: str) -> None:
    assert len(sqlglot.parse(load_query(name), read="spark")) == 1


def test_every_fragment_is_included() -> None:
    """A fragment no query includes is dead SQL (and would be parsed by nothing). The one exception is
    the pixel variant reconcile swaps in, parsed by test_recon_query_parses_with_a_pixel_filter."""
    included = {
        match
        for name in [*_DUCKDB, *_SPARK, *_FRAGMENTS]
        for match in _INCLUDE.findall(_QUERIES.joinpath(f"{name}.sql").read_text(encoding="utf-8"))
    }
    assert sorted(set(_FRAGMENTS) - included) == ["fragments/scoped_records_pixel"]


def test_no_query_file_is_included() -> None:
    """Queries are whole statements: what is shared lives in fragments/ (or spark/_*.sql)."""
    for name in [*_DUCKDB, *_SPARK, *_FRAGMENTS]:
        for child in _INCLUDE.findall(_QUERIES.joinpath(f"{name}.sql").read_text(encoding="utf-8")):
            assert child in _FRAGMENTS, (name, child)
