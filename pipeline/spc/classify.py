"""What a special cause means given the improvement direction, and the two MDC summary icons.

A flagged point is an *improvement* when any rule flags it in the better direction, otherwise a
*concern*; where rules disagree (only the trend rule can, as it crosses the mean) improvement wins, as in
the MDC Excel tool ("The Excel tool shows blue where there is a conflict", MDC XmR testing guide). With no
improvement direction every special cause is *neither* (purple), high or low by the first rule in the
order outside_limits, trend, two_of_three, shift (the order NHSRplotthedots labels points in).

The variation icon is judged on the latest point with a value ("the variation icon is determined by the
last point"); the assurance icon compares the target with the *process limits*: a target beyond the limits
on the good side is consistently hit, beyond them on the bad side consistently failed, and a target
between the limits (or on one) is hit and miss. No direction, no target or no limits: no assurance icon.
"""

from __future__ import annotations

from pipeline.spc.model import (
    COMMON_CAUSE,
    CONCERN,
    CONSISTENT_FAIL,
    CONSISTENT_PASS,
    DIRECTIONS,
    HIGH,
    HIGHER,
    HIT_AND_MISS,
    IMPROVEMENT,
    LOW,
    LOWER,
    NEUTRAL,
    OUTSIDE_LIMITS,
    RULES,
    SHIFT,
    TREND,
    TWO_OF_THREE,
    Limits,
    Point,
)

NEUTRAL_ORDER = (OUTSIDE_LIMITS, TREND, TWO_OF_THREE, SHIFT)


def better_sign(direction: str) -> int:
    """+1 when higher is better, -1 when lower is better, 0 for neither."""
    if direction not in DIRECTIONS:
        raise ValueError(f"improvement direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    return {HIGHER: 1, LOWER: -1}.get(direction, 0)


def classify(label: str, value: float, flags: dict[str, set[int]], direction: str) -> Point:
    """The point for a value flagged by ``flags`` (rule -> directions), as returned by rules.apply_rules."""
    if not flags:
        return Point(label, value, (), COMMON_CAUSE, None)
    rules = tuple(r for r in RULES if r in flags)
    better = better_sign(direction)
    if better == 0:
        first = next(r for r in NEUTRAL_ORDER if r in flags)
        s = 1 if 1 in flags[first] else -1
        return Point(label, value, rules, NEUTRAL, HIGH if s > 0 else LOW)
    improving = any(better in signs for signs in flags.values())
    signal, s = (IMPROVEMENT, better) if improving else (CONCERN, -better)
    return Point(label, value, rules, signal, HIGH if s > 0 else LOW)


def variation_icon(latest: Point) -> str:
    """The variation icon kind for the latest point with a value (one of model.VARIATION_ICONS)."""
    if not latest.special:
        return COMMON_CAUSE
    return f"{latest.signal}_{latest.side}"


def assurance_icon(limits: Limits, target: float | None, direction: str) -> str | None:
    better = better_sign(direction)
    if target is None or better == 0:
        return None
    if target > limits.upper:
        return CONSISTENT_FAIL if better > 0 else CONSISTENT_PASS
    if target < limits.lower:
        return CONSISTENT_PASS if better > 0 else CONSISTENT_FAIL
    return HIT_AND_MISS
