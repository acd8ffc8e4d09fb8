"""One computation per run: memoized quality results follow ingest and undo, the all-pixel completeness is
folded exactly from the per-pixel one, and the one-pass key verdicts keep their denominators. Each test's
docstring says how its figures were computed."""

from __future__ import annotations

import hashlib
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capi_core.diagnostics import CHECKS
from capi_core.ingest import delete_batch
from capi_core.metrics.completeness import completeness
from capi_core.metrics.consent import consent
from capi_core.metrics.quality_sql import run_quality
from capi_core.models import Scope
from capi_core.store import Store
from tests.factories import FBP, copy, load


def missing_currency(store: Store) -> int:
    """Missing-currency copies of server Purchase over the whole store."""
    rows = completeness(store, Scope())
    currency = next(
        r for r in rows if (r.event_name, r.channel, r.parameter) == ("Purchase", "server", "currency")
    )
    return currency.outcomes.get("missing", 0)


def test_memo_follows_ingest_and_undo(store: Store) -> None:
    """Batch 1: one copy without currency -> 1; batch 2 adds another -> 2; undoing batch 2 -> 1 again."""
    first = load(store, [copy("server", event_id="a", custom_data={"value": 1.0})], label="one")
    assert missing_currency(store) == 1
    second = load(store, [copy("server", event_id="b", custom_data={"value": 1.0})], label="two")
    assert missing_currency(store) == 2
    assert delete_batch(store, second.batch_id)
    assert missing_currency(store) == 1
    assert delete_batch(store, first.batch_id)
    assert completeness(store, Scope()) == []


def test_memo_runs_each_query_once(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The six PARAM_* checks that read completeness, run twice over one scope, query it once; another
    scope folds the same per-day rows (metrics.by_day), so it queries nothing new either."""
    load(store, [copy("server", event_id="a", custom_data={"value": 1.0})])
    names: list[str] = []
    query = Store.query

    def counting(self: Store, name: str, sql: str, params: dict[str, Any] | None = None) -> Any:
        names.append(name)
        return query(self, name, sql, params)

    monkeypatch.setattr(Store, "query", counting)
    codes = ["PARAM_MISSING_REQUIRED", "PARAM_EVENT_TIME_MS", "PARAM_EVENT_TIME_STALE",
             "PARAM_EVENT_TIME_FUTURE", "PARAM_INVALID_CURRENCY", "PARAM_INVALID_VALUE"]  # fmt: skip
    for _ in range(2):
        for code in codes:
            CHECKS[code].run(store, Scope())
    completeness(store, Scope())  # the report's all-pixel figures come from the same computation
    assert names.count("quality_completeness") == 1
    completeness(store, Scope(event_names=("Purchase",)))
    assert names.count("quality_completeness") == 1


def test_memo_rows_are_copies(store: Store) -> None:
    """A caller changing its rows does not change what the next caller gets."""
    load(store, [copy("server", event_id="a")])
    rows = run_quality(store, "quality_event_names", Scope())
    rows[0]["copies"] = 99
    assert run_quality(store, "quality_event_names", Scope())[0]["copies"] == 1


def test_completeness_across_pixels(store: Store) -> None:
    """Pixel 111: ids 3, 5, 7, 9 lack currency; pixel 222: ids 1, 4, 6, 8 do. All pixels: 8 missing of
    8 copies, examples the 5 smallest ids as text: 1, 3, 4, 5, 6."""
    no_currency = {"value": 1.0}
    load(
        store,
        [copy("server", event_id=str(n), line_no=n, custom_data=no_currency) for n in (3, 5, 7, 9)]
        + [
            copy("server", event_id=str(n), line_no=10 + n, custom_data=no_currency, pixel_id="222")
            for n in (1, 4, 6, 8)
        ],
    )
    rows = [r for r in completeness(store, Scope()) if r.parameter == "currency"]
    assert [(r.pixel_id, r.copies, r.outcomes, r.examples) for r in rows] == [
        (None, 8, {"missing": 8}, {"missing": ["1", "3", "4", "5", "6"]})
    ]
    per_pixel = [r for r in completeness(store, Scope(), by_pixel=True) if r.parameter == "currency"]
    assert [(r.pixel_id, r.examples["missing"]) for r in per_pixel] == [
        ("111", ["3", "5", "7", "9"]),
        ("222", ["1", "4", "6", "8"]),
    ]


def _count_copies(store: Store) -> dict[tuple[Any, ...], tuple[int, list[str]]]:
    """The reference: currency outcomes counted copy by copy, keeping the 5 smallest example ids."""
    rows = store.query(
        "reference", "select event_name, channel, example_id, currency_check from copy_signal_checks"
    ).rows
    result: dict[tuple[Any, ...], tuple[int, list[str]]] = {}
    for event_name, channel, example_id, check in rows:
        key = (event_name, channel, "currency", check)
        count, found = result.get(key, (0, []))
        result[key] = (count + 1, sorted([*found, example_id])[:5])
    return result


@settings(max_examples=8, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=10_000))
def test_completeness_fold_matches_copies(seed: int) -> None:
    """Invariant: over random copies on three pixels, the all-pixel currency outcomes equal counting the
    copies directly (Purchase always carries currency rules), examples the 5 smallest ids as text."""
    rng = random.Random(seed)
    events = [
        copy(
            "server",
            event_id=f"e{rng.randrange(1000)}",
            line_no=n,
            pixel_id=rng.choice(["111", "222", "333"]),
            custom_data=rng.choice(
                [{"value": 1.0}, {"value": 1.0, "currency": "USD"}, {"value": 1.0, "currency": "$"}]
            ),
        )
        for n in range(1, rng.randrange(2, 30))
    ]
    with Store() as store:
        load(store, events)
        expected = _count_copies(store)
        rows = [r for r in completeness(store, Scope()) if r.parameter == "currency"]
    got = {
        (r.event_name, r.channel, r.parameter, outcome): (n, r.examples.get(outcome))
        for r in rows
        for outcome, n in r.outcomes.items()
    }
    assert {k: (n, ex if k[3] != "valid" else None) for k, (n, ex) in expected.items()} == got


def test_key_verdict_denominator(store: Store) -> None:
    """3 server Purchase copies, raw em on one: MATCH_UNHASHED_PII counts 1 of 3 (share 1/3), not 1 of
    the copies times the 16 keys the verdicts are unpivoted over."""
    raw = {"em": "jane@example.com", "fbp": FBP}
    hashed = {"em": hashlib.sha256(b"x@example.com").hexdigest(), "fbp": FBP}
    load(
        store,
        [
            copy("server", event_id="r", line_no=1, user_data=raw),
            copy("server", event_id="h", line_no=2, user_data=hashed),
            copy("server", event_id="n", line_no=3),
        ],
    )
    [finding] = CHECKS["MATCH_UNHASHED_PII"].run(store, Scope())
    assert (finding.count, finding.share, finding.examples) == (1, 1 / 3, ["r"])
    assert finding.message.startswith("1 of 3 ")


def test_consent_across_pixels(store: Store) -> None:
    """Pixel 111: ids 3, 5, 7 denied, 9 granted with LDU; pixel 222: ids 1, 4, 6 denied. All pixels: 7
    server copies, 6 denied, 1 LDU, examples the 5 smallest denied ids as text: 1, 3, 4, 5, 6."""
    load(
        store,
        [copy("server", event_id=str(n), line_no=n, consent="denied") for n in (3, 5, 7)]
        + [copy("server", event_id="9", line_no=9, consent="granted", data_processing_options=["LDU"])]
        + [
            copy("server", event_id=str(n), line_no=10 + n, consent="denied", pixel_id="222")
            for n in (1, 4, 6)
        ],
    )
    [server] = consent(store, Scope())
    assert (server.pixel_id, server.copies, server.denied, server.ldu) == (None, 7, 6, 1)
    assert server.denied_examples == ["1", "3", "4", "5", "6"]
    per_pixel = consent(store, Scope(), by_pixel=True)
    assert [(r.pixel_id, r.copies, r.denied, r.denied_examples) for r in per_pixel] == [
        ("111", 4, 3, ["3", "5", "7"]),
        ("222", 3, 3, ["1", "4", "6"]),
    ]
