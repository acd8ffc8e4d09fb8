"""DuckDB SQL -> Spark SQL: the one place that knows how the two dialects differ.

Owns: translating the project's SQL (``capi_core/queries/*.sql`` and the few inline statements, all written
for DuckDB in a portable subset) to Spark SQL with sqlglot, plus the handful of rewrites sqlglot does not
do itself, each named in ``_REWRITES`` and tested in ``tests/core/test_spark_dialect.py``. ``$name``
parameters become Spark named parameter markers (``:name``) and travel as values in ``spark.sql(sql,
args=...)``, never spliced into the text. Translations are cached per SQL text, so a report that runs the
same query for several scopes parses it once.

Must not: know about sessions or tables (``engines/spark.py`` runs the SQL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp

_READ, _WRITE = "duckdb", "spark"


@dataclass(frozen=True, slots=True)
class SparkSql:
    """One translated statement and the parameter names it reads (bind only those)."""

    text: str
    params: frozenset[str]
    #: parameters used as ``limit``: DuckDB reads a null limit as "no limit", Spark needs an integer.
    limit_params: frozenset[str] = frozenset()


def _bounded_min(node: exp.Expression) -> exp.Expression:
    """DuckDB ``min(x, n)`` (the n smallest values, a list) -> ``slice(array_sort(collect_list(x)), 1, n)``.

    A ``filter (where ...)`` on the aggregate moves onto ``collect_list``. DuckDB answers null when no row
    qualifies and Spark an empty array; callers read both as "no examples".
    """
    filtered = isinstance(node, exp.Filter) and isinstance(node.this, exp.Min)
    bounded = node.this if filtered else node
    if not isinstance(bounded, exp.Min) or bounded.args.get("count") is None:
        return node
    collected: exp.Expression = exp.Anonymous(this="collect_list", expressions=[bounded.this.copy()])
    if filtered:
        collected = exp.Filter(this=collected, expression=node.expression.copy())
    return exp.Anonymous(
        this="slice",
        expressions=[
            exp.Anonymous(this="array_sort", expressions=[collected]),
            exp.Literal.number(1),
            bounded.args["count"].copy(),
        ],
    )


def _full_match(node: exp.Expression) -> exp.Expression:
    r"""DuckDB ``regexp_full_match(s, p)`` -> ``s rlike concat('^(?:', p, ')\z')`` (Java's ``$`` would
    also match before a final newline; ``\z`` is the true end of the text)."""
    if not isinstance(node, exp.RegexpFullMatch):
        return node
    text, pattern = node.this, node.expression
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        anchored: exp.Expression = exp.Literal.string(f"^(?:{pattern.this})\\z")
    else:
        anchored = exp.Concat(
            expressions=[exp.Literal.string("^(?:"), pattern.copy(), exp.Literal.string(")\\z")]
        )
    return exp.RegexpLike(this=text.copy(), expression=anchored)


def _plain_cte(node: exp.Expression) -> exp.Expression:
    """``with x as materialized (...)`` is a DuckDB planning hint; Spark plans CTEs itself."""
    if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
        node = node.copy()
        node.set("materialized", None)
    return node


def _own_nested_ctes(node: exp.Expression) -> exp.Expression:
    """A CTE's own ``with`` (a fragment included twice, e.g. queries/fragments/fallback_pairs.sql): its
    CTEs take the owner's name as a prefix, because sqlglot's Spark writer lifts nested CTEs into the
    statement's one WITH list, where two ``pairs`` would collide (DUPLICATED_CTE_NAMES)."""
    body = node.this if isinstance(node, exp.CTE) else None
    with_ = body.args.get("with_") if isinstance(body, exp.Query) else None
    if not isinstance(with_, exp.With):
        return node
    node = node.copy()
    body = node.this
    names = {cte.alias: f"{node.alias}__{cte.alias}" for cte in body.args["with_"].expressions}
    for cte in body.args["with_"].expressions:
        cte.set("alias", exp.TableAlias(this=exp.to_identifier(names[cte.alias])))
    for table in list(body.find_all(exp.Table)):
        if table.name in names and not table.text("db"):
            alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(table.name))
            table.replace(exp.Table(this=exp.to_identifier(names[table.name]), alias=alias))
    return node


def _bigint_ranks(node: exp.Expression) -> exp.Expression:
    """``row_number()`` / ``rank()`` / ``dense_rank()`` are BIGINT in DuckDB and INT in Spark: cast the
    window, so unions and recursive CTEs (which Spark requires to agree exactly) see DuckDB's types."""
    ranking = isinstance(node, exp.Window) and isinstance(node.this, exp.RowNumber | exp.Rank | exp.DenseRank)
    if ranking and not isinstance(node.parent, exp.Cast):
        return exp.cast(node.copy(), exp.DataType.build("bigint"))
    return node


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _seconds(ts: exp.Expression) -> exp.Expression:
    """Seconds since the epoch as a double, like DuckDB's ``epoch(ts)`` (microseconds / 1e6)."""
    return exp.Div(this=_fn("unix_micros", ts.copy()), expression=exp.Literal.number("1000000D"))


def _epochs(node: exp.Expression) -> exp.Expression:
    """DuckDB's epoch family on timestamps -> Spark's unix_* functions.

    ``epoch(ts)`` (double seconds) -> ``unix_micros(ts) / 1000000D``; ``epoch_ms(ts)`` (BIGINT) ->
    ``unix_millis(ts)`` (our SQL only calls it on timestamps; DuckDB's ``epoch_ms(bigint)`` would mean the
    opposite and is not used); ``extract(epoch from a - b)`` -> the difference of the two epochs;
    ``date_diff('second', a, b)`` (whole-second boundaries) -> ``unix_seconds(b) - unix_seconds(a)``.
    """
    if isinstance(node, exp.TimeToUnix):
        return _seconds(node.this)
    if (
        isinstance(node, exp.UnixToTime)
        and node.args.get("scale") is not None
        and node.args["scale"].name == "3"
    ):
        return _fn("unix_millis", node.this.copy())
    if isinstance(node, exp.Extract) and node.this.name.lower() == "epoch":
        inner = node.expression.unnest()
        if not isinstance(inner, exp.Sub):
            raise sqlglot.errors.UnsupportedError("extract(epoch from x) is translated only for x = a - b")
        micros = exp.Sub(
            this=_fn("unix_micros", inner.this.copy()), expression=_fn("unix_micros", inner.expression.copy())
        )
        return exp.Div(this=exp.Paren(this=micros), expression=exp.Literal.number("1000000D"))
    if isinstance(node, exp.DateDiff) and node.text("unit").lower() == "second":
        return exp.Paren(
            this=exp.Sub(
                this=_fn("unix_seconds", node.this.copy()),
                expression=_fn("unix_seconds", node.expression.copy()),
            )
        )
    return node


def _exact_percentile(node: exp.Expression) -> exp.Expression:
    """``percentile_cont(q) within group (order by x)`` -> Spark's exact ``percentile(x, q)`` (sqlglot would
    write the approximate ``percentile_approx``); a descending order reads the ``1 - q`` percentile."""
    if not (isinstance(node, exp.WithinGroup) and isinstance(node.this, exp.PercentileCont)):
        return node
    (ordered,) = node.expression.expressions
    fraction = node.this.this.copy()
    if ordered.args.get("desc"):
        fraction = exp.Sub(this=exp.Literal.number(1), expression=fraction)
    return _fn("percentile", ordered.this.copy(), fraction)


def _ordered_list(node: exp.Expression) -> exp.Expression:
    """DuckDB ``list([distinct] x order by x)`` -> ``array_sort(collect_set|collect_list(x))``.

    sqlglot drops an aggregate's ``order by`` on the way to Spark (``collect_list`` has none), so the
    first n examples of a ``list_slice`` would be whichever rows Spark met first. Only an ascending order
    by the aggregated value itself is translated (what our SQL uses); any other order is refused.
    ``collect_*`` skip nulls where DuckDB's ``list`` keeps them: the one use (``dedup_check_outside_window``)
    aggregates event ids of dedup keys, which are never null.
    """
    if not (isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order)):
        return node
    order = node.this
    (ordered,) = order.expressions
    value = order.this
    distinct = isinstance(value, exp.Distinct)
    if distinct:
        (value,) = value.expressions
    if ordered.args.get("desc") or ordered.this != value:
        raise sqlglot.errors.UnsupportedError(
            "list(... order by ...) is translated only ordered by its value"
        )
    collected = _fn("collect_set" if distinct else "collect_list", value.copy())
    return _fn("array_sort", collected)


_RENAMED = {"list_slice": "slice", "regexp_split_to_array": "split"}


def _renamed(node: exp.Expression) -> exp.Expression:
    """DuckDB list functions sqlglot passes through by name -> Spark's names (same arguments, same meaning:
    1-based inclusive ``slice(list, from, length)`` holds here because our SQL slices from 1)."""
    if isinstance(node, exp.Anonymous) and node.name.lower() in _RENAMED:
        name = node.name.lower()
        if name == "list_slice" and not (node.expressions[1].is_int and int(node.expressions[1].name) == 1):
            raise sqlglot.errors.UnsupportedError("list_slice is translated only from position 1")
        return _fn(_RENAMED[name], *(arg.copy() for arg in node.expressions))
    return node


#: DuckDB's information_schema views -> the views SparkStore builds from its own tables.
INFORMATION_SCHEMA = {
    "tables": "capi_information_schema_tables",
    "columns": "capi_information_schema_columns",
}


def _information_schema(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Table) and node.text("db").lower() == "information_schema":
        view = INFORMATION_SCHEMA.get(node.name.lower())
        if view is None:
            raise sqlglot.errors.UnsupportedError(f"information_schema.{node.name} has no Spark view")
        return exp.Table(this=exp.to_identifier(view), alias=node.args.get("alias"))
    return node


def _typed_lists(node: exp.Expression) -> exp.Expression:
    """A bare ``$list`` parameter read as a list (``list_contains``, ``unnest``) -> ``cast(:list as
    array<string>)``: a null parameter is NULL-typed in Spark, which ``array_contains`` refuses. Every list
    parameter of our SQL holds strings (event names, pixel ids, refs)."""
    if isinstance(node, exp.ArrayContains | exp.Explode | exp.Unnest):
        for key, arg in list(node.args.items()):
            if isinstance(arg, exp.Placeholder):
                node.set(key, exp.cast(arg.copy(), exp.DataType.build("array<string>", dialect=_WRITE)))
    return node


def _is_double(node: exp.Expression) -> bool:
    return isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.DOUBLE


def _double_math(node: exp.Expression) -> exp.Expression:
    """``avg`` and ``/`` answer DOUBLE in DuckDB whatever the numeric input (``avg(1.0)`` over a DECIMAL
    literal included); Spark keeps DECIMAL and rounds to a few places (``avg`` of ``decimal(2,1)`` has 5).
    The operand becomes a double first, which is what DuckDB computes with."""
    double = exp.DataType.build("double")
    if isinstance(node, exp.Avg) and not _is_double(node.this):
        return exp.Avg(this=exp.cast(node.this.copy(), double))
    if isinstance(node, exp.Div) and not _is_double(node.this):
        return exp.Div(this=exp.cast(node.this.copy(), double), expression=node.expression.copy())
    return node


#: AST rewrites applied to the DuckDB tree before sqlglot writes Spark SQL, in order.
_REWRITES: tuple[Callable[[exp.Expression], exp.Expression], ...] = (
    _ordered_list,
    _bounded_min,
    _full_match,
    _plain_cte,
    _own_nested_ctes,
    _bigint_ranks,
    _epochs,
    _exact_percentile,
    _renamed,
    _information_schema,
    _typed_lists,
    _double_math,
)


def _typed_parameters(casts: dict[str, str]) -> Callable[[exp.Expression], exp.Expression]:
    """Wrap the named parameters in a cast (a datetime travels as ISO text: py4j reads one as local time)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.name in casts and not node.meta.get("typed"):
            node.meta["typed"] = True
            return exp.cast(node, exp.DataType.build(casts[node.name], dialect=_WRITE))
        return node

    return rewrite


@lru_cache(maxsize=1024)
def to_spark(sql: str, casts: tuple[tuple[str, str], ...] = ()) -> SparkSql:
    """Translate one DuckDB statement to Spark SQL (cached per text and parameter casts).

    ``casts`` names the parameters to wrap in ``cast(:name as <spark type>)``, e.g. ``("date_from",
    "timestamp_ntz")``.
    """
    tree = sqlglot.parse_one(sql, read=_READ)
    for rewrite in (*_REWRITES, _typed_parameters(dict(casts))):
        tree = tree.transform(rewrite)
    params = frozenset(node.name for node in tree.find_all(exp.Placeholder) if node.name)
    limits = frozenset(
        node.name
        for limit in tree.find_all(exp.Limit)
        for node in limit.find_all(exp.Placeholder)
        if node.name
    )
    text = tree.sql(dialect=_WRITE, unsupported_level=sqlglot.ErrorLevel.RAISE)
    return SparkSql(text, params, limits)


@dataclass(frozen=True, slots=True)
class Stage:
    """One step of a staged query: ``view`` (None for the final select) computed by DuckDB-dialect ``sql``."""

    view: str | None
    sql: str


def _table_refs(node: exp.Expr) -> set[str]:
    return {table.name for table in node.find_all(exp.Table) if not table.text("db")}


class _Staging:
    """The CTEs of one query, which of them become views, and the statement of each step."""

    def __init__(self, tree: exp.Expr, with_: exp.With, prefix: str) -> None:
        self.ctes: list[exp.CTE] = list(with_.expressions)
        self.names = [cte.alias for cte in self.ctes]
        self.prefix = prefix
        self.body = tree.copy()
        self.body.set("with_", None)
        self.reads = {cte.alias: _table_refs(cte.this) & set(self.names) for cte in self.ctes}
        uses = dict.fromkeys(self.names, 0)
        for node in [*(cte.this for cte in self.ctes), self.body]:
            for table in node.find_all(exp.Table):
                if table.name in uses and not table.text("db"):
                    uses[table.name] += 1
        self.recursive = {name for name in self.names if name in self.reads[name]}
        self.staged = {name for name in self.names if uses[name] > 1 or name in self.recursive}

    def renamed(self, node: exp.Expr, keep: str | None = None) -> exp.Expr:
        """``node`` reading the staged CTEs (but ``keep``) from their views."""

        def rename(table: exp.Expression) -> exp.Expression:
            if (
                isinstance(table, exp.Table)
                and table.name in self.staged
                and table.name != keep
                and not table.text("db")
            ):
                alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(table.name))
                return exp.Table(this=exp.to_identifier(self.prefix + table.name), alias=alias)
            return table

        return node.copy().transform(rename)

    def inline_needs(self, node: exp.Expr, own: str | None) -> list[exp.CTE]:
        """The non-staged CTEs ``node`` reads, directly or through each other, in definition order."""
        needed: set[str] = set()
        todo = list(_table_refs(node) & set(self.names))
        while todo:
            name = todo.pop()
            if name not in needed and name not in self.staged and name != own:
                needed.add(name)
                todo.extend(self.reads[name])
        return [cte for cte in self.ctes if cte.alias in needed]

    def statement(self, select: exp.Expr, own: exp.CTE | None) -> str:
        """DuckDB SQL of one step: the final ``select``, or ``select * from`` the staged CTE ``own``."""
        own_name = own.alias if own is not None else None
        inline = self.inline_needs(select if own is None else own.this, own_name)
        with_ctes = [self.renamed(cte) for cte in inline]
        if own is not None:
            with_ctes.append(self.renamed(own, keep=own_name))
        query = self.renamed(select, keep=own_name)
        if with_ctes:
            query.set("with_", exp.With(expressions=with_ctes, recursive=own_name in self.recursive))
        return query.sql(dialect=_READ)


@lru_cache(maxsize=256)
def stages(sql: str, prefix: str) -> tuple[Stage, ...]:
    """Split a query's CTEs into steps Spark materializes one at a time (DuckDB-dialect SQL each).

    Why: Spark inlines every CTE at each reference before planning, so a query whose CTEs build on
    each other several times over (the dedup model: ~20 CTEs, most read twice) grows a plan exponential
    in its depth — minutes of analysis or an OutOfMemoryError for 13k rows. A CTE read more than once (or
    recursive) becomes a view named ``<prefix><cte>``, computed once; the others stay inline in the step
    that reads them. The last stage is the final select.
    """
    tree = sqlglot.parse_one(sql, read=_READ)
    with_ = tree.args.get("with_")
    if not isinstance(with_, exp.With) or not with_.expressions:
        return (Stage(None, sql),)
    staging = _Staging(tree, with_, prefix)
    steps = [
        Stage(prefix + cte.alias, staging.statement(exp.select("*").from_(cte.alias), cte))
        for cte in staging.ctes
        if cte.alias in staging.staged
    ]
    steps.append(Stage(None, staging.statement(staging.body, None)))
    return tuple(steps)
