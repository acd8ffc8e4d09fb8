"""Meta's count as a range (issue 13, case 3), on hand-computed stores.

Meta says it removes duplicates "automatically" when fbp / external_id reach it from both channels, but
documents that merge only for events without an event_id. The dedup model keeps its single answer (the
point estimate, the upper bound); a server copy that carries an event_id and that the model counts on its
own lowers the bound by one when an earlier browser copy the model also left alone shares its fbp (else
its external_id) within 48 h, one to one. Every copy gets an fbp of its own unless the case shares one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from capi_core import dashboard_api as api
from capi_core.metrics import count_range, dedup, reconcile
from capi_core.metrics.dedup import DedupEventStats
from capi_core.models import IncomingEvent, Scope
from capi_core.report import build_report, render_markdown
from capi_core.store import Store
from tests.factories import PIXEL, T0, copy, load, load_truth, order

H = 60
REJECTED = {"error": {"code": 100, "error_subcode": 2804003, "fbtrace_id": "Ax"}}


def fbp(key: str, **more: Any) -> dict[str, Any]:
    return {"fbp": f"fb.1.1700000000000.{key}", **more}


def purchase(store: Store, scope: Scope | None = None, pixel: str = PIXEL) -> DedupEventStats:
    (stats,) = [
        s
        for s in dedup.dedup_by_event(store, scope or Scope())
        if (s.pixel_id, s.event_name) == (pixel, "Purchase")
    ]
    return stats


def pair(browser: dict[str, Any], server: dict[str, Any], minutes: float = 1) -> list[IncomingEvent]:
    """One browser Purchase at minute 0 and one server Purchase ``minutes`` later (fields per channel)."""
    b, s = dict(browser), dict(server)
    return [
        copy("browser", b.pop("event_name", "Purchase"), b.pop("event_id"), 0, line_no=1, **b),
        copy("server", s.pop("event_name", "Purchase"), s.pop("event_id"), minutes, line_no=2, **s),
    ]


@pytest.mark.parametrize(
    ("browser", "server", "minutes", "expected"),
    [
        # the redeploy case: the beacon lost its event_id, the server copy keeps one; same fbp -> 1 to 2
        ({"event_id": None, "user_data": fbp("x")}, {"event_id": "1001", "user_data": fbp("x")}, 1, (1, 2)),
        # ids differ ('#1001' / '1001'), same fbp: Meta may merge them by fbp too -> 1 to 2
        (
            {"event_id": "#1001", "user_data": fbp("x")},
            {"event_id": "1001", "user_data": fbp("x")},
            1, (1, 2),
        ),
        # only the hashed external_id is shared -> 1 to 2
        (
            {"event_id": None, "user_data": fbp("b", external_id="cust-7")},
            {"event_id": "1001", "user_data": fbp("s", external_id="cust-7")},
            1, (1, 2),
        ),
        # the server copy has no event_id: the model merges it itself (documented) -> exactly 1
        ({"event_id": None, "user_data": fbp("x")}, {"event_id": None, "user_data": fbp("x")}, 1, (1, 1)),
        # same event_id: merged by the model -> exactly 1
        ({"event_id": "1001", "user_data": fbp("b")}, {"event_id": "1001", "user_data": fbp("s")}, 1, (1, 1)),
        # the server copy arrived first: Meta's fbp method needs the browser event first -> exactly 2
        ({"event_id": None, "user_data": fbp("x")}, {"event_id": "1001", "user_data": fbp("x")}, -1, (2, 2)),
        # more than 48 h apart -> exactly 2
        (
            {"event_id": None, "user_data": fbp("x")},
            {"event_id": "1001", "user_data": fbp("x")},
            49 * H, (2, 2),
        ),
        # nothing shared -> exactly 2
        ({"event_id": None, "user_data": fbp("b")}, {"event_id": "1001", "user_data": fbp("s")}, 1, (2, 2)),
        # another event name (case): names must match exactly -> exactly 1 Purchase + 1 purchase
        (
            {"event_id": None, "user_data": fbp("x")},
            {"event_id": "1001", "user_data": fbp("x"), "event_name": "purchase"},
            1, (1, 1),
        ),
        # the server copy was rejected (logged Graph error): Meta never received it -> exactly 1
        (
            {"event_id": None, "user_data": fbp("x")},
            {"event_id": "1001", "user_data": fbp("x"), "response": REJECTED},
            1, (1, 1),
        ),
    ],
)  # fmt: skip
def test_the_range_of_one_browser_and_one_server_purchase(
    store: Store, browser: dict[str, Any], server: dict[str, Any], minutes: float, expected: tuple[int, int]
) -> None:
    load(store, pair(browser, server, minutes))
    stats = purchase(store)
    assert stats.estimated_meta_count_range == expected
    assert stats.estimated_meta_count == expected[1]  # the model's answer is the upper bound
    assert stats.key_merges == expected[1] - expected[0]


def test_key_merges_name_the_key_and_the_event_id(store: Store) -> None:
    """fbp shared with one beacon, external_id with another: one merge by each key, examples their ids."""
    load(
        store,
        [
            copy("browser", "Purchase", None, 0, line_no=1, user_data=fbp("x")),
            copy("server", "Purchase", "1001", 1, line_no=2, user_data=fbp("x")),
            copy("browser", "Purchase", None, 10, line_no=3, user_data=fbp("b2", external_id="c-2")),
            copy("server", "Purchase", "1002", 11, line_no=4, user_data=fbp("s2", external_id="c-2")),
        ],
    )
    merges = dedup.key_merges(store, Scope())[(PIXEL, "Purchase")]
    assert (merges["key_merges"], merges["fbp_merges"], merges["external_id_merges"]) == (2, 1, 1)
    assert purchase(store).key_merge_examples == ["1001", "1002"]
    assert purchase(store).estimated_meta_count_range == (2, 4)


def test_pairs_are_one_to_one_with_the_latest_browser_copies(store: Store) -> None:
    """One browser (fbp x) at 0 and at 5, three server copies (ids 1-3, fbp x) at 10, 11, 12: one run of 2
    browser and 3 server copies, 2 pairs -> 5 counted, 3 to 5. A browser copy at 20 after them and a 4th
    server copy at 21 form a second run: one more pair -> 7 counted, 4 to 7."""
    events = [
        copy("browser", "Purchase", None, 0, line_no=1, user_data=fbp("x")),
        copy("browser", "Purchase", None, 5, line_no=2, user_data=fbp("x")),
        *(copy("server", "Purchase", f"{n}", 9 + n, line_no=2 + n, user_data=fbp("x")) for n in (1, 2, 3)),
    ]
    load(store, events)
    assert purchase(store).estimated_meta_count_range == (3, 5)
    load(
        store,
        [
            copy("browser", "Purchase", None, 20, line_no=1, user_data=fbp("x")),
            copy("server", "Purchase", "4", 21, line_no=2, user_data=fbp("x")),
        ],
        label="later",
    )
    assert purchase(store).estimated_meta_count_range == (4, 7)


def test_a_browser_copy_the_model_merged_is_not_offered_again(store: Store) -> None:
    """The beacon (fbp x, no id) absorbs the server copy without event_id (the model's own fbp merge); a
    second server copy with id 1001 and fbp x finds no free browser copy -> 2 counted, exactly 2."""
    load(
        store,
        [
            copy("browser", "Purchase", None, 0, line_no=1, user_data=fbp("x")),
            copy("server", "Purchase", None, 1, line_no=2, user_data=fbp("x")),
            copy("server", "Purchase", "1001", 2, line_no=3, user_data=fbp("x")),
        ],
    )
    assert purchase(store).estimated_meta_count_range == (2, 2)


def test_a_merge_is_dated_by_the_server_copy(store: Store) -> None:
    """Beacon at 23:30 (no id), server copy with an id at 00:30 the next day: the possible merge lowers
    the second day's count, not the first's."""
    before_midnight = 11 * H + 30  # T0 is 12:00
    load(
        store,
        [
            copy("browser", "Purchase", None, before_midnight, line_no=1, user_data=fbp("x")),
            copy("server", "Purchase", "1001", before_midnight + H, line_no=2, user_data=fbp("x")),
        ],
    )
    first, second = T0.date(), T0.date().replace(day=T0.day + 1)
    assert purchase(store, Scope(date_from=first, date_to=first)).estimated_meta_count_range == (1, 1)
    assert purchase(store, Scope(date_from=second, date_to=second)).estimated_meta_count_range == (0, 1)


def _redeploy_store(store: Store) -> None:
    """Orders #1 and #2 (paid). #1: beacon without id + server copy '1' with the same fbp (the model counts
    both); #2: browser and server copies with id '2' (merged). Meta counts 2 to 3 for 2 orders."""
    load(
        store,
        [
            copy(
                "browser", "Purchase", None, 0, line_no=1, user_data=fbp("a"), custom_data={"order_id": "1"}
            ),
            copy("server", "Purchase", "1", 1, line_no=2, user_data=fbp("a"), custom_data={"order_id": "1"}),
            copy(
                "browser", "Purchase", "2", 10, line_no=3, user_data=fbp("b"), custom_data={"order_id": "2"}
            ),
            copy("server", "Purchase", "2", 11, line_no=4, user_data=fbp("c"), custom_data={"order_id": "2"}),
        ],
    )
    load_truth(store, [order("#1", 0, line_no=1), order("#2", 10, line_no=2)])


def test_the_reconciliation_count_and_gap_become_ranges(store: Store) -> None:
    """Truth 2; Meta 3 (point) or 2 (if Meta merges the fbp pair): gap +50 % or 0 %."""
    _redeploy_store(store)
    (recon,) = [r for r in reconcile.reconcile_all(store, Scope()) if r.event_name == "Purchase"]
    bounds = count_range.recon_range(recon, dedup.dedup_by_event(store, Scope()))
    assert (recon.truth_count, recon.meta_count) == (2, 3)
    assert (bounds.meta_count_low, bounds.meta_count_high, bounds.key_merges) == (2, 3, 1)
    assert (bounds.gap_pct_low, bounds.gap_pct_high) == (0.0, 0.5)
    assert bounds.is_range


def test_the_report_shows_the_ranges_with_the_reason(store: Store) -> None:
    _redeploy_store(store)
    report = build_report(store)
    (stats,) = [d for d in report.dedup if d.event_name == "Purchase"]
    assert stats.estimated_meta_count_range == (2, 3)
    assert [(r.event_name, r.meta_count_low, r.meta_count_high) for r in report.meta_count_ranges] == [
        ("Purchase", 2, 3)
    ]
    text = render_markdown(report)
    assert "| 2–3 |" in text  # the dedup table's Meta count
    assert "| 2–3 | +0.0 % to +50.0 % |" in text  # the reconciliation's Meta count and gap
    assert "1 server copies carry an event_id" in text and "remove duplicate events automatically" in text
    assert any("remove duplicate events automatically" in a for a in report.assumptions)


def test_the_overview_tile_shows_the_gap_as_a_range(store: Store) -> None:
    """Gap 0 % (good) to +50 % (bad): the tile cannot say, and its help says why."""
    _redeploy_store(store)
    tiles = {t.key: t for t in api.headlines(build_report(store))}
    tile = tiles["gap_count"]
    assert tile.display == "+0.0 % to +50.0 %"
    assert tile.status == "unknown"
    assert tile.value == 0.5  # the point estimate
    assert "between 2 and 3" in tile.help and "does not document" in tile.help


def test_without_undocumented_merges_nothing_changes(store: Store) -> None:
    """Every pair shares its event_id: one number everywhere, as before issue 13."""
    load(store, pair({"event_id": "1", "user_data": fbp("a")}, {"event_id": "1", "user_data": fbp("b")}))
    load_truth(store, [order("#1", 0)])
    report = build_report(store)
    tile = {t.key: t for t in api.headlines(report)}["gap_count"]
    assert tile.display == "+0.0 %" and tile.status == "good" and "between" not in tile.help
    assert "server copies carry an event_id" not in render_markdown(report)


DOCS = Path(__file__).resolve().parents[2] / "docs" / "meta-definitions.md"


@pytest.mark.parametrize(
    "needle",
    [
        "`estimated_meta_count_range`",
        "`meta_count_ranges`",
        "we take care to remove duplicate events automatically",
        "https://developers.facebook.com/documentation/ads-commerce/conversions-api/guides/end-to-end-implementation",
    ],
)
def test_definitions_page_names_the_range_and_meta_words(needle: str) -> None:
    assert needle in DOCS.read_text(encoding="utf-8")
