"""Statistical helpers for the clinical-targets and GP-appointment analyses.

Everything here works on arrays and returns plain numbers; nothing is published from here
(disclosure control happens in each analysis module's ``publish``).

- :func:`stuart_maxwell`: the paired test of marginal homogeneity on a K x K table (prior x
  after number of targets met), with the degenerate cases handled explicitly.
- :func:`holm`: Holm's step-down multiplicity correction.
- :func:`poisson_fe`: the conditional (patient fixed-effects) Poisson estimator with a
  cluster-robust sandwich covariance, vectorised with ``np.bincount`` so it scales to millions of
  patient-quarters (statsmodels would need a dummy column per patient).
- :func:`ordinal_logit_cluster` and :func:`logit_cluster`: statsmodels fits with
  patient-clustered (sandwich) standard errors.
- :func:`wald`: a joint Wald test from a coefficient vector and its covariance.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as st

Z95 = float(st.norm.ppf(0.975))
# a logit coefficient beyond this (an odds ratio over ~160,000) means (quasi-)separation, not an estimate
SEPARATION_LOGIT = 12.0
# BFGS stops when the largest gradient component of the mean log-likelihood is below gtol. At
# scipy's default (1e-5) the estimates are only good to about four significant figures, so a
# published odds ratio or interval could move in its third decimal with the machine's floating
# point (a different processor's vector code changes BFGS's path); at 1e-8 they settle well below
# the published precision. Much finer than that reaches the log-likelihood's floating-point noise.
ORDINAL_GTOL = 1e-8
ORDINAL_GTOL_DEFAULT = 1e-5  # a fit that stops short of ORDINAL_GTOL is accepted if it meets this


# ------------------------------------------------------------------ paired tests
@dataclass
class TestResult:
    method: str
    statistic: float | None
    df: int | None
    p_value: float | None
    status: str  # "ok", "no_change" (no discordant pairs), "empty", "one_category"
    n: int = 0  # pairs the table rests on
    note: str = ""


def stuart_maxwell(table: np.ndarray | pd.DataFrame) -> TestResult:
    """Stuart–Maxwell test of marginal homogeneity for a square table of paired categories
    (rows = prior, columns = after).

    Degenerate tables: categories empty in both margins are dropped first; with nothing left or a
    single category the test is undefined (``status`` "empty" / "one_category", no p-value); with
    no discordant pairs (everyone on the diagonal) the marginals are identical, the statistic is 0
    and p = 1 (``status`` "no_change"). When the covariance of the margin differences is singular
    (a category reached only from one side) its Moore–Penrose inverse is used with df = its rank.
    """
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise ValueError("stuart_maxwell needs a square table")
    n = int(round(t.sum()))
    keep = (t.sum(axis=0) + t.sum(axis=1)) > 0
    t = t[np.ix_(keep, keep)]
    k = t.shape[0]
    if n == 0 or k == 0:
        return TestResult("stuart_maxwell", None, None, None, "empty", n)
    if k == 1:
        return TestResult("stuart_maxwell", None, None, None, "one_category", n,
                          "everyone is in the same category before and after")
    off = t - np.diag(np.diag(t))
    if off.sum() == 0:
        return TestResult("stuart_maxwell", 0.0, k - 1, 1.0, "no_change", n, "no patient changed category")
    row, col = t.sum(axis=1), t.sum(axis=0)
    d = (row - col)[:-1]
    s = -(t + t.T)
    np.fill_diagonal(s, row + col - 2 * np.diag(t))
    s = s[:-1, :-1]
    rank = int(np.linalg.matrix_rank(s))
    if rank == 0:
        return TestResult("stuart_maxwell", 0.0, k - 1, 1.0, "no_change", n)
    stat = float(d @ np.linalg.pinv(s) @ d)
    note = "" if rank == k - 1 else f"singular covariance: generalised inverse, df = {rank}"
    return TestResult("stuart_maxwell", stat, rank, float(st.chi2.sf(stat, rank)), "ok", n, note)


def holm(pvalues: Mapping[str, float | None]) -> dict[str, float | None]:
    """Holm step-down adjusted p-values; ``None``/NaN entries are not part of the family."""
    valid = [(k, float(p)) for k, p in pvalues.items() if p is not None and not math.isnan(float(p))]
    out: dict[str, float | None] = {k: None for k in pvalues}
    m = len(valid)
    running = 0.0
    for i, (k, p) in enumerate(sorted(valid, key=lambda kv: kv[1])):
        running = max(running, min(1.0, (m - i) * p))
        out[k] = running
    return out


def wald(params: np.ndarray, cov: np.ndarray) -> tuple[float, int, float]:
    """Joint Wald test that all ``params`` are zero: (chi2, df, p)."""
    b = np.asarray(params, dtype=float)
    v = np.asarray(cov, dtype=float)
    rank = int(np.linalg.matrix_rank(v))
    if rank == 0:
        return float("nan"), 0, float("nan")
    chi2 = float(b @ np.linalg.pinv(v) @ b)
    return chi2, rank, float(st.chi2.sf(chi2, rank))


# ------------------------------------------------------------------ fixed-effects Poisson
@dataclass
class FitResult:
    """A fitted model: coefficients and their (cluster-robust) covariance, by column name."""

    method: str
    params: pd.Series
    cov: pd.DataFrame
    n_obs: int = 0
    n_groups: int = 0  # units (e.g. patients) that carry information
    n_clusters: int = 0
    converged: bool = True
    status: str = "ok"
    reason: str | None = None
    dropped: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def se(self, name: str) -> float:
        """The standard error; NaN when the (numerical) variance is negative or missing."""
        var = float(self.cov.loc[name, name]) if name in self.cov else float("nan")
        return math.sqrt(var) if var >= 0 else float("nan")

    def ratio(self, name: str) -> tuple[float, float, float, float]:
        """exp(coef) with its 95% CI and the two-sided Wald p-value: (est, lo, hi, p)."""
        if not self.ok or name not in self.params.index or not np.isfinite(self.params[name]):
            return (float("nan"),) * 4
        b, se = float(self.params[name]), self.se(name)
        if not np.isfinite(se) or se <= 0:
            return math.exp(b), float("nan"), float("nan"), float("nan")
        return (math.exp(b), math.exp(b - Z95 * se), math.exp(b + Z95 * se),
                float(2 * st.norm.sf(abs(b / se))))

    def combo_ratio(self, weights: Mapping[str, float]) -> tuple[float, float, float, float]:
        """exp of a linear combination of coefficients, with its 95% CI and p-value."""
        names = [k for k in weights if k in self.params.index]
        if not self.ok or not names:
            return (float("nan"),) * 4
        w = np.array([weights[k] for k in names])
        b = float(w @ self.params[names].to_numpy())
        var = float(w @ self.cov.loc[names, names].to_numpy() @ w)
        se = math.sqrt(var) if var > 0 else float("nan")
        if not np.isfinite(se):
            return math.exp(b), float("nan"), float("nan"), float("nan")
        return (math.exp(b), math.exp(b - Z95 * se), math.exp(b + Z95 * se),
                float(2 * st.norm.sf(abs(b / se))))

    def wald(self, names: Sequence[str]) -> tuple[float, int, float]:
        names = [n for n in names if n in self.params.index]
        if not self.ok or not names:
            return float("nan"), 0, float("nan")
        return wald(self.params[names].to_numpy(), self.cov.loc[names, names].to_numpy())


def _failed(method: str, reason: str, **kw) -> FitResult:
    return FitResult(method, pd.Series(dtype=float), pd.DataFrame(dtype=float), status="not_estimable",
                     reason=reason, converged=False, **kw)


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
        return _failed(method, "no events")
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
        return _failed(method, "no coefficient is identified within patients", dropped=dropped)
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


# ------------------------------------------------------------------ models via statsmodels
def _drop_constant(X: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    const = [c for c in X.columns if X[c].nunique(dropna=False) <= 1]
    return X.drop(columns=const), const


def _logit_ordered_model() -> type:
    """statsmodels' ``OrderedModel`` (logit) with the logistic cdf computed directly and the
    log-likelihood's derivatives computed analytically.

    The fit evaluates the cdf over every observation at each BFGS step: thousands of calls.
    ``scipy.stats.logistic.cdf`` checks and masks its arguments on each call; the function it
    then applies is ``scipy.special.expit``, called here directly (the same numbers, including
    the infinite outer thresholds: ``expit(-inf) = 0``, ``expit(inf) = 1``).

    ``GenericLikelihoodModel`` differentiates the log-likelihood numerically: the gradient BFGS
    follows, the per-observation scores of the clustered covariance and its Hessian. Numerical
    second derivatives are good to about five significant figures, enough for a published
    interval's third decimal to depend on the machine's floating point, and each gradient costs
    two log-likelihood evaluations per parameter. Here the scores are exact (the derivation is in
    :meth:`score_obs`) and the Hessian is the centred numerical Jacobian of the exact gradient
    (good to about ten figures)."""
    global _LOGIT_ORDERED_MODEL
    if _LOGIT_ORDERED_MODEL is None:
        from scipy.special import expit
        from statsmodels.miscmodels.ordinal_model import OrderedModel
        from statsmodels.tools.numdiff import approx_fprime

        class LogitOrderedModel(OrderedModel):
            def cdf(self, x):
                return expit(x)

            def score_obs(self, params, **kwds):
                """d loglike_i / d params, params = (beta, tau) as OrderedModel has them.

                Observation i in category k has loglike_i = log(F(c_{k+1} - x_i b) - F(c_k - x_i b))
                (+1e-20, as :meth:`loglikeobs`), c_0 = -inf, c_K = inf, and the thresholds in
                between are c_1 = tau_1, c_j = c_{j-1} + exp(tau_j). With f = F (1 - F) and P_i the
                probability: d/db = -x_i (f(upp) - f(low)) / P_i; d/dc_j = (f(upp) [j = k+1] -
                f(low) [j = k]) / P_i; and d c_j / d tau_m is 1 for m = 1, exp(tau_m) for
                2 <= m <= j, 0 otherwise, so d/dtau_m sums d/dc_j over j >= m."""
                params = np.asarray(params, dtype=float)
                k = self.k_levels - 1
                low, upp = self._bounds(params)
                f_low, f_upp = expit(low), expit(upp)
                prob = np.maximum(f_upp - f_low, 0) + 1e-20
                d_low, d_upp = f_low * (1 - f_low) / prob, f_upp * (1 - f_upp) / prob
                rows = np.arange(self.nobs)
                d_c = np.zeros((self.nobs, k + 2))
                d_c[rows, self.endog + 1] += d_upp
                d_c[rows, self.endog] -= d_low
                d_tau = np.cumsum(d_c[:, -2:0:-1], axis=1)[:, ::-1]  # sums over j >= m, j = 1..k
                d_tau[:, 1:] *= np.exp(params[-k:][1:])
                return np.column_stack((-(d_upp - d_low)[:, None] * self.exog, d_tau))

            def score(self, params):
                return self.score_obs(params).sum(axis=0)

            def hessian(self, params):
                h = approx_fprime(np.asarray(params, dtype=float), self.score, centered=True)
                return (h + h.T) / 2

        _LOGIT_ORDERED_MODEL = LogitOrderedModel
    return _LOGIT_ORDERED_MODEL


_LOGIT_ORDERED_MODEL: type | None = None


def ordinal_logit_cluster(y: np.ndarray, X: pd.DataFrame, groups: np.ndarray) -> FitResult:
    """Proportional-odds (cumulative logit) model, statsmodels ``OrderedModel``, with a
    patient-clustered sandwich covariance (``cov_type="cluster"`` on the model's observation
    scores). No constant: the thresholds play that role (OrderedModel refuses one).

    The outcome is recoded to its observed levels (an empty category, e.g. nobody meeting all
    four targets, has no threshold to estimate; merging it leaves the odds ratios' meaning).
    """
    method = "proportional-odds logit (statsmodels OrderedModel), patient-clustered sandwich SE"

    y = np.asarray(y)
    levels = np.unique(y)
    if len(levels) < 2:
        return _failed(method, "the outcome takes a single value")
    X, dropped = _drop_constant(X.astype(float))
    if X.shape[1] == 0:
        return _failed(method, "no predictor varies", dropped=dropped)
    codes = np.searchsorted(levels, y)
    endog = pd.Series(pd.Categorical(codes, categories=range(len(levels)), ordered=True))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mod = _logit_ordered_model()(endog, X.reset_index(drop=True), distr="logit")
            res = mod.fit(method="bfgs", disp=0, maxiter=1000, gtol=ORDINAL_GTOL, cov_type="cluster",
                          cov_kwds={"groups": pd.factorize(pd.Series(groups))[0]})
    except Exception as e:  # noqa: BLE001 - report, never crash a report build
        return _failed(method, f"fit failed: {type(e).__name__}", dropped=dropped)
    names = list(X.columns)
    params = res.params[names]
    cov = res.cov_params().loc[names, names]
    converged = bool(res.mle_retvals.get("converged", True))
    if not converged and "gopt" in res.mle_retvals:
        # stopped by precision loss short of the fine tolerance, but as close as the default asks
        converged = bool(np.max(np.abs(res.mle_retvals["gopt"])) <= ORDINAL_GTOL_DEFAULT)
    finite = np.isfinite(params.to_numpy()).all() and np.isfinite(cov.to_numpy()).all()
    if not (converged and finite):
        status, reason = "not_converged", "the optimiser did not converge"
    elif (params.abs() > SEPARATION_LOGIT).any():
        status, reason = "not_estimable", "separation: a group has everyone, or no one, in an outcome category"
    else:
        status, reason = "ok", None
    return FitResult(method, params, cov, n_obs=int(len(y)), n_groups=int(pd.Series(groups).nunique()),
                     n_clusters=int(pd.Series(groups).nunique()), converged=converged, status=status,
                     reason=reason, dropped=dropped,
                     extra={"levels": [int(v) for v in levels]})


def logit_cluster(y: np.ndarray, X: pd.DataFrame, groups: np.ndarray) -> FitResult:
    """Binomial GLM (logit) with an intercept and patient-clustered sandwich standard errors."""
    method = "logistic regression (GLM binomial), patient-clustered sandwich SE"
    import statsmodels.api as sm

    y = np.asarray(y, dtype=float)
    if y.min() == y.max():
        return _failed(method, "the outcome takes a single value")
    X, dropped = _drop_constant(X.astype(float))
    Xc = sm.add_constant(X.reset_index(drop=True), has_constant="add")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = sm.GLM(y, Xc, family=sm.families.Binomial()).fit(
                cov_type="cluster", cov_kwds={"groups": pd.factorize(pd.Series(groups))[0]})
    except Exception as e:  # noqa: BLE001
        return _failed(method, f"fit failed: {type(e).__name__}", dropped=dropped)
    names = list(X.columns)
    params, cov = res.params[names], res.cov_params().loc[names, names]
    finite = np.isfinite(params.to_numpy()).all() and np.isfinite(cov.to_numpy()).all()
    # quasi-separation shows as huge coefficients
    status = "ok" if finite and (params.abs() <= SEPARATION_LOGIT).all() else "not_estimable"
    return FitResult(method, params, cov, n_obs=int(len(y)), n_groups=int(pd.Series(groups).nunique()),
                     n_clusters=int(pd.Series(groups).nunique()), status=status,
                     reason=None if status == "ok" else "separation: a group has all or none meeting a target",
                     dropped=dropped)
