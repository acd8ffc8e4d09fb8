"""``report_compare.differences``: the one meaning of "the same report" for engine parity."""

from __future__ import annotations

from capi_core.report_compare import differences


def test_equal_values_have_no_differences() -> None:
    """Ints equal to floats and floats 1e-12 apart (relative) are the same figure."""
    assert differences({"a": [1, 0.3], "b": "x"}, {"a": [1.0, 0.3 * (1 + 1e-12)], "b": "x"}) == []


def test_each_difference_is_named_by_its_path() -> None:
    """A text, a float off by 1e-6 (over the 1e-9 tolerance), a list length and a key set each differ."""
    expected = {"name": "a", "rate": 0.5, "ids": [1, 2], "k": {"x": 1}}
    actual = {"name": "b", "rate": 0.5 + 1e-6, "ids": [1], "k": {"y": 1}}
    assert differences(expected, actual) == [
        "/name: 'a' != 'b'",
        "/rate: 0.5 != 0.500001",
        "/ids: 2 items expected, 1 found",
        "/k: keys ['x', 'y']",
    ]


def test_a_number_is_not_a_text() -> None:
    """A float never equals a string, whatever its text."""
    assert differences(1.5, "1.5") == [": 1.5 != '1.5'"]
