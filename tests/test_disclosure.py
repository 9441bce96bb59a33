"""Disclosure control: the contract's rules, secondary suppression, and switching it off."""

import pytest

from pipeline.config import DisclosureSettings
from pipeline.disclosure import SDC, fmt


@pytest.fixture
def sdc():
    return SDC(DisclosureSettings())


@pytest.mark.parametrize("n,expected", [(0, 0), (1, None), (7, None), (8, 10), (12, 10), (13, 15), (17, 15),
                                        (18, 20), (102, 100), (103, 105)])
def test_count_suppresses_1_to_7_and_rounds_to_5(sdc, n, expected):
    assert sdc.count(n, "x") == expected


def test_suppressed_paths_are_recorded_with_scope(sdc):
    t = sdc.scoped("targets").scoped("diabetes")
    t.count(3, "high.n")
    sdc.count(50, "activity.referrals")
    assert sdc.suppressed == ["targets.diabetes.high.n"]


def test_percentage_uses_rounded_counts(sdc):
    # 13 of 42: rounded 15 of 40 = 37.5%, not 30.95%
    assert sdc.pct(13, 42, "p") == 37.5
    assert sdc.suppressed == []


def test_percentage_on_small_base_or_small_numerator_is_suppressed(sdc):
    assert sdc.pct(3, 7, "a") is None      # base under 8 people
    assert sdc.pct(3, 100, "b") is None    # numerator is a small count
    assert sdc.pct(0, 100, "c") == 0.0     # a true zero is not disclosive
    assert sdc.suppressed == ["a", "b"]


def test_stat_rests_on_people(sdc):
    assert sdc.stat(2.3456, 8, "m") == 2.35
    assert sdc.stat(2.3, 7, "small") is None
    assert sdc.stat(12.0, 500, "cif", events=5) is None
    assert sdc.interval(1.0, 2.0, 7, "ci") is None
    assert sdc.interval(1.234, 2.345, 80, "ci2", decimals=1) == [1.2, 2.3]
    assert {"small", "cif", "ci"} <= set(sdc.suppressed)


def test_secondary_suppression_single_small_cell_hides_next_smallest(sdc):
    cells = {"a": 40, "b": 12, "c": 3, "d": 0}
    out = sdc.counts(cells, "g")
    assert out == {"a": 40, "b": None, "c": None, "d": 0}
    assert sdc.suppressed == ["g.b", "g.c"]


def test_secondary_suppression_keeps_going_until_hidden_total_is_safe(sdc):
    # two small cells (1 + 2 = 3) could be recovered together from the total: hide more
    out = sdc.counts({"a": 1, "b": 2, "c": 30, "d": 9}, "g")
    assert out["a"] is None and out["b"] is None and out["d"] is None
    assert out["c"] == 30


def test_no_small_cells_no_suppression(sdc):
    assert sdc.counts({"a": 10, "b": 20}) == {"a": 10, "b": 20}
    assert sdc.suppressed == []


def test_distribution_from_rounded_counts_with_secondary_suppression(sdc):
    out = sdc.distribution({"0": 40, "1": 12, "2": 3, "3": 0}, "prior_pct")
    # total 55 -> 55; 40 -> 40 -> 72.7%; 12 and 3 hidden; 0 -> 0.0
    assert out == {"0": 72.7, "1": None, "2": None, "3": 0.0}


def test_distribution_on_small_total_is_all_suppressed(sdc):
    out = sdc.distribution({"0": 4, "1": 2}, "p")
    assert out == {"0": None, "1": None}
    assert sdc.suppressed == ["p.0", "p.1"]


def test_switched_off_publishes_exact_values():
    off = SDC(DisclosureSettings(enabled=False))
    assert off.count(3) == 3
    assert off.pct(1, 3) == 33.3
    assert off.counts({"a": 1, "b": 50}) == {"a": 1, "b": 50}
    assert off.suppressed == []


def test_thresholds_are_configurable():
    strict = SDC(DisclosureSettings(min_count=11, rounding=10, min_base=20))
    assert strict.count(10) is None
    assert strict.count(14) == 10
    assert strict.stat(1.0, 19) is None


def test_fmt_marks_suppressed_cells():
    assert fmt(None) == "[c]"
    assert fmt(1234) == "1,234"
    assert fmt(12.345, 1, "%") == "12.3%"
