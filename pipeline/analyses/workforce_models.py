"""The PCN-quarter panel and the two models fitted to it, for the ``workforce_regression`` section
(:mod:`pipeline.analyses.workforce` says what is published and why): the Norfolk & Waveney
appendix 3 specification as published (scaled variables, PCN "mean replacement", year and quarter
dummies and their interactions with link-worker FTE) and the two-way fixed-effects alternative,
whose inference with few PCNs is the wild cluster bootstrap (:mod:`pipeline.analyses.wildboot`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..config import Settings, load_settings
from ..extract import Extract
from ..sections import NotAvailable
from .wildboot import FEW_CLUSTERS, WildResult, wild_cluster_bootstrap

PER = 100_000
OUTCOMES = {"attendances": ("ae_attendances", "A&E attendances"),
            "cost": ("nonelective_cost_gbp", "Non-elective in-patient cost")}
QUARTER_OF_START_MONTH = {1: "Q_Mar", 4: "Q_Jun", 7: "Q_Sept", 10: "Q_Dec"}
DUMMIES = ("Q_Mar", "Q_Jun", "Q_Sept")


# ----------------------------------------------------------------------------- preparation

def scale(s: pd.Series) -> pd.Series:
    """R's ``scale()``: mean 0, SD 1 with the n - 1 denominator."""
    sd = float(s.std(ddof=1))
    if not np.isfinite(sd) or sd == 0:
        raise NotAvailable(f"`{s.name}` does not vary across PCN-quarters, so it cannot be scaled")
    return (s - s.mean()) / sd


def quarter_name(quarter_start: pd.Series) -> pd.Series:
    """Q_Mar / Q_Jun / Q_Sept / Q_Dec from the month the quarter *starts* (Jan → ends in March)."""
    return quarter_start.dt.month.map(QUARTER_OF_START_MONTH)


def year_of(quarter_start: pd.Series, definition: str = "financial") -> pd.Series:
    """Financial year (April start, 2020/21 → 2020) or calendar year of ``quarter_start``."""
    y = quarter_start.dt.year
    if definition == "calendar":
        return y.astype("int64")
    return (y - (quarter_start.dt.month < 4).astype(int)).astype("int64")


def year_label(year: int, definition: str = "financial") -> str:
    return f"{year}/{(year + 1) % 100:02d}" if definition == "financial" else str(year)


def availability(extract: Extract, settings: Settings | None = None) -> str | None:
    """``None`` when the regression can run, otherwise the reason it cannot."""
    settings = settings or load_settings()
    h = settings.hospital
    if not extract.has("pcn_quarterly"):
        return "this extract has no `pcn_quarterly` table"
    p = extract["pcn_quarterly"]
    p = p[p["registered_population"].fillna(0) > 0]
    if p.duplicated(["pcn", "quarter_start"]).any():
        return "`pcn_quarterly` has more than one row for the same PCN and quarter"
    n_pcn, n_q = p["pcn"].nunique(), p["quarter_start"].nunique()
    if n_pcn < h.regression_min_pcns or n_q < h.regression_min_quarters:
        return (f"`pcn_quarterly` has {n_pcn} PCN(s) and {n_q} quarter(s) with a registered population; "
                f"the regression needs at least {h.regression_min_pcns} PCNs and {h.regression_min_quarters} quarters")
    return None


def prepare(panel: pd.DataFrame, year: str = "financial") -> pd.DataFrame:
    """Rates per 100,000, scaled variables, PCN mean replacement and quarter dummies, one row per
    PCN-quarter (rows with no registered population are dropped: a rate is undefined)."""
    df = panel[panel["registered_population"].fillna(0) > 0].copy()
    df = df.dropna(subset=["splw_fte", "ae_attendances", "nonelective_cost_gbp", "quarter_start", "pcn"])
    df = df.sort_values(["pcn", "quarter_start"], kind="mergesort").reset_index(drop=True)
    pop = df["registered_population"].astype("float64")
    df["sp_rate"] = df["splw_fte"].astype("float64") / pop * PER
    df["attendances_rate"] = df["ae_attendances"].astype("float64") / pop * PER
    df["cost_rate"] = df["nonelective_cost_gbp"].astype("float64") / pop * PER
    df["quarter"] = quarter_name(df["quarter_start"])
    df["year"] = year_of(df["quarter_start"], year)
    df["period"] = df["quarter_start"].dt.strftime("%Y-%m-%d")
    for d in DUMMIES:
        df[d] = (df["quarter"] == d).astype("float64")
    df["SPs"] = scale(df["sp_rate"].rename("splw_fte per 100,000"))
    df["Year"] = scale(df["year"].astype("float64").rename("year"))
    for name in OUTCOMES:
        rate = df[f"{name}_rate"].rename(f"{name} per 100,000")
        df[name.capitalize()] = scale(rate)
        pcn_mean = rate.groupby(df["pcn"]).transform("mean").rename(f"PCN_{name}")
        df[f"PCN_{name}"] = scale(pcn_mean) if df["pcn"].nunique() > 1 else np.nan
        # leave-one-out PCN mean (the row's own value excluded): a leakage check, not the seed's
        s, n = rate.groupby(df["pcn"]).transform("sum"), rate.groupby(df["pcn"]).transform("count")
        loo = ((s - rate) / (n - 1)).where(n > 1)
        df[f"PCN_{name}_loo"] = (loo - loo.mean()) / loo.std(ddof=1)
    return df


def seed_terms(name: str, dummies: tuple[str, ...] = DUMMIES) -> list[str]:
    """The eleven terms of Tables 8/9, in the seed's row order."""
    pcn = f"PCN_{name}"
    return [pcn, "SPs", "Year", *dummies, f"{pcn}:SPs", "SPs:Year", *(f"SPs:{d}" for d in dummies)]


def seed_formula(name: str, dummies: tuple[str, ...] = DUMMIES, pcn_col: str | None = None) -> str:
    terms = seed_terms(name, dummies)
    if pcn_col:
        terms = [t.replace(f"PCN_{name}", pcn_col) for t in terms]
    return f"{name.capitalize()} ~ " + " + ".join(terms)


# ----------------------------------------------------------------------------- models

@dataclass
class SeedFit:
    name: str
    coefs: pd.DataFrame  # index term: coef, se, t, p, lo, hi
    nobs: int
    df_model: float
    df_resid: float
    r2: float
    adj_r2: float
    fvalue: float
    f_pvalue: float
    adj_r2_loo: float | None
    adj_r2_no_pcn: float | None
    dropped: list[str] = field(default_factory=list)


@dataclass
class FEFit:
    name: str
    coef: float
    se: float
    lo: float
    hi: float
    p: float
    df: int
    nobs: int
    n_pcns: int
    n_quarters: int
    mean_rate: float
    within_sd_sp: float
    wild: WildResult | None = None  # the wild cluster bootstrap, with fewer than FEW_CLUSTERS PCNs


def ols(formula: str, df: pd.DataFrame):
    import statsmodels.formula.api as smf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return smf.ols(formula, data=df).fit()


def fit_seed(df: pd.DataFrame, name: str) -> SeedFit:
    """The published specification for outcome ``name`` ("attendances" or "cost")."""
    dummies = tuple(d for d in DUMMIES if df[d].nunique() > 1)  # a quarter absent from the panel
    dropped = [d for d in DUMMIES if d not in dummies]
    res = ols(seed_formula(name, dummies), df)
    ci = res.conf_int()
    coefs = pd.DataFrame({"coef": res.params, "se": res.bse, "t": res.tvalues, "p": res.pvalues,
                          "lo": ci[0], "hi": ci[1]})
    order = ["Intercept", *seed_terms(name, dummies)]
    coefs = coefs.reindex(order)
    loo = df.dropna(subset=[f"PCN_{name}_loo"])
    adj_loo = float(ols(seed_formula(name, dummies, f"PCN_{name}_loo"), loo).rsquared_adj) if len(loo) else None
    no_pcn = " + ".join(["SPs", "Year", *dummies, "SPs:Year", *(f"SPs:{d}" for d in dummies)])
    adj_no = float(ols(f"{name.capitalize()} ~ {no_pcn}", df).rsquared_adj)
    return SeedFit(name, coefs, int(res.nobs), float(res.df_model), float(res.df_resid), float(res.rsquared),
                   float(res.rsquared_adj), float(res.fvalue), float(res.f_pvalue), adj_loo, adj_no, dropped)


def fit_fixed_effects(df: pd.DataFrame, name: str) -> FEFit | str:
    """Two-way fixed effects on unscaled rates, SEs clustered by PCN (CR1) and, with fewer than
    :data:`~pipeline.analyses.wildboot.FEW_CLUSTERS` PCNs, the wild cluster bootstrap's p-value and
    interval; a reason string when the FTE coefficient is not estimable (no within-PCN change in FTE
    beyond the common trend)."""
    import statsmodels.formula.api as smf

    rate = f"{name}_rate"
    resid_sp = df["sp_rate"] - df.groupby("pcn")["sp_rate"].transform("mean")
    within_sd = float(resid_sp.std(ddof=1))
    two_way = ols("sp_rate ~ C(pcn) + C(period)", df).resid
    if not np.isfinite(within_sd) or float(np.abs(two_way).max()) < 1e-9:
        return ("link-worker FTE per 100,000 does not change within PCNs beyond what all PCNs share, "
                "so a fixed-effects estimate is not possible")
    groups = pd.factorize(df["pcn"])[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = smf.ols(f"{rate} ~ sp_rate + C(pcn) + C(period)", data=df).fit(
            cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    lo, hi = res.conf_int().loc["sp_rate"]
    n_pcns = int(df["pcn"].nunique())
    wild = (wild_cluster_bootstrap(res.model.exog, res.model.endog, groups, res.model.exog_names.index("sp_rate"))
            if n_pcns < FEW_CLUSTERS else None)
    return FEFit(name, float(res.params["sp_rate"]), float(res.bse["sp_rate"]), float(lo), float(hi),
                 float(res.pvalues["sp_rate"]), int(getattr(res, "df_resid_inference", len(set(groups)) - 1)),
                 int(res.nobs), n_pcns, int(df["period"].nunique()), float(df[rate].mean()), within_sd, wild)


def stars(p: float | None) -> str:
    if p is None or not np.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else "." if p < 0.1 else ""


def r_p_text(p: float | None) -> str:
    """A p-value as R prints Pr(>|t|)."""
    if p is None or not np.isfinite(p):
        return "[c]"
    if p < 2.2e-16:
        return "<2e-16"
    if p < 1e-4:
        return f"{p:.2e}"
    return f"{p:.4f}"


