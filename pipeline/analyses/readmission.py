"""Emergency readmission after a social-prescribing-supported hospital stay, with death as a
competing event: the contract's ``readmission`` section (data contract section 2, *Readmission*).

Definitions, exactly as the contract states them:

- **Index**: each patient's first ``sp_index`` spell by discharge date (ties: earlier admission,
  then file order). An elective spell is an index if ``sp_index`` is true. Only spells
  discharged on or before ``extract_end`` can be an index (a later discharge has no follow-up).
- **Event (cause 1)**: the patient's first *emergency* spell, other than the index spell,
  admitted on or after the index discharge date; ``t = admission - index discharge`` in days
  (a same-day readmission is ``t = 0``). Reading: a later spell that is itself flagged
  ``sp_index`` *is* an event when it is an emergency spell admitted on/after the index
  discharge (the contract says "other than the index spell", not "other than sp_index
  spells"). An emergency spell admitted *before* the index discharge date (overlapping or
  earlier) is not an event; elective and other spells are never events.
- **Competing event (cause 2)**: death with no earlier readmission, at
  ``t = date_of_death - index discharge``; a readmission on the day of death counts as the
  readmission. Without a ``deaths`` table death is *not modelled*: deaths are invisible, the
  cumulative incidence is then 1 - Kaplan–Meier, and ``death_90d_pct`` is null.
- Events after ``extract_end`` are ignored; follow-up is otherwise censored at ``extract_end``
  (``t = extract_end - index discharge``; events on the last day count).
- "Within N days" means ``t <= N - 1``; rates are Aalen–Johansen cumulative incidences
  (:mod:`pipeline.analyses.survival`); ``death_90d_pct`` is the cumulative incidence of death.

Patients whose recorded death precedes the index discharge date are inconsistent and are
excluded (counted in ``exclusions``).

Beyond the contract: the naive ``1 - KM`` (death treated as censoring) to show how it
overstates; a cause-specific Cox model of readmission on what the referral behind the index stay
recorded by time zero (age, deprivation, risk band: :func:`covariates`), with a
proportional-hazards check; and the comparison with the 30-day benchmark, which is a
spell-based, case-mix standardised national/ICB figure and so not like-for-like.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..config import Settings, load_settings
from ..disclosure import Release
from ..extract import Extract
from ..formatting import ci_text, fmt
from ..sections import Headline, Section
from ..survival import CI_METHOD, VARIANCE_METHOD, CompetingRisksFit, KaplanMeierFit, aalen_johansen, kaplan_meier
from .cox import CoxRaw, fit_cox
from .order import first_rows

READMIT, DEATH = 1, 2
CONTRACT_HORIZONS = (14, 30, 90)
AT_RISK_DAYS = (0, 14, 30, 60, 90)
CURVE_STEP_DAYS = 7

BENCHMARK_CAVEAT = (
    "The benchmark is an all-patient emergency readmission rate within 30 days of discharge: it "
    "counts spells, not people, and national/ICB figures are standardised for case mix. Patients "
    "referred to social prescribing are older and frailer than the average discharge, and here "
    "each person is counted once from one index stay with death as a competing event, so the "
    "comparison is indicative, not like-for-like."
)


@dataclass
class ReadmissionRaw:
    cohort: pd.DataFrame  # patient level, never published
    fit: CompetingRisksFit | None
    naive: KaplanMeierFit | None
    deaths_modelled: bool
    horizons: list[int]
    benchmark_pct: float | None
    benchmark_source: str | None
    extract_end: pd.Timestamp
    exclusions: dict[str, int]
    cox: CoxRaw
    notes: list[str] = field(default_factory=list)

    @property
    def n_index(self) -> int:
        return int(len(self.cohort))


# ---------------------------------------------------------------------------------- cohort
def build_cohort(spells: pd.DataFrame, deaths: pd.DataFrame | None,
                 extract_end: pd.Timestamp) -> tuple[pd.DataFrame, dict[str, int]]:
    """One row per index patient: ``time`` (days) and ``status`` (0 censored, 1 readmission,
    2 death), plus the dates behind them. Vectorised; see the module docstring for the rules."""
    end = pd.Timestamp(extract_end)
    sp = spells[["patient_id", "admission_date", "discharge_date", "admission_method", "sp_index"]].copy()
    sp["_row"] = np.arange(len(sp))
    flagged = sp["sp_index"].fillna(False).astype(bool)
    patients_flagged = sp.loc[flagged, "patient_id"].nunique()
    cand = sp[flagged & sp["discharge_date"].notna() & (sp["discharge_date"] <= end)]
    idx = (first_rows(cand, ["patient_id", "discharge_date", "admission_date", "_row"])
               .rename(columns={"_row": "index_row", "admission_date": "index_admission",
                                "discharge_date": "index_discharge", "admission_method": "index_method"})
               [["patient_id", "index_row", "index_admission", "index_discharge", "index_method"]])
    exclusions = {"index_discharged_after_extract_end": int(patients_flagged - len(idx))}

    em = sp.loc[sp["admission_method"] == "emergency", ["patient_id", "admission_date", "_row"]]
    em = em.merge(idx[["patient_id", "index_row", "index_discharge"]], on="patient_id", how="inner")
    em = em[(em["_row"] != em["index_row"]) & (em["admission_date"] >= em["index_discharge"])
            & (em["admission_date"] <= end)]
    first = em.groupby("patient_id", sort=False)["admission_date"].min().rename("readmission_date")
    co = idx.merge(first, left_on="patient_id", right_index=True, how="left")

    if deaths is not None:
        dd = deaths[["patient_id", "date_of_death"]].dropna(subset=["date_of_death"])
        dd = dd.sort_values("date_of_death", kind="mergesort").drop_duplicates("patient_id")
        co = co.merge(dd, on="patient_id", how="left")
        co.loc[co["date_of_death"] > end, "date_of_death"] = pd.NaT  # after the extract: ignored
        bad = co["date_of_death"] < co["index_discharge"]
        exclusions["death_before_index_discharge"] = int(bad.sum())
        co = co[~bad]
    else:
        co["date_of_death"] = pd.NaT

    t_r = (co["readmission_date"] - co["index_discharge"]).dt.days
    t_d = (co["date_of_death"] - co["index_discharge"]).dt.days
    t_c = (end - co["index_discharge"]).dt.days
    readmit = t_r.notna() & (t_d.isna() | (t_r <= t_d))
    died = ~readmit & t_d.notna()
    co["status"] = np.select([readmit, died], [READMIT, DEATH], 0).astype("int64")
    co["time"] = np.select([readmit, died], [t_r, t_d], t_c).astype("int64")
    co["follow_up_potential"] = t_c.astype("int64")
    return co.reset_index(drop=True), exclusions


# ---------------------------------------------------------------------------------- covariates
def index_referral(cohort: pd.DataFrame, referrals: pd.DataFrame) -> pd.DataFrame:
    """Per index patient, the referral behind the supported stay: the latest referral dated on or
    before the index discharge (time zero; ties: referral_id order). Its characteristics are known
    at time zero. A patient whose referrals all come later has none (no covariates)."""
    cols = [c for c in ("referral_id", "referral_date", *COVARIATES) if c in referrals]
    m = cohort[["patient_id", "index_discharge"]].merge(referrals[["patient_id", *cols]], on="patient_id")
    m = m[m["referral_date"] <= m["index_discharge"]]
    m = m.sort_values(["patient_id", "referral_date", "referral_id"], kind="mergesort")
    return m.drop_duplicates("patient_id", keep="last").drop(columns="index_discharge")


def covariates(cohort: pd.DataFrame, referrals: pd.DataFrame) -> pd.DataFrame:
    """The Cox model's design columns, one row per index patient, from :func:`index_referral`:
    characteristics at time zero only (age, deprivation, risk band). What the referral records
    later (its outcome, a health budget spent during support) is never adjusted for."""
    out = cohort[["patient_id"]].merge(index_referral(cohort, referrals), on="patient_id", how="left")
    cov = pd.DataFrame(index=cohort.index)
    if "age" in out:
        cov["age_per_10y"] = pd.to_numeric(out["age"], errors="coerce").astype("float64").to_numpy() / 10
    if "imd_decile" in out:
        dec = pd.to_numeric(out["imd_decile"], errors="coerce").astype("float64").to_numpy()
        cov["imd_quintile"] = np.ceil(dec / 2)
    if "risk_band" in out:
        cov["risk_band"] = out["risk_band"].astype("object").where(out["risk_band"].notna(), None).to_numpy()
    return cov


COVARIATES = ("age", "imd_decile", "risk_band")
COVARIATE_LABELS = {
    "age_per_10y": "Age (per 10 years)",
    "imd_quintile": "IMD quintile (per quintile, 1 = most deprived)",
}


# ---------------------------------------------------------------------------------- compute
def compute(extract: Extract, settings: Settings | None = None) -> ReadmissionRaw:
    settings = settings or load_settings()
    end = extract.config.end
    deaths = extract.tables.get("deaths")
    cohort, exclusions = build_cohort(extract["hospital_spells"], deaths, end)
    horizons = sorted(set(CONTRACT_HORIZONS) | set(settings.readmission.horizons_days))
    notes: list[str] = []
    if deaths is None:
        notes.append("This extract has no deaths table: death is not modelled as a competing event, "
                     "so people who died are treated as still at risk and the readmission rate is "
                     "1 - Kaplan-Meier; death_90d_pct is not available.")
    fit = naive = None
    if len(cohort):
        causes = (READMIT, DEATH) if deaths is not None else (READMIT,)
        fit = aalen_johansen(cohort["time"], cohort["status"], causes=causes)
        naive = kaplan_meier(cohort["time"], cohort["status"] == READMIT)
    if extract.config.readmission_benchmark_30d_pct is not None:
        bench, source = float(extract.config.readmission_benchmark_30d_pct), "extract.yml"
    elif settings.readmission.benchmark_30d_pct is not None:
        bench, source = float(settings.readmission.benchmark_30d_pct), "project default (config/defaults.yml)"
    else:
        bench, source = None, None
    cox = (fit_cox(covariates(cohort, extract["referrals"]), cohort["time"], cohort["status"] == READMIT)
           if len(cohort) else CoxRaw("not_run", reason="no index patients"))
    return ReadmissionRaw(cohort=cohort, fit=fit, naive=naive, deaths_modelled=deaths is not None,
                          horizons=horizons, benchmark_pct=bench, benchmark_source=source,
                          extract_end=end, exclusions=exclusions, cox=cox, notes=notes)


# ---------------------------------------------------------------------------------- publish
def _within(days: int) -> int:
    """"Within N days" means t <= N - 1."""
    return days - 1


def _publish_cox(cox: CoxRaw, rel: Release) -> dict:
    if cox.status != "ok":
        return {"status": "not_run", "reason": cox.reason, "dropped_covariates": dict(cox.dropped)}
    hrs, ph = {}, {}
    for c, r in cox.coefs.iterrows():
        base = min(int(r["n_with"]), int(r["n_without"]))
        ev = min(int(r["events_with"]), int(r["events_without"]))
        if not np.isfinite([r["hr"], r["lo"], r["hi"], r["p"]]).all():
            why = "no finite estimate (a group with no or only readmissions)"
            hrs[c] = {"hr": rel.not_estimable(why), "ci95": rel.not_estimable(why), "p_value": rel.not_estimable(why),
                      "not_estimable": why}
            continue
        hr = rel.estimate(r["hr"], base, events=ev, decimals=2)
        hrs[c] = {"hr": hr, "ci95": rel.interval(r["lo"], r["hi"], base, events=ev, decimals=2),
                  "p_value": rel.estimate(r["p"], base, events=ev, decimals=4)}
        if c in cox.ph.index:
            ph[c] = rel.derived(lambda _hr, p=float(cox.ph.loc[c, "p"]): round(p, 4), hr)
    return {
        "status": "ok",
        "model": "cause-specific Cox proportional hazards for readmission (deaths censored), Efron ties",
        "n": rel.count(cox.n),
        "events": rel.count(cox.events),
        "penalizer": rel.fact(cox.penalizer),
        "reference_levels": dict(cox.reference),
        "dropped_covariates": dict(cox.dropped),
        "hazard_ratios": hrs,
        "ph_test_p_value": ph,
        "ph_test": "lifelines proportional_hazard_test on Schoenfeld residuals against rank(time); "
                   "p < 0.05 suggests the hazard ratio changes over follow-up"
                   + (f" (on a fixed random sample of {cox.ph_n:,} people)" if cox.ph_n < cox.n else ""),
    }


def publish(raw: ReadmissionRaw, rel: Release) -> dict:
    """The contract's ``readmission`` section, plus extra keys. Every cumulative incidence, interval,
    event count and number at risk comes from one curve computed from rounded counts
    (:mod:`pipeline.disclosure.curves`), so the headline figures, the curve and the at-risk row agree
    and none can be back-solved to an exact count."""
    n = rel.cell(raw.n_index, "n_index")
    death_ok = raw.deaths_modelled
    causes = (READMIT, DEATH) if death_ok else (READMIT,)
    co = raw.cohort
    curve = rel.curve(co["time"].to_numpy(), co["status"].to_numpy(), causes, n,
                      follow_up=co["follow_up_potential"].to_numpy())
    h = list(raw.horizons)

    def by_horizon(fig) -> dict:
        return {f"{d}d": fig(_within(d)) for d in h}

    out: dict = {
        "n_index": rel.count(n),
        "cif_14d_pct": curve.cif(READMIT, _within(14)),
        "cif_30d_pct": curve.cif(READMIT, _within(30)),
        "cif_30d_ci95": curve.ci(READMIT, _within(30)),
        "cif_90d_pct": curve.cif(READMIT, _within(90)),
        "death_90d_pct": curve.cif(DEATH, _within(90)) if death_ok else None,
        "benchmark_30d_pct": rel.fact(raw.benchmark_pct) if raw.benchmark_pct is not None else None,
    }
    # ------------------------------------------------------------- extra keys
    out["deaths_modelled"] = death_ok
    out["method"] = {
        "estimator": "Aalen-Johansen cumulative incidence, death as competing event" if death_ok
        else "Aalen-Johansen with a single cause (= 1 - Kaplan-Meier); death not modelled",
        "variance": VARIANCE_METHOD, "ci": CI_METHOD + "; with no event yet, [0, exact one-sided 97.5% bound]",
        "rounding": curve.method,
        "within_n_days": "t <= N - 1 days from index discharge (same-day readmission is t = 0)",
        "censoring": f"extract_end {raw.extract_end:%Y-%m-%d}",
    }
    out["readmission_pct"] = by_horizon(lambda t: curve.cif(READMIT, t))
    out["readmission_ci95"] = by_horizon(lambda t: curve.ci(READMIT, t))
    if death_ok:
        out["death_pct"] = by_horizon(lambda t: curve.cif(DEATH, t))
        out["death_ci95"] = by_horizon(lambda t: curve.ci(DEATH, t))
    out["naive_1_minus_km_pct"] = by_horizon(curve.naive)
    out["events"] = {"readmission": by_horizon(lambda t: curve.events(READMIT, t))}
    if death_ok:
        out["events"]["death"] = by_horizon(lambda t: curve.events(DEATH, t))
    max_h = max(h)
    out["at_risk"] = {str(d): curve.at_risk(d) for d in sorted({d for d in AT_RISK_DAYS if d <= max_h} | set(h))}
    grid = sorted(set(range(CURVE_STEP_DAYS, max_h + 1, CURVE_STEP_DAYS)) | set(h))
    out["curve"] = {}
    for d in grid:
        t = _within(d)
        row = {"readmission_pct": curve.cif(READMIT, t), "readmission_ci95": curve.ci(READMIT, t)}
        if death_ok:
            row["death_pct"] = curve.cif(DEATH, t)
            row["death_ci95"] = curve.ci(DEATH, t)
        row["naive_1_minus_km_pct"] = curve.naive(t)
        out["curve"][str(d)] = row
    pot = raw.cohort["follow_up_potential"]
    out["median_potential_follow_up_days"] = rel.estimate(float(pot.median()) if len(pot) else None, n, decimals=0)
    out["exclusions"] = {k: rel.count(v) for k, v in raw.exclusions.items()}
    bench = out["benchmark_30d_pct"]
    out["benchmark"] = {
        "value_pct": bench,
        "source": raw.benchmark_source,
        "difference_pct_points": (rel.derived(lambda c, b: c - b, out["cif_30d_pct"], bench, decimals=1)
                                  if bench is not None else None),
        "benchmark_within_ci95": (rel.derived(lambda ci, b: bool(ci[0] <= b <= ci[1]), out["cif_30d_ci95"], bench)
                                  if bench is not None else None),
        "caveat": BENCHMARK_CAVEAT,
    }
    out["cox"] = _publish_cox(raw.cox, rel)
    out["notes"] = list(raw.notes)
    return out


def curve_table(rd: dict) -> pd.DataFrame:
    """The numbers the cumulative-incidence chart draws, from the published section: a row per day
    of the published curve or of the at-risk row under it, with the cumulative incidence of
    readmission (and of death, when modelled) within that many days and its 95% interval, the
    naive 1 - Kaplan-Meier, and the number still followed and event-free. ``None`` (``[c]``) where
    withheld; empty where the section publishes no such figure for the day."""
    causes = [("readmission", "Readmission")] + ([("death", "Death before readmission")] if rd["deaths_modelled"] else [])
    columns = ["Days after index discharge"]
    for _, label in causes:
        columns += [f"{label}: cumulative incidence (%)", f"{label}: 95% CI low (%)", f"{label}: 95% CI high (%)"]
    columns += ["Naive 1 - Kaplan-Meier (%)", "People at risk (rounded)"]
    rows = []
    for d in sorted({int(k) for k in rd["curve"]} | {int(k) for k in rd["at_risk"]}):
        point = rd["curve"].get(str(d))
        row: list = [d]
        for key, _ in causes:
            if point is None:
                row += ["", "", ""]
            else:
                row += [point.get(f"{key}_pct"), *(point.get(f"{key}_ci95") or (None, None))]
        row.append("" if point is None else point.get("naive_1_minus_km_pct"))
        row.append(rd["at_risk"].get(str(d), ""))
        rows.append(row)
    return pd.DataFrame(rows, columns=columns, dtype=object)


def reading(rd: dict) -> str:
    """A plain-English reading of the published section (published figures only)."""
    if rd["cif_30d_pct"] is None:
        return ("Too few people followed for long enough to publish a 30-day readmission rate after disclosure "
                "control (a rate needs at least 8 people still followed at 30 days, and it is computed from counts "
                "rounded to steps of 10 events).")
    parts = [f"Of about {fmt(rd['n_index'])} people whose hospital stay was supported by social prescribing, an "
             f"estimated {fmt(rd['cif_30d_pct'], 1)}% (95% CI {ci_text(rd['cif_30d_ci95'], 1, '%')}) had an emergency "
             f"readmission within 30 days and {fmt(rd['cif_14d_pct'], 1)}% within 14 days"]
    if rd["cif_90d_pct"] is not None:
        parts[0] += f"; {fmt(rd['cif_90d_pct'], 1)}% within 90 days"
    parts[0] += "."
    if rd["deaths_modelled"]:
        if rd["death_90d_pct"] is not None:
            parts.append(f"By 90 days {fmt(rd['death_90d_pct'], 1)}% had died without being readmitted; these deaths "
                         "are handled as a competing event, not as people still at risk.")
    else:
        parts.append("Deaths were not available in this extract, so people who died are counted as if they could "
                     "still have been readmitted, which overstates the rate.")
    b = rd["benchmark"]
    if b["value_pct"] is not None:
        parts.append(f"The published comparator for all emergency readmissions within 30 days is {b['value_pct']:.1f}%, "
                     "but it counts hospital spells across all patients and is standardised for case mix, so it is a "
                     "reference point, not a control group.")
    parts.append("There is no comparison group here, so these figures describe what happened to supported patients; "
                 "they cannot show how many readmissions the service prevented.")
    return " ".join(parts)


def headlines(rd: dict) -> list[Headline]:
    if rd["cif_30d_pct"] is None:
        return []
    bench = rd["benchmark_30d_pct"]
    ci = rd["cif_30d_ci95"]
    return [Headline("Emergency readmission within 30 days", fmt(rd["cif_30d_pct"], 1, "%"),
                     (f"95% CI {ci_text(ci, 1, '%')} " if ci else "") + f"of {fmt(rd['n_index'])} supported discharges"
                     + (f"; national benchmark {bench:.1f}% (spell-based, case-mix standardised: not like for like)"
                        if bench is not None else ""))]


SECTION = Section(
    name="readmission",
    title="Readmission after a supported hospital stay",
    notebook="70_readmission",
    order=70,
    required=("referrals", "hospital_spells"),
    optional=("deaths",),
    needs="This section needs the `referrals` and `hospital_spells` tables (and, to treat death as a competing "
          "event, `deaths`).",
    contract=True,
    compute=lambda inputs: compute(inputs.whole, inputs.settings),
    publish=publish,
    reading=reading,
    headlines=headlines,
)
