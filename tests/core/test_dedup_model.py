"""Meta's dedup model (queries/dedup_model.sql -> copy_verdicts) on hand-built timelines.

Each case lists copies as (channel, event_id, minute received) and the expected per-copy verdict, worked
out by hand from SPEC §4 / reference §1; the comment on each case says how.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capi_core.models import IncomingEvent
from capi_core.store import Store
from tests.factories import copy, load

H = 60  # minutes per hour


@dataclass(frozen=True)
class V:
    """Expected verdict of one copy (kept: line_no of the kept copy; None = itself)."""

    verdict: str
    reason: str | None = None
    merged: bool = False
    window: int | None = 1
    repeat: bool = False
    kept: int | None = None


C = V("counted")


def verdicts(store: Store) -> dict[int, dict[str, Any]]:
    """copy_verdicts keyed by line_no, with the kept copy's line_no."""
    rows = store.query(
        "verdicts",
        """select e.line_no, v.verdict, v.reason, v.merged, v.window_no, v.same_channel_repeat,
                  k.line_no as kept_line
           from copy_verdicts as v
           join events as e on e.fingerprint = v.fingerprint and e.occurrence = v.occurrence
           join events as k on k.fingerprint = v.kept_fingerprint and k.occurrence = v.kept_occurrence""",
    ).dicts()
    return {r["line_no"]: r for r in rows}


def build(store: Store, spec: list[tuple[Any, ...]]) -> None:
    """Copies from (channel, event_id, minute[, user_data]) tuples; line_no = position + 1."""
    events: list[IncomingEvent] = []
    for line, item in enumerate(spec, start=1):
        channel, event_id, minute, *rest = item
        extra: dict[str, Any] = {"user_data": rest[0]} if rest else {}
        events.append(copy(channel, "Purchase", event_id, minute, line_no=line, **extra))
    load(store, events)


def assert_verdicts(store: Store, expected: dict[int, V]) -> None:
    got = verdicts(store)
    for line, want in expected.items():
        row = got[line]
        actual = V(
            row["verdict"], row["reason"], row["merged"], row["window_no"], row["same_channel_repeat"],
            None if row["kept_line"] == line else row["kept_line"],
        )  # fmt: skip
        assert actual == want, f"line {line}"


CASES: dict[str, tuple[list[tuple[Any, ...]], dict[int, V]]] = {
    # browser first, server 1 min later: one window with both channels, browser (first) kept.
    "simple_merge": (
        [("browser", "A", 0), ("server", "A", 1)],
        {1: V("counted", merged=True), 2: V("discarded", "duplicate_of_browser", True, kept=1)},
    ),
    # server at 0, browser at 10 min: more than 5 min apart, so the first copy (server) is kept.
    "browser_after_server_over_5_min": (
        [("server", "A", 0), ("browser", "A", 10)],
        {1: V("counted", merged=True), 2: V("discarded", "duplicate_of_server", True, kept=1)},
    ),
    # server at 0, browser at 4 min: within 5 min, Meta favours the browser even though it came second.
    "browser_within_5_min_kept": (
        [("server", "A", 0), ("browser", "A", 4)],
        {1: V("discarded", "duplicate_of_browser", True, kept=2), 2: V("counted", merged=True)},
    ),
    # exactly 5 min apart is still "within 5 minutes" (<=).
    "browser_at_exactly_5_min_kept": (
        [("server", "A", 0), ("browser", "A", 5)],
        {1: V("discarded", "duplicate_of_browser", True, kept=2), 2: V("counted", merged=True)},
    ),
    # two server copies, no browser copy: one-channel window, both counted, the second flagged.
    "one_channel_repeats_counted": (
        [("server", "A", 0), ("server", "A", 30)],
        {1: C, 2: V("counted", repeat=True)},
    ),
    # browser 0, server 2, browser 3 (all < 48 h): one merged window; first browser kept, the second
    # browser is a same-channel repeat inside a merged window, the server a duplicate of the browser.
    "three_copies_merged_window": (
        [("browser", "A", 0), ("server", "A", 2), ("browser", "A", 3)],
        {
            1: V("counted", merged=True),
            2: V("discarded", "duplicate_of_browser", True, kept=1),
            3: V("discarded", "repeat_in_merged_window", True, kept=1),
        },
    ),
    # browser at 0 anchors [0, 48 h]: server at 47 h is inside (merged); server at 49 h opens window 2,
    # alone there, so it is counted again.
    "47h_inside_49h_new_window": (
        [("browser", "A", 0), ("server", "A", 47 * H), ("server", "A", 49 * H)],
        {
            1: V("counted", merged=True),
            2: V("discarded", "duplicate_of_browser", True, kept=1),
            3: V("counted", window=2),
        },
    ),
    # exactly 48 h after the anchor is still inside (<=).
    "exactly_48h_inside": (
        [("browser", "A", 0), ("server", "A", 48 * H)],
        {1: V("counted", merged=True), 2: V("discarded", "duplicate_of_browser", True, kept=1)},
    ),
    # 0 h, 40 h, 60 h, 100 h: window 1 anchored at 0 holds 0 and 40; 60 > 48 opens window 2 anchored at
    # 60, which holds 100 (<= 108). Gaps never exceed 48 h, so a gap rule would wrongly make one window.
    "chain_of_windows": (
        [("server", "A", 0), ("server", "A", 40 * H), ("server", "A", 60 * H), ("server", "A", 100 * H)],
        {
            1: C,
            2: V("counted", repeat=True),
            3: V("counted", window=2),
            4: V("counted", window=2, repeat=True),
        },
    ),
    # a browser + server pair 50 h apart: two one-copy windows, both counted, neither merged.
    "pair_outside_window": (
        [("browser", "A", 0), ("server", "A", 50 * H)],
        {1: C, 2: V("counted", window=2)},
    ),
    # no event_id: server 1 min after a browser copy with the same fbp is discarded (fbp_match).
    "missing_id_fbp_match": (
        [("browser", None, 0), ("server", None, 1)],
        {1: V("counted", merged=True, window=None), 2: V("discarded", "fbp_match", True, None, kept=1)},
    ),
    # no event_id, server BEFORE the browser copy: Meta only merges when the browser arrives first.
    "missing_id_server_first_not_matched": (
        [("server", None, 0), ("browser", None, 1)],
        {1: V("counted", window=None), 2: V("counted", window=None)},
    ),
    # one browser copy absorbs at most one server copy: two server copies, one browser -> one discarded
    # (the first server copy, paired in order), the other counted.
    "missing_id_one_to_one": (
        [("browser", None, 0), ("server", None, 1), ("server", None, 2)],
        {
            1: V("counted", merged=True, window=None),
            2: V("discarded", "fbp_match", True, None, kept=1),
            3: V("counted", window=None),
        },
    ),
    # no event_id, server 49 h after the browser copy: outside 48 h, not matched.
    "missing_id_fbp_too_late": (
        [("browser", None, 0), ("server", None, 49 * H)],
        {1: V("counted", window=None), 2: V("counted", window=None)},
    ),
    # different fbp but the same external_id: the external_id fallback matches them.
    "missing_id_external_id_fallback": (
        [
            ("browser", None, 0, {"fbp": "fb.1.1.1", "external_id": "u1"}),
            ("server", None, 1, {"fbp": "fb.1.1.2", "external_id": "u1"}),
        ],
        {
            1: V("counted", merged=True, window=None),
            2: V("discarded", "external_id_match", True, None, kept=1),
        },
    ),
    # a browser copy kept for a merged event_id window cannot also absorb a server copy without id.
    "kept_browser_does_not_absorb": (
        [("browser", "A", 0), ("server", "A", 1), ("server", None, 2)],
        {
            1: V("counted", merged=True),
            2: V("discarded", "duplicate_of_browser", True, kept=1),
            3: V("counted", window=None),
        },
    ),
    # an unmerged browser copy with event_id (browser-only window) can absorb a server copy without id.
    "browser_only_key_absorbs": (
        [("browser", "A", 0), ("server", None, 2)],
        {1: V("counted", merged=True), 2: V("discarded", "fbp_match", True, None, kept=1)},
    ),
    # two browser copies then two server copies, all without id: one run, both servers paired in order.
    "missing_id_two_pairs_in_one_run": (
        [("browser", None, 0), ("browser", None, 1), ("server", None, 2), ("server", None, 3)],
        {
            1: V("counted", merged=True, window=None),
            2: V("counted", merged=True, window=None),
            3: V("discarded", "fbp_match", True, None, kept=1),
            4: V("discarded", "fbp_match", True, None, kept=2),
        },
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_verdicts(store: Store, name: str) -> None:
    spec, expected = CASES[name]
    build(store, spec)
    assert_verdicts(store, expected)


def test_case_mismatch_not_merged(store: Store) -> None:
    """'purchase' and 'Purchase' with the same event_id are different keys: both counted (2 windows of 1)."""
    load(
        store, [copy("browser", "Purchase", "A", 0, line_no=1), copy("server", "purchase", "A", 1, line_no=2)]
    )
    got = verdicts(store)
    assert [(got[i]["verdict"], got[i]["merged"]) for i in (1, 2)] == [("counted", False)] * 2


def test_different_pixel_not_merged(store: Store) -> None:
    """Same name and event_id on pixels 111 and 222: dedup only within one pixel, both counted."""
    load(
        store,
        [
            copy("browser", "Purchase", "A", 0, line_no=1),
            copy("server", "Purchase", "A", 1, line_no=2, pixel_id="222"),
        ],
    )
    got = verdicts(store)
    assert [(got[i]["verdict"], got[i]["merged"]) for i in (1, 2)] == [("counted", False)] * 2


def test_null_received_at_counted_without_window(store: Store) -> None:
    """A copy with no event_time and no sent_at has no receipt time: counted, window null."""
    event = copy("server", "Purchase", "A", 0, line_no=1)
    event.event_time_raw, event.sent_at = None, None
    load(store, [event, copy("browser", "Purchase", "A", 0, line_no=2)])
    got = verdicts(store)
    assert (got[1]["verdict"], got[1]["window_no"], got[1]["merged"]) == ("counted", None, False)
    assert (got[2]["verdict"], got[2]["window_no"]) == ("counted", 1)


def test_one_row_per_event_and_dedup_key(store: Store) -> None:
    """Every events row gets exactly one verdict; dedup_key joins pixel, name, id with \\x1f."""
    build(store, [("browser", "A", 0), ("server", None, 1)])
    rows = store.query("keys", "select dedup_key from copy_verdicts order by dedup_key nulls last").rows
    assert rows == [("111\x1fPurchase\x1fA",), (None,)]


def test_reused_key_with_5000_copies_is_fast(store: Store) -> None:
    """5,000 copies of one key ('undefined'), one every 30 min alternating channels, over ~104 days.

    Windows: anchored at 0, then at the first copy after each 48 h: copies every 30 min -> every window
    holds 97 copies (0..48 h inclusive) and the next starts 48.5 h after, so 5000 copies -> ceil(5000/97)
    = 52 windows; each has both channels, so exactly one copy per window is counted.
    """
    events = [
        copy("browser" if i % 2 == 0 else "server", "Purchase", "undefined", i * 30, line_no=i + 1)
        for i in range(5000)
    ]
    started = time.monotonic()
    load(store, events)
    elapsed = time.monotonic() - started
    counted, windows = store.query(
        "count", "select count(*) filter (where verdict = 'counted'), max(window_no) from copy_verdicts"
    ).rows[0]
    assert (counted, windows) == (52, 52)
    assert elapsed < 30  # ingest included; the model alone takes well under a second


def _timeline(seed: int, copies: int) -> list[tuple[str, str | None, int]]:
    rng = random.Random(seed)
    return [
        (rng.choice(["browser", "server"]), rng.choice(["A", "B", None]), rng.randrange(0, 120 * H, 7))
        for _ in range(copies)
    ]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), copies=st.integers(1, 12))
def test_invariants(tmp_path_factory: pytest.TempPathFactory, seed: int, copies: int) -> None:
    """Invariants of the model on random timelines (seeded):

    - the counted copies do not depend on the order the copies are listed / ingested;
    - every window with both channels has exactly one counted copy;
    - swapping the channel labels of every copy keeps the number of counted keyed copies (the 5-minute
      browser preference can change which copy, not how many).
    """
    spec = _timeline(seed, copies)

    def counted(order: list[int], swap: bool = False) -> tuple[int, int, list[int]]:
        with Store(tmp_path_factory.mktemp("s") / "s.duckdb") as store:
            events = []
            for i in order:
                channel, event_id, minute = spec[i]
                if swap:
                    channel = "server" if channel == "browser" else "browser"
                events.append(
                    copy(channel, "Purchase", event_id, minute, line_no=i + 1, custom_data={"n": i})
                )
            load(store, events)
            keyed = store.query(
                "keyed",
                "select count(*) from copy_verdicts where verdict = 'counted' and dedup_key is not null",
            ).scalar()
            bad_windows = store.query(
                "windows",
                """select count(*) from (
                     select v.dedup_key, v.window_no from copy_verdicts v
                     join events e on e.fingerprint = v.fingerprint and e.occurrence = v.occurrence
                     where v.dedup_key is not null and v.window_no is not null
                     group by all
                     having count(distinct e.channel) = 2
                        and count(*) filter (where v.verdict = 'counted') <> 1)""",
            ).scalar()
            lines = [r[0] for r in store.query(
                "lines",
                """select e.line_no from copy_verdicts v join events e using (fingerprint, occurrence)
                   where v.verdict = 'counted' order by e.line_no""",
            ).rows]  # fmt: skip
            return int(keyed), int(bad_windows), lines

    forward = counted(list(range(len(spec))))
    backward = counted(list(reversed(range(len(spec)))))
    assert forward == backward
    assert forward[1] == 0
    assert counted(list(range(len(spec))), swap=True)[0] == forward[0]
