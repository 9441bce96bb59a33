"""Who the GP analysis is about: each referred patient's index referral, the days of the extract,
and when a patient died."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...extract import Extract
from ..inputs import financial_year
from ..order import REFERRAL_ORDER, first_rows
from .counter import DAY_KEY, day_numbers

COMPARISON = "comparison_patients"
NO_DEATH = DAY_KEY - 1  # the day of death of a patient with none recorded: after every other day

_INDEX_COLUMNS = ("referral_id", "patient_id", "referral_date", "practice_code", "age", "gender", "risk_band",
                  "imd_decile", "diabetes", "severe_mental_illness")


def index_referrals(referrals: pd.DataFrame) -> pd.DataFrame:
    """Each patient's earliest referral (ties: referral_id), with its financial-year cohort."""
    r = referrals[[c for c in _INDEX_COLUMNS if c in referrals]]  # only what the analysis uses
    r = first_rows(r, REFERRAL_ORDER).reset_index(drop=True)
    r["cohort"] = financial_year(r["referral_date"])
    return r


def death_days(extract: Extract, patient_ids) -> np.ndarray:
    """Day number of death for each patient, or a far-future day when none is recorded."""
    far = np.full(len(patient_ids), NO_DEATH, dtype=np.int64)
    if "deaths" not in extract.tables:
        return far
    d = extract["deaths"].dropna(subset=["date_of_death"]).drop_duplicates("patient_id")
    s = pd.Series(day_numbers(d["date_of_death"]), index=d["patient_id"].astype(str).to_numpy())
    v = pd.Series(patient_ids).astype(str).map(s)
    return np.where(v.isna(), far, v.fillna(0).to_numpy(dtype=np.int64))



def extract_days(extract: Extract) -> tuple[int, int]:
    """The first and last day of the extract as day numbers."""
    return int(day_numbers([extract.config.start])[0]), int(day_numbers([extract.config.end])[0])
