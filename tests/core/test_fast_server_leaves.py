"""``fx_leaves`` (two parses of a document for many values) gives the leaves the server SQL read before, one
value at a time: ``fx_leaf`` of each ``json_extract`` result (type and text) and, for containers, the type
``fx_node`` gave and the JSON text of an object or array (the only node texts the SQL reads).

The server ingest reads its envelope and event values through ``fx_leaves``; this pins it to the per-value
reading on generated documents (nested objects and arrays, escapes, big and negative numbers, nulls,
paths into values that are not objects, missing keys).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capi_core.queries import load_query

_KEYS = ["a", "b", "user_data", "em", "value"]
_PATHS = ["$", "$.a", "$.b", "$.user_data", "$.user_data.em", "$.user_data.value", "$.a.b", "$.missing"]
# the per-value reading the SQL used before fx_leaves (fx_node: a container's kind from its JSON text)
_PER_VALUE = """
select
    [fx_leaf(x[i]) for i in range(1, len(x) + 1)] as leaves,
    [case
         when x[i] is null then null
         when starts_with(x[i]::varchar, '{') then 'OBJECT'
         when starts_with(x[i]::varchar, '[') then 'ARRAY'
         when starts_with(x[i]::varchar, '"') then 'VARCHAR'
         when x[i]::varchar = 'null' then 'NULL'
         else 'SCALAR'
     end for i in range(1, len(x) + 1)] as kinds
from (select json_extract($doc, $paths) as x)
"""
_TWO_PARSES = """
select
    [fx_leaf_at(x, i) for i in range(1, len($paths) + 1)] as leaves,
    [fx_node_at(x, i) for i in range(1, len($paths) + 1)] as nodes
from (select fx_leaves($doc, $paths) as x)
"""

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(["", 'q"', "a\\b", "é\u2028", "\x00x", "[1]", "{}"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    for statement in load_query("ingest_fast_macros").split(";\n"):
        if statement.strip():
            connection.execute(statement)
    yield connection
    connection.close()


def _row(con: duckdb.DuckDBPyConnection, sql: str, doc: str) -> tuple[Any, ...]:
    row = con.execute(sql, {"doc": doc, "paths": _PATHS}).fetchone()
    assert row is not None
    return row


@settings(max_examples=300, deadline=None, derandomize=True)
@given(value=st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=5), ascii_only=st.booleans())
def test_two_parses_give_the_per_value_leaves(
    con: duckdb.DuckDBPyConnection, value: dict[str, Any], ascii_only: bool
) -> None:
    # json, not orjson: integers beyond 64 bits (DuckDB reads them as doubles); \u escapes or raw UTF-8
    doc = json.dumps(value, ensure_ascii=ascii_only)
    leaves, kinds = _row(con, _PER_VALUE, doc)
    two_leaves, nodes = _row(con, _TWO_PARSES, doc)
    assert two_leaves == leaves
    assert [node["t"] for node in nodes] == kinds
    for node, leaf in zip(nodes, leaves, strict=True):
        if node["t"] in ("OBJECT", "ARRAY"):  # the JSON text fx_items and fx_object read
            assert node["s"] == leaf["s"]


def test_an_absent_value_and_a_json_null_stay_apart(con: duckdb.DuckDBPyConnection) -> None:
    """The SQL tells "key sent as null" from "key absent" (a URL key, an event's consent): both readings
    give type NULL for the one and no type for the other."""
    two_leaves, nodes = _row(con, _TWO_PARSES, '{"a": null}')
    assert two_leaves[1] == {"t": "NULL", "s": None}
    assert two_leaves[7] == {"t": None, "s": None}
    assert (nodes[1]["t"], nodes[7]["t"]) == ("NULL", None)
