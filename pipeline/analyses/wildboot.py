"""The wild cluster bootstrap for one coefficient of a linear model with few clusters.

With fewer than about 30 clusters, cluster-robust (CR1) standard errors are too small and t-tests
on G - 1 degrees of freedom reject too often; the restricted wild cluster bootstrap-t (WCR, the
null imposed, "11" variant: CR1 score and small-sample factor) keeps close to its nominal level
with as few as 5 or 6 clusters when the weights are Webb's six-point distribution (MacKinnon,
Nielsen and Webb 2023, "Cluster-robust inference: a guide to empirical practice").

- **Weights**: Webb's six points ±√(1/2), ±1, ±√(3/2), equally likely. With 6^G at most
  :data:`MAX_ENUMERATION` every combination is used (full enumeration: the p-value is exact for
  the bootstrap distribution and needs no seed); otherwise :data:`DRAWS` draws from a generator
  seeded with :data:`SEED`. Either way the result is the same on every run.
- **p-value**: the share of bootstrap |t*| strictly above the |t| of the data, as the
  ``wildboottest`` package computes it (``tests/test_workforce.py`` checks the two agree).
- **Interval**: by test inversion, the values b0 for which the test of ``beta = b0`` has
  p > 1 - level; each end found by bisection (an end that the test never rejects, however far out,
  is unbounded: ``None``).

The computation follows Roodman et al. (2019, "Fast and wild"): per cluster, the scores of the
restricted residuals and a G x G matrix, so each b0 costs a few small matrix products.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

WEBB = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0, math.sqrt(1.5)])
MAX_ENUMERATION = 6 ** 6  # 46,656: every Webb combination for up to 6 clusters
DRAWS = 9_999
SEED = 20_240_521
FEW_CLUSTERS = 30  # below this many clusters the bootstrap is the primary inference
_FAR = 1e4  # an end of the interval further than this many CR1 standard errors is unbounded


def webb_weights(n_clusters: int) -> tuple[np.ndarray, bool]:
    """The weights (clusters x draws) and whether they are the full enumeration."""
    if len(WEBB) ** n_clusters <= MAX_ENUMERATION:
        return np.array(list(itertools.product(WEBB, repeat=n_clusters))).T, True
    rng = np.random.default_rng(SEED)
    return rng.choice(WEBB, size=(n_clusters, DRAWS)), False


@dataclass(frozen=True)
class WildResult:
    p: float                # p-value of beta = 0
    lo: float | None        # the interval (None: unbounded on that side)
    hi: float | None
    draws: int
    enumerated: bool
    clusters: int


class WildCluster:
    """The restricted wild cluster bootstrap-t for coefficient ``j`` of ``y ~ X``, clusters ``groups``.

    ``weights``: clusters x draws (default :func:`webb_weights`), in the order of ``np.unique(groups)``."""

    def __init__(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray, j: int, weights: np.ndarray | None = None):
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        codes = np.unique(np.asarray(groups), return_inverse=True)[1]
        n, k = X.shape
        self.G = int(codes.max()) + 1
        self.j = j
        self.XtX_inv = np.linalg.inv(X.T @ X)
        self.a = self.XtX_inv[j]  # R (X'X)^-1 for R = e_j
        # per cluster: X_g'X_g, X_g'y_g and X_g'x_j (the latter for y - b0 x_j)
        self.XgXg = np.zeros((self.G, k, k))
        self.Xgy = np.zeros((self.G, k))
        self.Xgx = np.zeros((self.G, k))
        for g in range(self.G):
            Xg = X[codes == g]
            self.XgXg[g] = Xg.T @ Xg
            self.Xgy[g] = Xg.T @ y[codes == g]
            self.Xgx[g] = Xg.T @ Xg[:, j]
        self.M = np.einsum("i,gik,kl->gl", self.a, self.XgXg, self.XtX_inv)  # a' X_g'X_g (X'X)^-1
        self.ssc = (n - 1) / (n - k) * self.G / (self.G - 1)
        self.beta = self.XtX_inv @ self.Xgy.sum(axis=0)
        if weights is None:
            weights, self.enumerated = webb_weights(self.G)
        else:
            self.enumerated = False
        self.V = np.asarray(weights, dtype=float)

    def cr1_se(self) -> float:
        s = self.Xgy - self.XgXg @ self.beta  # unrestricted scores per cluster
        return float(math.sqrt(self.ssc * np.sum((s @ self.a) ** 2)))

    def test(self, b0: float = 0.0) -> tuple[float, float]:
        """(t, p) for the null ``beta_j = b0``."""
        Xgy = self.Xgy - b0 * self.Xgx  # scores of y - b0 x_j
        beta = self.XtX_inv @ Xgy.sum(axis=0)
        s = Xgy - self.XgXg @ beta
        t = beta[self.j] / math.sqrt(self.ssc * np.sum((s @ self.a) ** 2))
        restricted = beta - self.XtX_inv[:, self.j] * beta[self.j] / self.XtX_inv[self.j, self.j]
        scores = Xgy - self.XgXg @ restricted  # G x k, scores of the restricted residuals
        c = scores @ self.a
        H = self.M @ scores.T
        numer = c @ self.V
        Z = c[:, None] * self.V - H @ self.V
        denom = self.ssc * np.sum(Z * Z, axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_boot = numer / np.sqrt(denom)
        return float(t), float(np.mean(abs(t) < np.abs(t_boot)))

    def interval(self, level: float = 0.95, tol: float = 1e-5) -> tuple[float | None, float | None]:
        alpha = 1 - level
        se = self.cr1_se()
        b = float(self.beta[self.j])

        def rejects(b0: float) -> bool:
            return self.test(b0)[1] <= alpha

        def end(sign: int) -> float | None:
            inside, step = b, se
            while not rejects(b + sign * step):
                inside, step = b + sign * step, step * 2
                if step > _FAR * se:
                    return None
            outside = b + sign * step
            while abs(outside - inside) > tol * se:
                mid = (inside + outside) / 2
                if rejects(mid):
                    outside = mid
                else:
                    inside = mid
            return (inside + outside) / 2

        return end(-1), end(+1)


def wild_cluster_bootstrap(X: np.ndarray, y: np.ndarray, groups: np.ndarray, j: int,
                           level: float = 0.95) -> WildResult:
    wb = WildCluster(X, y, groups, j)
    lo, hi = wb.interval(level)
    return WildResult(wb.test(0.0)[1], lo, hi, wb.V.shape[1], wb.enumerated, wb.G)
