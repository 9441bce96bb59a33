"""A Cox proportional-hazards model with its checks, as the report publishes it: design from a
table of covariates (levels against the most common one), complete cases, a ridge penalty only
when the plain fit does not converge, and the proportional-hazards test."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MIN_COX_EVENTS = 10
MIN_COX_N = 20
MIN_LEVEL_N = 5  # categorical levels with fewer people are pooled with the reference level
PH_TEST_MAX_N = 20_000  # larger cohorts: the PH test runs on a fixed random sample of this size


@dataclass
class CoxRaw:
    status: str  # "ok" or "not_run"
    reason: str | None = None
    n: int = 0
    events: int = 0
    penalizer: float = 0.0
    # per covariate label: hr, lo, hi, p, n_with, events_with, n_without, events_without, kind
    coefs: pd.DataFrame = field(default_factory=pd.DataFrame)
    ph: pd.DataFrame = field(default_factory=pd.DataFrame)  # per covariate: test_statistic, p
    reference: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)  # covariate -> why
    ph_n: int = 0  # people the proportional-hazards test used (a random sample when n is large)


def fit_cox(cov: pd.DataFrame, time: pd.Series, event: pd.Series) -> CoxRaw:
    """Cox model of ``event`` (a cause-specific hazard: other exits are censored at ``time``) on the
    columns of ``cov``: numeric columns as they are, text columns as levels against the most common
    one (levels with fewer than MIN_LEVEL_N people pooled with it); columns mostly missing or constant
    are dropped with the reason; complete cases only; a small ridge penalty when the plain fit does not
    converge. Proportional hazards checked on Schoenfeld residuals against rank(time)."""
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test

    if len(cov) < MIN_COX_N or int(event.sum()) < MIN_COX_EVENTS:
        return CoxRaw("not_run", reason=f"a model needs at least {MIN_COX_N} people and {MIN_COX_EVENTS} events")
    dropped: dict[str, str] = {}
    reference: dict[str, str] = {}
    design = pd.DataFrame(index=cov.index)
    for col in cov.columns:
        x = cov[col]
        miss = x.isna().mean()
        if miss > 0.5:
            dropped[col] = "missing for more than half of the people"
            continue
        if x.dropna().nunique() < 2:
            dropped[col] = "the same for everyone"
            continue
        if x.dtype == object:
            counts = x.value_counts()
            ref_level = str(counts.index[0])  # most common level as reference
            small = [lv for lv, n in counts.items() if n < MIN_LEVEL_N and lv != ref_level]
            x = x.where(~x.isin(small), ref_level)
            levels = [lv for lv in counts.index if lv != ref_level and lv not in small]
            if not levels:
                dropped[col] = "only one level with enough people"
                continue
            reference[col] = ref_level + (f" (pooled with {', '.join(map(str, small))})" if small else "")
            for lv in sorted(levels):
                design[f"{col}={lv}"] = np.where(x.isna(), np.nan, (x == lv).astype("float64"))
        else:
            design[col] = x.astype("float64")
    if design.shape[1] == 0:
        return CoxRaw("not_run", reason="no usable covariates", dropped=dropped)
    df = design.assign(time=time.astype("float64").to_numpy(),
                       readmitted=event.astype("int64").to_numpy()).dropna()
    const = [c for c in design.columns if df[c].nunique() < 2]
    if const:
        df = df.drop(columns=const)
        dropped.update({c: "the same for everyone with complete data" for c in const})
    n, events = len(df), int(df["readmitted"].sum())
    if n < MIN_COX_N or events < MIN_COX_EVENTS or df.shape[1] <= 2:
        return CoxRaw("not_run", reason="too few complete cases or events for a model",
                      n=n, events=events, dropped=dropped, reference=reference)

    cph, penalizer = None, 0.0
    for pen in (0.0, 0.1):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cand = CoxPHFitter(penalizer=pen).fit(df, duration_col="time", event_col="readmitted")
            if np.isfinite(cand.summary["se(coef)"]).all():
                cph, penalizer = cand, pen
                break
        except Exception:  # lifelines ConvergenceError and linear-algebra failures
            continue
    if cph is None:
        return CoxRaw("not_run", reason="the model did not converge", n=n, events=events,
                      dropped=dropped, reference=reference)
    s = cph.summary
    rows = []
    for c in s.index:
        x, ev = df[c], df["readmitted"]
        binary = set(np.unique(x)) <= {0.0, 1.0}
        n_with = int(x.sum()) if binary else n
        e_with = int(ev[x == 1].sum()) if binary else events
        rows.append({"covariate": c, "hr": float(s.loc[c, "exp(coef)"]),
                     "lo": float(s.loc[c, "exp(coef) lower 95%"]), "hi": float(s.loc[c, "exp(coef) upper 95%"]),
                     "p": float(s.loc[c, "p"]), "kind": "binary" if binary else "continuous",
                     "n_with": n_with, "events_with": e_with,
                     "n_without": n - n_with if binary else n, "events_without": events - e_with if binary else events})
    coefs = pd.DataFrame(rows).set_index("covariate")
    ph_n = n
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ph_model, ph_df = cph, df
            if n > PH_TEST_MAX_N:  # lifelines' Schoenfeld residuals loop over rows: test on a sample
                ph_df = df.sample(PH_TEST_MAX_N, random_state=0)
                ph_model = CoxPHFitter(penalizer=penalizer).fit(ph_df, duration_col="time", event_col="readmitted")
                ph_n = PH_TEST_MAX_N
            ph = proportional_hazard_test(ph_model, ph_df, time_transform="rank").summary[["test_statistic", "p"]]
        ph.index = [i[0] if isinstance(i, tuple) else i for i in ph.index]
    except Exception:
        ph = pd.DataFrame(columns=["test_statistic", "p"])
    return CoxRaw("ok", n=n, events=events, penalizer=penalizer, coefs=coefs, ph=ph,
                  reference=reference, dropped=dropped, ph_n=ph_n)


