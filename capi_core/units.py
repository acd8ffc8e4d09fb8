"""One formatter per unit, for every figure a person reads: the report, the CLI, the pages and the
sentences of the checks all show a share as ``42.3 %``, a gap as ``+42.3 %``, a goal as ``75 %``, a count
as ``1,391``, money as ``USD 1,234.56``, an EMQ as ``6.1 / 10`` and a delay as ``4.2 min``.

Owns only the text of a number. Must not decide what a figure is (metrics do) or escape it for a format
(the renderers do). Charts format their axes in their own library's syntax, with the same shapes.
"""

from __future__ import annotations

DASH = "—"


def share(value: float | None) -> str:
    """A share of 0..1 as ``42.3 %``."""
    return DASH if value is None else f"{value * 100:.1f} %"


def signed_share(value: float | None) -> str:
    """A gap of -1..n as ``+42.3 %``."""
    return DASH if value is None else f"{value * 100:+.1f} %"


def share_range(low: float | None, high: float | None) -> str:
    """A gap that is a range: ``+12.0 % to +20.0 %`` (one figure when the bounds agree)."""
    if low == high or low is None or high is None:
        return signed_share(high if low is None else low)
    return f"{signed_share(low)} to {signed_share(high)}"


def count(value: float | None) -> str:
    """A number of things as ``1,391`` (a fractional count, such as Meta's reported purchases, rounded)."""
    return DASH if value is None else f"{value:,.0f}"


def count_range(low: int, high: int) -> str:
    """A count that is a range: ``1,200–1,260`` (one figure when the bounds agree)."""
    return count(high) if low == high else f"{low:,}–{high:,}"


def money(value: float | None, currency: str | None, *, whole: bool = False) -> str:
    """An amount with its currency: ``USD 1,234.56`` (no code when the data names none); ``whole``: an
    estimate, rounded to whole units (``USD 1,235``)."""
    if value is None:
        return DASH
    amount = f"{value:,.0f}" if whole else f"{value:,.2f}"
    return f"{currency} {amount}" if currency else amount


def points(change: float | None) -> str:
    """A change of a share, in percentage points: ``-26.0 pts`` (never ``%``: 40 % to 30 % is -10 pts)."""
    return DASH if change is None else f"{change * 100:+.1f} pts"


def goal(value: float) -> str:
    """A goal or a tolerance, a round share: ``75 %`` (also a chart's share axis)."""
    return f"{value * 100:.0f} %"


def score(value: float | None) -> str:
    """An EMQ on Meta's 0-10 scale: ``6.1 / 10``."""
    return DASH if value is None else f"{value:.1f} / 10"


def seconds(value: float | None) -> str:
    """A delay: ``3 s``, ``4.2 min``, ``2.5 h``."""
    if value is None:
        return DASH
    if value < 120:
        return f"{value:,.0f} s"
    if value < 7200:
        return f"{value / 60:,.1f} min"
    return f"{value / 3600:,.1f} h"
