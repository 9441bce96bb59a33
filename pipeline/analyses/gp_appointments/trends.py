"""Checks of the matched difference in differences' parallel-trends assumption: that, without
referral, referred and matched comparison patients' GP use would have changed in the same
proportion.

- **Placebo DiD**: the same model on the baseline window alone, its earlier half as "before"
  and its later half as "after" (no referral in between): a rate ratio near 1 means the groups'
  GP use moved together before referral.
- **Joint Wald tests of the pre-referral event-study differences**: one conditional
  fixed-effects Poisson on the matched patients' pre-referral quarters with a quarter effect for
  each group (referred, comparison; each against the reference quarter; comparison patients
  weighted 1/number matched; sandwich clustered by matched set, so the two groups' estimates
  are correlated as the matching makes them). The differences referred - comparison are tested
  jointly against 0, (a) over the quarters that end by the end of the DiD's "before" window and
  do not touch the matching window, which is what parallel trends needs, and (b) over every
  pre-referral quarter. (b) also takes in the rise in the months just before referral, which the
  DiD's "before" window is chosen to avoid, and the matching window, where the groups' counts
  differ by construction: comparison patients are *chosen* for counts like the referred
  patients' there, which are high for their own underlying rate (the regression to the mean the
  matching window is kept apart from the outcome windows to avoid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...config import GPSettings
from ..poisson_fe import OneHot, poisson_fe
from ..stats import FitResult, wald
from .counter import AppointmentCounter
from .did import did_panel, fit_did
from .event_study import event_matrices, event_quarters

PLACEBO_METHOD = ("the main model on the baseline window only: its earlier half as 'before', its later half as "
                  "'after' (no referral in between)")
PRE_TREND_METHOD = ("conditional fixed-effects Poisson on the matched patients' pre-referral quarters, a quarter "
                    "effect for each group against the reference quarter, comparison patients weighted 1/number "
                    "matched, sandwich clustered by matched set; joint Wald test that every referred - comparison "
                    "difference is 0")


def placebo_windows(before: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """The baseline window split in two: (earlier half, later half)."""
    b0, b1 = before
    mid = b0 + (b1 - b0 + 1) // 2
    return (b0, mid - 1), (mid, b1)


def placebo_did(units: pd.DataFrame, counter: AppointmentCounter, start: int, end: int,
                before: tuple[int, int]) -> FitResult | None:
    """The DiD model with the earlier half of the baseline window as "before" and the later half
    as "after"."""
    early, late = placebo_windows(before)
    return fit_did(did_panel(units, counter, start, end, early, late))


@dataclass
class WaldTest:
    quarters: list[int]  # the pre-referral quarters whose differences were tested
    chi2: float
    df: int
    p: float


@dataclass
class PreTrends:
    fit: FitResult | None
    clean: WaldTest | None  # quarters ending by the end of the DiD's "before" window, apart from the matching window
    all_pre_referral: WaldTest | None


def _test(fit: FitResult, quarters: list[int]) -> WaldTest | None:
    pairs = [q for q in quarters if f"referred:q{q}" in fit.params.index and f"comparison:q{q}" in fit.params.index]
    if not pairs:
        return None
    names = list(fit.params.index)
    contrast = np.zeros((len(pairs), len(names)))
    for i, q in enumerate(pairs):
        contrast[i, names.index(f"referred:q{q}")] = 1.0
        contrast[i, names.index(f"comparison:q{q}")] = -1.0
    diff = contrast @ fit.params.to_numpy()
    cov = contrast @ fit.cov.to_numpy() @ contrast.T
    chi2, df, p = wald(diff, cov)
    return WaldTest(pairs, chi2, df, p) if df else None


def pre_trends(units: pd.DataFrame, counter: AppointmentCounter, start: int, end: int,
               cfg: GPSettings) -> PreTrends:
    """The joint model of the matched patients' pre-referral quarters and its two Wald tests."""
    lo = cfg.event_quarters[0]
    qs, y, expo = event_matrices(units, counter, start, end, cfg.window_days, lo, -1)
    ref = cfg.reference_quarter
    if ref not in qs:  # a reference quarter after referral: nothing before it to test against
        return PreTrends(None, None, None)
    others = [q for q in qs if q != ref]
    col = {q: i for i, q in enumerate(others)}
    treated = units["treated"].to_numpy(dtype=np.int64)
    n_units, n_q = expo.shape
    has = expo.T.ravel() > 0  # quarter-major long form: row j * n_units + unit
    unit = np.tile(np.arange(n_units), n_q)[has]
    q_of = np.repeat(np.array(qs, dtype=np.int64), n_units)[has]
    code_q = np.array([col.get(int(q), -1) for q in qs], dtype=np.int64)[np.searchsorted(qs, q_of)]
    codes = np.where(code_q < 0, -1, code_q + treated[unit] * len(others))
    names = [f"comparison:q{q}" for q in others] + [f"referred:q{q}" for q in others]
    set_code = pd.factorize(units["set_id"].to_numpy(dtype=object))[0]
    fit = poisson_fe(y.T.ravel()[has], OneHot(codes, names), unit, offset=np.log(expo.T.ravel()[has].astype(float)),
                     clusters=set_code[unit], weights=units["weight"].to_numpy(dtype=float)[unit])
    if not fit.ok:
        return PreTrends(fit, None, None)
    return PreTrends(fit, _test(fit, clean_quarters(cfg)), _test(fit, others))


def clean_quarters(cfg: GPSettings) -> list[int]:
    """The pre-referral quarters (not the reference) that end by the end of the DiD's "before"
    window and share no day with the matching window."""
    m0, m1 = cfg.match_window_days
    b1 = cfg.baseline_window_days[1]
    out = []
    for q, first, last in event_quarters(cfg.window_days, cfg.event_quarters[0], -1):
        if q != cfg.reference_quarter and last <= b1 and (last < m0 or first > m1):
            out.append(q)
    return out
