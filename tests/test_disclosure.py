"""The contract's rules as arithmetic (:class:`pipeline.disclosure.Rules`) and the mark of a
withheld value; the layer that applies them is tested in test_release.py."""

import pytest

from pipeline.config import DisclosureSettings
from pipeline.disclosure import Rules, fmt


@pytest.mark.parametrize("n,expected", [(0, 0), (1, None), (7, None), (8, 10), (12, 10), (13, 15), (17, 15),
                                        (18, 20), (102, 100), (103, 105)])
def test_count_suppresses_1_to_7_and_rounds_to_5(n, expected):
    rules = Rules(DisclosureSettings())
    assert (None if rules.is_small(n) else rules.round_count(n)) == expected


def test_switched_off_and_configurable_thresholds():
    off = Rules(DisclosureSettings(enabled=False))
    assert not off.is_small(3) and off.round_count(13) == 13
    strict = Rules(DisclosureSettings(min_count=11, rounding=10, min_base=20))
    assert strict.is_small(10) and strict.round_count(15) == 20 and not strict.base_ok(19)


def test_fmt_marks_suppressed_cells():
    assert fmt(None) == "[c]"
    assert fmt(1234) == "1,234"
    assert fmt(12.345, 1, "%") == "12.3%"
