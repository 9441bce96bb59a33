"""The published method of the clinical-targets section, exactly as the data contract states it
(section 2, *Clinical targets by risk band*): the index referral, the windows around first
contact, and whether each target is met, not met or not measured in each window."""

from __future__ import annotations

import operator

import numpy as np
import pandas as pd

from ...config import Target
from ..order import first_rows

COHORTS = ("diabetes", "severe_mental_illness")
BANDS = ("very_high", "high", "medium", "low")
BAND_LABELS = {"very_high": "1 - Very high risk", "high": "2 - High risk", "medium": "3 - Medium risk",
               "low": "4 - Low risk"}
COHORT_LABELS = {"diabetes": "Diabetes", "severe_mental_illness": "Severe mental illness"}
WINDOWS = ("prior", "after")
STATUSES = ("met", "not_met", "not_measured")
DEFAULT_N_TARGETS = {"diabetes": 3, "severe_mental_illness": 4}  # the contract's keys "0".."3" / "0".."4"

OPS = {"<": operator.lt, "<=": operator.le, "==": operator.eq, ">=": operator.ge, ">": operator.gt}


def describe(t: Target) -> str:
    """A target in words, e.g. ``hba1c <= 58`` or ``blood pressure <= 140/80 (same-day pair)``."""
    if t.kind == "blood_pressure":
        return f"blood pressure <= {t.systolic_max:g}/{t.diastolic_max:g} (same-day pair)"
    return f"{t.measure} {t.op} {t.value:g}"


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
