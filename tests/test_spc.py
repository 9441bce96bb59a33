"""SPC (pipeline/spc): XmR limits, each special cause rule, gaps, trial limits and the icons' logic."""

import math

import pytest

from pipeline.spc import RUN_LENGTH, xmr
from pipeline.spc.limits import STABLE_MIN_POINTS, xmr_limits
from pipeline.spc.model import OUTSIDE_LIMITS, SHIFT, TREND, TWO_OF_THREE
from tests.test_spc_examples import months

# A flat, common cause series around 10 (mean 10, mean moving range 1): limits 7.34 to 12.66, 2 sigma 1.77.
FLAT = [10, 11, 10, 9, 10, 11, 10, 9, 10, 11, 10, 9, 10, 11, 10, 9, 10, 11, 10, 9]


def flagged(result, rule):
    return [i for i, p in enumerate(result.points) if rule in p.rules]


def test_limits_formula():
    lim = xmr_limits([1.0, 3.0, 2.0, 6.0])  # moving ranges 2, 1, 4
    assert lim.mean == 3.0
    assert lim.mean_moving_range == pytest.approx(7 / 3)
    assert lim.upper == pytest.approx(3 + 2.66 * 7 / 3)
    assert lim.lower == pytest.approx(3 - 2.66 * 7 / 3)
    assert lim.sigma == pytest.approx(7 / 3 / 1.128)
    assert lim.sigma_line(2, 1) == pytest.approx(3 + 2 * 7 / 3 / 1.128)
    assert lim.sigma_line(1, -1) == pytest.approx(3 - 7 / 3 / 1.128)


def test_flat_series_is_common_cause():
    r = xmr(months(FLAT), direction="higher")
    assert r.limits.mean == 10 and r.limits.mean_moving_range == 1
    assert not any(p.rules for p in r.points)
    assert r.variation == "common_cause"
    assert RUN_LENGTH == 7


def base(tail, **kwargs):
    """FLAT then ``tail``, with the limits fixed on FLAT (baseline: mean 10, limits 7.34 to 12.66, 2 sigma
    lines 8.23 and 11.77), so the points of ``tail`` (from index 20) do not move the limits."""
    return xmr(months(FLAT + list(tail)), baseline=("2023-01", "2024-08"), **kwargs)


def test_base_limits():
    lim = base([]).limits
    assert (lim.mean, lim.mean_moving_range) == (10, 1)
    assert (round(lim.lower, 2), round(lim.sigma_line(2, -1), 2), round(lim.sigma_line(2, 1), 2),
            round(lim.upper, 2)) == (7.34, 8.23, 11.77, 12.66)


def test_single_point_beyond_either_limit():
    r = base([13, 10, 7], direction="higher")
    assert flagged(r, OUTSIDE_LIMITS) == [20, 22]
    assert (r.points[20].signal, r.points[20].side) == ("improvement", "high")
    assert (r.points[22].signal, r.points[22].side) == ("concern", "low")
    assert r.variation == "concern_low"


def test_a_point_on_a_limit_is_inside():
    r = base([base([]).limits.upper])
    assert OUTSIDE_LIMITS not in r.points[-1].rules


@pytest.mark.parametrize("k,expected", [(6, []), (7, list(range(20, 27))), (9, list(range(20, 29)))])
def test_shift_needs_seven_points(k, expected):
    r = base([10.5] * k + [9.5, 10.5, 9.5], direction="higher")
    assert flagged(r, SHIFT) == expected
    assert {r.points[i].signal for i in expected} <= {"improvement"}


def test_shift_run_length_option():
    """The MDC Single Chart Tool may be set to 6: then a run of 6 flags."""
    assert flagged(base([10.5] * 6 + [9.5], run_length=6), SHIFT) == list(range(20, 26))


def test_shift_below_the_mean_is_a_concern_when_higher_is_better():
    r = base([10.5, 9.5, 9.5, 9.5, 9.5, 9.5, 9.5, 9.5, 10.5], direction="higher")
    assert flagged(r, SHIFT) == list(range(21, 28))
    assert {(r.points[i].signal, r.points[i].side) for i in range(21, 28)} == {("concern", "low")}


def test_a_point_on_the_mean_breaks_a_run():
    """4 above, one exactly on the mean, 4 above: no run of 7 (as the MDC SQL query and NHSRplotthedots)."""
    assert flagged(base([10.5] * 4 + [10] + [10.5] * 4 + [9]), SHIFT) == []
    assert flagged(base([10.5] * 4 + [10.4] + [10.5] * 4 + [9]), SHIFT) == list(range(20, 29))


def rise(k):
    """A rise of k values from 9.1 by 0.3 (crossing the mean, inside the 2 sigma lines), after a 12 and
    before an 8 that end it."""
    return [12] + [round(9.1 + 0.3 * i, 1) for i in range(k)] + [8]


@pytest.mark.parametrize("k,expected", [(6, []), (7, list(range(21, 28)))])
def test_trend_needs_seven_points(k, expected):
    r = base(rise(k), direction="lower")
    assert flagged(r, TREND) == expected
    assert flagged(r, SHIFT) == [] and flagged(r, TWO_OF_THREE) == []
    assert {(r.points[i].signal, r.points[i].side) for i in expected} <= {("concern", "high")}


def test_trend_is_ended_by_a_pause():
    """A repeated value ends a trend ("there cannot be any pauses in the run")."""
    paused = [12, 9.1, 9.4, 9.7, 10.0, 10.0, 10.3, 10.6, 10.9, 8]
    assert flagged(base(paused), TREND) == []
    paused[5] = 10.1
    assert flagged(base(paused), TREND) == list(range(21, 29))


def test_trend_crosses_the_mean():
    r = base(rise(7))
    run = flagged(r, TREND)
    assert r.points[run[0]].value < r.limits.mean < r.points[run[-1]].value


def test_two_of_three_beyond_two_sigma():
    """Two of three beyond 2 sigma (within the limits) on one side: those two are flagged, not the third;
    a point beyond the limits does not count for this rule (rule (a) flags it)."""
    r = base([11.9, 10.2, 11.9, 9], direction="higher")
    assert flagged(r, TWO_OF_THREE) == [20, 22]
    assert r.points[21].rules == ()
    assert {(r.points[i].signal, r.points[i].side) for i in (20, 22)} == {("improvement", "high")}
    one_beyond = base([11.9, 10.2, 13, 9])
    assert flagged(one_beyond, TWO_OF_THREE) == []
    assert flagged(one_beyond, OUTSIDE_LIMITS) == [22]
    assert flagged(base([10.5, 11.9, 11.9, 9]), TWO_OF_THREE) == [21, 22]
    assert flagged(base([8.1, 9.9, 8.1, 11]), TWO_OF_THREE) == [20, 22]


def test_two_of_three_needs_all_three_on_one_side():
    assert flagged(base([11.9, 9.5, 11.9, 9]), TWO_OF_THREE) == []
    assert flagged(base([11.9, 10, 11.9, 9]), TWO_OF_THREE) == []  # on the mean is on neither side


def test_each_point_carries_every_rule_that_flags_it():
    r = base([10.5] * 6 + [13, 9], direction="higher")
    assert r.points[26].rules == (OUTSIDE_LIMITS, SHIFT)
    assert r.points[25].rules == (SHIFT,)


def test_conflict_improvement_wins_and_neither_follows_rule_order():
    """A rise (improvement when higher is better) inside a run below the mean (a concern)."""
    tail = [8.5, 8.7, 8.9, 9.1, 9.3, 9.5, 9.7, 11]
    up = base(tail, direction="higher")
    assert set(flagged(up, TREND)) & set(flagged(up, SHIFT)) == set(range(20, 27))
    assert {(p.signal, p.side) for p in up.points[20:27]} == {("improvement", "high")}
    down = base(tail, direction="lower")
    assert {(p.signal, p.side) for p in down.points[20:27]} == {("improvement", "low")}
    neither = base(tail, direction="neither")
    assert {(p.signal, p.side) for p in neither.points[20:27]} == {("neither", "high")}  # trend before shift


def test_gap_is_skipped():
    """A suppressed month is not plotted, and the moving range is taken across it (MDC: empty dates are
    skipped); the limits equal those of the series without it."""
    values = FLAT[:5] + [None] + FLAT[5:]
    r = xmr(months(values))
    assert r.limits == xmr(months(FLAT)).limits
    assert r.points[5].value is None and r.points[5].rules == () and r.points[5].signal is None
    assert r.missing == ("2023-06",)
    assert len(r.plotted) == len(FLAT)
    small = xmr(months([10, None, 16, 12, 10])).limits  # ranges 6 (across the gap), 4, 2
    assert (small.n_moving_ranges, small.mean_moving_range, small.n_points) == (3, 4, 4)


def test_a_run_continues_across_a_gap():
    r = base([10.5] * 3 + [None] + [10.5] * 4 + [9])
    assert flagged(r, SHIFT) == [20, 21, 22, 24, 25, 26, 27]


def test_latest_missing_month_icon_judges_the_latest_value():
    r = xmr(months(FLAT + [14, None]), direction="higher")
    assert r.latest.label == "2024-09" and r.variation == "improvement_high"


@pytest.mark.parametrize("n,trial", [(STABLE_MIN_POINTS - 1, True), (STABLE_MIN_POINTS, False)])
def test_trial_limits_below_the_minimum(n, trial):
    r = xmr(months(FLAT[:n]))
    assert r.limits.trial is trial and r.trial is trial
    assert STABLE_MIN_POINTS == 15


def test_trial_counts_values_not_months():
    r = xmr(months(FLAT[:14] + [None, None]))
    assert r.limits.n_points == 14 and r.trial


def test_baseline_limits_and_trial():
    r = xmr(months(FLAT + [12, 12, 12, 12, 12, 12, 12]), direction="higher", baseline=("2023-01", "2023-10"))
    assert r.limits.n_points == 10 and r.trial
    assert r.limits.mean == pytest.approx(sum(FLAT[:10]) / 10)
    assert flagged(r, SHIFT)[-7:] == list(range(20, 27))


def test_no_rebasing_after_a_shift():
    """One set of limits for the whole series: a lasting shift stays flagged, limits are not recomputed."""
    r = xmr(months(FLAT + [14] * 12), direction="higher")
    assert r.limits == xmr_limits([float(v) for v in FLAT + [14] * 12])
    assert len(flagged(r, SHIFT)) >= 12


@pytest.mark.parametrize("values,reason", [
    ([None, None], "0 months with a value; XmR limits need at least 2"),
    ([5, None], "1 month with a value; XmR limits need at least 2"),
    ([5], "1 month with a value; XmR limits need at least 2"),
])
def test_too_few_values_is_a_result_not_an_error(values, reason):
    r = xmr(months(values), direction="higher", target=3)
    assert r.limits is None and r.reason == reason
    assert r.variation is None and r.assurance is None
    assert all(p.signal is None for p in r.points)


def test_too_few_in_the_baseline():
    r = xmr(months([5, None, 7, 8]), baseline=("2023-01", "2023-02"))
    assert r.limits is None and r.reason.endswith("in the baseline")


@pytest.mark.parametrize("direction,target,icon", [
    ("higher", 14, "consistent_fail"), ("higher", 6, "consistent_pass"), ("higher", 10, "hit_and_miss"),
    ("lower", 14, "consistent_pass"), ("lower", 6, "consistent_fail"), ("lower", 10, "hit_and_miss"),
    ("neither", 14, None), ("higher", None, None),
])
def test_assurance_against_the_process_limits(direction, target, icon):
    """Limits 7.34 to 12.66: a target outside them is consistently met or missed, inside hit and miss."""
    assert xmr(months(FLAT), direction=direction, target=target).assurance == icon


def test_assurance_uses_the_limits_not_the_data_range():
    """All values (9 to 11) are above a target of 8, but 8 is within the limits: hit and miss, as MDC."""
    r = xmr(months(FLAT), direction="higher", target=8)
    assert min(FLAT) > 8 and r.assurance == "hit_and_miss"


def test_a_target_on_a_limit_is_hit_and_miss():
    lim = xmr(months(FLAT)).limits
    assert xmr(months(FLAT), direction="higher", target=lim.upper).assurance == "hit_and_miss"


@pytest.mark.parametrize("kwargs,series,message", [
    ({"direction": "up"}, FLAT, "improvement direction must be one of higher, lower, neither"),
    ({}, FLAT[:3] + [math.nan], "2023-04: value nan is not a finite number or None"),
    ({}, FLAT[:3] + [True], "2023-04: value True is not a finite number or None"),
    ({}, FLAT[:3] + ["7"], "2023-04: value '7' is not a finite number or None"),
    ({"target": math.inf}, FLAT, "target: target inf is not a finite number or None"),
    ({"run_length": 1}, FLAT, "run_length must be an integer of at least 2"),
    ({"baseline": ("2022-01", "2023-05")}, FLAT, "baseline month '2022-01' is not in the series"),
    ({"baseline": ("2023-05", "2023-02")}, FLAT, "baseline ends (2023-02) before it starts (2023-05)"),
])
def test_caller_errors_raise(kwargs, series, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        xmr(months(series), **kwargs)


@pytest.mark.parametrize("series,message", [
    ({"2023-01": 1, "2023-03": 2}, "month 2023-03 does not follow 2023-01"),
    ({"2023-02": 1, "2023-01": 2}, "month 2023-01 does not follow 2023-02"),
    ({}, "the series is empty"),
])
def test_months_must_be_consecutive(series, message):
    with pytest.raises(ValueError, match=message):
        xmr(series)


def test_other_labels_are_taken_in_the_order_given():
    r = xmr({"week 1": 1, "week 3": 3, "week 2": 2})
    assert [p.label for p in r.points] == ["week 1", "week 3", "week 2"]
    assert r.limits.mean_moving_range == 1.5
