"""What an SPC analysis returns: the limits, each month's point and the series' result.

Plain frozen dataclasses, free of pandas, so the publish stage can read them without heavy imports.
The vocabulary (directions, rule names, icon kinds) is defined here once and imported everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

# Improvement directions a caller may pass.
#: decimals of the published mean and limits; the words and labels show them as published
LIMIT_DECIMALS = 2

HIGHER = "higher"  # higher is better
LOWER = "lower"  # lower is better
NEITHER = "neither"  # no direction is better
DIRECTIONS = (HIGHER, LOWER, NEITHER)

# The four NHS England "Making Data Count" special cause rules, by the names points carry.
OUTSIDE_LIMITS = "outside_limits"  # (a) a single point beyond the process limits
SHIFT = "shift"  # (b) a run of points all above or all below the mean
TREND = "trend"  # (c) a run of points all increasing or all decreasing
TWO_OF_THREE = "two_of_three"  # (d) 2 of 3 consecutive points beyond 2 sigma, same side of the mean
RULES = (OUTSIDE_LIMITS, SHIFT, TREND, TWO_OF_THREE)

# How a point (and the series' latest point) is classified.
COMMON_CAUSE = "common_cause"
IMPROVEMENT = "improvement"
CONCERN = "concern"
NEUTRAL = "neither"  # special cause where the caller set no improvement direction
HIGH = "high"
LOW = "low"

# Icon kinds: variation (from the latest point) and assurance (target against the process limits).
VARIATION_ICONS = (
    COMMON_CAUSE,
    f"{IMPROVEMENT}_{HIGH}", f"{IMPROVEMENT}_{LOW}",
    f"{CONCERN}_{HIGH}", f"{CONCERN}_{LOW}",
    f"{NEUTRAL}_{HIGH}", f"{NEUTRAL}_{LOW}",
)
CONSISTENT_PASS = "consistent_pass"
CONSISTENT_FAIL = "consistent_fail"
HIT_AND_MISS = "hit_and_miss"
ASSURANCE_ICONS = (CONSISTENT_PASS, CONSISTENT_FAIL, HIT_AND_MISS)


@dataclass(frozen=True)
class Limits:
    """XmR limits of one series: mean ± 2.66 × mean moving range, and the 1σ and 2σ lines."""

    mean: float
    mean_moving_range: float
    sigma: float  # mean moving range / 1.128
    lower: float  # lower process limit
    upper: float  # upper process limit
    n_points: int  # values the limits rest on
    n_moving_ranges: int
    trial: bool  # fewer values than the guidance's minimum for stable limits
    baseline: tuple[str, str] | None  # first and last month of the caller's baseline, if one was given

    def sigma_line(self, k: float, side: int) -> float:
        """The mean plus ``side`` × ``k`` sigma (side +1 above, -1 below)."""
        return self.mean + side * k * self.sigma


@dataclass(frozen=True)
class Point:
    """One month. ``value`` None is a suppressed or missing month: not plotted, not in any rule."""

    label: str
    value: float | None
    rules: tuple[str, ...] = ()  # the rules that flagged it, in RULES order
    signal: str | None = None  # COMMON_CAUSE, IMPROVEMENT, CONCERN, NEUTRAL; None if not assessed
    side: str | None = None  # HIGH or LOW for a special cause point

    @property
    def special(self) -> bool:
        return bool(self.rules)


@dataclass(frozen=True)
class SPCResult:
    """The XmR analysis of one series. ``limits`` None means too few values, and ``reason`` says why."""

    points: tuple[Point, ...]
    direction: str
    target: float | None
    run_length: int
    limits: Limits | None
    reason: str | None = None
    variation: str | None = None  # one of VARIATION_ICONS, judged on the latest point with a value
    assurance: str | None = None  # one of ASSURANCE_ICONS, or None (no target, no direction, no limits)

    @property
    def plotted(self) -> tuple[Point, ...]:
        return tuple(p for p in self.points if p.value is not None)

    @property
    def latest(self) -> Point | None:
        """The latest month with a value: the point the variation icon describes."""
        shown = self.plotted
        return shown[-1] if shown else None

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(p.label for p in self.points if p.value is None)

    @property
    def trial(self) -> bool:
        return self.limits is not None and self.limits.trial
