"""One formatter per unit (``capi_core.units``), and no other place that turns a share into text."""

from __future__ import annotations

import re

import pytest

from capi_core import units
from tests.source_lines import lines_matching


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (units.share(0.4234), "42.3 %"),
        (units.share(None), "—"),
        (units.signed_share(0.4234), "+42.3 %"),
        (units.signed_share(-0.05), "-5.0 %"),
        (units.share_range(0.151, 0.423), "+15.1 % to +42.3 %"),
        (units.share_range(0.2, 0.2), "+20.0 %"),
        (units.goal(0.75), "75 %"),
        (units.points(-0.26), "-26.0 pts"),
        (units.count(1391), "1,391"),
        (units.count_range(1517, 1876), "1,517–1,876"),
        (units.money(1234.5, "USD"), "USD 1,234.50"),
        (units.money(1234.5, None, whole=True), "1,234"),
        (units.score(6.04), "6.0 / 10"),
        (units.seconds(30), "30 s"),
        (units.seconds(252), "4.2 min"),
        (units.seconds(9000), "2.5 h"),
    ],
)
def test_each_unit_has_one_shape(text: str, expected: str) -> None:
    assert text == expected


def test_no_other_module_formats_a_share() -> None:
    """``:.1%``, ``:.0%`` or ``value * 100:.1f`` outside units.py would show a share a second way (chart
    libraries' own format strings, in plotly hover templates and matplotlib axes, are not Python's)."""
    python_share = re.compile(r"^(?!.*%\{).*(\{[^{}]*:[+]?\.\d%\}|\* 100:[+]?\.\d?f\})")
    assert lines_matching(python_share, owner="units.py") == []
