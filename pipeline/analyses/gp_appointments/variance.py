"""The published method: the Merton evaluation's "% activity variance" by financial-year cohort
(data contract section 2, *GP appointment variance*), exactly.

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
  before). The published figure is computed from the *rounded* totals that are published beside
  it (so it cannot be back-solved to the exact totals); a cohort with no appointments before has
  no variance (not estimable).
- Beyond the published method, a 95% CI: the delta method for the log ratio of sums with
  patient-level influence terms (it allows for differences between patients), its standard
  error from the exact patient-level data, centred on the published (rounded) ratio.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats import Z95
from .counter import AppointmentCounter, day_numbers


def quarter_label(k: int) -> str:
    """The published window's label: k quarters = 3k months (``3m`` .. ``12m``)."""
    return f"{3 * k}m"


def variance_patients(idx: pd.DataFrame, counter: AppointmentCounter, start: int, end: int,
                      window_days: int, quarters: list[int], death_day: np.ndarray | None = None) -> pd.DataFrame:
    """One row per index patient and k: ``inside`` (both windows inside the extract), before and
    after counts (the published method), and ``died``: whether the patient died in the after
    window (``death_day``: day numbers, far in the future when none is recorded). The published
    method counts such a patient with the appointments they had before they died."""
    d = day_numbers(idx["referral_date"])
    death = np.full(len(d), np.iinfo(np.int64).max) if death_day is None else np.asarray(death_day)
    windows = [w for k in quarters for w in ((-window_days * k, -1), (1, window_days * k))]
    counts = counter.windows(counter.codes(idx["patient_id"]), d, windows)
    rows = []
    for i, k in enumerate(quarters):
        w = window_days * k
        inside = (d - w >= start) & (d + w <= end)
        rows.append(pd.DataFrame({"patient_id": idx["patient_id"].to_numpy(), "cohort": idx["cohort"].to_numpy(),
                                  "k": k, "inside": inside, "before": counts[:, 2 * i],
                                  "after": counts[:, 2 * i + 1], "died": (death >= d + 1) & (death <= d + w)}))
    return pd.concat(rows, ignore_index=True)


def variance_table(per_patient: pd.DataFrame) -> pd.DataFrame:
    """Per cohort and k: patients counted (``died`` of them in the after window), total appointments
    before and after, the variance
    (ratio of sums, %, from the exact totals), and ``se_log``, the standard error of the log
    ratio of sums that allows for differences between patients (delta method with patient-level
    influence terms a_i/A - b_i/B, small-sample factor n/(n - 1); an extra beyond the published
    method), with the 95% CI it gives around the exact ratio. Published figures are computed
    from the rounded totals instead (:mod:`.publish`)."""
    p = per_patient[per_patient["inside"]]
    keys = ["cohort", "k"]
    if "died" not in p:
        p = p.assign(died=False)
    t = p.groupby(keys).agg(n=("patient_id", "size"), before=("before", "sum"), after=("after", "sum"),
                            died=("died", "sum"))
    q = p.join(t[["before", "after"]].rename(columns={"before": "B", "after": "A"}), on=keys)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = q.assign(infl2=(q["after"] / q["A"] - q["before"] / q["B"]) ** 2)
    t["var_log"] = q.groupby(keys)["infl2"].sum() * t["n"] / (t["n"] - 1).where(t["n"] > 1)
    cohorts = sorted(per_patient["cohort"].unique())
    ks = sorted(per_patient["k"].unique())
    t = t.reindex(pd.MultiIndex.from_product([cohorts, ks], names=keys))
    t[["n", "before", "after", "died"]] = t[["n", "before", "after", "died"]].fillna(0).astype(int)
    ok = (t["before"] > 0) & (t["after"] > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = t["after"] / t["before"]
        t["variance_pct"] = np.where(t["before"] > 0, (ratio - 1) * 100, np.nan)
        t["se_log"] = np.where(ok, np.sqrt(t["var_log"].astype(float)), np.nan)
        half = Z95 * t["se_log"]
        t["ci_lo"] = np.where(ok, (ratio * np.exp(-half) - 1) * 100, np.nan)
        t["ci_hi"] = np.where(ok, (ratio * np.exp(half) - 1) * 100, np.nan)
    return t.drop(columns="var_log").reset_index()

