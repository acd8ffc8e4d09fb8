"""DuckDB -> Spark SQL translation (capi_core.engines.dialect), checked on the text (no Spark needed).

What Spark computes from these forms is checked by tests/core/test_spark_parity.py (same report JSON);
here each rewrite is pinned to the exact Spark form it produces, and every metric query is translated.
"""

from __future__ import annotations

from importlib import resources

import pytest
import sqlglot

from capi_core.engines.dialect import stages, to_spark
from capi_core.queries import load_query

#: Server-ingest SQL (DuckDB macros over JSON) is not translated: Spark ingest is not built yet.
NOT_TRANSLATED = ("ingest_fast_",)


def _queries() -> list[str]:
    names = sorted(
        path.name.removesuffix(".sql")
        for path in resources.files("capi_core.queries").iterdir()
        if path.name.endswith(".sql")
    )
    return [name for name in names if not name.startswith(NOT_TRANSLATED)]


def test_parameters_become_named_markers() -> None:
    """``$name`` -> ``:name`` (values travel in spark.sql(args=...)); the names used are reported."""
    translated = to_spark("select * from events e where e.pixel_id = $pixel_id and e.channel = $channel")
    assert ":pixel_id" in translated.text and ":channel" in translated.text
    assert "$" not in translated.text
    assert translated.params == {"pixel_id", "channel"}


def test_datetime_parameters_are_cast() -> None:
    """A datetime parameter travels as ISO text and is cast back in SQL (py4j would make it local time)."""
    translated = to_spark("select 1 where $date_from is null", (("date_from", "timestamp_ntz"),))
    assert "CAST(:date_from AS TIMESTAMP_NTZ)" in translated.text


def test_list_parameters_are_typed() -> None:
    """A null list is NULL-typed in Spark, which array_contains refuses: the parameter is cast."""
    translated = to_spark("select 1 where list_contains($event_names, e.event_name)")
    assert "ARRAY_CONTAINS(CAST(:event_names AS ARRAY<STRING>), e.event_name)" in translated.text


def test_limit_parameters_are_reported() -> None:
    """DuckDB reads ``limit null`` as no limit; the store binds those parameters to an integer."""
    assert to_spark("select 1 from t limit $limit").limit_params == {"limit"}


def test_bounded_min_becomes_sorted_slice() -> None:
    """min(x, 5) (DuckDB: the 5 smallest, a list) with its filter -> slice(array_sort(collect_list))."""
    text = to_spark("select min(c.example_id, 5) filter (where c.bad) as examples from c").text
    assert text == (
        "SELECT SLICE(ARRAY_SORT(COLLECT_LIST(c.example_id) FILTER(WHERE c.bad)), 1, 5) AS examples FROM c"
    )


def test_full_match_is_anchored() -> None:
    r"""regexp_full_match -> rlike anchored with ^(?:...)\z (Java's $ also matches before a final newline)."""
    text = to_spark("select regexp_full_match(a, '[0-9]+') from t").text
    assert text == "SELECT a RLIKE '^(?:[0-9]+)\\\\z' FROM t"


def test_ranks_are_bigint() -> None:
    """row_number() is BIGINT in DuckDB, INT in Spark: unions and recursive CTEs need the same type."""
    text = to_spark("select row_number() over (order by a) as n from t").text
    assert text == "SELECT CAST(ROW_NUMBER() OVER (ORDER BY a NULLS LAST) AS BIGINT) AS n FROM t"


def test_averages_and_division_are_double() -> None:
    """avg over DECIMAL literals and / answer DOUBLE in DuckDB; Spark would round a DECIMAL."""
    text = to_spark("select avg(case when ok then 1.0 else 0.0 end), a / b from t").text
    assert "AVG(CAST(CASE WHEN ok THEN 1.0 ELSE 0.0 END AS DOUBLE))" in text
    assert "CAST(a AS DOUBLE) / b" in text


def test_epochs() -> None:
    """epoch (double seconds), epoch_ms (BIGINT ms), date_diff('second') (second boundaries)."""
    text = to_spark("select epoch(t), epoch_ms(t), date_diff('second', a, b) from x").text
    assert "CAST(UNIX_MICROS(t) AS DOUBLE) / 1000000D" in text
    assert "UNIX_MILLIS(t)" in text
    assert "(UNIX_SECONDS(b) - UNIX_SECONDS(a))" in text


def test_interval_epoch() -> None:
    """extract(epoch from a - b): the microsecond difference in seconds, as DuckDB computes it."""
    text = to_spark("select abs(extract(epoch from (a - b))) from x").text
    assert text == "SELECT ABS(CAST((UNIX_MICROS(a) - UNIX_MICROS(b)) AS DOUBLE) / 1000000D) FROM x"


def test_percentile_cont_is_exact() -> None:
    """percentile_cont -> Spark's exact percentile (sqlglot alone writes percentile_approx)."""
    text = to_spark("select percentile_cont(0.95) within group (order by d) from x").text
    assert text == "SELECT PERCENTILE(d, 0.95) FROM x"


def test_information_schema_maps_to_store_views() -> None:
    text = to_spark("select count(*) from information_schema.tables where table_name = 'x'").text
    assert "FROM capi_information_schema_tables" in text


def test_materialized_hint_is_dropped() -> None:
    text = to_spark("with a as materialized (select 1 as x) select x from a").text
    assert "MATERIALIZED" not in text.upper()


def test_nested_ctes_take_their_owners_name() -> None:
    """Spark's writer lifts a CTE's own WITH into the statement's: two CTEs may each define ``x``."""
    text = to_spark(
        "with a as (with x as (select 1 as v) select v from x), "
        "b as (with x as (select 2 as v) select x.v from x) select * from a, b"
    ).text
    assert text == (
        "WITH a__x AS (SELECT 1 AS v), a AS (SELECT v FROM a__x AS x), b__x AS (SELECT 2 AS v), "
        "b AS (SELECT x.v FROM b__x AS x) SELECT * FROM a, b"
    )


def test_stages_materialize_ctes_read_twice() -> None:
    """a is read twice (a view of its own); b once (inline where it is read); the last stage selects."""
    sql = "with a as (select 1 as x), b as (select x from a) select * from a join b on a.x = b.x"
    steps = stages(sql, "v_")
    assert [step.view for step in steps] == ["v_a", None]
    assert "FROM v_a AS a" in steps[-1].sql and "WITH b AS (SELECT x FROM v_a AS a)" in steps[-1].sql


def test_stages_keep_recursion_together() -> None:
    sql = (
        "with recursive n (i) as (select 1 union all select i + 1 from n where i < 3) select count(*) from n"
    )
    steps = stages(sql, "v_")
    assert steps[0].view == "v_n" and steps[0].sql.startswith("WITH RECURSIVE n(i) AS")


@pytest.mark.parametrize("name", _queries())
def test_every_metric_query_translates(name: str) -> None:
    """Every query (as run: its includes expanded) and each of its stages translates; no DuckDB-only
    function name survives. Fragments (queries/fragments/) are translated with the queries including them."""
    for step in stages(load_query(name), "v_"):
        text = to_spark(step.sql).text.lower()
        for duckdb_only in (
            "regexp_full_match(",
            "list_contains(",
            "list_slice(",
            "epoch_ms(",
            "struct_pack(",
        ):
            assert duckdb_only not in text, (name, duckdb_only)


def test_ordered_list_is_sorted_before_slicing() -> None:
    """sqlglot drops ``order by`` inside ``list(...)``; the first 5 examples must still be the 5 smallest
    (found at 1 M orders, where Spark's collect order put '100141~7' among them and left '100141~1' out)."""
    text = to_spark("select list_slice(list(distinct k.id order by k.id), 1, 5) as ex from k group by g").text
    assert "SLICE(ARRAY_SORT(COLLECT_SET(k.id)), 1, 5)" in text
    plain = to_spark("select list(k.id order by k.id) as ex from k group by g").text
    assert "ARRAY_SORT(COLLECT_LIST(k.id))" in plain
    with pytest.raises(sqlglot.errors.UnsupportedError):
        to_spark("select list(k.id order by k.t) from k group by g")
    with pytest.raises(sqlglot.errors.UnsupportedError):
        to_spark("select list(k.id order by k.id desc) from k group by g")
