"""Funnel limits and intervals (Spiegelhalter 2005, *Funnel plots for comparing institutional
performance*): exact binomial and Poisson limits with interpolation, normal limits, the
intervals shown in the ranked tables, and the overdispersion estimate. Used by the London
comparison (boroughs) and by the referrals-by-practice section (practices)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

LEVELS = {"95": 0.95, "99.8": 0.998}
MIN_FOR_OVERDISPERSION = 10  # boroughs needed before between-borough variation is estimated


def _interp_quantile(dist, p: float) -> float:
    """Spiegelhalter's interpolated quantile of a discrete distribution (a continuous limit)."""
    r = float(dist.ppf(p))
    f_r, f_r1 = float(dist.cdf(r)), float(dist.cdf(r - 1))
    if f_r - f_r1 <= 0:
        return r
    alpha = (f_r - p) / (f_r - f_r1)
    return r - alpha


def binomial_limits(p0: float, n: float | np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper control limits for a proportion (0..1) with denominator ``n``.

    Exact binomial quantiles with interpolation (Spiegelhalter 2005, appendix A.1.1) for
    n up to 5,000; the normal approximation above that, where they agree closely.
    """
    n_arr = np.atleast_1d(np.asarray(n, dtype=float))
    lo, hi = np.empty_like(n_arr), np.empty_like(n_arr)
    a = (1 - level) / 2
    z = stats.norm.ppf(1 - a)
    for i, ni in enumerate(n_arr):
        if ni <= 0:
            lo[i], hi[i] = np.nan, np.nan
        elif ni > 5000:
            half = z * math.sqrt(p0 * (1 - p0) / ni)
            lo[i], hi[i] = p0 - half, p0 + half
        else:
            k = max(int(round(ni)), 1)
            dist = stats.binom(k, p0)
            lo[i], hi[i] = _interp_quantile(dist, a) / k, _interp_quantile(dist, 1 - a) / k
    return np.clip(lo, 0, 1), np.clip(hi, 0, 1)


def poisson_limits(rate0: float, exposure: float | np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Control limits for a rate (events per unit exposure) at ``exposure`` units (exact Poisson,
    interpolated as for the binomial)."""
    e = np.atleast_1d(np.asarray(exposure, dtype=float))
    lo, hi = np.empty_like(e), np.empty_like(e)
    a = (1 - level) / 2
    for i, ei in enumerate(e):
        if ei <= 0:
            lo[i], hi[i] = np.nan, np.nan
            continue
        dist = stats.poisson(rate0 * ei)
        lo[i], hi[i] = max(_interp_quantile(dist, a), 0) / ei, _interp_quantile(dist, 1 - a) / ei
    return lo, hi


def normal_limits(target: float, sd: float | np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """target +/- z x sd (sd already divided by sqrt(n) where that applies)."""
    z = stats.norm.ppf(1 - (1 - level) / 2)
    sd = np.atleast_1d(np.asarray(sd, dtype=float))
    return target - z * sd, target + z * sd


def wilson_interval(p: float, n: float, level: float = 0.95) -> tuple[float, float]:
    z = stats.norm.ppf(1 - (1 - level) / 2)
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(centre - half, 0.0), min(centre + half, 1.0)


def poisson_interval(events: float, exposure: float, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval for a rate, events / exposure."""
    a = (1 - level) / 2
    lo = stats.chi2.ppf(a, 2 * events) / 2 if events > 0 else 0.0
    hi = stats.chi2.ppf(1 - a, 2 * events + 2) / 2
    return lo / exposure, hi / exposure


def overdispersion(z: np.ndarray, weights: np.ndarray, winsor: float = 0.1) -> dict[str, Any]:
    """Between-borough variation beyond chance (Spiegelhalter 2005, section 3.3).

    ``z``: z-scores against the pooled target; ``weights``: 1 / null variance of each borough.
    Returns phi (the winsorised mean squared z), whether it exceeds what chance allows at 95%
    (N phi > chi2(N-1)), and tau2, the additive random-effects variance on the indicator's scale.
    """
    n = len(z)
    if n < MIN_FOR_OVERDISPERSION:
        return {"estimated": False, "reason": f"needs at least {MIN_FOR_OVERDISPERSION} boroughs (have {n})"}
    lo, hi = np.quantile(z, [winsor, 1 - winsor])
    zw = np.clip(z, lo, hi)
    phi = float(np.mean(zw ** 2))
    detected = bool(n * phi > stats.chi2.ppf(0.95, n - 1))
    tau2 = 0.0
    if detected:
        denom = float(weights.sum() - (weights ** 2).sum() / weights.sum())
        tau2 = max((n * phi - (n - 1)) / denom, 0.0) if denom > 0 else 0.0
    return {"estimated": True, "phi": round(phi, 3), "detected": detected, "tau2": tau2}

