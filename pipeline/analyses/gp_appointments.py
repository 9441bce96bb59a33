"""GP appointments before and after referral: the contract's ``gp_appointments`` section (data
contract section 2, *GP appointment variance*), reproducing the Merton evaluation's "% activity
variance" by financial-year cohort, then a patient-level model and a matched comparison.

The published method, exactly:

- **Index referral**: each patient's earliest referral (ties: referral_id). Every referred
  patient counts, whether or not they were seen; a patient with no row in ``gp_appointments``
  had no appointments.
- **Windows**, for k = 1..4 (``settings.gp_appointments.quarters``; a quarter is
  ``window_days`` = 91 days): *before* = referral_date - 91k .. referral_date - 1 day; *after* =
  referral_date + 1 .. referral_date + 91k days. The referral day is in neither window.
- A patient counts for k only if **both** windows lie inside extract_start..extract_end.
- **Cohort**: the financial year of the index referral date (``2022/23`` = 2022-04-01 ..
  2023-03-31).
- **Variance_k** = (after - before) / before * 100, "summed over patients of a cohort". We read
  this as a **ratio of sums**: (sum over patients of after - sum over patients of before) / (sum
  over patients of before) * 100, i.e. the % change in the cohort's total appointments (not the
  mean of each patient's own % change, which is undefined for a patient with no appointments
  before). It is computed from exact totals; the totals are published rounded. A cohort with no
  appointments before has no variance (not estimable).

Why the published figure is not an effect: people are referred *because* something is going
on, and their GP use rises in the months before referral (in the synthetic data by 20% in the
second quarter before and 50% in the quarter before). Comparing the year after with the
months just before mixes any effect of social prescribing with that peak falling back
(regression to the mean), so the published variance overstates any reduction.

Beyond the published method:

- **Event study** (patient-level count model): appointments per patient in each quarter -8..+4
  around the index referral (quarter -1 = days -91..-1, quarter +1 = days +1..+91; the referral
  day in none), as rate ratios against a reference quarter (default -4, before the pre-referral
  rise). Conditional fixed-effects Poisson (each patient is their own control; the patient
  effects absorb who uses the GP more), with log days-in-extract as the exposure offset (a
  quarter partly outside the extract, or after death, counts for the days it covers) and a
  patient-clustered sandwich covariance, which is robust to overdispersion (Poisson
  quasi-likelihood is consistent for the mean whatever the variance). The same model on the
  matched comparison patients (with the index date of the referred patient they are matched to)
  shows what happens without referral. This *shows* the peak; it does not remove it.
- **Matched difference-in-differences** (when ``comparison_patients`` exist): each eligible
  referred patient is matched, without replacement, to up to ``matches_per_patient``
  comparison patients registered at the same practice, in the same age band, of the same gender
  and risk band (missing = its own category), alive at the index date, with GP use in a
  *matching window* in the same band (``match_baseline_use_bins``; nearest count, then nearest
  age, then a seeded random draw, break ties). Comparison patients take the index date of the
  referred patient they are matched to. **Before** is the baseline window, days -365..-183
  (``baseline_window_days``), which *excludes the six months of pre-referral rise*; **after** is
  days +1..+365 (``after_window_days``). The matching window (``match_window_days``, default
  days -547..-366) lies before, and apart from, the "before" window on purpose: referred
  patients use the GP more than unreferred ones even at baseline, so among people with the same
  *count* in a window, referred patients have the higher underlying rate; if "before" were the
  window matched on, the comparison group's counts would fall back towards their lower mean
  afterwards (regression to the mean created by the matching) and bias the ratio towards 1.
  Matching on an earlier window balances GP use without touching the outcome windows; the
  patient fixed effects absorb any remaining difference in level. The rate ratio is
  exp(after x referred) from a conditional fixed-effects Poisson (patient effects, log exposure
  offset, comparison patients weighted 1/number matched to that referred patient), with the
  sandwich clustered by matched set. Eligible referred patients need the matching and "before"
  windows inside the extract and at least ``min_after_days`` of follow-up inside it (a shorter
  after window counts for the days it covers; follow-up also ends at death). This is the
  **causal-leaning** estimate: it compares like with like over the same calendar days and
  avoids the pre-referral peak. It still assumes that, without referral, matched patients' GP
  use would have changed in the same proportion (parallel trends), and matching cannot balance
  what is not recorded (why this patient was referred and that one was not).
- Sensitivity analyses: a pooled negative-binomial model of the same difference in differences
  (NB2, dispersion alpha estimated, exposure offset, cluster-robust by matched set), and the
  same matched DiD with "before" = days -365..-1, which includes the pre-referral rise and is
  biased towards finding a reduction; the gap between the two shows how much the peak matters.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..config import GPSettings, Settings, load_settings
from ..disclosure import SDC, fmt
from ..extract import Extract
from .estimable import EstimableSDC
from .stats import Z95, FitResult, poisson_fe

SECTION = "gp_appointments"
REQUIRED = ("referrals", "gp_appointments")
COMPARISON = "comparison_patients"
BANDS = ("very_high", "high", "medium", "low")
_BIG = 1_000_000  # day numbers (days since 1970) are far below this

EVENT_METHOD = ("conditional fixed-effects Poisson (patient effects), quarter indicators, log days in the "
                "extract as exposure offset, patient-clustered sandwich standard errors")
DID_METHOD = ("conditional fixed-effects Poisson (patient effects) of appointments in the baseline and after "
              "windows, log exposure offset, comparison patients weighted 1/(number matched to the same referred "
              "patient); sandwich standard errors clustered by matched set; rate ratio = exp(after x referred)")
NB_METHOD = ("pooled negative binomial (NB2, dispersion estimated), referred + after + after x referred, log "
             "exposure offset, sandwich standard errors clustered by matched set")
CAUSAL_READING = (
    "The matched difference-in-differences rate ratio is the causal-leaning estimate: it compares the change in "
    "referred patients' GP use with the change, over the same calendar days, in similar registered patients who "
    "were not referred (same practice, age band, gender, risk band and baseline GP use), and its 'before' window "
    "ends six months before referral, so it is not flattered by the rise in GP use that leads up to a referral. "
    "The published % variance compares the months just after referral with the months just before, when GP use "
    "peaks; part of any fall it shows would have happened anyway (regression to the mean). The event study shows "
    "that peak. None of these is a trial: unrecorded reasons for referral can still differ between the groups."
)

NO_COMPARISON_READING = (
    "Without a comparison group no estimate here is causal. The published % variance compares the months just "
    "after referral with the months just before, when GP use peaks, so part of any fall it shows would have "
    "happened anyway (regression to the mean); the event study, which compares each patient's GP use after "
    "referral with their own use a year before, is the better guide to the size of any change, but it cannot "
    "separate the service's effect from other changes over time. Adding `comparison_patients` to the extract "
    "allows a matched comparison."
)


# ---------------------------------------------------------------------------------- helpers
def day_numbers(dates) -> np.ndarray:
    """Dates (datetime64 / Timestamps) as whole days since 1970-01-01 (int64)."""
    return np.asarray(pd.to_datetime(pd.Series(dates)).to_numpy().astype("datetime64[D]").astype(np.int64))


def financial_year(dates: pd.Series) -> pd.Series:
    """The financial year of each date as ``"2022/23"`` (1 April .. 31 March)."""
    d = pd.to_datetime(dates)
    fy = d.dt.year - (d.dt.month < 4).astype(int)
    return fy.astype(str) + "/" + ((fy + 1) % 100).astype(str).str.zfill(2)


def quarter_label(k: int) -> str:
    return f"{3 * k}m"


class AppointmentCounter:
    """Counts of a patient's appointments between two days (inclusive), vectorised."""

    def __init__(self, appointments: pd.DataFrame):
        a = appointments[["patient_id", "appointment_date"]].dropna()
        codes, uniques = pd.factorize(a["patient_id"].astype(str))
        self._index = pd.Index(uniques)
        self._keys = np.sort(codes.astype(np.int64) * _BIG + day_numbers(a["appointment_date"]))

    def count(self, patient_ids, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Appointments of each patient on days lo..hi (day numbers; empty when hi < lo)."""
        code = self._index.get_indexer(pd.Index(pd.Series(patient_ids).astype(str)))
        base = code.astype(np.int64) * _BIG
        lo = np.asarray(lo, dtype=np.int64)
        hi = np.asarray(hi, dtype=np.int64)
        n = np.searchsorted(self._keys, base + hi, side="right") - np.searchsorted(self._keys, base + lo, side="left")
        return np.where((code >= 0) & (hi >= lo), n, 0).astype(np.int64)


def index_referrals(referrals: pd.DataFrame) -> pd.DataFrame:
    """Each patient's earliest referral (ties: referral_id), with its financial-year cohort."""
    r = referrals.sort_values(["patient_id", "referral_date", "referral_id"], kind="mergesort")
    r = r.drop_duplicates("patient_id", keep="first").reset_index(drop=True)
    r["cohort"] = financial_year(r["referral_date"])
    return r


def death_days(extract: Extract, patient_ids) -> np.ndarray:
    """Day number of death for each patient, or a far-future day when none is recorded."""
    far = np.full(len(patient_ids), _BIG - 1, dtype=np.int64)
    if "deaths" not in extract.tables:
        return far
    d = extract["deaths"].dropna(subset=["date_of_death"]).drop_duplicates("patient_id")
    s = pd.Series(day_numbers(d["date_of_death"]), index=d["patient_id"].astype(str).to_numpy())
    v = pd.Series(patient_ids).astype(str).map(s)
    return np.where(v.isna(), far, v.fillna(0).to_numpy(dtype=np.int64))


# ---------------------------------------------------------------------------------- published method
def variance_patients(idx: pd.DataFrame, counter: AppointmentCounter, start: int, end: int,
                      window_days: int, quarters: list[int]) -> pd.DataFrame:
    """One row per index patient and k: ``in_k`` (both windows inside the extract), before and
    after counts (the published method)."""
    d = day_numbers(idx["referral_date"])
    rows = []
    for k in quarters:
        w = window_days * k
        inside = (d - w >= start) & (d + w <= end)
        before = counter.count(idx["patient_id"], d - w, d - 1)
        after = counter.count(idx["patient_id"], d + 1, d + w)
        rows.append(pd.DataFrame({"patient_id": idx["patient_id"].to_numpy(), "cohort": idx["cohort"].to_numpy(),
                                  "k": k, "inside": inside, "before": before, "after": after}))
    return pd.concat(rows, ignore_index=True)


def variance_table(per_patient: pd.DataFrame) -> pd.DataFrame:
    """Per cohort and k: patients counted, total appointments before and after, the variance
    (ratio of sums, %), and a 95% CI for it that allows for differences between patients
    (delta method for the log ratio of sums with patient-level influence terms
    a_i/A - b_i/B, small-sample factor n/(n - 1); an extra beyond the published method)."""
    p = per_patient[per_patient["inside"]]
    keys = ["cohort", "k"]
    t = p.groupby(keys).agg(n=("patient_id", "size"), before=("before", "sum"), after=("after", "sum"))
    q = p.join(t[["before", "after"]].rename(columns={"before": "B", "after": "A"}), on=keys)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = q.assign(infl2=(q["after"] / q["A"] - q["before"] / q["B"]) ** 2)
    t["var_log"] = q.groupby(keys)["infl2"].sum() * t["n"] / (t["n"] - 1).where(t["n"] > 1)
    cohorts = sorted(per_patient["cohort"].unique())
    ks = sorted(per_patient["k"].unique())
    t = t.reindex(pd.MultiIndex.from_product([cohorts, ks], names=keys))
    t[["n", "before", "after"]] = t[["n", "before", "after"]].fillna(0).astype(int)
    ok = (t["before"] > 0) & (t["after"] > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = t["after"] / t["before"]
        t["variance_pct"] = np.where(t["before"] > 0, (ratio - 1) * 100, np.nan)
        half = Z95 * np.sqrt(t["var_log"].astype(float))
        t["ci_lo"] = np.where(ok, (ratio * np.exp(-half) - 1) * 100, np.nan)
        t["ci_hi"] = np.where(ok, (ratio * np.exp(half) - 1) * 100, np.nan)
    return t.drop(columns="var_log").reset_index()


# ---------------------------------------------------------------------------------- event study
def event_panel(units: pd.DataFrame, counter: AppointmentCounter, start: int, end: int,
                window_days: int, q_lo: int, q_hi: int) -> pd.DataFrame:
    """Appointments and exposure (days inside the extract and before death) per unit and event
    quarter. ``units``: unit (patient_id), index_day, end_day (last day of exposure)."""
    qs = [q for q in range(q_lo, q_hi + 1) if q != 0]
    n = len(units)
    rows = []
    for q in qs:
        lo_rel, hi_rel = (window_days * q, window_days * (q + 1) - 1) if q < 0 else \
            (window_days * (q - 1) + 1, window_days * q)
        d = units["index_day"].to_numpy()
        lo = np.maximum(d + lo_rel, start)
        hi = np.minimum(np.minimum(d + hi_rel, end), units["end_day"].to_numpy())
        expo = np.maximum(hi - lo + 1, 0)
        y = counter.count(units["patient_id"], lo, hi)
        rows.append(pd.DataFrame({"patient_id": units["patient_id"].to_numpy(), "q": np.full(n, q),
                                  "y": y, "exposure": expo}))
    panel = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["patient_id", "q", "y", "exposure"])
    return panel[panel["exposure"] > 0].reset_index(drop=True)


def fit_event_study(panel: pd.DataFrame, reference: int) -> FitResult | None:
    if panel.empty or not (panel["q"] == reference).any():
        return None
    qs = sorted(q for q in panel["q"].unique() if q != reference)
    X = pd.DataFrame({f"q{q}": (panel["q"] == q).astype(float) for q in qs})
    return poisson_fe(panel["y"].to_numpy(), X, panel["patient_id"].to_numpy(),
                      offset=np.log(panel["exposure"].to_numpy(dtype=float)))


@dataclass
class EventStudyRaw:
    panel_summary: pd.DataFrame  # per quarter: n (patients with exposure), y, exposure
    fit: FitResult | None
    reference: int
    n_patients: int


def event_study(units: pd.DataFrame, counter: AppointmentCounter, start: int, end: int, cfg: GPSettings) -> EventStudyRaw:
    lo, hi = cfg.event_quarters
    panel = event_panel(units, counter, start, end, cfg.window_days, lo, hi)
    summ = panel.groupby("q").agg(n=("patient_id", "nunique"), y=("y", "sum"), exposure=("exposure", "sum"))
    summ = summ.reindex([q for q in range(lo, hi + 1) if q != 0], fill_value=0)
    fit = fit_event_study(panel, cfg.reference_quarter)
    return EventStudyRaw(summ, fit, cfg.reference_quarter, int(panel["patient_id"].nunique()))


# ---------------------------------------------------------------------------------- matching
def _band(values: pd.Series, edges: list[int]) -> np.ndarray:
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    out = np.searchsorted(np.asarray(edges, dtype=float), v, side="right") - 1
    return np.where(np.isnan(v), -1, out)


def _key(df: pd.DataFrame, age_edges: list[int]) -> pd.Series:
    rb = df["risk_band"].astype("object").where(df["risk_band"].notna(), "unknown")
    g = df["gender"].astype("object").where(df["gender"].notna(), "unknown")
    return (df["practice_code"].astype(str) + "|" + pd.Series(_band(df["age"], age_edges), index=df.index).astype(str)
            + "|" + g.astype(str) + "|" + rb.astype(str))


@dataclass
class MatchRaw:
    units: pd.DataFrame  # patient_id, treated, set_id, index_day, end_day, weight + covariates
    n_referred_eligible: int
    n_referred_matched: int
    n_comparison_pool: int
    n_comparison_matched: int
    excluded: dict[str, int] = field(default_factory=dict)


def match(idx: pd.DataFrame, pool: pd.DataFrame, counter: AppointmentCounter, extract: Extract,
          start: int, end: int, cfg: GPSettings) -> MatchRaw:
    """Match eligible referred patients to comparison patients (see the module docstring)."""
    b0, b1 = cfg.baseline_window_days
    m0, m1 = cfg.match_window_days
    a0, a1 = cfg.after_window_days
    ref = idx.copy()
    ref["index_day"] = day_numbers(ref["referral_date"])
    ref["end_day"] = np.minimum(death_days(extract, ref["patient_id"]), end)
    base_inside = ref["index_day"] + min(b0, m0) >= start
    after_days = np.minimum(ref["index_day"] + a1, ref["end_day"]) - (ref["index_day"] + a0) + 1
    enough_after = after_days >= cfg.min_after_days
    excluded = {"history_before_extract_start": int((~base_inside).sum()),
                "too_little_follow_up": int((base_inside & ~enough_after).sum())}
    ref = ref[base_inside & enough_after].reset_index(drop=True)
    referred_ids = set(extract["referrals"]["patient_id"].astype(str))
    pool = pool[~pool["patient_id"].astype(str).isin(referred_ids)].drop_duplicates("patient_id").reset_index(drop=True)
    excluded["comparison_patients_also_referred"] = int(len(set(extract[COMPARISON]["patient_id"].astype(str))
                                                            & referred_ids))
    bins = np.asarray(cfg.match_baseline_use_bins)
    ref["match_n"] = counter.count(ref["patient_id"], ref["index_day"] + m0, ref["index_day"] + m1)
    ref["key"] = _key(ref, cfg.match_age_bands).to_numpy()
    pool = pool.assign(key=_key(pool, cfg.match_age_bands).to_numpy(),
                       death_day=death_days(extract, pool["patient_id"]))
    pairs = ref[["patient_id", "key", "index_day", "match_n", "age"]].merge(
        pool[["patient_id", "key", "death_day", "age"]], on="key", suffixes=("", "_c"))
    pairs = pairs[pairs["death_day"] > pairs["index_day"]]
    pairs = pairs.assign(match_n_c=counter.count(pairs["patient_id_c"], pairs["index_day"] + m0,
                                                 pairs["index_day"] + m1))
    same_bin = (np.searchsorted(bins, pairs["match_n"], side="right")
                == np.searchsorted(bins, pairs["match_n_c"], side="right"))
    pairs = pairs[same_bin]
    rng = np.random.default_rng(cfg.match_seed)
    order = pd.Series(rng.permutation(len(ref)), index=ref["patient_id"].to_numpy())
    age_gap = (pd.to_numeric(pairs["age"], errors="coerce") - pd.to_numeric(pairs["age_c"], errors="coerce")).abs()
    pairs = pairs.assign(order=pairs["patient_id"].map(order).to_numpy(),
                         d_use=(pairs["match_n"] - pairs["match_n_c"]).abs().to_numpy(),
                         d_age=age_gap.fillna(999).to_numpy(), tie=rng.random(len(pairs)))
    pairs = pairs.sort_values(["order", "d_use", "d_age", "tie"], kind="mergesort")
    used: set[str] = set()
    taken: dict[str, list[str]] = {}
    k = cfg.matches_per_patient
    for r, c in zip(pairs["patient_id"].to_numpy(), pairs["patient_id_c"].to_numpy(), strict=True):
        lst = taken.setdefault(r, [])
        if len(lst) < k and c not in used:
            lst.append(c)
            used.add(c)
    sets = {r: cs for r, cs in taken.items() if cs}
    t = ref[ref["patient_id"].isin(list(sets))].copy()
    t = t.assign(treated=1, set_id=t["patient_id"], weight=1.0)
    comp_rows = [(c, r, 1.0 / len(cs)) for r, cs in sets.items() for c in cs]
    comp = pd.DataFrame(comp_rows, columns=["patient_id", "set_id", "weight"])
    comp = comp.merge(pool.drop(columns=["key"]), on="patient_id", how="left")
    comp = comp.merge(t[["set_id", "index_day"]], on="set_id", how="left")
    comp["end_day"] = np.minimum(comp["death_day"].to_numpy(dtype=np.int64), end)
    comp["treated"] = 0
    comp["match_n"] = counter.count(comp["patient_id"], comp["index_day"] + m0, comp["index_day"] + m1)
    cols = ["patient_id", "treated", "set_id", "index_day", "end_day", "weight", "match_n", "age", "gender",
            "risk_band", "imd_decile", "diabetes", "severe_mental_illness"]
    units = pd.concat([t[cols], comp[cols]], ignore_index=True)
    units["before_n"] = counter.count(units["patient_id"], units["index_day"] + b0, units["index_day"] + b1)
    return MatchRaw(units, int(len(ref)), int(len(sets)), int(len(pool)), int(len(comp)), excluded)


# ---------------------------------------------------------------------------------- DiD
def did_panel(units: pd.DataFrame, counter: AppointmentCounter, start: int, end: int,
              before: tuple[int, int], after: tuple[int, int]) -> pd.DataFrame:
    """Two rows per unit (post = 0 before, 1 after): appointments and days of exposure."""
    out = []
    d = units["index_day"].to_numpy()
    last = np.minimum(units["end_day"].to_numpy(), end)
    for post, (w0, w1) in ((0, before), (1, after)):
        lo = np.maximum(d + w0, start)
        hi = np.minimum(d + w1, last)
        out.append(pd.DataFrame({"patient_id": units["patient_id"].to_numpy(), "set_id": units["set_id"].to_numpy(),
                                 "treated": units["treated"].to_numpy(), "weight": units["weight"].to_numpy(),
                                 "post": post, "y": counter.count(units["patient_id"], lo, hi),
                                 "exposure": np.maximum(hi - lo + 1, 0)}))
    p = pd.concat(out, ignore_index=True)
    return p[p["exposure"] > 0].reset_index(drop=True)


def fit_did(panel: pd.DataFrame) -> FitResult | None:
    if panel.empty or panel["treated"].nunique() < 2:
        return None
    X = pd.DataFrame({"post": panel["post"].astype(float),
                      "post_x_referred": (panel["post"] * panel["treated"]).astype(float)})
    return poisson_fe(panel["y"].to_numpy(), X, panel["patient_id"].to_numpy(),
                      offset=np.log(panel["exposure"].to_numpy(dtype=float)),
                      clusters=panel["set_id"].to_numpy(), weights=panel["weight"].to_numpy())


def fit_did_nb(panel: pd.DataFrame) -> dict:
    """Pooled NB2 DiD with estimated dispersion (statsmodels discrete NegativeBinomial)."""
    import statsmodels.api as sm

    out = {"method": NB_METHOD, "status": "not_estimable", "estimate": float("nan"), "lo": float("nan"),
           "hi": float("nan"), "p": float("nan"), "alpha": float("nan")}
    if panel.empty or panel["treated"].nunique() < 2 or panel["y"].sum() == 0:
        return out
    X = pd.DataFrame({"const": 1.0, "referred": panel["treated"].astype(float), "post": panel["post"].astype(float),
                      "post_x_referred": (panel["post"] * panel["treated"]).astype(float)})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = sm.NegativeBinomial(panel["y"].to_numpy(dtype=float), X, loglike_method="nb2",
                                      exposure=panel["exposure"].to_numpy(dtype=float)).fit(
                disp=0, maxiter=200, method="newton", cov_type="cluster",
                cov_kwds={"groups": pd.factorize(panel["set_id"])[0]})
    except Exception as e:  # noqa: BLE001 - a sensitivity analysis must not stop the report
        out["reason"] = f"fit failed: {type(e).__name__}"
        return out
    b, se = float(res.params["post_x_referred"]), float(res.bse["post_x_referred"])
    conv = bool(res.mle_retvals.get("converged", True))
    if not (conv and np.isfinite(b) and np.isfinite(se)):
        out["reason"] = "did not converge"
        return out
    from scipy import stats as st

    out.update(status="ok", estimate=math.exp(b), lo=math.exp(b - Z95 * se), hi=math.exp(b + Z95 * se),
               p=float(2 * st.norm.sf(abs(b / se))), alpha=float(res.params["alpha"]))
    return out


def group_rates(panel: pd.DataFrame, per_days: int = 365) -> dict:
    """Weighted appointments per ``per_days`` days by group and period, and the crude ratio of ratios."""
    out = {}
    for t, name in ((1, "referred"), (0, "comparison")):
        for post, period in ((0, "before"), (1, "after")):
            p = panel[(panel["treated"] == t) & (panel["post"] == post)]
            y, e = float((p["y"] * p["weight"]).sum()), float((p["exposure"] * p["weight"]).sum())
            out[(name, period)] = {"rate": y / e * per_days if e > 0 else float("nan"), "n": int(len(p)),
                                   "appointments": int(p["y"].sum())}
    r = {k: v["rate"] for k, v in out.items()}
    with np.errstate(divide="ignore", invalid="ignore"):
        crude = (r[("referred", "after")] / r[("referred", "before")]) / (r[("comparison", "after")] / r[("comparison", "before")])
    return {"rates": out, "crude_ratio_of_ratios": float(crude)}


def balance(units: pd.DataFrame) -> dict[str, dict]:
    """Referred vs (weighted) matched comparison: value, n, events and standardised difference."""
    rows: dict[str, dict] = {}
    t = units[units["treated"] == 1]
    c = units[units["treated"] == 0]

    def wmean(x, w):
        m = ~np.isnan(x)
        return float(np.average(x[m], weights=w[m])) if m.any() and w[m].sum() > 0 else float("nan")

    def wvar(x, w):
        m = ~np.isnan(x)
        if m.sum() < 2:
            return float("nan")
        mu = np.average(x[m], weights=w[m])
        return float(np.average((x[m] - mu) ** 2, weights=w[m]))

    def add(name, kind, ft, fc):
        xt, xc = ft(t).astype(float), fc(c).astype(float)
        wt, wc = np.ones(len(xt)), c["weight"].to_numpy(dtype=float)
        mt, mc = wmean(xt, wt), wmean(xc, wc)
        sd = math.sqrt((wvar(xt, wt) + wvar(xc, wc)) / 2) if len(xt) > 1 and len(xc) > 1 else float("nan")
        std = (mt - mc) / sd if sd and np.isfinite(sd) and sd > 0 else (0.0 if mt == mc else float("nan"))
        scale = 100.0 if kind == "pct" else 1.0
        rows[name] = {"kind": kind, "referred": mt * scale, "comparison": mc * scale,
                      "n_referred": int((~np.isnan(xt)).sum()), "n_comparison": int((~np.isnan(xc)).sum()),
                      "events_referred": int(np.nansum(xt)) if kind == "pct" else None,
                      "events_comparison": int(np.nansum(xc)) if kind == "pct" else None, "std_diff": std}

    num = lambda col: (lambda d: pd.to_numeric(d[col], errors="coerce").to_numpy(dtype=float))  # noqa: E731

    def flag(col, value=True):
        def f(d):
            s = d[col]
            known = s.notna().to_numpy()
            v = (s.astype("object") == value).to_numpy(dtype=float)
            return np.where(known, v, np.nan)
        return f

    add("age", "mean", num("age"), num("age"))
    add("female", "pct", flag("gender", "female"), flag("gender", "female"))
    for b in BANDS:
        add(f"risk_{b}", "pct", flag("risk_band", b), flag("risk_band", b))
    add("diabetes", "pct", flag("diabetes"), flag("diabetes"))
    add("severe_mental_illness", "pct", flag("severe_mental_illness"), flag("severe_mental_illness"))
    add("imd_decile", "mean", num("imd_decile"), num("imd_decile"))
    add("matching_window_appointments", "mean", num("match_n"), num("match_n"))
    add("before_window_appointments", "mean", num("before_n"), num("before_n"))
    return rows


@dataclass
class DidRaw:
    match: MatchRaw
    panel: pd.DataFrame  # patient level, never published
    fit: FitResult | None
    nb: dict
    rates: dict
    peak: FitResult | None  # "before" = days -365..-1 (includes the pre-referral rise)
    peak_rates: dict
    balance: dict
    event_comparison: EventStudyRaw | None
    before: tuple[int, int]
    after: tuple[int, int]


@dataclass
class GPRaw:
    per_patient: pd.DataFrame  # patient level, never published
    variance: pd.DataFrame
    event: EventStudyRaw
    did: DidRaw | None
    did_reason: str | None
    settings: GPSettings
    n_index_patients: int
    extract_start: pd.Timestamp
    extract_end: pd.Timestamp


def _extract_days(extract: Extract) -> tuple[int, int]:
    return int(day_numbers([extract.config.start])[0]), int(day_numbers([extract.config.end])[0])


def matched_did(extract: Extract, settings: Settings | None = None) -> tuple[MatchRaw, pd.DataFrame, FitResult | None]:
    """Only the matched difference in differences (for simulations): the match, the patient-level
    panel and the fitted model."""
    cfg = (settings or load_settings()).gp_appointments
    start, end = _extract_days(extract)
    counter = AppointmentCounter(extract["gp_appointments"])
    m = match(index_referrals(extract["referrals"]), extract[COMPARISON], counter, extract, start, end, cfg)
    panel = did_panel(m.units, counter, start, end, tuple(cfg.baseline_window_days), tuple(cfg.after_window_days))
    return m, panel, fit_did(panel)


def compute(extract: Extract, settings: Settings | None = None) -> GPRaw:
    settings = settings or load_settings()
    cfg = settings.gp_appointments
    start, end = _extract_days(extract)
    counter = AppointmentCounter(extract["gp_appointments"])
    idx = index_referrals(extract["referrals"])
    per_patient = variance_patients(idx, counter, start, end, cfg.window_days, list(cfg.quarters))
    table = variance_table(per_patient)
    units = pd.DataFrame({"patient_id": idx["patient_id"].to_numpy(), "index_day": day_numbers(idx["referral_date"]),
                          "end_day": np.minimum(death_days(extract, idx["patient_id"]), end)})
    ev = event_study(units, counter, start, end, cfg)
    did, reason = None, None
    if COMPARISON not in extract.tables:
        reason = "this extract has no `comparison_patients` table"
    else:
        m = match(idx, extract[COMPARISON], counter, extract, start, end, cfg)
        if m.n_referred_matched == 0:
            reason = "no referred patient could be matched to a comparison patient"
        else:
            before, after = tuple(cfg.baseline_window_days), tuple(cfg.after_window_days)
            panel = did_panel(m.units, counter, start, end, before, after)
            peak_before = (before[0], -1)
            peak_panel = did_panel(m.units, counter, start, end, peak_before, after)
            comp_units = m.units[m.units["treated"] == 0][["patient_id", "index_day", "end_day"]]
            did = DidRaw(m, panel, fit_did(panel), fit_did_nb(panel), group_rates(panel), fit_did(peak_panel),
                         group_rates(peak_panel), balance(m.units),
                         event_study(comp_units.reset_index(drop=True), counter, start, end, cfg), before, after)
    return GPRaw(per_patient, table, ev, did, reason, cfg, int(len(idx)), extract.config.start, extract.config.end)


# ---------------------------------------------------------------------------------- publish
def _nan_none(x) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _pct(sdc: EstimableSDC, num: int, den: int, key: str) -> float | None:
    """A percentage; with nothing to divide by it is not estimable (not suppressed)."""
    if not den:
        return sdc.stat(None, sdc.rules.min_base, key)
    return sdc.pct(num, den, key)


def _rr(sdc, fit: FitResult | None, name: str, base: int, key: str, est_key: str = "rate_ratio") -> dict:
    est = lo = hi = p = float("nan")
    if fit is not None and fit.ok:
        est, lo, hi, p = fit.ratio(name)
    return {est_key: sdc.stat(_nan_none(est), base, f"{key}.{est_key}" if key else est_key, decimals=3),
            "ci95": sdc.interval(_nan_none(lo), _nan_none(hi), base, f"{key}.ci95" if key else "ci95", decimals=3),
            "p_value": sdc.stat(_nan_none(p), base, f"{key}.p_value" if key else "p_value", decimals=4)}


def _event_publish(ev: EventStudyRaw, sdc, window_days: int) -> dict:
    out: dict = {"status": "ok" if ev.fit is not None and ev.fit.ok else "not_estimable",
                 "n_patients": sdc.count(ev.n_patients, "n_patients"), "quarters": {}}
    if ev.fit is not None and not ev.fit.ok:
        out["reason"] = ev.fit.reason
    elif ev.fit is None:
        out["reason"] = "no patient has follow-up in the reference quarter"
    n_ref = int(ev.panel_summary.loc[ev.reference, "n"]) if ev.reference in ev.panel_summary.index else 0
    for q, row in ev.panel_summary.iterrows():
        key = f"quarters.{q}"
        n = int(row["n"])
        rate = float(row["y"]) / float(row["exposure"]) * window_days if row["exposure"] > 0 else float("nan")
        entry = {"n_patients": sdc.count(n, f"{key}.n_patients"),
                 "appointments_per_patient": sdc.stat(_nan_none(rate), n, f"{key}.appointments_per_patient")}
        if q == ev.reference:
            entry.update(rate_ratio=1.0 if n else None, ci95=None, p_value=None, reference=True)
        else:
            entry.update(_rr(sdc, ev.fit, f"q{q}", min(n, n_ref), key))
        out["quarters"][str(int(q))] = entry
    return out


def _did_publish(raw: GPRaw, sdc) -> dict:
    if raw.did is None:
        return {"status": "not_run", "reason": raw.did_reason, "rate_ratio": None, "ci95": None}
    d = raw.did
    m = d.match
    n_t, n_c = m.n_referred_matched, m.n_comparison_matched
    base = min(n_t, n_c)
    out: dict = {"status": "ok" if d.fit is not None and d.fit.ok else "not_estimable"}
    if d.fit is None or not d.fit.ok:
        out["reason"] = "the model could not be fitted" if d.fit is None else d.fit.reason
    out.update(_rr(sdc, d.fit, "post_x_referred", base, ""))
    out["method"] = DID_METHOD
    # settings echoed under keys that are not counts ("window_days", "bins", "ratio")
    out["window_days"] = {"before": list(d.before), "after": list(d.after),
                          "matching": list(raw.settings.match_window_days)}
    out["why_this_before_window"] = (
        f"'Before' is days {-d.before[0]} to {-d.before[1]} before the index referral: referred patients' GP use "
        "rises in the six months before referral, so a 'before' that includes those months would credit the "
        "service with the fall back to normal.")
    out["matching"] = {
        "on": "same practice, age band, gender, risk band; alive at the index date; GP appointments in the matching "
              "window in the same band; without replacement; comparison patients take the referred patient's index date",
        "bins": {"age_band_lower_edges": list(raw.settings.match_age_bands),
                 "matching_window_appointments_lower_edges": list(raw.settings.match_baseline_use_bins)},
        "ratio": f"1:{raw.settings.matches_per_patient} (up to)",
        "n_referred_eligible": sdc.count(m.n_referred_eligible, "matching.n_referred_eligible"),
        "n_referred_matched": sdc.count(n_t, "matching.n_referred_matched"),
        "matched_pct": _pct(sdc, n_t, m.n_referred_eligible, "matching.matched_pct"),
        "n_comparison_pool": sdc.count(m.n_comparison_pool, "matching.n_comparison_pool"),
        "n_comparison_matched": sdc.count(n_c, "matching.n_comparison_matched"),
        "excluded": {k: sdc.count(v, f"matching.excluded.{k}") for k, v in m.excluded.items()},
    }

    def rates_out(r: dict, key: str) -> dict:
        o = {}
        for (grp, period), v in r["rates"].items():
            o.setdefault(grp, {})[period] = sdc.stat(_nan_none(v["rate"]), v["n"], f"{key}.{grp}.{period}")
        o["crude_ratio_of_ratios"] = sdc.stat(_nan_none(r["crude_ratio_of_ratios"]), base,
                                              f"{key}.crude_ratio_of_ratios", decimals=3)
        return o

    out["appointments_per_year"] = rates_out(d.rates, "appointments_per_year")
    bal = {}
    for name, r in d.balance.items():
        k = f"balance.{name}"
        dec = 1 if r["kind"] == "pct" else 2
        bal[name] = {
            "kind": r["kind"],
            "referred": sdc.stat(_nan_none(r["referred"]), r["n_referred"], f"{k}.referred", decimals=dec,
                                 events=r["events_referred"]),
            "comparison": sdc.stat(_nan_none(r["comparison"]), r["n_comparison"], f"{k}.comparison", decimals=dec,
                                   events=r["events_comparison"]),
            "std_diff": sdc.stat(_nan_none(r["std_diff"]), min(r["n_referred"], r["n_comparison"]), f"{k}.std_diff"),
        }
    out["balance"] = bal
    nb = d.nb
    out["sensitivity"] = {
        "negative_binomial": {"method": nb["method"], "status": nb["status"],
                              "rate_ratio": sdc.stat(_nan_none(nb["estimate"]), base,
                                                     "sensitivity.negative_binomial.rate_ratio", decimals=3),
                              "ci95": sdc.interval(_nan_none(nb["lo"]), _nan_none(nb["hi"]), base,
                                                   "sensitivity.negative_binomial.ci95", decimals=3),
                              "p_value": sdc.stat(_nan_none(nb["p"]), base, "sensitivity.negative_binomial.p_value",
                                                  decimals=4),
                              "alpha": sdc.stat(_nan_none(nb["alpha"]), base, "sensitivity.negative_binomial.alpha",
                                                decimals=3)},
        "before_includes_peak": {
            "window_days": {"before": [d.before[0], -1], "after": list(d.after)},
            "note": "biased: 'before' includes the pre-referral rise in GP use; shown only to measure that bias",
            **_rr(sdc, d.peak, "post_x_referred", base, "sensitivity.before_includes_peak"),
        },
    }
    out["event_study_comparison"] = (_event_publish(d.event_comparison, sdc.scoped("event_study_comparison"),
                                                    raw.settings.window_days)
                                     if d.event_comparison is not None else None)
    return out


def publish(raw: GPRaw, sdc: SDC) -> dict:
    """The contract's ``gp_appointments`` section after disclosure control, plus extra keys."""
    sdc = EstimableSDC(sdc)
    cfg = raw.settings
    variance: dict = {}
    detail: dict = {}
    for cohort, grp in raw.variance.groupby("cohort", sort=True):
        variance[cohort] = {}
        detail[cohort] = {}
        for _, r in grp.sort_values("k").iterrows():
            lab = quarter_label(int(r["k"]))
            n = int(r["n"])
            variance[cohort][lab] = sdc.stat(_nan_none(float(r["variance_pct"])), n,
                                             f"variance_pct.{cohort}.{lab}", decimals=1)
            detail[cohort][lab] = {
                "n_patients": sdc.count(n, f"variance_detail.{cohort}.{lab}.n_patients"),
                "variance_pct_ci95": sdc.interval(_nan_none(float(r["ci_lo"])), _nan_none(float(r["ci_hi"])), n,
                                                  f"variance_detail.{cohort}.{lab}.variance_pct_ci95", decimals=1),
                "appointments_before": sdc.count(int(r["before"]), f"variance_detail.{cohort}.{lab}.appointments_before"),
                "appointments_after": sdc.count(int(r["after"]), f"variance_detail.{cohort}.{lab}.appointments_after"),
            }
    out: dict = {
        "variance_pct": variance,
        # ------------------------------------------------------------- extra keys
        "variance_detail": detail,
        "n_index_patients": sdc.count(raw.n_index_patients, "n_index_patients"),
        "method": {
            "variance": "per financial-year cohort of the index (earliest) referral: (total appointments after - total "
                        "before) / total before x 100, a ratio of sums over patients, from exact totals; windows "
                        f"referral date + 1 .. + {cfg.window_days}k days vs - {cfg.window_days}k .. - 1 day (referral day "
                        "in neither); a patient counts for k only when both windows lie inside the extract",
            "variance_pct_ci95": "beyond the published method: delta-method 95% CI of the log ratio of sums with "
                                 "patient-level influence terms (allows for differences between patients)",
            "event_study": EVENT_METHOD,
            "matched_did": DID_METHOD,
        },
        "event_study": {"method": EVENT_METHOD, "reference_quarter": raw.event.reference,
                        "quarter_days": cfg.window_days,
                        "quarter_definition": f"quarter -1 = days -{cfg.window_days}..-1, quarter +1 = days "
                                              f"+1..+{cfg.window_days} from the index referral (the referral day in "
                                              "neither)",
                        **_event_publish(raw.event, sdc.scoped("event_study"), cfg.window_days)},
        "matched_did": _did_publish(raw, sdc.scoped("matched_did")),
        "causal_leaning": "matched_did" if raw.did is not None else None,
        "reading": CAUSAL_READING if raw.did is not None else NO_COMPARISON_READING,
    }
    out["not_estimable"] = sorted(set(sdc.not_estimable))
    return out


def headline_cohort(section: dict) -> str | None:
    """The cohort the reading quotes: the latest with a 12-month figure, else the latest with a 3-month one."""
    var = section.get("variance_pct") or {}
    for k in ("12m", "3m"):
        ok = [c for c in sorted(var) if var[c].get(k) is not None]
        if ok:
            return ok[-1]
    return None


def _pct_change(v: float) -> str:
    if abs(v) < 0.5:
        return "about as many"
    return f"{abs(v):.0f}% {'fewer' if v < 0 else 'more'}"


def _more_less(rr: float) -> str:
    pct = abs(1 - rr) * 100
    return f"about {pct:.0f}% {'fewer' if rr < 1 else 'more'}"


def reading(section: dict) -> str:
    """A plain-English reading of the published section (published numbers only)."""
    parts = []
    c = headline_cohort(section)
    if c is not None:
        v = section["variance_pct"][c]
        lead = next(k for k in ("3m", "6m", "9m", "12m") if v.get(k) is not None)
        months = int(lead[:-1])
        than = "as" if abs(v[lead]) < 0.5 else "than"
        s = (f"Using the published method, patients referred in {c} had {_pct_change(v[lead])} GP appointments in "
             f"the {months} months after referral {than} in the {months} months before")
        if lead != "12m" and v.get("12m") is not None:
            s += f" ({_pct_change(v['12m'])} over 12 months)"
        parts.append(s + ".")
    else:
        parts.append("Too few referred patients had GP appointment windows inside the extract to report the published "
                     "% variance.")
    q = section.get("event_study", {}).get("quarters", {})
    ref = section.get("event_study", {}).get("reference_quarter")
    r1, r2 = (q.get(k, {}).get("rate_ratio") for k in ("-1", "-2"))
    if r1 is not None and ref is not None:
        s = (f"But GP use was already rising before referral: in the three months before referral it was {r1:.2f} times "
             f"its level in quarter {ref} (about {abs(ref) * 3 - 3} to {abs(ref) * 3} months before)")
        if r2 is not None:
            s += f", and {r2:.2f} times in the three months before that"
        s += ("; a before-and-after comparison starting from that peak shows a fall that would have happened anyway "
              "(regression to the mean).")
        after = [q.get(k, {}).get("rate_ratio") for k in ("1", "2", "3", "4")]
        if all(a is not None for a in after):
            s += (f" In the four quarters after referral it was {', '.join(f'{a:.2f}' for a in after)} times that "
                  "earlier level.")
        parts.append(s)
    did = section.get("matched_did") or {}
    rr, ci = did.get("rate_ratio"), did.get("ci95")
    if did.get("status") == "ok" and rr is not None and ci is not None:
        m = did.get("matching", {})
        sure = ci[1] < 1 or ci[0] > 1
        s = (f"The estimate that leans most towards cause compares {fmt(m.get('n_referred_matched'))} referred patients "
             f"with {fmt(m.get('n_comparison_matched'))} similar patients at the same practices who were not referred "
             "(matched on age band, gender, risk band and earlier GP use), from a baseline 6 to 12 months before "
             f"referral (before the rise) to the year after: referred patients had {_more_less(rr)} GP appointments "
             f"than the comparison suggests they would have had (rate ratio {rr:.2f}, 95% CI {ci[0]:.2f} to "
             f"{ci[1]:.2f}){'' if sure else ', a difference that could be chance'}.")
        peak = did.get("sensitivity", {}).get("before_includes_peak", {}).get("rate_ratio")
        if peak is not None:
            s += (f" Had the 'before' period included the months just before referral, the same comparison would "
                  f"have given {peak:.2f}, which shows how much the pre-referral peak flatters before-and-after figures.")
        s += (" It is still not a trial: people are referred for reasons the records do not show, and those reasons "
              "may also change their GP use.")
        parts.append(s)
    else:
        parts.append("There is no matched comparison group in this extract "
                     f"({did.get('reason') or 'the model could not be estimated'}), so none of these figures can "
                     "separate the effect of social prescribing from regression to the mean and other change.")
    return " ".join(parts)
