"""How alike the matched groups are: referred patients against their (weighted) matched comparison
patients, characteristic by characteristic.

Raw material only (exact, patient level, never published): for a share, the counts behind it (the
comparison side by matched-set size, because a comparison patient in a set of ``j`` weighs
``1/j``: the weighted share is then a sum of counts divided by ``j``, so it can be computed from
rounded counts); for a mean of whole numbers (age, deprivation decile, appointments), the means,
the people or weighted people they rest on, and the variances behind the standardised
difference. :mod:`.publish` turns these into published figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

BANDS = ("very_high", "high", "medium", "low")
# matched on exactly (practice, age band, gender, risk band): the comparison's weighted share of
# each of these equals the referred patients' share, by construction
MATCHED_EXACTLY = ("female", *(f"risk_{b}" for b in BANDS))


@dataclass
class Share:
    """A characteristic recorded as yes/no: counts of people with it recorded (``known``) and with
    it (``yes``); the comparison's by matched-set size ``j`` (weight 1/j)."""

    referred_known: int
    referred_yes: int
    comparison_known: dict[int, int] = field(default_factory=dict)
    comparison_yes: dict[int, int] = field(default_factory=dict)
    matched_exactly: bool = False
    family: str | None = None  # the categories of one characteristic (the risk bands) share one
    kind: str = "pct"


@dataclass
class Mean:
    """A characteristic that is a whole number: the referred mean over ``referred_n`` people, the
    comparison's weighted mean over ``comparison_weight`` weighted people (its matched sets), and
    the variances for the standardised difference."""

    referred: float
    referred_n: int
    referred_var: float
    comparison: float
    comparison_n: int
    comparison_weight: float
    comparison_var: float
    kind: str = "mean"


def _weighted(x: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    """(weighted mean, weighted variance, total weight) of the non-missing values."""
    m = ~np.isnan(x)
    if not m.any() or w[m].sum() <= 0:
        return float("nan"), float("nan"), 0.0
    mu = float(np.average(x[m], weights=w[m]))
    var = float(np.average((x[m] - mu) ** 2, weights=w[m])) if m.sum() > 1 else float("nan")
    return mu, var, float(w[m].sum())


def balance(units: pd.DataFrame) -> dict[str, Share | Mean]:
    """Referred against matched comparison patients: the shares and means the balance table shows."""
    t = units[units["treated"] == 1]
    c = units[units["treated"] == 0]
    w_c = c["weight"].to_numpy(dtype=float)
    size = np.rint(1.0 / w_c).astype(np.int64) if len(c) else np.zeros(0, dtype=np.int64)
    out: dict[str, Share | Mean] = {}

    def num(col: str) -> Callable[[pd.DataFrame], np.ndarray]:
        return lambda d: pd.to_numeric(d[col], errors="coerce").to_numpy(dtype=float)

    def flag(col: str, value: object = True) -> Callable[[pd.DataFrame], np.ndarray]:
        def f(d: pd.DataFrame) -> np.ndarray:
            s = d[col]
            return np.where(s.notna().to_numpy(), (s.astype("object") == value).to_numpy(dtype=float), np.nan)
        return f

    def share(name: str, f: Callable[[pd.DataFrame], np.ndarray], family: str | None = None) -> None:
        xt, xc = f(t), f(c)
        known_c = ~np.isnan(xc)
        sizes = sorted(set(size[known_c].tolist()))
        out[name] = Share(int((~np.isnan(xt)).sum()), int(np.nansum(xt)),
                          {j: int((known_c & (size == j)).sum()) for j in sizes},
                          {j: int(np.nansum(xc[size == j])) for j in sizes}, name in MATCHED_EXACTLY, family)
        if name in MATCHED_EXACTLY:  # a check of the matching, not of the data: a failure is a bug
            wt, _, _ = _weighted(xt, np.ones(len(xt)))
            wc, _, _ = _weighted(xc, w_c)
            assert (np.isnan(wt) and np.isnan(wc)) or abs(wt - wc) < 1e-9, (name, wt, wc)

    def mean(name: str, f: Callable[[pd.DataFrame], np.ndarray]) -> None:
        xt, xc = f(t), f(c)
        mt, vt, nt = _weighted(xt, np.ones(len(xt)))
        mc, vc, sw = _weighted(xc, w_c)
        out[name] = Mean(mt, int(nt), vt, mc, int((~np.isnan(xc)).sum()), sw, vc)

    mean("age", num("age"))
    share("female", flag("gender", "female"))
    for b in BANDS:
        share(f"risk_{b}", flag("risk_band", b), "risk_band")
    share("diabetes", flag("diabetes"))
    share("severe_mental_illness", flag("severe_mental_illness"))
    mean("imd_decile", num("imd_decile"))
    mean("matching_window_appointments", num("match_n"))
    mean("before_window_appointments", num("before_n"))
    return out
