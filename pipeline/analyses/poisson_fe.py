"""The conditional (patient fixed-effects) Poisson estimator, :func:`poisson_fe`, with a
cluster-robust sandwich covariance, vectorised with ``np.bincount`` so it scales to millions of
patient-quarters (statsmodels would need a dummy column per patient). Indicator columns of which
each row has at most one can be passed as :class:`OneHot` codes instead of a dense matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .stats import FitResult


def _group_sums(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Column-wise sums of ``values`` (n x k) by group code: (n_groups x k)."""
    if values.ndim == 1:
        return np.bincount(codes, weights=values, minlength=n_groups)
    return np.column_stack([np.bincount(codes, weights=values[:, j], minlength=n_groups)
                            for j in range(values.shape[1])]) if values.shape[1] else np.zeros((n_groups, 0))


@dataclass
class OneHot:
    """Indicator columns of which each row has at most one, held as a code per row (``codes[i]``
    is the column that is 1 in row ``i``; -1: none, the reference) rather than as a dense matrix:
    an event study's quarter indicators for millions of patient-quarters."""

    codes: np.ndarray
    names: list[str]

    @property
    def columns(self) -> list[str]:
        return list(self.names)


def _centred_diag_r(gram: np.ndarray) -> np.ndarray:
    """|diag(R)| of the QR decomposition of a matrix from its Gram matrix (R'R = X'X): each
    column's length after removing its projection on the columns before it."""
    k = len(gram)
    r = np.zeros(k)
    for j in range(k):
        res = gram[j, j] - (gram[:j, j] @ np.linalg.pinv(gram[:j, :j]) @ gram[:j, j] if j else 0.0)
        r[j] = math.sqrt(max(float(res), 0.0))
    return r


def poisson_fe(y: np.ndarray, X: pd.DataFrame | OneHot, groups: np.ndarray, offset: np.ndarray | None = None,
               clusters: np.ndarray | None = None, weights: np.ndarray | None = None, max_iter: int = 100,
               tol: float = 1e-9) -> FitResult:
    """Conditional maximum likelihood for a Poisson model with one fixed effect per group
    (``log E[y] = alpha_group + X beta + offset``), with a cluster-robust sandwich covariance.

    The group effects are concentrated out (the multinomial conditional likelihood), so no dummy
    columns are built. Groups with no events carry no information and are dropped. Poisson
    quasi-likelihood is consistent for the mean whatever the overdispersion (Wooldridge 1999);
    the sandwich, clustered on ``clusters`` (default: the groups), makes the standard errors
    robust to overdispersion and to correlation within a cluster. Small-sample factor C/(C-1),
    as statsmodels applies for GLM cluster covariances. Columns with no variation within any
    group are not identified and are dropped (listed in ``dropped``).

    ``weights`` (one per row, constant within a group) weight each group's conditional
    log-likelihood, e.g. 1/k for each of k matched comparison patients; the sandwich then uses the
    weighted scores.

    ``X`` is a data frame of columns, or a :class:`OneHot` set of indicators, which is never made
    dense: every product with it is a ``bincount`` (memory of a few vectors of the rows' length).
    """
    method = "conditional fixed-effects Poisson, cluster-robust (sandwich) covariance"
    onehot = isinstance(X, OneHot)
    y = np.asarray(y, dtype=float)
    Xv = np.asarray(X.codes, dtype=np.int64) if onehot else np.asarray(X, dtype=float)
    names = list(X.columns)
    off = np.zeros(len(y)) if offset is None else np.asarray(offset, dtype=float)
    wt = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    g_codes = pd.factorize(pd.Series(groups))[0]
    cl = g_codes if clusters is None else pd.factorize(pd.Series(clusters))[0]
    G0 = int(g_codes.max()) + 1 if len(g_codes) else 0
    tot = np.bincount(g_codes, weights=y, minlength=G0)
    keep = tot[g_codes] > 0
    if not keep.any():
        return FitResult.not_estimable(method, "no events")
    y, Xv, off, cl, wt = y[keep], Xv[keep], off[keep], cl[keep], wt[keep]
    g = pd.factorize(pd.Series(g_codes[keep]))[0]
    del g_codes, tot, keep  # millions of rows in an event study: hold one copy of each vector
    G = int(g.max()) + 1
    n_i = np.bincount(g, weights=y, minlength=G)
    w_g = np.bincount(g, weights=wt, minlength=G) / np.bincount(g, minlength=G)  # the group's weight
    cnt = np.bincount(g, minlength=G)
    if onehot:
        ops, names, dropped = _OneHotOps.identified(Xv, names, g, G, cnt)
    else:
        ops, names, dropped = _DenseOps.identified(Xv, names, g, G, cnt)
    if not names:
        return FitResult.not_estimable(method, "no coefficient is identified within patients", dropped=dropped)
    k = len(names)

    def probs(beta: np.ndarray) -> tuple[np.ndarray, float]:
        eta = ops.matvec(beta) + off
        m = np.full(G, -np.inf)
        np.maximum.at(m, g, eta)
        w = np.exp(eta - m[g])
        s = np.bincount(g, weights=w, minlength=G)
        p = w / s[g]
        pos = y > 0  # rows without events add nothing (and 0 x log 0 is 0)
        with np.errstate(divide="ignore"):
            ll = float(np.sum(wt[pos] * y[pos] * np.log(p[pos])))
        return p, ll

    def hessian(mu: np.ndarray, p: np.ndarray) -> np.ndarray:
        xbar = ops.group_sums(g, p, G)
        return ops.gram(wt * mu) - (xbar * (w_g * n_i)[:, None]).T @ xbar

    beta = np.zeros(k)
    p, ll = probs(beta)
    converged = False
    for _ in range(max_iter):
        mu = n_i[g] * p
        grad = ops.rmatvec(wt * (y - mu))
        H = hessian(mu, p)
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, grad, rcond=None)[0]
        t = 1.0
        for _ in range(30):
            p_new, ll_new = probs(beta + t * step)
            if ll_new >= ll - 1e-12 * abs(ll):
                break
            t /= 2
        beta = beta + t * step
        p, ll = p_new, ll_new
        if np.max(np.abs(t * step)) < tol:
            converged = True
            break
    mu = n_i[g] * p
    Hinv = np.linalg.pinv(hessian(mu, p))
    C = int(pd.Series(cl).nunique())
    scores = ops.group_sums(pd.factorize(pd.Series(cl))[0], wt * (y - mu), C)
    meat = scores.T @ scores
    factor = C / (C - 1) if C > 1 else float("nan")
    cov = Hinv @ meat @ Hinv * factor
    return FitResult(method, pd.Series(beta, index=names), pd.DataFrame(cov, index=names, columns=names),
                     n_obs=int(len(y)), n_groups=G, n_clusters=C, converged=converged,
                     status="ok" if converged else "not_converged",
                     reason=None if converged else "Newton iterations did not converge", dropped=dropped,
                     extra={"loglik": ll, "bread": Hinv})


class _DenseOps:
    """Products with a dense design matrix (rows x columns)."""

    def __init__(self, X: np.ndarray):
        self.X = X

    @classmethod
    def identified(cls, Xv: np.ndarray, names: list[str], g: np.ndarray, G: int,
                   cnt: np.ndarray) -> tuple[_DenseOps, list[str], list[str]]:
        """The identified columns: each varies within some group and is not collinear with the
        columns before it after within-group centring."""
        mean_g = _group_sums(g, Xv, G) / cnt[:, None]
        within = np.abs(Xv - mean_g[g]).max(axis=0) if len(Xv) else np.zeros(len(names))
        ident = within > 1e-12
        dropped = [n for n, ok in zip(names, ident, strict=True) if not ok]
        Xv = Xv[:, ident]
        names = [n for n, ok in zip(names, ident, strict=True) if ok]
        if names:
            Xc = Xv - mean_g[g][:, ident]
            if np.linalg.matrix_rank(Xc) < len(names):
                _, r = np.linalg.qr(Xc)
                good = np.abs(np.diag(r)) > 1e-8 * max(1.0, np.abs(np.diag(r)).max())
                dropped += [n for n, ok in zip(names, good, strict=True) if not ok]
                Xv = Xv[:, good]
                names = [n for n, ok in zip(names, good, strict=True) if ok]
        return cls(Xv), names, dropped

    def matvec(self, beta: np.ndarray) -> np.ndarray:
        return self.X @ beta

    def rmatvec(self, v: np.ndarray) -> np.ndarray:
        return self.X.T @ v

    def group_sums(self, codes: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
        """(n x columns): sums of X * v by group code."""
        return _group_sums(codes, self.X * v[:, None], n)

    def gram(self, w: np.ndarray) -> np.ndarray:
        return (self.X * w[:, None]).T @ self.X


class _OneHotOps:
    """Products with a :class:`OneHot` design (a column code per row, -1 none), by ``bincount``."""

    def __init__(self, codes: np.ndarray, k: int):
        self.k = k
        self.has = codes >= 0
        self.codes = codes[self.has]

    @classmethod
    def identified(cls, codes: np.ndarray, names: list[str], g: np.ndarray, G: int,
                   cnt: np.ndarray) -> tuple[_OneHotOps, list[str], list[str]]:
        """As :meth:`_DenseOps.identified`: an indicator varies within a group when the group has
        some rows with it and some without; collinearity after centring is read from the Gram
        matrix of the centred indicators (diag(column counts) - sum over groups of c c' / n)."""
        k = len(names)
        ones = cls(codes, k).group_sums(g, np.ones(len(codes)), G)  # rows with each indicator, per group
        ident = ((ones > 0) & (ones < cnt[:, None])).any(axis=0) if G else np.zeros(k, dtype=bool)
        dropped = [n for n, ok in zip(names, ident, strict=True) if not ok]
        if ident.any():
            sub = ones[:, ident]
            gram = np.diag(sub.sum(axis=0)) - (sub / cnt[:, None]).T @ sub
            r = _centred_diag_r(gram)
            good = r > 1e-8 * max(1.0, r.max())
            keep_idx = np.flatnonzero(ident)
            dropped += [names[i] for i, ok in zip(keep_idx, good, strict=True) if not ok]
            ident = np.zeros(k, dtype=bool)
            ident[keep_idx[good]] = True
        new = np.full(k + 1, -1, dtype=np.int64)  # code -> new code (-1: reference)
        new[np.flatnonzero(ident)] = np.arange(int(ident.sum()))
        codes = np.where(codes >= 0, new[np.where(codes >= 0, codes, k)], -1)
        return cls(codes, int(ident.sum())), [n for n, ok in zip(names, ident, strict=True) if ok], dropped

    def matvec(self, beta: np.ndarray) -> np.ndarray:
        out = np.zeros(len(self.has))
        out[self.has] = beta[self.codes]
        return out

    def rmatvec(self, v: np.ndarray) -> np.ndarray:
        return np.bincount(self.codes, weights=v[self.has], minlength=self.k)

    def group_sums(self, codes: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
        return np.bincount(codes[self.has] * self.k + self.codes, weights=v[self.has],
                           minlength=n * self.k).reshape(n, self.k)

    def gram(self, w: np.ndarray) -> np.ndarray:
        return np.diag(self.rmatvec(w))
