"""Checking a ``Scope`` a user typed against the store before a report is built on it.

Owns: refusing a scope that can only give an empty answer because of a typo — an event name or pixel id
the store does not hold, a date range that ends before it starts — with an ``InputError`` that lists
what the store does hold. An empty report that looks like "no problem" is worse than an error.

Must not: judge scopes that are merely empty for the data's dates (a quiet week is a true answer), or
be used by the dashboard's pickers, which only offer values the store holds.
"""

from __future__ import annotations

from capi_core.errors import InputError
from capi_core.models import Scope
from capi_core.queries import quote_ident
from capi_core.store import Store
from capi_core.weekly_review import plain

#: How many of the store's values an error lists.
SHOWN = 12


def listed(values: list[str], limit: int = SHOWN) -> str:
    """``values`` for a one-line message: the first ``limit``, then how many more."""
    shown = ", ".join(plain(v) for v in values[:limit])
    more = len(values) - limit
    return f"{shown}, … ({more} more)" if more > 0 else shown


def _quoted(values: list[str]) -> str:
    return ", ".join(f"'{plain(v)}'" for v in values)


def check_dates(scope: Scope) -> None:
    """Raise InputError when ``--from`` is after ``--to``."""
    if scope.date_from and scope.date_to and scope.date_from > scope.date_to:
        raise InputError(
            f"--from {scope.date_from} is after --to {scope.date_to}",
            hint=f"swap them: --from {scope.date_to} --to {scope.date_from}",
        )


def stored_values(store: Store, column: str) -> list[str]:
    """The store's event names (``event_name``) or pixel ids (``pixel_id``), most copies first."""
    name = quote_ident(column, ["event_name", "pixel_id"])
    sql = (
        f"select {name} from events where {name} is not null "  # noqa: S608 (allow-listed identifier)
        f"group by {name} order by count(*) desc, {name}"
    )
    return [str(row[0]) for row in store.query(f"stored {column} values", sql).rows]


def check_scope(store: Store, scope: Scope) -> None:
    """Raise InputError for a scope naming an event or pixel the store does not hold, or reversed dates.

    Names are compared exactly, as the metric queries filter; the error lists the store's values, most
    copies first, so the right spelling can be copied.
    """
    check_dates(scope)
    if scope.event_names:
        events = stored_values(store, "event_name")
        missing = [name for name in scope.event_names if name not in events]
        if missing:
            held = f"events: {listed(events)}" if events else "it holds no events yet"
            raise InputError(
                f"no event {_quoted(missing)} in the store; {held}",
                hint="event names are case-sensitive, as sent to Meta",
            )
    if scope.pixel_id is not None:
        pixels = stored_values(store, "pixel_id")
        if scope.pixel_id not in pixels:
            held = f"pixels: {listed(pixels)}" if pixels else "it holds no events yet"
            raise InputError(f"no pixel {_quoted([scope.pixel_id])} in the store; {held}")
