"""Tell "suppressed" apart from "not estimable" when publishing.

Some statistics cannot be computed from perfectly adequate data: a p-value when every change is
the same, a confidence interval around a cumulative incidence of 0, a mean change with a single
pair. :class:`EstimableSDC` wraps the project's :class:`~pipeline.disclosure.SDC`: a statistic
whose value is missing (None/NaN) while its base would pass disclosure control is published as
``None`` and listed in ``not_estimable`` (paths relative to the section), instead of being
recorded as *suppressed*, which would wrongly suggest disclosure control removed it. Anything
else goes to the SDC unchanged.
"""

from __future__ import annotations

import math
from typing import Any

from ..disclosure import SDC


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


class EstimableSDC:
    def __init__(self, sdc: SDC, prefix: str = "", record: list[str] | None = None):
        self._sdc = sdc
        self._prefix = prefix
        self.not_estimable: list[str] = record if record is not None else []

    def __getattr__(self, name: str) -> Any:  # count, counts, pct, distribution, rules, ...
        return getattr(self._sdc, name)

    def scoped(self, name: str) -> "EstimableSDC":
        return EstimableSDC(self._sdc.scoped(name), f"{self._prefix}{name}.", self.not_estimable)

    def _not_estimable(self, values: tuple, base_n: int | None, events: int | None) -> bool:
        return (any(_missing(v) for v in values) and self._sdc.base_ok(base_n)
                and not (events is not None and self._sdc.is_small(events)))

    def stat(self, value: float | None, base_n: int | None, key: str | None = None, decimals: int = 2,
             events: int | None = None) -> float | None:
        if self._not_estimable((value,), base_n, events):
            self.not_estimable.append(f"{self._prefix}{key}")
            return None
        return self._sdc.stat(value, base_n, key, decimals=decimals, events=events)

    def interval(self, lo: float | None, hi: float | None, base_n: int | None, key: str | None = None,
                 decimals: int = 2, events: int | None = None) -> list[float] | None:
        if self._not_estimable((lo, hi), base_n, events):
            self.not_estimable.append(f"{self._prefix}{key}")
            return None
        return self._sdc.interval(lo, hi, base_n, key, decimals=decimals, events=events)

    def withhold(self, key: str) -> None:
        """Record ``key`` as suppressed (e.g. a figure derived from a suppressed one); returns None."""
        return self._sdc.stat(None, None, key)
