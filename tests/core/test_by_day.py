"""capi_core.metrics.by_day: which per-day rows a scope covers (the SQL scope predicate, row by row) and how
they fold (sums; example lists merged smallest first, at most five). Figures are hand-computed below."""

from __future__ import annotations

import datetime as dt

import pytest

from capi_core.metrics import by_day
from capi_core.models import Scope

D1, D2, D3 = dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)
ROWS = [
    {"pixel_id": "p", "event_name": "Purchase", "day": D1, "n": 2, "ids": ["b", "a"], "fps": ["x", "x"]},
    {"pixel_id": "p", "event_name": "Purchase", "day": D2, "n": 3, "ids": ["a", "c"], "fps": ["w"]},
    {"pixel_id": "p", "event_name": "Lead", "day": D3, "n": 1, "ids": None, "fps": None},
    {"pixel_id": None, "event_name": "Purchase", "day": None, "n": 4, "ids": ["z"], "fps": ["v"]},
]


@pytest.mark.parametrize(
    ("scope", "covered"),
    [
        (Scope(), [0, 1, 2, 3]),  # no filter: even the row without day or pixel
        (Scope(date_from=D2), [1, 2]),  # a null day fails any date filter, as event_time >= $date_from
        (Scope(date_to=D2), [0, 1]),  # date_to is inclusive (the query binds the next midnight)
        (Scope(date_from=D2, date_to=D2), [1]),
        (Scope(pixel_id="p"), [0, 1, 2]),  # a null pixel fails a pixel filter
        (Scope(event_names=("Lead", "Other")), [2]),
    ],
)
def test_covers_is_the_scope_predicate(scope: Scope, covered: list[int]) -> None:
    assert [i for i, row in enumerate(ROWS) if by_day.covers(scope, row)] == covered


def test_fold_sums_and_merges_examples() -> None:
    """Purchase on pixel p over D1..D2: n = 2 + 3 = 5; distinct ids {a, b, c} sorted; fingerprints keep
    duplicates (x, x, w -> w, x, x). The null pixel's group sorts last, as SQL orders nulls last."""
    folded = by_day.fold(ROWS, Scope(), keys=("pixel_id", "event_name"), sums=("n",),
                         distinct_lists=("ids",), lists=("fps",))  # fmt: skip
    assert folded == [
        {"pixel_id": "p", "event_name": "Lead", "n": 1, "ids": None, "fps": None},
        {"pixel_id": "p", "event_name": "Purchase", "n": 5, "ids": ["a", "b", "c"], "fps": ["w", "x", "x"]},
        {"pixel_id": None, "event_name": "Purchase", "n": 4, "ids": ["z"], "fps": ["v"]},
    ]


def test_fold_keeps_the_five_smallest_examples() -> None:
    """Days holding 0..4 and 3..7 (each its 5 smallest): the scope's 5 smallest distinct are 0..4."""
    rows = [
        {"pixel_id": "p", "event_name": "E", "day": D1, "n": 5, "ids": ["0", "1", "2", "3", "4"]},
        {"pixel_id": "p", "event_name": "E", "day": D2, "n": 5, "ids": ["3", "4", "5", "6", "7"]},
    ]
    (row,) = by_day.fold(rows, Scope(), keys=("event_name",), sums=("n",), distinct_lists=("ids",))
    assert row == {"event_name": "E", "n": 10, "ids": ["0", "1", "2", "3", "4"]}


def test_fold_unites_sets_in_full() -> None:
    """Days holding {0..4, null} and {3..7}: the set is all 8 distinct non-null values (never cut), so its
    length is SQL's count(distinct) over both days; a day with no set adds nothing."""
    rows = [
        {"pixel_id": "p", "event_name": "E", "day": D1, "ids": ["0", "1", "2", "3", "4", None]},
        {"pixel_id": "p", "event_name": "E", "day": D2, "ids": ["3", "4", "5", "6", "7"]},
        {"pixel_id": "p", "event_name": "E", "day": D3, "ids": None},
    ]
    (row,) = by_day.fold(rows, Scope(), keys=("event_name",), sums=(), sets=("ids",))
    assert row == {"event_name": "E", "ids": ["0", "1", "2", "3", "4", "5", "6", "7"]}
    (row,) = by_day.fold(rows, Scope(date_from=D2), keys=("event_name",), sums=(), sets=("ids",))
    assert len(row["ids"]) == 5
