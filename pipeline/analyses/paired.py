"""Paired before/after comparisons of a score: the means at baseline and follow-up, the mean change
with its t-interval, the two-sided paired t-test and the SD of the change (NaN where undefined:
no pairs, one pair, or no variation in the change)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class PairedChange:
    n: int
    mean_baseline: float
    mean_followup: float
    mean_change: float
    sd_change: float
    ci_lo: float
    ci_hi: float
    p_value: float


def paired_change(baseline, followup, alpha: float = 0.05) -> PairedChange:
    """The paired comparison of ``followup`` with ``baseline`` (equal-length arrays, no NaN)."""
    b = np.asarray(baseline, dtype="float64")
    f = np.asarray(followup, dtype="float64")
    c = f - b
    n = len(c)
    nan = float("nan")
    if n == 0:
        return PairedChange(0, nan, nan, nan, nan, nan, nan, nan)
    mb, mf, mc = float(b.mean()), float(f.mean()), float(c.mean())
    if n < 2:
        return PairedChange(n, mb, mf, mc, nan, nan, nan, nan)
    sd = float(c.std(ddof=1))
    half = float(stats.t.ppf(1 - alpha / 2, n - 1)) * sd / np.sqrt(n)
    p = float(2 * stats.t.sf(abs(mc) / (sd / np.sqrt(n)), n - 1)) if sd > 0 else nan
    return PairedChange(n, mb, mf, mc, sd, mc - half, mc + half, p)
