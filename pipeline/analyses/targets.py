"""Clinical targets met before and after first contact, by risk band: the contract's ``targets``
section (data contract section 2, *Clinical targets by risk band*), reproducing the Merton
evaluation's tables, then the analyses the published method lacks.

The published method, exactly:

- **Index referral**: each patient's earliest referral *with a first_contact_date* (ties: the
  earlier first contact, then referral_id). Cohort membership (``diabetes`` /
  ``severe_mental_illness`` register flag) and the risk band are read from that referral; a
  missing register flag counts as "not on the register".
- **Eligible**: in the cohort, with a first contact, and ``first_contact_date + window_days <=
  extract_end`` (``window_days`` = 365 by default).
- **Windows**: prior = first contact - 365 .. first contact - 1 day; after = first contact + 1 ..
  first contact + 365 days. A measurement on the contact day is in neither.
- **Met**: the *latest* measurement of the target's measure in the window meets the target.
  Several readings of a measure on that latest date: the lowest counts (QOF's rule, which the
  contract states for blood pressure; applied to every measure so that ties never depend on file
  order). Blood pressure: the latest date in the window with *both* a systolic and a diastolic
  reading, the lowest of each on that date; met when systolic <= 140 and diastolic <= 80. No
  measurement in the window counts as *not met*.
- The table is, per risk band, the % of eligible patients meeting 0, 1, ..., T targets in each
  window. Targets and cohorts come from ``settings.targets`` (``config/defaults.yml``).
- Eligible patients without a risk band are not in any band's row; they are counted and
  reported (``detail.<cohort>.flow.missing_risk_band``).

Beyond the published method:

- **Not met vs not measured**, per target and window: measurement rises after first contact,
  and the published method counts "not measured" as "not met", so part of any apparent
  improvement is simply more testing.
- **Paired test per band**: Stuart–Maxwell test of marginal homogeneity on the prior x after
  table of the number of targets met. Chosen over the Wilcoxon signed-rank test because the
  published figures *are* the two marginal distributions of the same patients, the outcome is a
  short ordinal scale with heavy ties at 0 (Wilcoxon discards zero differences and leans on an
  interval reading of the scale), and Stuart–Maxwell tests exactly "did the distribution
  change?". The direction is shown by the share of patients who met more / fewer targets.
  Holm's correction across the four bands of a cohort (bands whose test is publishable).
- **Ordinal model across bands**: proportional-odds logit of the number of targets met on period
  (after vs prior) and risk band (main effects: one common period odds ratio), plus a model with
  the period x band interaction (per-band odds ratios; joint Wald test of heterogeneity). Two
  rows per patient, so the standard errors are a patient-clustered sandwich (OrderedModel's
  observation scores summed by patient); no constant (OrderedModel's thresholds replace it).
  A cluster-robust logit of "at least one target met" is a robustness check.
- **Flags** raised automatically: no patient met all targets in a cohort and period (as the
  Merton evaluation found and queried), bands under ``small_band_warning`` patients, eligible
  patients with no risk band, and a rise in measurement after first contact of 10 percentage
  points or more for a target.

All of this is descriptive and uncontrolled: there is no comparison group, so a change cannot be
attributed to social prescribing.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..config import Settings, Target, load_settings
from ..disclosure import SDC, fmt
from ..extract import Extract
from .estimable import EstimableSDC
from .order import first_rows
from .stats import FitResult, TestResult, holm, logit_cluster, ordinal_logit_cluster, stuart_maxwell

SECTION = "targets"
REQUIRED = ("referrals", "clinical_measurements")
BANDS = ("very_high", "high", "medium", "low")
BAND_LABELS = {"very_high": "1 - Very high risk", "high": "2 - High risk", "medium": "3 - Medium risk",
               "low": "4 - Low risk"}
COHORT_LABELS = {"diabetes": "Diabetes", "severe_mental_illness": "Severe mental illness"}
WINDOWS = ("prior", "after")
STATUSES = ("met", "not_met", "not_measured")
REFERENCE_BAND = "low"
DEFAULT_N_TARGETS = {"diabetes": 3, "severe_mental_illness": 4}  # the contract's keys "0".."3" / "0".."4"
MEASUREMENT_RISE_FLAG_PP = 10.0  # flag a rise in measurement after first contact of this many points

OPS = {"<": operator.lt, "<=": operator.le, "==": operator.eq, ">=": operator.ge, ">": operator.gt}

TEST_REASON = (
    "Stuart–Maxwell test of marginal homogeneity on the prior x after table of targets met (the "
    "published tables are exactly these two marginal distributions of the same patients; the "
    "outcome is a short ordinal scale with many ties, which a Wilcoxon signed-rank test would "
    "partly discard). Holm correction across the risk bands of each cohort."
)
MODEL_METHOD = (
    "Proportional-odds (cumulative logit) model of the number of targets met on period (after vs "
    "prior) and risk band, two rows per patient, statsmodels OrderedModel with no constant; "
    "patient-clustered sandwich standard errors (cov_type='cluster' on the per-observation scores "
    "summed by patient). Interaction model for per-band odds ratios; Wald test of heterogeneity."
)


def describe(t: Target) -> str:
    """A target in words, e.g. ``hba1c <= 58`` or ``blood pressure <= 140/80 (same-day pair)``."""
    if t.kind == "blood_pressure":
        return f"blood pressure <= {t.systolic_max:g}/{t.diastolic_max:g} (same-day pair)"
    return f"{t.measure} {t.op} {t.value:g}"


@dataclass
class CohortRaw:
    name: str
    targets: list[Target]
    # one row per eligible patient: patient_id, risk_band, first_contact_date,
    # <target>_prior / <target>_after ("met" / "not_met" / "not_measured"), met_prior, met_after
    patients: pd.DataFrame
    flow: dict[str, int]
    tests: dict[str, TestResult]
    ordinal: FitResult | None
    ordinal_interaction: FitResult | None
    any_target: FitResult | None
    flags: list[dict]
    reference_band: str | None = None

    @property
    def n_targets(self) -> int:
        return len(self.targets)

    @property
    def target_names(self) -> list[str]:
        return [t.name for t in self.targets]

    def band(self, band: str) -> pd.DataFrame:
        return self.patients[self.patients["risk_band"] == band]


@dataclass
class TargetsRaw:
    cohorts: dict[str, CohortRaw]
    window_days: int
    extract_end: pd.Timestamp
    small_band_warning: int
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------- derivations
def index_referrals(referrals: pd.DataFrame) -> pd.DataFrame:
    """Each patient's earliest referral with a first contact (ties: earlier first contact, then
    referral_id)."""
    r = referrals[referrals["first_contact_date"].notna()]
    return first_rows(r, ["patient_id", "referral_date", "first_contact_date", "referral_id"]).reset_index(drop=True)


def windowed_measurements(measurements: pd.DataFrame, patients: pd.DataFrame, window_days: int) -> pd.DataFrame:
    """Measurements of ``patients`` (patient_id, first_contact_date) labelled with their window
    (``prior`` / ``after``); measurements in neither window (including the contact day) dropped."""
    m = measurements[["patient_id", "measurement_date", "measure", "value"]].merge(
        patients[["patient_id", "first_contact_date"]], on="patient_id", how="inner")
    rel = (m["measurement_date"] - m["first_contact_date"]).dt.days
    window = np.select([(rel >= -window_days) & (rel <= -1), (rel >= 1) & (rel <= window_days)],
                       ["prior", "after"], default="")
    m = m.assign(window=window)
    return m[(m["window"] != "") & m["value"].notna()].drop(columns="first_contact_date")


def _latest_lowest(m: pd.DataFrame) -> pd.DataFrame:
    """Per (patient, window): the latest date's lowest value."""
    return first_rows(m, ["patient_id", "window", "measurement_date", "value"], ascending=[True, True, False, True],
                      unique=2)


def target_met(m: pd.DataFrame, target: Target) -> pd.Series:
    """Whether the target is met, indexed by (patient_id, window), for every patient and window
    with a qualifying measurement; absent = not measured."""
    if target.kind == "blood_pressure":
        keys = ["patient_id", "window", "measurement_date"]
        sys_ = m[m["measure"] == "systolic_bp"].groupby(keys)["value"].min().rename("sys")
        dia = m[m["measure"] == "diastolic_bp"].groupby(keys)["value"].min().rename("dia")
        both = pd.concat([sys_, dia], axis=1, join="inner").reset_index()
        both = first_rows(both, ["patient_id", "window", "measurement_date"], ascending=[True, True, False], unique=2)
        met = (both["sys"] <= target.systolic_max) & (both["dia"] <= target.diastolic_max)
        return pd.Series(met.to_numpy(), index=pd.MultiIndex.from_frame(both[["patient_id", "window"]]))
    latest = _latest_lowest(m[m["measure"] == target.measure])
    met = OPS[target.op](latest["value"], float(target.value))
    return pd.Series(met.to_numpy(), index=pd.MultiIndex.from_frame(latest[["patient_id", "window"]]))


def target_status(patients: pd.DataFrame, m: pd.DataFrame, targets: list[Target]) -> pd.DataFrame:
    """Add ``<target>_<window>`` status columns and ``met_<window>`` counts to ``patients``."""
    out = patients.copy()
    for t in targets:
        met = target_met(m, t)
        for w in WINDOWS:
            s = met[met.index.get_level_values("window") == w].droplevel("window")
            s = s[~s.index.duplicated()]
            v = out["patient_id"].map(s)
            out[f"{t.name}_{w}"] = np.where(v.isna(), "not_measured", np.where(v.astype(bool), "met", "not_met"))
    for w in WINDOWS:
        out[f"met_{w}"] = sum((out[f"{t.name}_{w}"] == "met").astype(int) for t in targets) if targets else 0
    return out


# ---------------------------------------------------------------------------------- models
def _band_design(df: pd.DataFrame, bands: list[str], ref: str, interaction: bool) -> pd.DataFrame:
    X = pd.DataFrame({"after": df["after"].astype(float)})
    for b in bands:
        if b != ref:
            X[f"band_{b}"] = (df["risk_band"] == b).astype(float)
    if interaction:
        for b in bands:
            if b != ref:
                X[f"after_x_{b}"] = X["after"] * X[f"band_{b}"]
    return X


def _long(patients: pd.DataFrame) -> pd.DataFrame:
    p = patients[patients["risk_band"].isin(BANDS)]
    a = p[["patient_id", "risk_band", "met_prior"]].rename(columns={"met_prior": "met"}).assign(after=0)
    b = p[["patient_id", "risk_band", "met_after"]].rename(columns={"met_after": "met"}).assign(after=1)
    return pd.concat([a, b], ignore_index=True)


def fit_models(patients: pd.DataFrame) -> tuple[FitResult | None, FitResult | None, FitResult | None, str | None]:
    """Ordinal main-effects and interaction models, and the '>= 1 target met' logit."""
    long = _long(patients)
    if long.empty:
        return None, None, None, None
    present = [b for b in BANDS if (long["risk_band"] == b).any()]
    ref = REFERENCE_BAND if REFERENCE_BAND in present else long["risk_band"].value_counts().index[0]
    groups = long["patient_id"].to_numpy()
    y = long["met"].to_numpy()
    main = ordinal_logit_cluster(y, _band_design(long, present, ref, False), groups)
    inter = ordinal_logit_cluster(y, _band_design(long, present, ref, True), groups) if len(present) > 1 else None
    anyt = logit_cluster((y > 0).astype(float), _band_design(long, present, ref, False), groups)
    return main, inter, anyt, ref


def _flags(name: str, patients: pd.DataFrame, targets: list[Target], flow: dict[str, int],
           small_band: int) -> list[dict]:
    flags: list[dict] = []
    n_t = len(targets)
    if len(patients):
        for w in WINDOWS:
            if not (patients[f"met_{w}"] == n_t).any():
                flags.append({"code": "no_patient_met_all_targets", "cohort": name, "window": w,
                              "message": f"No eligible patient met all {n_t} targets in the {w} window: check the "
                                         "target logic and recording before reading the table (the Merton "
                                         "evaluation raised the same question)."})
        for t in targets:
            measured = {w: (patients[f"{t.name}_{w}"] != "not_measured").mean() * 100 for w in WINDOWS}
            if measured["after"] - measured["prior"] >= MEASUREMENT_RISE_FLAG_PP:
                flags.append({"code": "measurement_rise", "cohort": name, "target": t.name,
                              "message": f"{t.name.replace('_', ' ')} was recorded for at least "
                                         f"{MEASUREMENT_RISE_FLAG_PP:.0f} percentage points more patients after "
                                         "first contact than before: part of any rise in targets met is more "
                                         "measurement, not better control."})
    for b in BANDS:
        n = int((patients["risk_band"] == b).sum())
        if n == 0:
            flags.append({"code": "empty_band", "cohort": name, "band": b,
                          "message": f"The {b.replace('_', ' ')} risk band has no eligible patients: its row is empty."})
        elif n < small_band:
            flags.append({"code": "small_band", "cohort": name, "band": b,
                          "message": f"The {b.replace('_', ' ')} risk band has fewer than {small_band} eligible "
                                     "patients: each patient moves its percentages by several points, so read its "
                                     "row with care."})
    if flow["missing_risk_band"] > 0:
        flags.append({"code": "missing_risk_band", "cohort": name,
                      "message": "Some eligible patients have no risk band and are in no band's row."})
    return flags


# ---------------------------------------------------------------------------------- compute
def compute(extract: Extract, settings: Settings | None = None) -> TargetsRaw:
    cfg = (settings or load_settings()).targets
    W = int(cfg.window_days)
    end = extract.config.end
    idx = index_referrals(extract["referrals"])
    meas_all = windowed_measurements(extract["clinical_measurements"], idx, W)
    cohorts: dict[str, CohortRaw] = {}
    for name, targets in cfg.cohorts.items():
        flag = idx[name].astype("boolean").fillna(False).astype(bool) if name in idx else \
            pd.Series(False, index=idx.index)
        c = idx[flag]
        eligible = (c["first_contact_date"] + pd.Timedelta(days=W)) <= end
        pts = c.loc[eligible, ["patient_id", "risk_band", "first_contact_date"]].reset_index(drop=True)
        pts["risk_band"] = pts["risk_band"].astype("object")
        m = meas_all[meas_all["patient_id"].isin(pts["patient_id"])]
        pts = target_status(pts, m, list(targets))
        flow = {
            "index_patients_in_cohort": int(len(c)),
            "excluded_short_follow_up": int((~eligible).sum()),
            "eligible": int(len(pts)),
            "missing_risk_band": int((~pts["risk_band"].isin(BANDS)).sum()),
        }
        k = len(targets) + 1
        tests = {}
        for b in BANDS:
            bp = pts[pts["risk_band"] == b]
            tab = np.zeros((k, k))
            np.add.at(tab, (bp["met_prior"].to_numpy(dtype=int), bp["met_after"].to_numpy(dtype=int)), 1)
            tests[b] = stuart_maxwell(tab)
        main, inter, anyt, ref = fit_models(pts)
        cohorts[name] = CohortRaw(name, list(targets), pts, flow, tests, main, inter, anyt,
                                  _flags(name, pts, list(targets), flow, cfg.small_band_warning), ref)
    return TargetsRaw(cohorts, W, end, cfg.small_band_warning)


# ---------------------------------------------------------------------------------- publish
def _nan_none(x) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _pct(sdc: EstimableSDC, num: int, den: int, key: str) -> float | None:
    """A percentage; with nothing to divide by it is not estimable (not suppressed)."""
    if not den:
        return sdc.stat(None, sdc.rules.min_base, key)
    return sdc.pct(num, den, key)


def _ratio(sdc: EstimableSDC, fit: FitResult | None, name: str, base: int, key: str,
           combo: dict | None = None) -> dict:
    est = lo = hi = p = float("nan")
    if fit is not None and fit.ok:
        est, lo, hi, p = fit.combo_ratio(combo) if combo else fit.ratio(name)
    return {"odds_ratio": sdc.stat(_nan_none(est), base, f"{key}.odds_ratio", decimals=3),
            "ci95": sdc.interval(_nan_none(lo), _nan_none(hi), base, f"{key}.ci95", decimals=3),
            "p_value": sdc.stat(_nan_none(p), base, f"{key}.p_value", decimals=4)}


def _publish_models(c: CohortRaw, sdc: EstimableSDC) -> dict:
    n_band = {b: int((c.patients["risk_band"] == b).sum()) for b in BANDS}
    n = sum(n_band.values())
    out: dict = {"method": MODEL_METHOD, "reference_band": c.reference_band}
    main = c.ordinal
    out["status"] = "not_run" if main is None else main.status
    if main is None:
        out["reason"] = "no eligible patient with a risk band"
    elif not main.ok:
        out["reason"] = main.reason
    out["period"] = _ratio(sdc, main, "after", n, "period")
    out["band_vs_reference"] = {}
    n_ref = n_band.get(c.reference_band, 0) if c.reference_band else 0
    for b in BANDS:
        if b == c.reference_band:
            continue
        fit = main if (main is not None and f"band_{b}" in main.params.index) else None
        out["band_vs_reference"][b] = _ratio(sdc, fit, f"band_{b}", min(n_band[b], n_ref), f"band_vs_reference.{b}")
    inter = c.ordinal_interaction
    out["period_by_band"] = {}
    for b in BANDS:
        combo = {"after": 1.0} if b == c.reference_band else {"after": 1.0, f"after_x_{b}": 1.0}
        usable = inter is not None and (b == c.reference_band or f"after_x_{b}" in inter.params.index)
        out["period_by_band"][b] = _ratio(sdc, inter if usable else None, "after", n_band[b],
                                          f"period_by_band.{b}", combo=combo)
    chi2, df, p = float("nan"), 0, float("nan")
    if inter is not None and inter.ok:
        chi2, df, p = inter.wald([k for k in inter.params.index if k.startswith("after_x_")])
    # the heterogeneity test rests on every band in the model: the smallest must be publishable
    base = min([x for x in n_band.values() if x > 0], default=0)
    out["interaction_wald"] = {"chi2": sdc.stat(_nan_none(chi2), base, "interaction_wald.chi2"), "df": df,
                               "p_value": sdc.stat(_nan_none(p), base, "interaction_wald.p_value", decimals=4)}
    anyt = c.any_target
    out["any_target_logit"] = {"method": anyt.method if anyt else None,
                               "status": "not_run" if anyt is None else anyt.status,
                               **_ratio(sdc, anyt, "after", n, "any_target_logit")}
    return out


def _by_target_cohort(c: CohortRaw, sdc: EstimableSDC) -> dict:
    """Per target and window over all eligible patients: % measured, % met, % met among measured."""
    out: dict = {}
    p = c.patients
    for t in c.targets:
        out[t.name] = {"target": describe(t)}
        for w in WINDOWS:
            s = p[f"{t.name}_{w}"]
            n, measured, met = int(len(s)), int((s != "not_measured").sum()), int((s == "met").sum())
            k = f"by_target.{t.name}.{w}"
            out[t.name][w] = {"n": sdc.count(n, f"{k}.n"),
                              "measured_pct": _pct(sdc, measured, n, f"{k}.measured_pct"),
                              "met_pct": _pct(sdc, met, n, f"{k}.met_pct"),
                              "met_if_measured_pct": _pct(sdc, met, measured, f"{k}.met_if_measured_pct")}
    return out


def _empty_band(keys: list[str]) -> dict:
    return {"n": 0, "prior_pct": {k: None for k in keys}, "after_pct": {k: None for k in keys},
            "change_pct": {"met_more": None, "same": None, "met_fewer": None},
            "test": {"method": "stuart_maxwell", "status": "empty", "statistic": None, "df": None, "p_value": None,
                     "p_holm": None}}


def publish(raw: TargetsRaw, sdc: SDC) -> dict:
    """The contract's ``targets`` section (both cohorts, all four bands, keys "0".."T") after
    disclosure control, plus per-band extras (``change_pct``, ``test``) and a ``detail`` key with
    cohort-level results (flow, per-target measured/met split, models, flags, methods). The
    measured/met split is published per cohort, not per band: per-band splits summed over bands
    would give the cohort figures, so together they could reveal suppressed cells. A band with no eligible patient publishes ``n`` 0 and nulls, listed in
    ``detail.not_estimable`` (nothing was suppressed)."""
    sdc = EstimableSDC(sdc)
    out: dict = {}
    detail: dict = {"method": {"test": TEST_REASON, "model": MODEL_METHOD, "window_days": raw.window_days,
                               "published_rule": "the latest measurement in the window decides (blood pressure: the "
                                                 "latest date with both readings; several readings that day: the "
                                                 "lowest of each); no measurement in the window counts as not met",
                               "eligible": f"in the cohort at the index referral, first contact + {raw.window_days} "
                                           f"days on or before {raw.extract_end:%Y-%m-%d}"}}
    for name in ("diabetes", "severe_mental_illness"):
        c = raw.cohorts.get(name)
        cs = sdc.scoped(name)
        if c is None:  # a cohort the settings leave out: keep the contract's shape, all unknown
            keys = [str(i) for i in range(DEFAULT_N_TARGETS[name] + 1)]
            out[name] = {b: {"n": None, "prior_pct": {k: None for k in keys}, "after_pct": {k: None for k in keys}}
                         for b in BANDS}
            sdc.not_estimable.append(name)
            detail[name] = {"label": COHORT_LABELS[name], "status": "not_run",
                            "reason": "no targets are configured for this cohort"}
            continue
        keys = [str(i) for i in range(c.n_targets + 1)]
        bands_out: dict = {}
        family: dict[str, float | None] = {}
        # the band sizes and the eligible patients without a band add up to the published flow: one group,
        # so a suppressed band size cannot be recovered from the total
        sizes = {b: int(len(c.band(b))) for b in BANDS}
        sizes["no_risk_band"] = int(c.flow["missing_risk_band"])
        size_pub = SDC(sdc.rules).counts(sizes)  # a scratch record: the paths are recorded where they are used
        for b in BANDS:
            bs = cs.scoped(b)
            p = c.band(b)
            n = int(len(p))
            if n == 0:
                bands_out[b] = _empty_band(keys)
                sdc.not_estimable.append(f"{name}.{b}")
                family[b] = None
                continue
            entry: dict = {"n": size_pub[b]}
            if size_pub[b] is None:
                cs.withhold(f"{b}.n")
            for w in WINDOWS:
                entry[f"{w}_pct"] = bs.distribution({k: int((p[f"met_{w}"] == int(k)).sum()) for k in keys}, f"{w}_pct")
            diff = p["met_after"] - p["met_prior"]
            entry["change_pct"] = bs.distribution({"met_more": int((diff > 0).sum()), "same": int((diff == 0).sum()),
                                                   "met_fewer": int((diff < 0).sum())}, "change_pct")
            test = c.tests[b]
            ok = bs.base_ok(n)
            entry["test"] = {"method": test.method, "status": test.status if ok else "suppressed",
                             "statistic": bs.stat(_nan_none(test.statistic), n, "test.statistic"),
                             "df": test.df if ok else None,
                             "p_value": bs.stat(_nan_none(test.p_value), n, "test.p_value", decimals=4)}
            if test.note and ok:
                entry["test"]["note"] = test.note
            family[b] = test.p_value if ok else None
            bands_out[b] = entry
        adj = holm(family)
        for b in BANDS:
            if b in family and family[b] is not None:
                bands_out[b]["test"]["p_holm"] = cs.scoped(b).stat(_nan_none(adj[b]), int(len(c.band(b))),
                                                                   "test.p_holm", decimals=4)
            else:
                bands_out[b]["test"]["p_holm"] = None
        out[name] = bands_out
        ds = sdc.scoped("detail").scoped(name)
        detail[name] = {
            "label": COHORT_LABELS[name],
            "targets": {t.name: describe(t) for t in c.targets},
            "flow": {k: ds.count(v, f"flow.{k}") for k, v in c.flow.items() if k != "missing_risk_band"},
            "by_target": _by_target_cohort(c, ds),
            "models": _publish_models(c, ds.scoped("models")),
            "flags": c.flags,
        }
        detail[name]["flow"]["missing_risk_band"] = size_pub["no_risk_band"]
        if size_pub["no_risk_band"] is None:
            ds.withhold("flow.missing_risk_band")
    detail["not_estimable"] = sorted(set(sdc.not_estimable))
    out["detail"] = detail
    return out


def band_table(section: dict, cohort: str, window: str) -> pd.DataFrame:
    """The published distribution as the Merton table: one row per band, % meeting 0..T targets
    (from the published dict only)."""
    rows = []
    for b in BANDS:
        d = section[cohort][b][f"{window}_pct"]
        rows.append({"Risk band": BAND_LABELS[b], "Patients": section[cohort][b]["n"], **d})
    return pd.DataFrame(rows, dtype=object)


def at_least_one(section: dict, cohort: str) -> dict[str, tuple[float, float]]:
    """Per band, the published % meeting at least one target (100 - % meeting none) before and
    after, for the bands where both can be shown."""
    out = {}
    for b in BANDS:
        band = section[cohort][b]
        p0, a0 = band["prior_pct"].get("0"), band["after_pct"].get("0")
        if p0 is not None and a0 is not None:
            out[b] = (100 - p0, 100 - a0)
    return out


def reading(section: dict) -> str:
    """A plain-English reading of the published section (published numbers only)."""
    parts = []
    flags = []
    for cohort in ("diabetes", "severe_mental_illness"):
        det = section["detail"].get(cohort, {})
        label = COHORT_LABELS[cohort].lower()
        if det.get("status") == "not_run":
            continue
        al = at_least_one(section, cohort)
        n = det.get("flow", {}).get("eligible")
        if not al:
            if n:
                parts.append(f"For the {fmt(n)} people with {label} who had 12 months of follow-up, the share meeting "
                             "none of the targets rests on small numbers in every risk band, so it is not shown "
                             "(see the tables above for what can be shown).")
            else:
                parts.append(f"Too few people with {label} had 12 months of follow-up to report.")
            continue
        people = "person" if n == 1 else "people"
        s = (f"{fmt(n)} {people} with {label} had 12 months of follow-up after first contact. The share meeting at "
             f"least one of their {len(det['targets'])} targets went from "
             + ", ".join(f"{a:.0f}% to {b:.0f}% ({BAND_LABELS[k][4:].lower()})" for k, (a, b) in al.items())
             + " (12 months before vs after first contact).")
        bt = det.get("by_target", {})
        meas = {w: [v[w]["measured_pct"] for v in bt.values() if v[w]["measured_pct"] is not None] for w in WINDOWS}
        mim = {w: [v[w]["met_if_measured_pct"] for v in bt.values() if v[w]["met_if_measured_pct"] is not None]
               for w in WINDOWS}
        if all(meas.values()) and all(mim.values()):
            m0, m1 = np.mean(meas["prior"]), np.mean(meas["after"])
            s += (f" On average {m0:.0f}% had each measurement recorded in the year before and {m1:.0f}% in the year "
                  f"after{' — so part of the rise is more testing' if m1 - m0 >= 5 else ''}; among those measured, "
                  f"the share meeting a target went from {np.mean(mim['prior']):.0f}% to {np.mean(mim['after']):.0f}%.")
        per = det.get("models", {}).get("period", {})
        if per.get("odds_ratio") is not None and per.get("ci95"):
            lo, hi = per["ci95"]
            s += (f" Across risk bands, the odds of meeting more targets after first contact were {per['odds_ratio']:.1f} "
                  f"times those before (95% CI {lo:.1f} to {hi:.1f}).")
            het = det["models"].get("interaction_wald", {}).get("p_value")
            if het is not None:
                s += (" The change differed between risk bands." if het < 0.05 else
                      " There is no clear evidence that the change differed between risk bands.")
        parts.append(s)
        flags += [f"{COHORT_LABELS[cohort]}: {f['message']}" for f in det.get("flags", [])
                  if f["code"] in ("no_patient_met_all_targets", "small_band", "empty_band")]
    if not parts:
        return "No clinical-targets results could be reported for this extract."
    text = " ".join(parts)
    text += (" These are before-and-after figures with no comparison group: they show how recorded targets "
             "changed while people were supported, not how much of that change social prescribing caused; and "
             "counting 'not measured' as 'not met' (the published method) mixes better control with more testing.")
    if flags:
        text += " Check before quoting: " + " ".join(dict.fromkeys(flags))
    return text
