"""Competing-risks survival estimators, written out so that every number can be checked by hand.

Why our own: lifelines 0.30's ``AalenJohansenFitter`` sets the cumulative incidence at the
first time point to zero (so an event at ``t = 0``, a same-day readmission, is dropped) and
gives wrong values when ``timeline=`` is passed. The estimator is short enough to write out.

Notation (Marubini & Valsecchi 1995, ch. 10; SAS PROC LIFETEST "Analysis of competing-risks
data"). Event codes are ``0`` = censored and ``1..K`` = cause. At each distinct observed time
``t_j`` (event or censoring):

- ``n_j`` = number at risk = people with ``T >= t_j``. A person censored at ``t_j`` is still at
  risk at ``t_j`` (events come before censoring at tied times);
- ``d_kj`` = events of cause k at ``t_j``; ``d_j`` = events of any cause;
- overall Kaplan–Meier (all causes as one event): ``S(t) = prod_{t_j <= t} (1 - d_j / n_j)``;
  ``S(t_j-)`` is its value just before ``t_j`` (``S(t_{j-1})``, 1 before the first time);
- cause-specific hazard at ``t_j``: ``d_kj / n_j``;
- Aalen–Johansen cumulative incidence: ``F_k(t) = sum_{t_j <= t} S(t_j-) * d_kj / n_j``
  (right-continuous: events at ``t`` are included in ``F_k(t)``; an event at ``t = 0`` counts).

Variance: the delta-method ("Greenwood-type") estimator of Dinse & Larson (1986) as given by
Marubini & Valsecchi (1995) (SAS ``ERROR=DELTA``; the formula lifelines uses)::

    Var F_k(t) = sum_{t_j<=t} [F_k(t) - F_k(t_j)]^2 * d_j / (n_j (n_j - d_j))
               + sum_{t_j<=t} S(t_j-)^2 * d_kj (n_j - d_kj) / n_j^3
               - 2 sum_{t_j<=t} [F_k(t) - F_k(t_j)] * S(t_j-) * d_kj / n_j^2

With one cause it equals Greenwood's variance of ``1 - KM``; without censoring it equals the
binomial ``F (1 - F) / n``. (Where ``n_j = d_j`` the first term's factor ``F_k(t) - F_k(t_j)``
is 0, and the term is taken as 0.)

Confidence interval (default 95%): on the complementary log-log scale
``g = log(-log(1 - F))``, ``se_g = se_F / ((1 - F) * -log(1 - F))``,
``[1 - exp(-exp(g - z se_g)), 1 - exp(-exp(g + z se_g))]``; bounded in (0, 1), and for one cause
identical to the usual log(-log) interval of the Kaplan–Meier survival. When ``F = 0`` the
interval is undefined (NaN).

Everything is vectorised over distinct times (``numpy.unique`` + cumulative sums), so an
extract of a million rows costs a sort.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

VARIANCE_METHOD = ("delta method (Dinse & Larson 1986; Marubini & Valsecchi 1995), "
                   "Greenwood-type; reduces to Greenwood for one cause")
CI_METHOD = "complementary log-log transform, log(-log(1 - F)), bounded 0..1"


def _as_arrays(time, event) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(pd.Series(time).astype("float64"), dtype="float64")
    e = np.asarray(pd.Series(event).astype("float64"), dtype="float64")
    if t.shape != e.shape:
        raise ValueError("time and event must have the same length")
    if np.isnan(t).any() or np.isnan(e).any():
        raise ValueError("time and event must not be missing")
    if (t < 0).any():
        raise ValueError("times must be >= 0")
    if (e < 0).any() or (e != np.round(e)).any():
        raise ValueError("event codes must be 0 (censored) or positive integers (causes)")
    return t, e.astype("int64")


def _loglog_ci(f: np.ndarray, var: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """CI for a probability ``f`` (a cumulative incidence) on the log(-log(1 - f)) scale."""
    f = np.asarray(f, dtype="float64")
    se = np.sqrt(np.clip(var, 0.0, None))
    lo = np.full_like(f, np.nan)
    hi = np.full_like(f, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = (f > 0) & (f < 1)
        s = 1.0 - f[inner]
        g = np.log(-np.log(s))
        se_g = se[inner] / (s * -np.log(s))
        lo[inner] = 1.0 - np.exp(-np.exp(g - z * se_g))
        hi[inner] = 1.0 - np.exp(-np.exp(g + z * se_g))
    one = f >= 1
    lo[one] = 1.0
    hi[one] = 1.0
    return lo, hi


@dataclass
class _StepFit:
    """Shared lookup machinery: a table indexed by the distinct observed times."""

    table: pd.DataFrame
    sorted_times: np.ndarray  # every subject's time, sorted (for numbers at risk at any t)
    alpha: float

    @property
    def n(self) -> int:
        return int(len(self.sorted_times))

    @property
    def times(self) -> np.ndarray:
        return self.table.index.to_numpy(dtype="float64")

    def _row(self, t: float) -> int:
        """Position of the last distinct time <= t (-1 when t is before the first time)."""
        return int(np.searchsorted(self.times, float(t), side="right")) - 1

    def _value(self, col: str, t: float, before: float) -> float:
        i = self._row(t)
        return float(before) if i < 0 else float(self.table[col].iloc[i])

    def at_risk(self, t: float) -> int:
        """People still followed and event-free at the start of time ``t`` (``T >= t``)."""
        return int(self.n - np.searchsorted(self.sorted_times, float(t), side="left"))


@dataclass
class CompetingRisksFit(_StepFit):
    """Aalen–Johansen fit. ``table`` columns per distinct time: ``n_risk``, ``n_censored``,
    ``d`` (all causes), ``surv`` (overall KM after t), ``surv_before`` (S(t-)), and for each cause
    k: ``d_k``, ``cif_k``, ``var_k``, ``lo_k``, ``hi_k``."""

    causes: tuple[int, ...] = (1,)

    def _check(self, cause: int) -> None:
        if cause not in self.causes:
            raise KeyError(f"cause {cause} is not one of {self.causes}")

    def cif(self, cause: int, t: float) -> float:
        self._check(cause)
        return self._value(f"cif_{cause}", t, 0.0)

    def variance(self, cause: int, t: float) -> float:
        self._check(cause)
        return self._value(f"var_{cause}", t, 0.0)

    def se(self, cause: int, t: float) -> float:
        return float(np.sqrt(max(self.variance(cause, t), 0.0)))

    def ci(self, cause: int, t: float) -> tuple[float, float]:
        self._check(cause)
        return self._value(f"lo_{cause}", t, np.nan), self._value(f"hi_{cause}", t, np.nan)

    def events(self, cause: int, t: float) -> int:
        """Number of cause-``cause`` events observed at times <= t."""
        self._check(cause)
        i = self._row(t)
        return 0 if i < 0 else int(self.table[f"d_{cause}"].iloc[: i + 1].sum())

    def surv(self, t: float) -> float:
        """Overall event-free survival (all causes as one event) at t."""
        return self._value("surv", t, 1.0)

    def summary(self, times, cause: int) -> pd.DataFrame:
        """CIF, SE, CI, cumulative events and numbers at risk at chosen times."""
        rows = []
        for t in times:
            lo, hi = self.ci(cause, t)
            rows.append({"t": t, "at_risk": self.at_risk(t), "events": self.events(cause, t),
                         "cif": self.cif(cause, t), "se": self.se(cause, t), "lo": lo, "hi": hi})
        return pd.DataFrame(rows)


@dataclass
class KaplanMeierFit(_StepFit):
    """Kaplan–Meier fit; ``table`` columns: ``n_risk``, ``d``, ``n_censored``, ``surv``,
    ``var`` (Greenwood), ``lo``, ``hi`` (log(-log S) interval for S)."""

    def surv(self, t: float) -> float:
        return self._value("surv", t, 1.0)

    def variance(self, t: float) -> float:
        return self._value("var", t, 0.0)

    def ci(self, t: float) -> tuple[float, float]:
        return self._value("lo", t, np.nan), self._value("hi", t, np.nan)

    def cdf(self, t: float) -> float:
        """``1 - S(t)``: the naive cumulative incidence when competing events are censored."""
        return 1.0 - self.surv(t)

    def cdf_ci(self, t: float) -> tuple[float, float]:
        lo, hi = self.ci(t)
        return 1.0 - hi, 1.0 - lo

    def events(self, t: float) -> int:
        i = self._row(t)
        return 0 if i < 0 else int(self.table["d"].iloc[: i + 1].sum())


def risk_table(t: np.ndarray, e: np.ndarray, causes: tuple[int, ...]) -> pd.DataFrame:
    times, inv = np.unique(t, return_inverse=True)
    m = len(times)
    removed = np.bincount(inv, minlength=m).astype("int64")
    n_risk = len(t) - np.concatenate([[0], np.cumsum(removed)[:-1]])
    tab = pd.DataFrame({"n_risk": n_risk}, index=pd.Index(times, name="t"))
    d_all = np.zeros(m, dtype="int64")
    for k in causes:
        dk = np.bincount(inv, weights=(e == k).astype("float64"), minlength=m).astype("int64")
        tab[f"d_{k}"] = dk
        d_all += dk
    tab["d"] = d_all
    tab["n_censored"] = removed - d_all
    return tab


def aalen_johansen(time, event, causes: tuple[int, ...] | None = None,
                   alpha: float = 0.05) -> CompetingRisksFit:
    """Aalen–Johansen cumulative incidence for each cause, with delta-method variance and
    complementary log-log confidence intervals (see the module docstring for the formulas).

    ``event``: 0 = censored, 1..K = cause. ``causes`` defaults to the positive codes present.
    """
    t, e = _as_arrays(time, event)
    if causes is None:
        causes = tuple(int(k) for k in np.unique(e[e > 0]))
    causes = tuple(int(k) for k in causes)
    unknown = set(np.unique(e[e > 0]).tolist()) - set(causes)
    if unknown:
        raise ValueError(f"event codes {sorted(unknown)} are not among the causes {causes}")
    tab = aj_estimates(risk_table(t, e, causes), causes, alpha)
    return CompetingRisksFit(table=tab, sorted_times=np.sort(t), alpha=alpha, causes=causes)


def aj_estimates(tab: pd.DataFrame, causes: tuple[int, ...], alpha: float = 0.05) -> pd.DataFrame:
    """Fill a risk table (``n_risk`` and ``d_k`` per distinct time, as :func:`risk_table` makes)
    with the overall survival and each cause's cumulative incidence, variance and interval. Any
    table of that shape will do: the disclosure layer passes one built from rounded counts."""
    tab = tab.copy()
    n = tab["n_risk"].to_numpy("float64")
    d = sum(tab[f"d_{k}"].to_numpy("float64") for k in causes) if causes else np.zeros(len(tab))
    tab["d"] = d.astype("int64")
    surv = np.cumprod(1.0 - d / n) if len(n) else np.array([])
    surv_before = np.concatenate([[1.0], surv[:-1]]) if len(n) else np.array([])
    tab["surv"] = surv
    tab["surv_before"] = surv_before
    z = NormalDist().inv_cdf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(n > d, d / (n * (n - d)), 0.0)  # where n == d the factor [F(t) - F(t_j)] is 0
    for k in causes:
        dk = tab[f"d_{k}"].to_numpy("float64")
        f = np.cumsum(surv_before * dk / n)
        b = surv_before ** 2 * dk * (n - dk) / n ** 3
        c = surv_before * dk / n ** 2
        # sum_j (F - F_j)^2 a_j = F^2 A - 2 F sum(a F_j) + sum(a F_j^2), all as running sums
        first = f ** 2 * np.cumsum(a) - 2 * f * np.cumsum(a * f) + np.cumsum(a * f ** 2)
        third = f * np.cumsum(c) - np.cumsum(c * f)
        var = np.clip(first + np.cumsum(b) - 2 * third, 0.0, None)
        lo, hi = _loglog_ci(f, var, z)
        tab[f"cif_{k}"] = f
        tab[f"var_{k}"] = var
        tab[f"lo_{k}"] = lo
        tab[f"hi_{k}"] = hi
    return tab


def kaplan_meier(time, event_observed, alpha: float = 0.05) -> KaplanMeierFit:
    """Kaplan–Meier survival with Greenwood variance and a log(-log S) confidence interval.

    ``event_observed`` is truthy for an event; anything else is censored. To get the *naive*
    cumulative incidence of cause k that treats competing events as censoring, pass
    ``event == k`` and read :meth:`KaplanMeierFit.cdf`.
    """
    t, e = _as_arrays(time, np.asarray(event_observed).astype("int64") != 0)
    tab = risk_table(t, (e != 0).astype("int64"), (1,))
    return KaplanMeierFit(table=km_estimates(tab, alpha), sorted_times=np.sort(t), alpha=alpha)


def km_estimates(tab: pd.DataFrame, alpha: float = 0.05, cause: int = 1) -> pd.DataFrame:
    """Fill a risk table with the Kaplan–Meier survival of ``cause`` (every other exit censored):
    ``surv``, Greenwood ``var`` and the log(-log S) interval ``lo``, ``hi``."""
    n = tab["n_risk"].to_numpy("float64")
    d = tab[f"d_{cause}"].to_numpy("float64")
    # every exit but the cause's events is a censoring here (competing events included)
    out = pd.DataFrame({"n_risk": tab["n_risk"], "d": tab[f"d_{cause}"].astype("int64"),
                        "n_censored": tab["n_censored"] + tab["d"] - tab[f"d_{cause}"]}, index=tab.index)
    surv = np.cumprod(1.0 - d / n) if len(n) else np.array([])
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.cumsum(np.where(n > d, d / (n * (n - d)), np.inf * (d > 0)))
        var = np.where(surv > 0, surv ** 2 * g, 0.0)
    z = NormalDist().inv_cdf(1 - alpha / 2)
    lo_f, hi_f = _loglog_ci(1.0 - surv, var, z)  # the same interval, written for F = 1 - S
    out["surv"] = surv
    out["var"] = var
    out["lo"] = 1.0 - hi_f
    out["hi"] = 1.0 - lo_f
    return out
