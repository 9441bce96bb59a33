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

**Disclosure.** The unit is a PCN-quarter, an aggregate over a registered population of
thousands, not a person; a single PCN-quarter's A&E count can still be small, so none is
published: only quarter totals over all PCNs (counts, rounded and withheld as counts) and rates
of those rounded totals. Registered populations, FTE and the panel's shape (PCNs, quarters) are
facts about the service. A model estimate rests on the panel's PCN-quarters (its base, at least
``min_base``) and, for the A&E models, on the panel's A&E attendances (its events); every
number that describes a model (coefficients, standard errors, intervals, p-values, R², F) passes
the layer as an estimate on that base.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config import Settings, load_settings
from ..disclosure import Release
from ..extract import Extract
from ..formatting import fmt, money, p_text
from ..sections import NotAvailable, Section
from .stats import holm
from .wildboot import DRAWS, FEW_CLUSTERS, SEED
from .workforce_models import (
    DUMMIES,
    OUTCOMES,
    PER,
    FEFit,
    SeedFit,
    availability,
    fit_fixed_effects,
    fit_seed,
    prepare,
    r_p_text,
    seed_formula,
    seed_terms,
    stars,
    year_label,
)

RATE_UNITS = {"attendances": "attendances per 100,000", "cost": "£ per 100,000"}
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
    return WorkforceRaw(df, year, seed, fe, holm(ps), notes)


def _sig_decimals(p: float) -> int:
    """Decimals that keep 4 significant figures of a small p-value."""
    if not np.isfinite(p) or p <= 0:
        return 6
    return int(min(300, max(6, -math.floor(math.log10(p)) + 3)))




def _coefficients(rel: Release, raw: WorkforceRaw, name: str, fit: SeedFit, nobs: int,
                  events: int | None) -> list[dict[str, Any]]:
    rows = []
    for i, (term, r) in enumerate(fit.coefs.iterrows()):
        p = float(r["p"])
        p_fig = rel.estimate(p, nobs, events, decimals=_sig_decimals(p))
        key = f"{name}.{term}"
        rows.append({
            "row": rel.fact(i),  # 0 = intercept; 1..11 as in Tables 8 and 9
            "term": "(Intercept)" if term == "Intercept" else term,
            "coefficient": rel.estimate(float(r["coef"]), nobs, events, decimals=COEF_DECIMALS),
            "std_error": rel.estimate(float(r["se"]), nobs, events, decimals=COEF_DECIMALS),
            "t_value": rel.estimate(float(r["t"]), nobs, events, decimals=3),
            "p_value": p_fig,
            "p_text": rel.derived(r_p_text, p_fig),
            "significance": rel.derived(stars, p_fig),
            "p_holm": (rel.estimate(raw.holm[key], nobs, events, decimals=_sig_decimals(raw.holm[key]))
                       if raw.holm.get(key) is not None else None),
            "ci95": rel.interval(float(r["lo"]), float(r["hi"]), nobs, events, decimals=COEF_DECIMALS),
        })
    return rows


def _alternative(rel: Release, fe: FEFit | str, name: str, nobs: int, events: int | None,
                 population: int) -> dict[str, Any]:
    if isinstance(fe, str):
        return {"status": "not_estimable", "reason": fe, "estimate": rel.not_estimable(fe)}
    dec = 2 if name == "attendances" else 0
    cr1_p = rel.estimate(fe.p, nobs, events, decimals=_sig_decimals(fe.p))
    cr1 = {"std_error": rel.estimate(fe.se, nobs, events, decimals=dec),
           "ci95": rel.interval(fe.lo, fe.hi, nobs, events, decimals=dec),
           "p_value": cr1_p,
           "p_text": rel.derived(r_p_text, cr1_p),
           "df": rel.fact(fe.df)}
    out = {"status": "ok", "outcome": OUTCOMES[name][1], "estimate": rel.estimate(fe.coef, nobs, events, decimals=dec),
           "units": f"change in {RATE_UNITS[name]} population per extra link-worker FTE per 100,000"}
    w = fe.wild
    if w is None:
        out.update({"inference": f"cluster-robust (CR1) standard errors, t with {fe.df} df ({fe.n_pcns} PCNs)",
                    "ci95": cr1["ci95"], "p_value": cr1_p, "p_text": cr1["p_text"], "bootstrap": None})
    else:
        p = rel.estimate(w.p, nobs, events, decimals=4)
        out.update({
            "inference": f"wild cluster bootstrap over {w.clusters} PCNs (fewer than {FEW_CLUSTERS}); CR1 for comparison",
            "ci95": rel.interval(w.lo, w.hi, nobs, events, decimals=dec,
                                 reason="the bootstrap interval is unbounded: too few PCNs to bound it"),
            "p_value": p,
            "p_text": rel.derived(p_text, p),
            "bootstrap": {"method": "restricted wild cluster bootstrap-t (null imposed, CR1 score), Webb six-point "
                                    "weights, p-value and interval by test inversion",
                          "draws": rel.fact(w.draws), "full_enumeration": w.enumerated,
                          "seed": None if w.enumerated else rel.fact(SEED)},
        })
    out.update({"cr1": cr1, "n_pcns": rel.fact(fe.n_pcns), "n_pcn_quarters": rel.fact(fe.nobs),
                "mean_rate_per_100k": rel.estimate(fe.mean_rate, population, events, decimals=dec),
                "within_pcn_sd_fte_per_100k": rel.fact(fe.within_sd_sp, decimals=3)})
    return out


def publish(raw: WorkforceRaw, rel: Release) -> dict[str, Any]:
    df = raw.panel
    nobs = len(df)
    ae_total = int(round(df["ae_attendances"].sum()))
    population = int(df["registered_population"].sum())
    events = {"attendances": ae_total, "cost": None}
    quarters = sorted(df["quarter_start"].unique())
    out: dict[str, Any] = {}
    out["panel"] = {  # the design: numbers of PCNs and quarters, not of people
        "n_pcns": rel.fact(int(df["pcn"].nunique())),
        "n_quarters": rel.fact(len(quarters)),
        "n_pcn_quarters": rel.fact(nobs),
        "first_quarter_start": pd.Timestamp(quarters[0]).date().isoformat(),
        "last_quarter_start": pd.Timestamp(quarters[-1]).date().isoformat(),
        "year_definition": raw.year_definition,
        "years": [year_label(int(y), raw.year_definition) for y in sorted(df["year"].unique())],
        "quarter_dummies": {"January start (ends March)": "Q_Mar", "April start (ends June)": "Q_Jun",
                            "July start (ends September)": "Q_Sept",
                            "October start (ends December)": "Q_Dec (reference, omitted)"},
    }

    # descriptive: totals and rates over all PCNs, by quarter; no PCN-quarter figure is shown
    byq: dict[str, Any] = {}
    for q in quarters:
        g = df[df["quarter_start"] == q]
        key = pd.Timestamp(q).strftime("%Y-%m-%d")
        pop = int(g["registered_population"].sum())
        ae = rel.cell(int(round(g["ae_attendances"].sum())), f"A&E {key}")
        byq[key] = {
            "quarter": g["quarter"].iloc[0],
            "year": year_label(int(g["year"].iloc[0]), raw.year_definition),
            "pcns": rel.fact(int(g["pcn"].nunique())),
            "registered_population": rel.fact(pop),
            "label": f"{pd.Timestamp(q):%b}–{pd.Timestamp(q) + pd.offsets.MonthBegin(2):%b %Y}",
            "ae_attendances": rel.count(ae),
            "ae_per_100k": rel.rate(ae, pop, per=PER, decimals=1),
            "nonelective_cost_per_100k_gbp": rel.estimate(float(g["nonelective_cost_gbp"].sum()) / pop * PER
                                                          if pop else None, pop, decimals=0),
            "splw_fte_per_100k": rel.fact(float(g["splw_fte"].sum()) / pop * PER if pop else None, decimals=2),
        }
    out["by_quarter"] = byq

    # the published specification
    models: dict[str, Any] = {}
    for name, fit in raw.seed.items():
        ev = events[name]
        models[name] = {
            "outcome": OUTCOMES[name][1],
            "dependent": f"{name.capitalize()}: {RATE_UNITS[name]}, scaled (mean 0, SD 1)",
            "formula": seed_formula(name, tuple(d for d in DUMMIES if d not in fit.dropped)),
            "n": rel.fact(nobs),
            "coefficients": _coefficients(rel, raw, name, fit, nobs, ev),
            "r2": rel.estimate(fit.r2, nobs, ev, decimals=4),
            "adj_r2": rel.estimate(fit.adj_r2, nobs, ev, decimals=4),
            "f_statistic": rel.estimate(fit.fvalue, nobs, ev, decimals=2),
            "f_df": [rel.fact(int(round(fit.df_model))), rel.fact(int(round(fit.df_resid)))],
            "f_p_value": (f_p := rel.estimate(fit.f_pvalue, nobs, ev, decimals=_sig_decimals(fit.f_pvalue))),
            "f_p_text": rel.derived(r_p_text, f_p),
            "adj_r2_leave_one_out_pcn_mean": rel.estimate(fit.adj_r2_loo, nobs, ev, decimals=4),
            "adj_r2_without_pcn_term": rel.estimate(fit.adj_r2_no_pcn, nobs, ev, decimals=4),
            "dropped_terms": fit.dropped,
        }
    out["seed_models"] = models
    out["significance_codes"] = SIGNIFICANCE_LEGEND
    n_tests = sum(p is not None for p in raw.holm.values())
    out["n_tests"] = rel.fact(n_tests)
    out["multiple_testing"] = f"Holm adjustment over the {n_tests} non-intercept terms of the two published models"
    out["alternative"] = {name: _alternative(rel, fe, name, nobs, events[name], population)
                          for name, fe in raw.fe.items()}
    out["method"] = {
        "published": ("OLS: scaled rate per 100,000 ~ PCN mean of the rate (scaled) + SPs + Year + Q_Mar + "
                      "Q_Jun + Q_Sept + PCN:SPs + SPs:Year + SPs:Q_*; scaling as R's scale() (SD with n - 1)"),
        "year": ("financial year of quarter_start (April start)" if raw.year_definition == "financial"
                 else "calendar year of quarter_start") + ", scaled",
        "quarters": "dummy per quarter named after its end month (January start = Q_Mar); December omitted",
        "alternative": ("OLS: rate per 100,000 ~ FTE per 100,000 + PCN fixed effects + quarter fixed effects; "
                        f"with fewer than {FEW_CLUSTERS} PCNs, p-values and 95% intervals from the restricted wild "
                        "cluster bootstrap by PCN (Webb weights; every combination with up to 6 PCNs, else "
                        f"{DRAWS:,} draws seeded {SEED}), with cluster-robust (CR1) standard errors, t with "
                        "(PCNs - 1) df, as a secondary line; with more PCNs, CR1"),
        "disclosure": ("PCN-quarter aggregates, not people: no single PCN-quarter figure is shown; quarterly A&E "
                       "totals over all PCNs are counts (rounded, small ones withheld) and their rates come from "
                       "the rounded totals; a model estimate rests on the panel's PCN-quarters (and, for A&E, on "
                       "its attendances); registered populations and FTE are facts about the service"),
    }
    out["caveats"] = list(CAVEATS)
    if any(isinstance(fe, FEFit) and fe.wild is not None for fe in raw.fe.values()):
        out["caveats"].append(f"With fewer than about {FEW_CLUSTERS} PCNs, cluster-robust (CR1) standard errors are "
                              "too small and their p-values too low, so the alternative's p-values and intervals come "
                              "from a wild cluster bootstrap; the CR1 figures are shown only for comparison.")
    out["seed_notes"] = list(SEED_NOTES)
    out["notes"] = list(raw.notes)
    return out


def coefficient_table(wr: dict[str, Any]) -> pd.DataFrame:
    """The numbers the coefficient chart draws, from the published section: every term of each
    published model but the intercept, with its coefficient and 95% interval (``None`` where
    withheld)."""
    rows = [(m["outcome"], r["term"], r["coefficient"], *(r["ci95"] or (None, None)))
            for m in wr["seed_models"].values() for r in m["coefficients"] if r["row"] > 0]
    return pd.DataFrame(rows, columns=["Outcome", "Term", "Coefficient (SD units)", "95% CI low", "95% CI high"],
                        dtype=object)


def reading(wr: dict[str, Any]) -> str:
    """A plain-English reading of the published section (published figures only)."""
    sm = wr["seed_models"]
    sy = next((r for r in sm["attendances"]["coefficients"] if r["term"] == "SPs:Year"), None)
    a = wr["alternative"].get("attendances", {})
    text = ""
    if sy and sy["coefficient"] is not None:
        text = (f"Re-running the published PCN-quarter model gives an SPs:Year interaction of "
                f"{sy['coefficient']:+.3f} SD for A&E attendances (p = {fmt(sy['p_text'])}; "
                f"{fmt(sy['p_holm'], 3)} after Holm adjustment for the {wr['n_tests']} tests). ")
    alt = ""
    if a.get("status") == "ok" and a["estimate"] is not None and a["ci95"] is not None:
        lo, hi = a["ci95"]
        direction = "fewer" if hi < 0 else "more" if lo > 0 else None
        alt = (f"Comparing each PCN with itself over time, one extra link-worker FTE per 100,000 went with "
               f"{a['estimate']:+,.1f} A&E attendances per 100,000 a quarter (95% CI {lo:,.1f} to {hi:,.1f}); "
               + (f"the interval does not include zero, suggesting {direction} attendances, " if direction else
                  "the interval includes zero (no change), ")
               + "but this is still an association between PCN totals, not an effect on patients. ")
    c = wr["alternative"].get("cost", {})
    if alt and c.get("status") == "ok" and c["ci95"] is not None:
        alt += (f"For non-elective in-patient cost the same comparison gives {money(c['estimate'])} per 100,000 "
                f"per extra FTE per 100,000 (95% CI {money(c['ci95'][0])} to {money(c['ci95'][1])}, "
                f"p = {fmt(c['p_text'])}). ")
    if alt and a.get("bootstrap"):
        alt += (f"With only {a['n_pcns']} PCNs these intervals and p-values come from a wild cluster bootstrap; "
                f"the conventional cluster-robust p-values ({fmt(a['cr1']['p_text'])} for attendances"
                + (f", {fmt(c['cr1']['p_text'])} for cost" if c.get("status") == "ok" else "")
                + ") would overstate the evidence. ")
    return (text + alt + "The published model's high R² reflects steady differences between PCNs, captured by a "
            "predictor built from the outcome itself, and link-worker numbers were not allocated at random, so these "
            "figures cannot show that link workers reduce hospital use.")


SECTION = Section(
    name="workforce_regression",
    title="Link-worker workforce and hospital use",
    notebook="80_hospital",
    order=81,
    required=("pcn_quarterly",),
    needs="The PCN-quarter regression needs `pcn_quarterly` with A&E attendances, non-elective cost and link-worker "
          "FTE for at least two PCNs over at least eight quarters.",
    compute=lambda inputs: compute(inputs.whole, inputs.settings),
    publish=publish,
    available=lambda inputs: availability(inputs.whole, inputs.settings),
    reading=reading,
)
