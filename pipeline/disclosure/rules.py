"""The disclosure rules as arithmetic: what is small, how a count is rounded, how precise a figure
may be. Thresholds come from ``config/defaults.yml`` ``disclosure`` (a borough may override them).

- a count of 1..``min_count``-1 (default 1..7) is not published; 0 is;
- other counts are rounded to the nearest ``rounding`` (default 5), half up;
- a figure resting on fewer than ``min_base`` people (default 8) is not published;
- a curve moves in steps of :attr:`Rules.step` events: the smallest multiple of ``rounding`` that is
  at least ``min_count`` (default 10), so no step of a published curve is a small count;
- a mean of whole numbers (scores, contacts) carries no more decimals than its base can hide:
  with ``n`` people each of ``n - r/2 .. n + r/2`` (the base's rounding window) could give the
  published mean only when the mean's last digit is at least ``1/n``: 2 decimals from 100 people,
  1 from 10, whole numbers below that. Otherwise the mean pins down the exact number of people
  behind a rounded count.

With ``enabled: false`` nothing is hidden or rounded (the report is stamped NOT FOR PUBLICATION).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..config import DisclosureSettings


@dataclass(frozen=True)
class Rules:
    settings: DisclosureSettings

    @classmethod
    def default(cls) -> "Rules":
        return cls(DisclosureSettings())

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    @property
    def min_count(self) -> int:
        return self.settings.min_count

    @property
    def min_base(self) -> int:
        return self.settings.min_base

    @property
    def rounding(self) -> int:
        return self.settings.rounding

    @property
    def pct_decimals(self) -> int:
        return self.settings.pct_decimals

    def is_small(self, n: int | float | None) -> bool:
        """A count that must not be published (1..min_count-1)."""
        if n is None or (isinstance(n, float) and math.isnan(n)):
            return False
        return self.enabled and 0 < n < self.min_count

    def round_count(self, n: int) -> int:
        """Nearest multiple of ``rounding`` (half up); exact when control is off."""
        if not self.enabled:
            return int(n)
        r = self.rounding
        return int(math.floor(n / r + 0.5) * r)

    def base_ok(self, n: int | float | None) -> bool:
        """May a figure resting on ``n`` people be published?"""
        if n is None or (isinstance(n, float) and math.isnan(n)):
            return False
        return (not self.enabled) or n >= self.min_base

    @property
    def step(self) -> int:
        """Events per step of a published curve (1 when control is off)."""
        if not self.enabled:
            return 1
        return self.rounding * math.ceil(self.min_count / self.rounding)

    def round_cumulative(self, n: int) -> int:
        """A cumulative count on a published curve: up to the next multiple of :attr:`step`, less
        half a step (0 stays 0), as OpenSAFELY's Kaplan–Meier action rounds ("constant" method)."""
        if not self.enabled or n <= 0:
            return max(int(n), 0)
        k = self.step
        return int(math.ceil(n / k) * k - k // 2)

    @property
    def window(self) -> int:
        """How far below a rounded count the exact one may be (2 for rounding to 5)."""
        return 0 if not self.enabled else self.rounding // 2

    def mean_decimals(self, base: int, wanted: int) -> int:
        """Decimals for a mean of whole numbers resting on ``base`` people (see the module doc)."""
        if not self.enabled:
            return wanted
        lowest = max(self.round_count(int(base)) - self.window, 1)
        allowed = max(int(math.floor(math.log10(lowest))), 0)
        return min(wanted, allowed)


def rounded(x: float, decimals: int) -> float:
    """``x`` to ``decimals`` places as a float, with -0.0 turned into 0.0."""
    return float(round(float(x), decimals)) + 0.0
