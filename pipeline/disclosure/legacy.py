"""The old disclosure control object, kept only while analyses move to :class:`Release`.

Rules (data contract section 3, thresholds from ``config/defaults.yml`` ``disclosure``):

- a count of 1..min_count-1 (default 1..7) is suppressed; other counts are rounded to the
  nearest ``rounding`` (default 5); 0 is published as 0;
- a percentage is computed from the *rounded* counts;
- a percentage, mean, rate or any statistic resting on fewer than ``min_base`` people is
  suppressed; so is one whose numerator count is suppressed;
- secondary suppression: within a group of cells that add up to a published total, when
  suppressed cells could be recovered from the total (a single suppressed cell, or suppressed
  cells that together are still a small number) the next smallest cells are suppressed too.

A suppressed value is ``None`` (``null`` in JSON, ``[c]`` in tables) and its dotted path is
recorded, so ``results.json`` can list it under ``suppressed``.

Switching control off (``enabled: false``) publishes exact figures and stamps the report
NOT FOR PUBLICATION (see :mod:`pipeline.render`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..config import DisclosureSettings


class SDC:
    """Disclosure control with a shared record of what was suppressed.

    ``key`` arguments are dotted paths relative to this object's prefix; :meth:`scoped` makes a
    child that prefixes its paths (``sdc.scoped("targets").count(3, "diabetes.high.n")`` records
    ``targets.diabetes.high.n``).
    """

    def __init__(self, rules: DisclosureSettings | None = None, prefix: str = "",
                 _record: list[str] | None = None):
        self.rules = rules or DisclosureSettings()
        self.prefix = prefix
        self._record: list[str] = _record if _record is not None else []

    # ------------------------------------------------------------------ bookkeeping
    def scoped(self, name: str) -> "SDC":
        return SDC(self.rules, self._path(name), self._record)

    @property
    def enabled(self) -> bool:
        return self.rules.enabled

    @property
    def suppressed(self) -> list[str]:
        """Every suppressed path recorded so far (under any scope), sorted, unique."""
        return sorted(set(self._record))

    def _path(self, key: str | None) -> str:
        if not key:
            return self.prefix
        return f"{self.prefix}.{key}" if self.prefix else key

    def _suppress(self, key: str | None) -> None:
        path = self._path(key)
        if path:
            self._record.append(path)

    # ------------------------------------------------------------------ primitives
    def is_small(self, n: float | int | None) -> bool:
        """True for a count that must not be published (1..min_count-1)."""
        if n is None or (isinstance(n, float) and math.isnan(n)):
            return False
        return self.enabled and 0 < n < self.rules.min_count

    def round_count(self, n: int) -> int:
        if not self.enabled:
            return int(n)
        r = self.rules.rounding
        # integers never sit exactly half way when r is odd; for even r round half up
        return int(math.floor(n / r + 0.5) * r)

    def base_ok(self, n: float | int | None) -> bool:
        """May a statistic resting on ``n`` people be published?"""
        if n is None:
            return False
        return (not self.enabled) or n >= self.rules.min_base

    # ------------------------------------------------------------------ counts
    def count(self, n: int | None, key: str | None = None) -> int | None:
        """One count: suppressed when small, otherwise rounded."""
        if n is None:
            return None
        n = int(n)
        if self.is_small(n):
            self._suppress(key)
            return None
        return self.round_count(n)

    def _secondary(self, cells: Mapping[Any, int]) -> set[Any]:
        """Which cells of a group to suppress, primary and secondary."""
        hidden = {k for k, v in cells.items() if self.is_small(v)}
        if not self.enabled or not hidden:
            return hidden
        candidates = sorted((v, str(k), k) for k, v in cells.items() if k not in hidden and v > 0)
        while candidates and (len(hidden) == 1 or sum(cells[k] for k in hidden) < self.rules.min_count):
            hidden.add(candidates.pop(0)[2])
        return hidden

    def counts(self, cells: Mapping[Any, int], key: str | None = None) -> dict[Any, int | None]:
        """A group of counts that sum to a published total, with secondary suppression.

        Keys of the result are those of ``cells``; suppressed paths are ``<key>.<cell>``.
        """
        hidden = self._secondary(cells)
        out: dict[Any, int | None] = {}
        for k, v in cells.items():
            sub = f"{key}.{k}" if key else str(k)
            if k in hidden:
                self._suppress(sub)
                out[k] = None
            else:
                out[k] = self.round_count(int(v))
        return out

    # ------------------------------------------------------------------ derived figures
    def _round(self, x: float, decimals: int) -> float:
        return float(round(float(x), decimals)) + 0.0  # + 0.0 turns -0.0 into 0.0

    def pct(self, numerator: int, denominator: int, key: str | None = None) -> float | None:
        """A percentage computed from rounded counts; suppressed on a small base or numerator."""
        if denominator is None or numerator is None or not self.base_ok(denominator) or self.is_small(numerator):
            self._suppress(key)
            return None
        den = self.round_count(int(denominator))
        if den == 0:
            self._suppress(key)
            return None
        return self._round(self.round_count(int(numerator)) / den * 100, self.rules.pct_decimals)

    def distribution(self, cells: Mapping[Any, int], key: str | None = None,
                     total: int | None = None) -> dict[Any, float | None]:
        """Percentages of a group of counts (each cell / total), with secondary suppression.

        ``total`` defaults to the sum of the cells. The whole distribution is suppressed when the
        total rests on fewer than ``min_base`` people.
        """
        total = int(sum(cells.values())) if total is None else int(total)
        out: dict[Any, float | None] = {}
        if not self.base_ok(total) or total == 0:
            for k in cells:
                self._suppress(f"{key}.{k}" if key else str(k))
                out[k] = None
            return out
        den = self.round_count(total)
        return {k: None if v is None else self._round(v / den * 100, self.rules.pct_decimals)
                for k, v in self.counts(cells, key).items()}

    def stat(self, value: float | None, base_n: int | None, key: str | None = None,
             decimals: int = 2, events: int | None = None) -> float | None:
        """A mean, rate, proportion, ratio or test statistic resting on ``base_n`` people.

        ``events``: the count of people behind the numerator, when there is one (e.g. the number
        readmitted behind a cumulative incidence); a small ``events`` suppresses the figure too.
        """
        if value is None or (isinstance(value, float) and math.isnan(value)) \
                or not self.base_ok(base_n) or (events is not None and self.is_small(events)):
            self._suppress(key)
            return None
        return self._round(value, decimals)

    def interval(self, lo: float | None, hi: float | None, base_n: int | None,
                 key: str | None = None, decimals: int = 2, events: int | None = None) -> list[float] | None:
        """A confidence interval ``[lo, hi]`` under the same rule as :meth:`stat`."""
        if lo is None or hi is None or any(isinstance(x, float) and math.isnan(x) for x in (lo, hi)) \
                or not self.base_ok(base_n) or (events is not None and self.is_small(events)):
            self._suppress(key)
            return None
        return [self._round(lo, decimals), self._round(hi, decimals)]
