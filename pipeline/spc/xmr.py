"""An XmR chart's analysis of one monthly series: ``xmr({"2021-04": 123, "2021-05": None, ...})``.

One set of limits per series, from every month with a value or, when the caller passes ``baseline``
(first and last month, inclusive), from the baseline months only, extended over the whole series (the MDC
"baseline"). Limits are never recalculated after a shift (no automatic rebasing).

A month whose value is None (suppressed by disclosure control, or missing) is not plotted and is skipped
by every calculation: the moving range is taken between the months either side of it and runs continue
across it, as the MDC XmR testing guide asks ("empty dates are skipped"; a blank month would otherwise
add a wrong moving range). A series with fewer than two values returns a result with ``limits`` None and
``reason`` saying why; a caller's error (a value that is not a number, months out of order, an unknown
improvement direction or baseline month) raises ValueError naming it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from pipeline.spc.classify import assurance_icon, better_sign, classify, variation_icon
from pipeline.spc.limits import MIN_POINTS, too_few, xmr_limits
from pipeline.spc.model import NEITHER, Point, SPCResult
from pipeline.spc.months import gaps_in_months
from pipeline.spc.rules import apply_rules

RUN_LENGTH = 7  # NHS England's shift and trend rules: a run of 7 points


def _number(label: str, value: object, what: str = "value") -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{label}: {what} {value!r} is not a finite number or None")
    return float(value)


def _baseline_slice(labels: list[str], baseline: tuple[str, str]) -> slice:
    first, last = baseline
    for month in (first, last):
        if month not in labels:
            raise ValueError(f"baseline month {month!r} is not in the series ({labels[0]} to {labels[-1]})")
    i, j = labels.index(first), labels.index(last)
    if j < i:
        raise ValueError(f"baseline ends ({last}) before it starts ({first})")
    return slice(i, j + 1)


def xmr(series: Mapping[str, float | int | None], *, direction: str = NEITHER, target: float | None = None,
        baseline: tuple[str, str] | None = None, run_length: int = RUN_LENGTH) -> SPCResult:
    """The XmR analysis of ``series`` (month label -> value or None, in time order).

    ``direction``: "higher" or "lower" is better, or "neither". ``target``: a value the measure should
    reach, judged against the process limits (assurance). ``baseline``: (first month, last month) the
    limits are computed from. ``run_length``: points in a shift or trend (7 by NHS England's rules; the
    MDC Single Chart Tool can be set to 6).
    """
    better_sign(direction)  # validates
    if isinstance(run_length, bool) or not isinstance(run_length, int) or run_length < 2:
        raise ValueError(f"run_length must be an integer of at least 2, not {run_length!r}")
    labels = list(series)
    if not labels:
        raise ValueError("the series is empty: give at least one month")
    problem = gaps_in_months(labels)
    if problem:
        raise ValueError(problem)
    values = [_number(label, series[label]) for label in labels]
    target = _number("target", target, "target")
    basis = values[_baseline_slice(labels, baseline)] if baseline else values
    basis_values = [v for v in basis if v is not None]
    if len(basis_values) < MIN_POINTS:
        return SPCResult(points=tuple(Point(lb, v) for lb, v in zip(labels, values, strict=True)),
                         direction=direction, target=target, run_length=run_length, limits=None,
                         reason=too_few(len(basis_values)) + (" in the baseline" if baseline else ""))
    limits = xmr_limits(basis_values, tuple(baseline) if baseline else None)
    shown = [(lb, v) for lb, v in zip(labels, values, strict=True) if v is not None]
    flags = iter(apply_rules([v for _, v in shown], limits, run_length))
    points = tuple(classify(lb, v, next(flags), direction) if v is not None else Point(lb, None)
                   for lb, v in zip(labels, values, strict=True))
    latest = next(p for p in reversed(points) if p.value is not None)
    return SPCResult(points=points, direction=direction, target=target, run_length=run_length, limits=limits,
                     variation=variation_icon(latest), assurance=assurance_icon(limits, target, direction))
