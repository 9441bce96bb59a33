"""The event study: GP use quarter by quarter around the index referral.

Appointments per patient in each quarter -8..+4 around the index referral (quarter -1 = days
-91..-1, quarter +1 = days +1..+91; the referral day in none), as rate ratios against a
reference quarter (default -4, before the pre-referral rise). Conditional fixed-effects Poisson
(each patient is their own control; the patient effects absorb who uses the GP more), with log
days-in-extract as the exposure offset (a quarter partly outside the extract, or after death,
counts for the days it covers) and a patient-clustered sandwich covariance, which is robust to
overdispersion (Poisson quasi-likelihood is consistent for the mean whatever the variance). The
same model on the matched comparison patients (with the index date of the referred patient they
are matched to) shows what happens without referral. This *shows* the pre-referral peak; it does
not remove it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...config import GPSettings
from ..order import combine_codes
from ..poisson_fe import OneHot, poisson_fe
from ..stats import FitResult
from .counter import AppointmentCounter

EVENT_METHOD = ("conditional fixed-effects Poisson (patient effects), quarter indicators, log days in the "
                "extract as exposure offset, patient-clustered sandwich standard errors")


def event_quarters(window_days: int, q_lo: int, q_hi: int) -> list[tuple[int, int, int]]:
    """(quarter, first day, last day) relative to the index referral, the referral day in none."""
    return [(q, *((window_days * q, window_days * (q + 1) - 1) if q < 0 else (window_days * (q - 1) + 1, window_days * q)))
            for q in range(q_lo, q_hi + 1) if q != 0]


def event_matrices(units: pd.DataFrame, counter: AppointmentCounter, start: int, end: int, window_days: int,
                   q_lo: int, q_hi: int) -> tuple[list[int], np.ndarray, np.ndarray]:
    """The event quarters, and appointments and exposure (days inside the extract and before
    death) per unit (row of ``units``: patient_id, index_day, end_day, the last day of exposure)
    and quarter: two (units x quarters) arrays."""
    qs = event_quarters(window_days, q_lo, q_hi)
    d = units["index_day"].to_numpy(dtype=np.int64)
    last = np.minimum(units["end_day"].to_numpy(dtype=np.int64), end)
    y = counter.windows(counter.codes(units["patient_id"]), d, [(a, b) for _, a, b in qs], clip_lo=start,
                        clip_hi=last)
    expo = np.column_stack([np.maximum(np.minimum(d + b, last) - np.maximum(d + a, start) + 1, 0) for _, a, b in qs]) \
        if qs else np.zeros((len(units), 0), dtype=np.int64)
    return [q for q, _, _ in qs], y, expo


def event_panel(units: pd.DataFrame, counter: AppointmentCounter, start: int, end: int,
                window_days: int, q_lo: int, q_hi: int) -> pd.DataFrame:
    """The event study's data in long form: one row per unit (the row of ``units``) and quarter
    with exposure, quarter by quarter."""
    qs, y, expo = event_matrices(units, counter, start, end, window_days, q_lo, q_hi)
    has = expo.T.ravel() > 0
    return pd.DataFrame({"unit": np.tile(np.arange(len(units)), len(qs))[has],
                         "q": np.repeat(np.array(qs, dtype=np.int64), len(units))[has],
                         "y": y.T.ravel()[has], "exposure": expo.T.ravel()[has]})


def unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(a, axis=0, return_inverse=True)`` (inverse flattened) for a 2-D array of
    non-negative integers, without sorting the rows: NumPy sorts them as raw bytes, a slow
    comparison over millions of rows. Each row is numbered by combining its columns into one
    integer key (renumbered whenever the key could overflow) and hashing that; only the few
    distinct rows are then put in NumPy's order, so the result is NumPy's, exactly."""
    n = len(a)
    if n == 0 or a.shape[1] == 0 or a.min() < 0:
        patterns, inverse = np.unique(a, axis=0, return_inverse=True)
        return patterns, inverse.ravel()
    codes, uniques = pd.factorize(combine_codes([a[:, j] for j in range(a.shape[1])]))
    first = np.full(len(uniques), n, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(n, dtype=np.int64))
    patterns, order = np.unique(a[first], axis=0, return_inverse=True)
    return patterns, order.ravel()[codes]


def fit_event_study(qs: list[int], y: np.ndarray, expo: np.ndarray, reference: int) -> FitResult | None:
    """The conditional fixed-effects Poisson event study, fitted on exposure patterns.

    Units (patients) whose quarters have the same exposures have the same conditional
    probabilities for every coefficient value, so the likelihood, its gradient and its Hessian
    need only each pattern's summed appointments per quarter: the model is fitted on one
    pseudo-unit per pattern (thousands of rows instead of millions). The patient-clustered
    sandwich needs each patient's own score, y_g - n_g p; summed over a pattern's patients its
    outer products need only sum(y_g y_g'), sum(n_g y_g) and sum(n_g^2), which are kept, so the
    covariance is the patient-level one, exactly."""
    present = expo > 0
    if reference not in qs or not present[:, qs.index(reference)].any():
        return None
    n_g = y.sum(axis=1)
    ev = n_g > 0
    y_ev, n_ev = y[ev].astype(float), n_g[ev].astype(float)
    patterns, pid = unique_rows(expo[ev])
    n_pat, n_q = patterns.shape if len(patterns) else (0, len(qs))
    y_pat = np.column_stack([np.bincount(pid, weights=y_ev[:, j], minlength=n_pat) for j in range(n_q)]) \
        if n_pat else np.zeros((0, n_q))
    cols = [q for j, q in enumerate(qs) if q != reference and present[:, j].any()]
    col_of = {q: i for i, q in enumerate(cols)}
    code_q = np.array([col_of.get(q, -1) for q in qs], dtype=np.int64)
    rows_p, rows_j = np.nonzero(patterns > 0)
    if not len(rows_p):  # nobody with an appointment: the estimator reports it
        rows_p, rows_j = np.zeros(1, dtype=np.int64), np.array([qs.index(reference)])
        y_pat, patterns = np.zeros((1, n_q)), np.ones((1, n_q), dtype=np.int64)
    fit = poisson_fe(y_pat[rows_p, rows_j], OneHot(code_q[rows_j], [f"q{q}" for q in cols]), rows_p,
                     offset=np.log(patterns[rows_p, rows_j].astype(float)))
    if fit.params.empty:
        return fit
    names = list(fit.params.index)
    b = np.zeros(n_q)
    xmap = np.zeros((n_q, len(names)))
    for i, name in enumerate(names):
        j = qs.index(int(name[1:]))
        b[j] = fit.params[name]
        xmap[j, i] = 1.0
    w = np.where(patterns > 0, patterns * np.exp(b - b.max()), 0.0)
    p = w / w.sum(axis=1, keepdims=True)  # each pattern's probabilities over its quarters
    v = np.column_stack([np.bincount(pid, weights=n_ev * y_ev[:, j], minlength=n_pat) for j in range(n_q)])
    z = np.bincount(pid, weights=n_ev**2, minlength=n_pat)
    m = y_ev.T @ y_ev - v.T @ p - p.T @ v + p.T @ (p * z[:, None])
    c = int(ev.sum())
    factor = c / (c - 1) if c > 1 else float("nan")
    bread = fit.extra["bread"]
    cov = bread @ (xmap.T @ m @ xmap) @ bread * factor
    fit.cov = pd.DataFrame(cov, index=names, columns=names)
    fit.n_obs, fit.n_groups, fit.n_clusters = int(present[ev].sum()), c, c
    return fit


@dataclass
class EventStudyRaw:
    panel_summary: pd.DataFrame  # per quarter: n (patients with exposure), y, exposure
    fit: FitResult | None
    reference: int
    n_patients: int


def event_study(units: pd.DataFrame, counter: AppointmentCounter, start: int, end: int, cfg: GPSettings) -> EventStudyRaw:
    lo, hi = cfg.event_quarters
    qs, y, expo = event_matrices(units, counter, start, end, cfg.window_days, lo, hi)
    present = expo > 0
    summ = pd.DataFrame({"n": present.sum(axis=0), "y": np.where(present, y, 0).sum(axis=0),
                         "exposure": expo.sum(axis=0)}, index=pd.Index(qs, name="q"))
    summ = summ[summ["n"] > 0].reindex(qs, fill_value=0)
    fit = fit_event_study(qs, y, expo, cfg.reference_quarter)
    return EventStudyRaw(summ, fit, cfg.reference_quarter, int(present.any(axis=1).sum()))

