"""queries.load_query: ``-- @include NAME`` lines expand to the named query file (nested, cycle-guarded)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from capi_core import queries
from capi_core.queries import load_query


@pytest.fixture
def fake_queries(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Query files served from a dict (name -> text) instead of capi_core/queries; cache cleared around."""
    files: dict[str, str] = {}

    def text(name: str) -> str:
        return files[name]

    monkeypatch.setattr(queries, "_query_text", text)
    load_query.cache_clear()
    yield files
    load_query.cache_clear()


def test_include_replaces_the_line_with_the_fragment(fake_queries: dict[str, str]) -> None:
    """The include line (indentation allowed) becomes the fragment's text; other lines stay as they are."""
    fake_queries["main"] = "with a as (select 1),\n  -- @include spark/_frag\nselect * from b\n"
    fake_queries["spark/_frag"] = "b as (select * from a)\n"
    assert load_query("main") == "with a as (select 1),\nb as (select * from a)\nselect * from b\n"


def test_includes_nest_and_repeat(fake_queries: dict[str, str]) -> None:
    """A fragment may include another; the same fragment may be included twice (not a cycle)."""
    fake_queries["main"] = "-- @include one\n-- @include two\n"
    fake_queries["one"] = "1\n-- @include two\n"
    fake_queries["two"] = "2\n"
    assert load_query("main") == "1\n2\n2\n"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"main": "-- @include main\n"}, "include cycle: main -> main"),
        ({"main": "-- @include a\n", "a": "-- @include b\n", "b": "-- @include a\n"}, "main -> a -> b -> a"),
    ],
)
def test_include_cycle_is_an_error(fake_queries: dict[str, str], files: dict[str, str], message: str) -> None:
    fake_queries.update(files)
    with pytest.raises(ValueError, match=message):
        load_query("main")


@pytest.mark.parametrize("name", ["../secret", "/etc/passwd", "Spark/x", "a-b", "a//b", "a.sql", ""])
def test_bad_include_name_is_an_error(fake_queries: dict[str, str], name: str) -> None:
    fake_queries["main"] = f"select 1\n-- @include {name}\n"
    with pytest.raises(ValueError, match="bad include name"):
        load_query("main")


def test_include_must_be_the_whole_line(fake_queries: dict[str, str]) -> None:
    """Text mentioning @include inside another comment or statement is left alone."""
    fake_queries["main"] = "-- see -- @include x\nselect 1 -- @include x\n"
    assert load_query("main") == fake_queries["main"]


def test_browser_queries_expand_their_shared_user_data_chain() -> None:
    """The three browser Spark ingest queries share spark/_browser_user_data; no include line survives."""
    load_query.cache_clear()
    for name in ("ingest_browser_events", "ingest_fbq_jsonl", "ingest_pixel_beacons"):
        text = load_query(f"spark/{name}")
        assert "-- @include" not in text
        assert text.count("user_final as (") == 1
