"""The GP analysis from an extract to its raw (patient-level, never published) result: the published
method, the event study and, when the extract has comparison patients, the matched comparison."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...config import GPSettings, Settings, load_settings
from ...extract import Extract
from ..stats import FitResult
from .balance import balance
from .counter import AppointmentCounter, day_numbers
from .did import DidRaw, did_panel, died_in_after_window, fit_did, fit_did_nb, group_sums
from .event_study import EventStudyRaw, event_study
from .matching import MatchRaw, match
from .patients import COMPARISON, death_days, extract_days, index_referrals
from .trends import placebo_did, pre_trends
from .variance import variance_patients, variance_table


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
    deaths_known: bool = False  # the extract has a deaths table


def matched_did(extract: Extract, settings: Settings | None = None) -> tuple[MatchRaw, pd.DataFrame, FitResult | None]:
    """Only the matched difference in differences (for simulations): the match, the patient-level
    panel and the fitted model."""
    cfg = (settings or load_settings()).gp_appointments
    start, end = extract_days(extract)
    counter = AppointmentCounter(extract["gp_appointments"])
    m = match(index_referrals(extract["referrals"]), extract[COMPARISON], counter, extract, start, end, cfg)
    panel = did_panel(m.units, counter, start, end, tuple(cfg.baseline_window_days), tuple(cfg.after_window_days))
    return m, panel, fit_did(panel)


def compute(extract: Extract, settings: Settings | None = None) -> GPRaw:
    """Everything the section publishes, from the whole extract (the windows reach back and
    forward from each referral, so this outcome section ignores a reporting period)."""
    settings = settings or load_settings()
    cfg = settings.gp_appointments
    start, end = extract_days(extract)
    deaths_known = "deaths" in extract.tables
    counter = AppointmentCounter(extract["gp_appointments"])
    idx = index_referrals(extract["referrals"])
    death = death_days(extract, idx["patient_id"])
    per_patient = variance_patients(idx, counter, start, end, cfg.window_days, list(cfg.quarters),
                                    death if deaths_known else None)
    table = variance_table(per_patient)
    units = pd.DataFrame({"patient_id": idx["patient_id"].to_numpy(), "index_day": day_numbers(idx["referral_date"]),
                          "end_day": np.minimum(death, end)})
    ev = event_study(units, counter, start, end, cfg)
    did, reason = None, None
    if COMPARISON not in extract.tables:
        reason = "this extract has no `comparison_patients` table"
    else:
        m = match(idx, extract[COMPARISON], counter, extract, start, end, cfg)
        if m.n_referred_matched == 0:
            reason = "no referred patient could be matched to a comparison patient"
        else:
            did = matched_comparison(m, counter, extract, start, end, cfg)
    return GPRaw(per_patient, table, ev, did, reason, cfg, int(len(idx)), extract.config.start, extract.config.end,
                 deaths_known)


def matched_comparison(m: MatchRaw, counter: AppointmentCounter, extract: Extract, start: int, end: int,
                       cfg: GPSettings) -> DidRaw:
    """The matched difference in differences, its sensitivity analyses and checks, on a match."""
    before, after = tuple(cfg.baseline_window_days), tuple(cfg.after_window_days)
    # each patient-level panel is let go once fitted (millions of rows at national scale)
    panel = did_panel(m.units, counter, start, end, before, after)
    fit, nb, rates = fit_did(panel), fit_did_nb(panel), group_sums(panel)
    del panel
    peak = fit_did(did_panel(m.units, counter, start, end, (before[0], -1), after))
    comp_units = m.units[m.units["treated"] == 0][["patient_id", "index_day", "end_day"]]
    died = (died_in_after_window(m.units, death_days(extract, m.units["patient_id"]), after, end)
            if "deaths" in extract.tables else None)
    return DidRaw(m, fit, nb, rates, peak, balance(m.units),
                  event_study(comp_units.reset_index(drop=True), counter, start, end, cfg), before, after,
                  placebo=placebo_did(m.units, counter, start, end, before),
                  pre_trends=pre_trends(m.units, counter, start, end, cfg), died=died)
