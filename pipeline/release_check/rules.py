"""The disclosure rules as the report publishes them, and what each lets a reader infer about a
true value (Kerckhoffs: the attacker knows the rules).

- A published count ``c`` that is a multiple of the rounding base ``r`` is the true count
  rounded half up: the truth lies within ``c - r/2 .. c + r/2`` (``c - 2 .. c + 2`` for 5).
  A non-zero published count also says the truth is at least ``min_count`` (smaller counts
  are never published) and a published 0 is exactly 0.
- A count that is not a multiple of ``r`` was not rounded: it is exact.
- A published null in a table of counts hides a count of at least 1 (a 0 is published as 0).
- A figure with ``d`` decimals stands for anything within half a unit of its last decimal.

The rules come from the report's own ``disclosure_control`` block; a report without one is read
with the project defaults (``config/defaults.yml``), as the data contract documents them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .. import paths

Interval = tuple[float, float]
#: slack on float comparisons of published decimals (a JSON float is a binary approximation)
EPS = 1e-9


@dataclass(frozen=True)
class Rules:
    enabled: bool = True
    min_count: int = 8
    rounding: int = 5
    min_base: int = 8
    pct_decimals: int = 1
    facts: frozenset[str] = frozenset()  # paths the report says describe no people (published as they are)
    #: the report says a mean of whole numbers carries no more decimals than its base can hide
    mean_decimals_by_base: bool = False

    @classmethod
    def of(cls, results: dict[str, Any]) -> Rules:
        block = results.get("disclosure_control")
        if not isinstance(block, dict):
            block = _defaults()
        names = ("enabled", "min_count", "rounding", "min_base", "pct_decimals")
        stmt = results.get("disclosure") or {}
        return cls(**{k: block[k] for k in names if k in block}, facts=frozenset(stmt.get("facts") or []),
                   mean_decimals_by_base=bool(stmt.get("mean_decimals_by_base")))

    def mean_decimals(self, lowest_base: int) -> int:
        """The most decimals the report's rules allow a mean of whole numbers over a count whose
        published value allows ``lowest_base`` at the least."""
        return max(int(math.floor(math.log10(max(lowest_base, 1)))), 0)

    def text(self) -> str:
        if not self.enabled:
            return "disclosure control is OFF (exact figures, NOT FOR PUBLICATION)"
        return (f"counts of 1 to {self.min_count - 1} suppressed, other counts rounded to the nearest "
                f"{self.rounding}, figures on fewer than {self.min_base} people suppressed, "
                f"percentages to {self.pct_decimals} decimal(s)")

    # -------------------------------------------------------------- counts
    def round_count(self, n: int) -> int:
        """The published value of a count of ``n`` (rounded half up)."""
        r = self.rounding if self.enabled else 1
        return int(math.floor(n / r + 0.5) * r)

    def small(self, n: float) -> bool:
        return 0 < n < self.min_count

    def count_range(self, value: Any, hidden_low: int = 1) -> tuple[int, int | None]:
        """What a published count says about the true count: ``(low, high)``, ``high`` None
        for unbounded. ``hidden_low`` is the least a published null can hide."""
        if value is None:
            return hidden_low, None
        c = int(value)
        r = self.rounding if self.enabled else 1
        if c % r:
            return c, c  # not on the rounding grid: exact
        if c == 0:
            return 0, 0
        lo = math.ceil(c - r / 2 - EPS)
        hi = math.ceil(c + r / 2 - EPS) - 1
        if self.enabled and hi >= self.min_count:
            lo = max(lo, self.min_count)
        return lo, hi

    def publishable_rounded(self) -> int:
        """The smallest non-zero count the rules ever publish."""
        return self.round_count(self.min_count)

    def is_publishable(self, c: int) -> bool:
        return c == 0 or c >= self.publishable_rounded()


def _defaults() -> dict[str, Any]:
    import yaml

    with open(paths.CONFIG / "defaults.yml", encoding="utf-8") as f:
        return dict(yaml.safe_load(f)["disclosure"])


# ---------------------------------------------------------------------------------- decimals

def decimals(x: float) -> int:
    """Decimals a published float shows (``12.5`` -> 1, ``40.0`` -> 0: a trailing zero may or may
    not be significant, so the wider reading is taken)."""
    if isinstance(x, int) or float(x).is_integer():
        return 0
    text = repr(float(x))
    if "e" in text:
        return 12
    return len(text.split(".")[1])


def around(x: float, d: int) -> Interval:
    """Everything that rounds to ``x`` at ``d`` decimals (ties either way)."""
    h = 0.5 * 10.0 ** (-d)
    return x - h - EPS, x + h + EPS


def within(x: float, iv: Interval) -> bool:
    return iv[0] <= x <= iv[1]


def integers_in(lo: float, hi: float) -> range:
    return range(math.ceil(lo - EPS), math.floor(hi + EPS) + 1)
