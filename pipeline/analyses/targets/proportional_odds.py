"""A check of the ordinal model's proportional-odds assumption: a Brant-type test.

The proportional-odds model gives one odds ratio for "after vs before first contact" that holds at
every cut-point of the outcome: for meeting at least 1 target rather than none, at least 2 rather
than fewer, and so on. The check fits one binary logit per cut-point ("at least k targets met",
each with its own constant, on the same period and band terms) and tests whether their slopes are
equal (Brant 1990). The two rows of a patient are not independent, so the binary logits' joint
covariance is a patient-clustered sandwich of their stacked influence functions (each logit's
H^-1 x (y - p), summed by patient), with the small-sample factor G/(G - 1); the tests are Wald
tests of the differences from the first cut-point's slopes: all terms together (the overall
test) and the period term alone (is the common period odds ratio a fair summary?). statsmodels'
``OrderedModel`` refuses a constant, so nothing here reuses it: the binary logits carry their own.

A cut-point whose binary outcome is the same for everyone, or whose logit separates (a slope
beyond :data:`~pipeline.analyses.stats.SEPARATION_LOGIT`), is left out and named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as st
from scipy.special import expit

from ..stats import SEPARATION_LOGIT, Z95, wald

METHOD = (
    "Brant-type test of the proportional-odds assumption: one logit per cut-point ('at least k targets met', each "
    "with its own constant, on the model's period and band terms), their slopes compared by Wald tests with a "
    "patient-clustered sandwich covariance of the stacked logits; overall (all terms) and for the period term alone"
)


@dataclass
class POCheck:
    status: str                 # "ok" or "not_estimable"
    reason: str | None = None
    cuts: list[int] = field(default_factory=list)       # k of each binary outcome "at least k targets met"
    # per cut-point: the period odds ratio of its logit (or, lo, hi, p) and the smaller of the number of
    # observations (patient-windows) at or above k and below it
    period: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)
    events: dict[int, int] = field(default_factory=dict)
    overall: tuple[float, int, float] = (math.nan, 0, math.nan)   # chi2, df, p
    period_test: tuple[float, int, float] = (math.nan, 0, math.nan)
    dropped: dict[int, str] = field(default_factory=dict)


def _logit(X: np.ndarray, z: np.ndarray, max_iter: int = 60) -> tuple[np.ndarray, np.ndarray, bool]:
    """Maximum-likelihood logit by Newton's method: (coefficients, Hessian, converged)."""
    beta = np.zeros(X.shape[1])
    for _ in range(max_iter):
        p = expit(X @ beta)
        H = (X * (p * (1 - p))[:, None]).T @ X
        try:
            step = np.linalg.solve(H, X.T @ (z - p))
        except np.linalg.LinAlgError:
            return beta, H, False
        beta = beta + step
        if not np.all(np.isfinite(beta)) or np.abs(beta).max() > 2 * SEPARATION_LOGIT:
            return beta, H, False
        if np.abs(step).max() < 1e-10:
            p = expit(X @ beta)
            return beta, (X * (p * (1 - p))[:, None]).T @ X, True
    return beta, H, False


def brant_check(y: np.ndarray, X: pd.DataFrame, groups: np.ndarray, period: str = "after") -> POCheck:
    """The check for an ordinal outcome ``y`` (targets met) on the columns of ``X`` (no constant),
    rows clustered by ``groups`` (patients)."""
    y = np.asarray(y)
    X = X.loc[:, X.nunique() > 1]
    levels = np.unique(y)
    if len(levels) < 3:
        return POCheck("not_estimable", "the outcome takes fewer than three values: there is one cut-point, nothing "
                                        "to compare")
    if period not in X.columns:
        return POCheck("not_estimable", "the period does not vary")
    names = list(X.columns)
    design = np.column_stack([np.ones(len(y)), X.to_numpy(dtype=float)])
    codes = pd.factorize(pd.Series(groups))[0]
    n_groups = int(codes.max()) + 1
    out = POCheck("ok")
    slopes, influence = [], []
    for k in levels[1:]:
        z = (y >= k).astype(float)
        beta, H, converged = _logit(design, z)
        if not converged or np.abs(beta[1:]).max() > SEPARATION_LOGIT:
            out.dropped[int(k)] = "the logit separates (a group has everyone, or no one, at or above it)"
            continue
        p = expit(design @ beta)
        inf = (design * (z - p)[:, None]) @ np.linalg.inv(H).T   # each row's influence on the coefficients
        summed = np.zeros((n_groups, design.shape[1]))
        np.add.at(summed, codes, inf)
        out.cuts.append(int(k))
        out.events[int(k)] = int(min(z.sum(), len(z) - z.sum()))
        slopes.append(beta[1:])
        influence.append(summed[:, 1:])
    if len(out.cuts) < 2:
        return POCheck("not_estimable", "fewer than two cut-points can be fitted", dropped=out.dropped)
    theta = np.concatenate(slopes)
    G = np.hstack(influence)
    V = G.T @ G * (n_groups / (n_groups - 1))
    m, j = len(names), names.index(period)
    for cut, b, v in zip(out.cuts, slopes, range(len(out.cuts)), strict=True):
        se = math.sqrt(V[v * m + j, v * m + j])
        out.period[cut] = (math.exp(b[j]), math.exp(b[j] - Z95 * se), math.exp(b[j] + Z95 * se),
                           float(2 * st.norm.sf(abs(b[j]) / se)))

    def differences(columns: list[int]) -> np.ndarray:
        """Rows of D: each later cut-point's slope minus the first's, for ``columns``."""
        rows = []
        for c in range(1, len(out.cuts)):
            for col in columns:
                r = np.zeros(len(theta))
                r[c * m + col], r[col] = 1.0, -1.0
                rows.append(r)
        return np.array(rows)

    for attr, cols in (("overall", list(range(m))), ("period_test", [j])):
        D = differences(cols)
        setattr(out, attr, wald(D @ theta, D @ V @ D.T))
    return out
