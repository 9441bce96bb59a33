"""The section's raw result: per cohort, the eligible patients with their targets met before and
after first contact, how they were selected (the flow), the paired test per risk band, the models
across bands and their proportional-odds check, and (with a ``deaths`` table) who died in the
after window. Patient-level, never published (see :mod:`.publication`).

**Deaths in the after window.** A patient who dies within the 12 months after first contact has
fewer (or no) chances to be measured, and the published method counts every target not measured
as not met. The contract's figures keep that rule (they must compare with the Merton evaluation);
the patients who died are counted (``died_after``: died on or after first contact and within the
window) and the main model is refitted without them as a sensitivity analysis
(``ordinal_survivors``). Without a ``deaths`` table neither can be done (``None``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...config import Settings, Target, load_settings
from ...extract import Extract
from ..stats import FitResult, TestResult, stuart_maxwell
from .method import BANDS, index_referrals, target_status, windowed_measurements
from .models import fit_main, fit_models, proportional_odds_check
from .proportional_odds import POCheck


@dataclass
class CohortRaw:
    name: str
    targets: list[Target]
    # one row per eligible patient: patient_id, risk_band, first_contact_date,
    # <target>_prior / <target>_after ("met" / "not_met" / "not_measured"), met_prior, met_after,
    # and with a deaths table died_after (died on or after first contact, within the window)
    patients: pd.DataFrame
    flow: dict[str, int]
    tests: dict[str, TestResult]
    ordinal: FitResult | None
    ordinal_interaction: FitResult | None
    any_target: FitResult | None
    reference_band: str | None = None
    po_check: POCheck | None = None
    died_after: int | None = None  # eligible patients who died in the after window (None: no deaths table)
    ordinal_survivors: FitResult | None = None  # the main model without them

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


def _band_tests(pts: pd.DataFrame, n_targets: int) -> dict[str, TestResult]:
    """Stuart–Maxwell test per band on the prior x after table of targets met."""
    k = n_targets + 1
    tests = {}
    for b in BANDS:
        bp = pts[pts["risk_band"] == b]
        tab = np.zeros((k, k))
        np.add.at(tab, (bp["met_prior"].to_numpy(dtype=int), bp["met_after"].to_numpy(dtype=int)), 1)
        tests[b] = stuart_maxwell(tab)
    return tests


def died_in_window(patients: pd.DataFrame, deaths: pd.DataFrame, window_days: int) -> pd.Series:
    """Whether each patient died on or after first contact and within ``window_days`` of it."""
    first = deaths.dropna(subset=["date_of_death"]).groupby("patient_id")["date_of_death"].min()
    dod = patients["patient_id"].map(first)
    days = (dod - patients["first_contact_date"]).dt.days
    return ((days >= 0) & (days <= window_days)).fillna(False).astype(bool)


def compute(extract: Extract, settings: Settings | None = None) -> TargetsRaw:
    cfg = (settings or load_settings()).targets
    W = int(cfg.window_days)
    end = extract.config.end
    idx = index_referrals(extract["referrals"])
    deaths = extract.tables.get("deaths")
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
        main, inter, anyt, ref = fit_models(pts)
        died, survivors = None, None
        if deaths is not None:
            gone = pts["died_after"] = died_in_window(pts, deaths, W)
            died = int(gone.sum())
            survivors = fit_main(pts[~gone]) if died else main
        cohorts[name] = CohortRaw(name, list(targets), pts, flow, _band_tests(pts, len(targets)), main, inter, anyt,
                                  ref, proportional_odds_check(pts), died, survivors)
    return TargetsRaw(cohorts, W, end, cfg.small_band_warning)
