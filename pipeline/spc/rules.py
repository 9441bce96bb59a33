"""The NHS England "Making Data Count" special cause rules on one series of values.

Each rule returns, for every value, the directions (+1 high, -1 low) in which it flags that value; a
value can be flagged in both directions by the trend rule (the last point of a fall that is also the
first of a rise). The values are the plotted ones in time order: a suppressed month is skipped, so runs
and 2-of-3 windows are counted over the months that have a value (MDC: "empty dates are skipped").

(a) outside_limits: a value above the upper or below the lower process limit.
(b) shift: ``run_length`` or more consecutive values all above or all below the mean. A value exactly on
    the mean is on neither side, so it ends the run (as in the MDC SQL query and NHSRplotthedots).
(c) trend: ``run_length`` or more consecutive values, each higher (or each lower) than the one before;
    every value of the run is flagged. Two equal consecutive values end a trend ("there cannot be any
    pauses in the run", MDC XmR testing guide). The trend is the only rule that may cross the mean.
(d) two_of_three: in any 3 consecutive values all on the same side of the mean, 2 or 3 lie beyond the 2σ
    line on that side and within the process limits; those (and only those) are flagged. A value beyond
    the process limits does not count here (rule (a) flags it), as in the MDC Single Chart Tool v5.0.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.spc.model import OUTSIDE_LIMITS, SHIFT, TREND, TWO_OF_THREE, Limits

Flags = list[set[int]]  # per value: the directions it is flagged in


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def outside_limits(values: Sequence[float], lim: Limits) -> Flags:
    return [{1} if v > lim.upper else {-1} if v < lim.lower else set() for v in values]


def _runs(signs: Sequence[int]) -> list[tuple[int, int, int]]:
    """Maximal runs of equal non-zero signs as (start, end exclusive, sign)."""
    out, start = [], 0
    for i in range(1, len(signs) + 1):
        if i == len(signs) or signs[i] != signs[start]:
            if signs[start] != 0:
                out.append((start, i, signs[start]))
            start = i
    return out


def shift(values: Sequence[float], lim: Limits, run_length: int) -> Flags:
    flags: Flags = [set() for _ in values]
    for start, end, s in _runs([_sign(v - lim.mean) for v in values]):
        if end - start >= run_length:
            for i in range(start, end):
                flags[i].add(s)
    return flags


def trend(values: Sequence[float], run_length: int) -> Flags:
    flags: Flags = [set() for _ in values]
    steps = [_sign(b - a) for a, b in zip(values, values[1:], strict=False)]  # step i joins values i, i+1
    for start, end, s in _runs(steps):
        if end - start + 1 >= run_length:  # k steps span k + 1 values
            for i in range(start, end + 1):
                flags[i].add(s)
    return flags


def two_of_three(values: Sequence[float], lim: Limits) -> Flags:
    flags: Flags = [set() for _ in values]
    upper2, lower2 = lim.sigma_line(2, 1), lim.sigma_line(2, -1)
    zone = [1 if upper2 < v <= lim.upper else -1 if lim.lower <= v < lower2 else 0 for v in values]
    side = [_sign(v - lim.mean) for v in values]
    for i in range(len(values) - 2):
        s = side[i]
        if s != 0 and side[i + 1] == s and side[i + 2] == s and sum(z == s for z in zone[i:i + 3]) >= 2:
            for j in range(i, i + 3):
                if zone[j] == s:
                    flags[j].add(s)
    return flags


def apply_rules(values: Sequence[float], lim: Limits, run_length: int) -> list[dict[str, set[int]]]:
    """For each value, the rules that flag it and in which directions (rules that do not flag it left out)."""
    by_rule = {
        OUTSIDE_LIMITS: outside_limits(values, lim),
        SHIFT: shift(values, lim, run_length),
        TREND: trend(values, run_length),
        TWO_OF_THREE: two_of_three(values, lim),
    }
    return [{rule: flags[i] for rule, flags in by_rule.items() if flags[i]} for i in range(len(values))]
