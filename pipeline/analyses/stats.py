"""Statistical helpers for the clinical-targets and GP-appointment analyses.

Everything here works on arrays and returns plain numbers; nothing is published from here
(disclosure control happens in each analysis module's ``publish``).

- :func:`stuart_maxwell`: the paired test of marginal homogeneity on a K x K table (prior x
  after number of targets met), with the degenerate cases handled explicitly.
- :func:`holm`: Holm's step-down multiplicity correction.
- :class:`FitResult`: a fitted model's coefficients and covariance (the fixed-effects Poisson
  estimator is :mod:`.poisson_fe`).
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

    @classmethod
    def not_estimable(cls, method: str, reason: str, **kw) -> FitResult:
        """A fit that could not be made, and why."""
        return cls(method, pd.Series(dtype=float), pd.DataFrame(dtype=float), status="not_estimable",
                   reason=reason, converged=False, **kw)

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
        return FitResult.not_estimable(method, "the outcome takes a single value")
    X, dropped = _drop_constant(X.astype(float))
    if X.shape[1] == 0:
        return FitResult.not_estimable(method, "no predictor varies", dropped=dropped)
    codes = np.searchsorted(levels, y)
    endog = pd.Series(pd.Categorical(codes, categories=range(len(levels)), ordered=True))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mod = _logit_ordered_model()(endog, X.reset_index(drop=True), distr="logit")
            res = mod.fit(method="bfgs", disp=0, maxiter=1000, gtol=ORDINAL_GTOL, cov_type="cluster",
                          cov_kwds={"groups": pd.factorize(pd.Series(groups))[0]})
    except Exception as e:  # noqa: BLE001 - report, never crash a report build
        return FitResult.not_estimable(method, f"fit failed: {type(e).__name__}", dropped=dropped)
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
        return FitResult.not_estimable(method, "the outcome takes a single value")
    X, dropped = _drop_constant(X.astype(float))
    Xc = sm.add_constant(X.reset_index(drop=True), has_constant="add")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = sm.GLM(y, Xc, family=sm.families.Binomial()).fit(
                cov_type="cluster", cov_kwds={"groups": pd.factorize(pd.Series(groups))[0]})
    except Exception as e:  # noqa: BLE001
        return FitResult.not_estimable(method, f"fit failed: {type(e).__name__}", dropped=dropped)
    names = list(X.columns)
    params, cov = res.params[names], res.cov_params().loc[names, names]
    finite = np.isfinite(params.to_numpy()).all() and np.isfinite(cov.to_numpy()).all()
    # quasi-separation shows as huge coefficients
    status = "ok" if finite and (params.abs() <= SEPARATION_LOGIT).all() else "not_estimable"
    return FitResult(method, params, cov, n_obs=int(len(y)), n_groups=int(pd.Series(groups).nunique()),
                     n_clusters=int(pd.Series(groups).nunique()), status=status,
                     reason=None if status == "ok" else "separation: a group has all or none meeting a target",
                     dropped=dropped)
