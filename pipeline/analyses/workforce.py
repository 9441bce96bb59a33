"""Link-worker workforce and hospital use at PCN-quarter level: the Norfolk & Waveney appendix 3
regression, reproduced as published, and a better-specified alternative beside it (the extra
``workforce_regression`` section of results.json).

**The published method (seed 001, appendix 3, Tables 8 and 9), as read here**

- Unit: one row per PCN and quarter of ``pcn_quarterly`` (the seed: 17 PCNs × 12 quarters,
  June 2020 to March 2023 = 204 rows; its F-test on 11 and 192 df confirms 204 - 12 = 192).
- Dependent variables: A&E attendances and non-elective in-patient cost as rates per 100,000
  registered population, each scaled to mean 0, SD 1 (``Attendances``, ``Cost``). The seed's text
  says "per 10,000" once and the table "per 100,000"; scaling removes any multiplier, so the
  scaled model is the same either way.
- ``PCN_attendances`` / ``PCN_cost``: "mean replacement" of the PCN code, i.e. the mean of the
  (unscaled) dependent rate over that PCN's rows, attached to every row of the PCN and then
  scaled over all rows.
- ``SPs``: social prescribing link-worker FTE per 100,000, scaled.
- ``Year``: scaled. The seed does not say calendar or financial year. Its quarters run June 2020
  to March 2023: exactly the financial years 2020/21, 2021/22 and 2022/23 with four quarters
  each, so the default reading is the **financial year** (April start) of the quarter;
  ``settings.hospital.regression_year: calendar`` switches to the calendar year of
  ``quarter_start``.
- Quarter dummies named after the month the quarter ends, as the seed names its quarters
  ("June 2020 to March 2023"): a quarter starting in January ends in March → ``Q_Mar``; April →
  ``Q_Jun``; July → ``Q_Sept``; October → ``Q_Dec``, the omitted reference.
- Scaling is R's ``scale()``: (x - mean) / SD with the n - 1 denominator, over the rows used.
- Model (R: ``lm``; here statsmodels OLS formula):
  ``Y ~ PCN_y + SPs + Year + Q_Mar + Q_Jun + Q_Sept + PCN_y:SPs + SPs:Year + SPs:Q_Mar + SPs:Q_Jun + SPs:Q_Sept``.
- Significance codes: R's legend ``0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1``; the seed's
  footnote prints only its first three steps, and its tables do not always follow it (see
  :data:`SEED_NOTES`).

**The alternative**: two-way fixed effects, unscaled:
``rate per 100,000 ~ FTE per 100,000 + C(PCN) + C(quarter)``, with standard errors clustered by
PCN (CR1, t with G - 1 df). The FTE coefficient is the change in attendances (or £ cost) per
100,000 population associated with one extra link-worker FTE per 100,000, comparing a PCN with
itself over time against the change in the other PCNs in the same quarter.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config import Settings, load_settings
from ..disclosure import SDC
from ..extract import Extract

SECTION = "workforce_regression"
REQUIRED = ("pcn_quarterly",)
PER = 100_000
OUTCOMES = {"attendances": ("ae_attendances", "A&E attendances"),
            "cost": ("nonelective_cost_gbp", "Non-elective in-patient cost")}
RATE_UNITS = {"attendances": "attendances per 100,000", "cost": "£ per 100,000"}
QUARTER_OF_START_MONTH = {1: "Q_Mar", 4: "Q_Jun", 7: "Q_Sept", 10: "Q_Dec"}
DUMMIES = ("Q_Mar", "Q_Jun", "Q_Sept")
REFERENCE_QUARTER = "Q_Dec"
SIGNIFICANCE_LEGEND = "0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"
COEF_DECIMALS = 5

SEED_NOTES = [
    "Table 9 prints Q_Mar's coefficient as +0.306338 with t = -7.334; 0.306338 / 0.041768 = 7.334, "
    "so the sign of one of the two was lost (the appendix's p-value 6.09e-12 fits |t| = 7.33).",
    "Table 9's significance column is shifted one row: the intercept (p = 0.47) is marked `***` and "
    "PCN_cost (p < 2e-16) is unmarked.",
    "Table 8 marks SPs:Year (p = 0.0025) `***`; by the footnote's own legend it is `**` (0.001 to 0.01).",
    "The footnote legend is R's, cut short: `0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1`.",
    "The text says PCN, year and quarter are all significant (rows 1-6), but Q_Jun is not "
    "in Table 8 (p = 0.44), nor Q_Sept in Table 9 (p = 0.74).",
    "Populations are described as 'per 10,000' in the text and 'per 100,000' in the table; "
    "after scaling to SD 1 the two give identical models.",
]

CAVEATS = [
    "Ecological association: the unit is a PCN-quarter, not a person. A PCN-level association says "
    "nothing direct about what happens to the people a link worker supports.",
    "Leakage in the published specification: PCN_attendances / PCN_cost is the PCN mean of the "
    "dependent variable itself, including the row being predicted, so the outcome sits on both sides "
    "of the equation. It stands in for one fixed effect per PCN while being counted as a single given "
    "predictor, so the F-test's degrees of freedom, the R² and the standard errors are optimistic. A "
    "high R² says that PCNs differ steadily from one another, not that link workers explain hospital "
    "use: compare the adjusted R² without the PCN term, and with a leave-one-out PCN mean (the row's own "
    "quarter excluded), which shows how much comes from the row's own value.",
    "Link-worker FTE is not randomly allocated: PCNs recruited under the Additional Roles scheme at "
    "different times and for reasons (size, need, other staff) that may also drive hospital use, and "
    "other roles were recruited at the same time. Busier PCNs may recruit more (reverse causation).",
    "Multiple testing: 11 terms in each of two models is 22 tests; at the 5% level about one would "
    "be 'significant' by chance. Holm-adjusted p-values across the 22 are shown; an interaction "
    "that is significant only before adjustment should be read as a hypothesis.",
    "With interactions in the model, the SPs main effect is the association at the mean year, in the "
    "reference (December) quarter and at the mean PCN level, in standard-deviation units, and the "
    "ordinary OLS standard errors treat repeated quarters of the same PCN as independent.",
]


class NotAvailable(Exception):
    """The extract cannot support this section; the message is the reason."""


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


def _ols(formula: str, df: pd.DataFrame):
    import statsmodels.formula.api as smf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return smf.ols(formula, data=df).fit()


def fit_seed(df: pd.DataFrame, name: str) -> SeedFit:
    """The published specification for outcome ``name`` ("attendances" or "cost")."""
    dummies = tuple(d for d in DUMMIES if df[d].nunique() > 1)  # a quarter absent from the panel
    dropped = [d for d in DUMMIES if d not in dummies]
    res = _ols(seed_formula(name, dummies), df)
    ci = res.conf_int()
    coefs = pd.DataFrame({"coef": res.params, "se": res.bse, "t": res.tvalues, "p": res.pvalues,
                          "lo": ci[0], "hi": ci[1]})
    order = ["Intercept", *seed_terms(name, dummies)]
    coefs = coefs.reindex(order)
    loo = df.dropna(subset=[f"PCN_{name}_loo"])
    adj_loo = float(_ols(seed_formula(name, dummies, f"PCN_{name}_loo"), loo).rsquared_adj) if len(loo) else None
    no_pcn = " + ".join(["SPs", "Year", *dummies, "SPs:Year", *(f"SPs:{d}" for d in dummies)])
    adj_no = float(_ols(f"{name.capitalize()} ~ {no_pcn}", df).rsquared_adj)
    return SeedFit(name, coefs, int(res.nobs), float(res.df_model), float(res.df_resid), float(res.rsquared),
                   float(res.rsquared_adj), float(res.fvalue), float(res.f_pvalue), adj_loo, adj_no, dropped)


def fit_fixed_effects(df: pd.DataFrame, name: str) -> FEFit | str:
    """Two-way fixed effects on unscaled rates, SEs clustered by PCN; a reason string when the
    FTE coefficient is not estimable (no within-PCN change in FTE beyond the common trend)."""
    import statsmodels.formula.api as smf

    rate = f"{name}_rate"
    resid_sp = df["sp_rate"] - df.groupby("pcn")["sp_rate"].transform("mean")
    within_sd = float(resid_sp.std(ddof=1))
    two_way = _ols("sp_rate ~ C(pcn) + C(period)", df).resid
    if not np.isfinite(within_sd) or float(np.abs(two_way).max()) < 1e-9:
        return ("link-worker FTE per 100,000 does not change within PCNs beyond what all PCNs share, "
                "so a fixed-effects estimate is not possible")
    groups = pd.factorize(df["pcn"])[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = smf.ols(f"{rate} ~ sp_rate + C(pcn) + C(period)", data=df).fit(
            cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    lo, hi = res.conf_int().loc["sp_rate"]
    return FEFit(name, float(res.params["sp_rate"]), float(res.bse["sp_rate"]), float(lo), float(hi),
                 float(res.pvalues["sp_rate"]), int(getattr(res, "df_resid_inference", len(set(groups)) - 1)),
                 int(res.nobs), int(df["pcn"].nunique()), int(df["period"].nunique()),
                 float(df[rate].mean()), within_sd)


def holm(pvalues: dict[str, float]) -> dict[str, float]:
    """Holm step-down adjusted p-values."""
    items = sorted(pvalues.items(), key=lambda kv: kv[1])
    m = len(items)
    out, running = {}, 0.0
    for i, (k, p) in enumerate(items):
        running = max(running, min(1.0, (m - i) * p))
        out[k] = running
    return out


def stars(p: float | None) -> str:
    if p is None or not np.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else "." if p < 0.1 else ""


def p_text(p: float | None) -> str:
    """As R prints Pr(>|t|)."""
    if p is None or not np.isfinite(p):
        return "[c]"
    if p < 2.2e-16:
        return "<2e-16"
    if p < 1e-4:
        return f"{p:.2e}"
    return f"{p:.4f}"


# ----------------------------------------------------------------------------- compute / publish

@dataclass
class WorkforceRaw:
    panel: pd.DataFrame  # PCN-quarter rows (aggregate, but carries small cells): never published raw
    year_definition: str
    seed: dict[str, SeedFit]
    fe: dict[str, FEFit | str]
    holm: dict[str, float]  # "<outcome>.<term>" -> Holm-adjusted p over both seed models
    notes: list[str] = field(default_factory=list)


def compute(extract: Extract, settings: Settings | None = None) -> WorkforceRaw:
    settings = settings or load_settings()
    reason = availability(extract, settings)
    if reason:
        raise NotAvailable(reason)
    year = settings.hospital.regression_year
    raw_panel = extract["pcn_quarterly"]
    df = prepare(raw_panel, year)
    notes = []
    if len(df) < len(raw_panel):
        notes.append("PCN-quarters with no registered population were left out (a rate per 100,000 is undefined).")
    n_params = 1 + len(seed_terms("x"))
    if len(df) <= n_params + 1:
        raise NotAvailable(f"only {len(df)} PCN-quarters: too few for the {n_params}-parameter published model")
    seed = {name: fit_seed(df, name) for name in OUTCOMES}
    for f in seed.values():
        if f.dropped:
            notes.append(f"No PCN-quarter falls in {', '.join(f.dropped)}: "
                         "that dummy and its interaction are left out.")
            break
    fe = {name: fit_fixed_effects(df, name) for name in OUTCOMES}
    ps = {f"{name}.{term}": float(f.coefs.loc[term, "p"]) for name, f in seed.items()
          for term in f.coefs.index if term != "Intercept" and np.isfinite(f.coefs.loc[term, "p"])}
    counts = ((df["ae_attendances"] > 0) & (df["ae_attendances"] < settings.disclosure.min_count)).sum()
    if counts:
        notes.append("Some PCN-quarters have fewer than "
                     f"{settings.disclosure.min_count} A&E attendances; no PCN-quarter figure is shown, "
                     "only totals and rates over all PCNs by quarter.")
    return WorkforceRaw(df, year, seed, fe, holm(ps), notes)


def _sig_decimals(p: float) -> int:
    """Decimals that keep 4 significant figures of a small p-value."""
    if not np.isfinite(p) or p <= 0:
        return 6
    return int(min(300, max(6, -math.floor(math.log10(p)) + 3)))


def publish(raw: WorkforceRaw, sdc: SDC) -> dict[str, Any]:
    df = raw.panel
    nobs = len(df)
    out: dict[str, Any] = {}
    quarters = sorted(df["quarter_start"].unique())
    out["panel"] = {  # design facts: numbers of PCNs and quarters, not of people
        "n_pcns": int(df["pcn"].nunique()),
        "n_quarters": len(quarters),
        "n_pcn_quarters": nobs,
        "first_quarter_start": pd.Timestamp(quarters[0]).date().isoformat(),
        "last_quarter_start": pd.Timestamp(quarters[-1]).date().isoformat(),
        "year_definition": raw.year_definition,
        "years": [year_label(int(y), raw.year_definition) for y in sorted(df["year"].unique())],
        "quarter_dummies": {"January start (ends March)": "Q_Mar", "April start (ends June)": "Q_Jun",
                            "July start (ends September)": "Q_Sept",
                            "October start (ends December)": "Q_Dec (reference, omitted)"},
    }

    # descriptive: totals and rates over all PCNs, by quarter; small PCN-quarter cells never shown
    byq: dict[str, Any] = {}
    for q in quarters:
        g = df[df["quarter_start"] == q]
        key = pd.Timestamp(q).strftime("%Y-%m-%d")
        pop, ae = int(g["registered_population"].sum()), int(round(g["ae_attendances"].sum()))
        k = f"by_quarter.{key}"
        byq[key] = {
            "quarter": g["quarter"].iloc[0],
            "year": year_label(int(g["year"].iloc[0]), raw.year_definition),
            "pcns": int(g["pcn"].nunique()),
            "registered_population": sdc.count(pop, f"{k}.registered_population"),
            "label": f"{pd.Timestamp(q):%b}–{pd.Timestamp(q) + pd.offsets.MonthBegin(2):%b %Y}",
            "ae_attendances": sdc.count(ae, f"{k}.ae_attendances"),
            "ae_per_100k": sdc.stat(ae / pop * PER if pop else None, pop, f"{k}.ae_per_100k", 1, events=ae),
            "nonelective_cost_per_100k_gbp": sdc.stat(g["nonelective_cost_gbp"].sum() / pop * PER if pop else None,
                                                      pop, f"{k}.nonelective_cost_per_100k_gbp", 0),
            "splw_fte_per_100k": sdc.stat(g["splw_fte"].sum() / pop * PER if pop else None, pop,
                                          f"{k}.splw_fte_per_100k", 2),
        }
    out["by_quarter"] = byq

    # the published specification
    models: dict[str, Any] = {}
    for name, fit in raw.seed.items():
        k = f"seed_models.{name}"
        rows = []
        for i, (term, r) in enumerate(fit.coefs.iterrows()):
            tk = f"{k}.coefficients.{term}"
            p = float(r["p"])
            coef = sdc.stat(float(r["coef"]), nobs, f"{tk}.coefficient", COEF_DECIMALS)
            rows.append({
                "row": i,  # 0 = intercept; 1..11 as in Tables 8 and 9
                "term": "(Intercept)" if term == "Intercept" else term,
                "coefficient": coef,
                "std_error": sdc.stat(float(r["se"]), nobs, f"{tk}.std_error", COEF_DECIMALS),
                "t_value": sdc.stat(float(r["t"]), nobs, f"{tk}.t_value", 3),
                "p_value": sdc.stat(p, nobs, f"{tk}.p_value", _sig_decimals(p)),
                "p_text": p_text(p) if coef is not None else "[c]",
                "significance": stars(p) if coef is not None else "",
                "p_holm": (sdc.stat(raw.holm[f"{name}.{term}"], nobs, f"{tk}.p_holm",
                                    _sig_decimals(raw.holm[f"{name}.{term}"]))
                           if f"{name}.{term}" in raw.holm else None),
                "ci95": sdc.interval(float(r["lo"]), float(r["hi"]), nobs, f"{tk}.ci95", COEF_DECIMALS),
            })
        models[name] = {
            "outcome": OUTCOMES[name][1],
            "dependent": f"{name.capitalize()}: {RATE_UNITS[name]}, scaled (mean 0, SD 1)",
            "formula": seed_formula(name, tuple(d for d in DUMMIES if d not in fit.dropped)),
            "n": nobs,
            "coefficients": rows,
            "r2": sdc.stat(fit.r2, nobs, f"{k}.r2", 4),
            "adj_r2": sdc.stat(fit.adj_r2, nobs, f"{k}.adj_r2", 4),
            "f_statistic": sdc.stat(fit.fvalue, nobs, f"{k}.f_statistic", 2),
            "f_df": [int(round(fit.df_model)), int(round(fit.df_resid))],
            "f_p_value": sdc.stat(fit.f_pvalue, nobs, f"{k}.f_p_value", _sig_decimals(fit.f_pvalue)),
            "f_p_text": p_text(fit.f_pvalue),
            "adj_r2_leave_one_out_pcn_mean": sdc.stat(fit.adj_r2_loo, nobs, f"{k}.adj_r2_leave_one_out_pcn_mean", 4),
            "adj_r2_without_pcn_term": sdc.stat(fit.adj_r2_no_pcn, nobs, f"{k}.adj_r2_without_pcn_term", 4),
            "dropped_terms": fit.dropped,
        }
    out["seed_models"] = models
    out["significance_codes"] = SIGNIFICANCE_LEGEND
    out["n_tests"] = len(raw.holm)
    out["multiple_testing"] = (f"Holm adjustment over the {len(raw.holm)} non-intercept terms of the "
                               "two published models")

    # the alternative
    alt: dict[str, Any] = {}
    for name, fe in raw.fe.items():
        k = f"alternative.{name}"
        if isinstance(fe, str):
            alt[name] = {"status": "not_estimable", "reason": fe}
            continue
        dec = 2 if name == "attendances" else 0
        mean_events = int(round(df["ae_attendances"].sum())) if name == "attendances" else None
        alt[name] = {
            "status": "ok",
            "outcome": OUTCOMES[name][1],
            "estimate": sdc.stat(fe.coef, nobs, f"{k}.estimate", dec),
            "units": f"change in {RATE_UNITS[name]} population per extra link-worker FTE per 100,000",
            "std_error": sdc.stat(fe.se, nobs, f"{k}.std_error", dec),
            "ci95": sdc.interval(fe.lo, fe.hi, nobs, f"{k}.ci95", dec),
            "p_value": sdc.stat(fe.p, nobs, f"{k}.p_value", _sig_decimals(fe.p)),
            "p_text": p_text(fe.p),
            "df": fe.df,
            "n_pcns": fe.n_pcns,
            "n_pcn_quarters": fe.nobs,
            "mean_rate_per_100k": sdc.stat(fe.mean_rate, int(df["registered_population"].sum()),
                                           f"{k}.mean_rate_per_100k", dec, events=mean_events),
            "within_pcn_sd_fte_per_100k": sdc.stat(fe.within_sd_sp, nobs, f"{k}.within_pcn_sd_fte_per_100k", 3),
        }
    out["alternative"] = alt
    out["method"] = {
        "published": ("OLS: scaled rate per 100,000 ~ PCN mean of the rate (scaled) + SPs + Year + Q_Mar + "
                      "Q_Jun + Q_Sept + PCN:SPs + SPs:Year + SPs:Q_*; scaling as R's scale() (SD with n - 1)"),
        "year": ("financial year of quarter_start (April start)" if raw.year_definition == "financial"
                 else "calendar year of quarter_start") + ", scaled",
        "quarters": "dummy per quarter named after its end month (January start = Q_Mar); December omitted",
        "alternative": ("OLS: rate per 100,000 ~ FTE per 100,000 + PCN fixed effects + quarter fixed effects, "
                        "cluster-robust (CR1) standard errors by PCN, t with (PCNs - 1) df"),
        "disclosure": ("aggregate PCN-quarter figures; coefficients are published; no single PCN-quarter count "
                       "is shown, and the quarterly totals are rounded and suppressed as counts"),
    }
    out["caveats"] = list(CAVEATS)
    if any(isinstance(fe, FEFit) and fe.n_pcns < 20 for fe in raw.fe.values()):
        out["caveats"].append("Cluster-robust standard errors with fewer than about 20 PCNs can still be "
                              "too small; a wild cluster bootstrap would be the stricter check.")
    out["seed_notes"] = list(SEED_NOTES)
    out["notes"] = list(raw.notes)
    return out
