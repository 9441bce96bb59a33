"""Intervals and tests for proportions from counts: the Wilson score interval of one proportion,
Newcombe's hybrid score interval for a difference of two independent proportions, and the
two-sided two-proportion z-test (the Pearson chi-squared test of the 2 x 2 table, without
continuity correction). Results in percent (percentage points for a difference).

References: Wilson (1927), JASA 22:209; Newcombe (1998), Statistics in Medicine 17:873 (method 10);
Agresti, *Categorical Data Analysis* (3rd ed.), section 3.1.
"""

from __future__ import annotations

import math

from scipy.stats import norm

Z95 = float(norm.ppf(0.975))


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of ``k`` successes in ``n`` trials, in percent (None when n = 0)."""
    if not n:
        return None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half) * 100, min(1.0, centre + half) * 100


def newcombe(k1: float, n1: float, k2: float, n2: float, z: float = Z95) -> tuple[float, float] | None:
    """Newcombe's hybrid score interval for ``p2 - p1`` (two independent samples), in percentage
    points: the difference with the Wilson intervals' distances squared and added."""
    w1, w2 = wilson(k1, n1, z), wilson(k2, n2, z)
    if w1 is None or w2 is None:
        return None
    p1, p2 = k1 / n1 * 100, k2 / n2 * 100
    d = p2 - p1
    lo = d - math.sqrt((p2 - w2[0]) ** 2 + (w1[1] - p1) ** 2)
    hi = d + math.sqrt((w2[1] - p2) ** 2 + (p1 - w1[0]) ** 2)
    return lo, hi


def two_proportion_p(k1: float, n1: float, k2: float, n2: float) -> float | None:
    """The two-sided p-value of the pooled two-proportion z-test of ``p1 = p2`` (None when a sample
    is empty; 1 when every answer in both samples is the same)."""
    if not n1 or not n2:
        return None
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (k2 / n2 - k1 / n1) / se
    return float(2 * norm.sf(abs(z)))
