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
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..config import GPSettings, Settings, load_settings
from ..disclosure import SDC, fmt
from ..extract import Extract
from .estimable import EstimableSDC
from .inputs import financial_year
from .order import REFERRAL_ORDER, combine_codes, first_rows
from .stats import Z95, FitResult, OneHot, poisson_fe

SECTION = "gp_appointments"
REQUIRED = ("referrals", "gp_appointments")
COMPARISON = "comparison_patients"
BANDS = ("very_high", "high", "medium", "low")
_BIG = 1_000_000  # day numbers (days since 1970) are far below this
_NAT = np.iinfo(np.int64).min  # a missing date as a day number

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
    """Dates (datetime64 / Timestamps) as whole days since 1970-01-01 (int64); a missing date is
    ``_NAT``."""
    s = dates if isinstance(dates, pd.Series) else pd.Series(dates)
    if not (isinstance(s.dtype, np.dtype) and s.dtype.kind == "M"):  # already dates: no parsing pass
        s = pd.to_datetime(s)
    return s.to_numpy().astype("datetime64[D]").view(np.int64)


def quarter_label(k: int) -> str:
    return f"{3 * k}m"


class AppointmentCounter:
    """A patient's appointments between two days (inclusive), vectorised.

    The appointments are held once, patient by patient (``_ptr[c]:_ptr[c + 1]`` are patient
    ``c``'s), as sorted day offsets from the earliest day in the smallest integer type that
    holds them (two bytes a row for any extract under 179 years: 100 MB for 50 million
    appointments). Counting walks each asked-about patient's own appointments (about twenty), so
    many windows around one index day per patient (:meth:`windows`) are one pass, not a search
    per window. Rows without a patient or a date are ignored.
    """

    def __init__(self, appointments: pd.DataFrame):
        codes, uniques = _factorize_runs(appointments["patient_id"].to_numpy(dtype=object))  # -1: missing
        keys = day_numbers(appointments["appointment_date"])  # becomes the keys, in place
        ok = (codes >= 0) & (keys != _NAT)
        self._day0 = int(keys[ok].min()) if ok.any() else 0
        span = int(keys[ok].max()) - self._day0 + 1 if ok.any() else 1
        if span >= _BIG:
            raise ValueError(f"appointment dates span {span:,} days; at most {_BIG - 1:,} are supported")
        # key = patient code x 1e6 + day offset: sorted, the appointments patient by patient
        for a in range(0, len(keys), 1 << 22):  # in slices: no second 8-byte copy of the table
            b = a + (1 << 22)
            keys[a:b] += codes[a:b].astype(np.int64) * _BIG - self._day0
        del codes
        keys = keys[ok] if not ok.all() else keys
        # codes follow first appearance, so an extract in patient and date order is sorted already
        # and the stable sort (timsort) is one linear pass
        keys.sort(kind="stable")
        self._ptr = np.searchsorted(keys, np.arange(len(uniques) + 1, dtype=np.int64) * _BIG)
        keys %= _BIG
        dtype = np.int16 if span <= np.iinfo(np.int16).max else np.int32
        self._days = keys.astype(dtype)
        u = np.asarray(uniques, dtype=object)
        if len(u) and pd.api.types.infer_dtype(u, skipna=False) != "string":  # the contract makes ids text
            u = np.array([str(x) for x in u], dtype=object)  # anything else as text
        self._index = pd.Index(u, dtype=object)  # the extract's own strings, not copies
        self._recent: list[tuple[np.ndarray, np.ndarray]] = []  # (ids, codes) last asked about

    def codes(self, patient_ids) -> np.ndarray:
        """Each patient's code (-1: no appointments).

        The analysis asks about the same patients several times (the matched units for their
        matching count, baseline, DiD panel and event study): the last few answers are kept and
        reused when the ids are the same, which comparing the ids (mostly the very same string
        objects) tells far faster than hashing a million of them into the index again."""
        ids = np.asarray(patient_ids.to_numpy() if isinstance(patient_ids, pd.Series) else patient_ids, dtype=object)
        for old, codes in self._recent:
            if len(old) == len(ids) and np.array_equal(old, ids):
                return codes.copy()
        codes = self._index.get_indexer(pd.Index(pd.Series(ids).astype(str)))
        self._recent = [(ids.copy(), codes), *self._recent[:2]]  # a copy: the caller may change its own
        return codes.copy()

    def count(self, patient_ids, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Appointments of each patient on days lo..hi (day numbers; empty when hi < lo)."""
        code = self.codes(patient_ids)
        out = np.zeros(len(code), dtype=np.int64)
        for first, last, row, _ in self.days_of(code, lo, hi):
            out[first:last] += np.bincount(row - first, minlength=last - first)
        return out

    def days_of(self, code: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                chunk: int = 4_000_000) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        """``(first, last, row, day)``: every appointment of patient ``code[row]`` on days
        ``lo[row]..hi[row]`` (day numbers), in chunks of about ``chunk`` of the patients'
        appointments, each covering the rows ``first..last - 1`` (rows in order)."""
        code = np.asarray(code)
        has = code >= 0
        c = np.where(has, code, 0)
        s = np.where(has, self._ptr[c], 0)
        n = np.where(has, self._ptr[c + 1] - s, 0)
        lo = np.asarray(lo, dtype=np.int64) - self._day0
        hi = np.asarray(hi, dtype=np.int64) - self._day0
        lo = np.broadcast_to(lo, code.shape)
        hi = np.broadcast_to(hi, code.shape)
        ends = np.cumsum(n)
        first = 0
        while first < len(n):
            last = max(int(np.searchsorted(ends, (ends[first - 1] if first else 0) + chunk, side="right")), first + 1)
            m = n[first:last]
            tot = int(m.sum())
            row = np.repeat(np.arange(first, last), m)
            pos = np.arange(tot, dtype=np.int64) - np.repeat(np.cumsum(m) - m, m) + np.repeat(s[first:last], m)
            day = self._days[pos].astype(np.int64)
            keep = (day >= lo[row]) & (day <= hi[row])
            yield first, last, row[keep], day[keep] + self._day0
            first = last

    def windows(self, code: np.ndarray, index_day: np.ndarray, windows: list[tuple[int, int]],
                clip_lo: np.ndarray | int | None = None, clip_hi: np.ndarray | int | None = None) -> np.ndarray:
        """Appointments of each patient (``code``) in each window of days ``index_day + a .. index_day
        + b`` (inclusive) for ``(a, b)`` in ``windows``, counting only days ``clip_lo..clip_hi`` (per
        patient or one for all; default no limit): an (n patients x n windows) array. One pass over
        the patients' appointments: each is placed between the windows' edges, and a window's
        count is a difference of cumulative counts."""
        code = np.asarray(code)
        d = np.asarray(index_day, dtype=np.int64)
        n = len(code)
        out = np.zeros((n, len(windows)), dtype=np.int64)
        if n == 0 or not windows:
            return out
        edges = np.unique(np.array([x for a, b in windows for x in (a, b + 1)], dtype=np.int64))
        lo = d + edges[0]
        hi = d + edges[-1] - 1
        if clip_lo is not None:
            lo = np.maximum(lo, clip_lo)
        if clip_hi is not None:
            hi = np.minimum(hi, clip_hi)
        nb = len(edges)  # bucket j: edges[j] <= day - index_day < edges[j + 1]
        counts = np.zeros(n * nb, dtype=np.int32)  # appointments per patient and bucket
        for first, last, row, day in self.days_of(code, lo, hi):
            b = np.searchsorted(edges, day - d[row], side="right") - 1
            counts[first * nb:last * nb] += np.bincount((row - first) * nb + b, minlength=(last - first) * nb)
        cum = np.zeros((n, nb + 1), dtype=np.int32)
        np.cumsum(counts.reshape(n, nb), axis=1, out=cum[:, 1:])  # cum[:, j]: days before edges[j]
        for w, (a, b) in enumerate(windows):
            out[:, w] = cum[:, np.searchsorted(edges, b + 1)] - cum[:, np.searchsorted(edges, a)]
        return out


def _factorize_runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` (codes by first appearance, -1 for missing) that hashes each run of
    repeated values once: a GP table is usually in patient order, and hashing 50 million ids
    into a table of millions is slow (a cache miss each) where comparing neighbours is not."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.array([], dtype=object)
    try:
        starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    except TypeError:  # a value that does not compare (pd.NA)
        return pd.factorize(values)
    # a missing value starts a run or repeats the one before it (None == None), so any missing
    # value is among the runs' first values: only those need checking (not 50 million rows)
    if len(starts) > n // 4 or pd.isna(values[starts]).any():  # not in runs, or missing ids
        return pd.factorize(values)
    codes, uniques = pd.factorize(values[starts])
    return np.repeat(codes.astype(np.int32) if len(uniques) < 2**31 else codes, np.diff(np.r_[starts, n])), uniques


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
    windows = [w for k in quarters for w in ((-window_days * k, -1), (1, window_days * k))]
    counts = counter.windows(counter.codes(idx["patient_id"]), d, windows)
    rows = []
    for i, k in enumerate(quarters):
        w = window_days * k
        inside = (d - w >= start) & (d + w <= end)
        rows.append(pd.DataFrame({"patient_id": idx["patient_id"].to_numpy(), "cohort": idx["cohort"].to_numpy(),
                                  "k": k, "inside": inside, "before": counts[:, 2 * i],
                                  "after": counts[:, 2 * i + 1]}))
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


# ---------------------------------------------------------------------------------- matching
def _band(values: pd.Series, edges: list[int]) -> np.ndarray:
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    out = np.searchsorted(np.asarray(edges, dtype=float), v, side="right") - 1
    return np.where(np.isnan(v), -1, out)


def _key_codes(ref: pd.DataFrame, pool: pd.DataFrame, age_edges: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The matching key of each referred and each comparison patient as an integer: equal exactly
    when practice, age band, gender and risk band are (missing gender or risk band is "unknown"),
    without building a string per patient."""
    both = pd.concat([ref[["practice_code", "age", "gender", "risk_band"]],
                      pool[["practice_code", "age", "gender", "risk_band"]]], ignore_index=True)
    parts = [pd.factorize(both["practice_code"].astype(str))[0],
             pd.factorize(_band(both["age"], age_edges))[0],
             pd.factorize(both["gender"].astype("object").where(both["gender"].notna(), "unknown").astype(str))[0],
             pd.factorize(both["risk_band"].astype("object").where(both["risk_band"].notna(), "unknown").astype(str))[0]]
    key = combine_codes(parts)
    return key[:len(ref)], key[len(ref):]


@dataclass
class MatchRaw:
    units: pd.DataFrame  # patient_id, treated, set_id, index_day, end_day, weight + covariates
    n_referred_eligible: int
    n_referred_matched: int
    n_comparison_pool: int
    n_comparison_matched: int
    excluded: dict[str, int] = field(default_factory=dict)


_PAIR_CHUNK = 1_000_000  # (referred, comparison) pairs examined at once
_CUM_CELLS = 4_000_000  # comparison patients x days of cumulative appointment counts held at once


def _key_groups(r_cnt: np.ndarray, p_cnt: np.ndarray, days: int) -> list[tuple[int, int]]:
    """Runs of consecutive matching keys ``[k0, k1)`` small enough to handle at once: at most
    ``_PAIR_CHUNK`` pairs and ``_CUM_CELLS`` cells of cumulative counts (a key above either
    limit on its own is a run of its own; its pairs are then taken a few referred patients at a
    time)."""
    out: list[tuple[int, int]] = []
    k0, pairs, cells = 0, 0, 0
    for k in range(len(r_cnt)):
        kp, kc = int(r_cnt[k]) * int(p_cnt[k]), int(p_cnt[k]) * days
        if k > k0 and (pairs + kp > _PAIR_CHUNK or cells + kc > _CUM_CELLS):
            out.append((k0, k))
            k0, pairs, cells = k, 0, 0
        pairs += kp
        cells += kc
    if len(r_cnt):
        out.append((k0, len(r_cnt)))
    return out


class _Candidates:
    """The matching's candidate pairs, key by key, never all at once.

    A referred patient's candidates are the comparison patients with the same key (practice, age
    band, gender, risk band), alive on the index day, whose appointments in the matching window
    *around that referred patient's index day* fall in the same use band. Pairs are formed for a
    run of keys at a time; each comparison patient's appointments in the run's span of days are
    turned into cumulative counts once, so a pair's count is two look-ups. Referred patients come
    in ``ref`` row order within a key and comparison patients in ``pool`` row order, as a merge
    on the key orders them."""

    def __init__(self, ref: pd.DataFrame, pool: pd.DataFrame, counter: AppointmentCounter,
                 window: tuple[int, int], bins: np.ndarray):
        kc, _ = pd.factorize(np.r_[ref["key"].to_numpy(), pool["key"].to_numpy()])
        self.r_key, p_key = kc[:len(ref)], kc[len(ref):]
        n_keys = int(kc.max()) + 1 if len(kc) else 0
        self.r_ord = np.argsort(self.r_key, kind="stable")
        self.p_ord = np.argsort(p_key, kind="stable")
        self.r_cnt = np.bincount(self.r_key, minlength=n_keys)
        self.p_cnt = np.bincount(p_key, minlength=n_keys)
        self.r_ptr = np.r_[0, np.cumsum(self.r_cnt)]
        self.p_ptr = np.r_[0, np.cumsum(self.p_cnt)]
        self.index_day = ref["index_day"].to_numpy(dtype=np.int64)
        self.match_n = ref["match_n"].to_numpy(dtype=np.int64)
        self.r_bin = np.searchsorted(bins, self.match_n, side="right")
        self.p_code = counter.codes(pool["patient_id"])
        self.p_death = pool["death_day"].to_numpy(dtype=np.int64)
        self.counter, self.window, self.bins = counter, window, bins
        span = int(self.index_day.max() - self.index_day.min()) if len(ref) else 0
        self.groups = _key_groups(self.r_cnt, self.p_cnt, span + window[1] - window[0] + 2)

    def pairs(self, k0: int, k1: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """For keys ``k0..k1 - 1``: ``(ref row, pool row, comparison's count in the matching
        window)`` of each candidate pair, referred patient by referred patient."""
        refs = self.r_ord[self.r_ptr[k0]:self.r_ptr[k1]]
        pool = self.p_ord[self.p_ptr[k0]:self.p_ptr[k1]]
        if not len(refs) or not len(pool):
            return
        m0, m1 = self.window
        d = self.index_day[refs]
        d0 = int(d.min()) + m0
        width = int(d.max()) + m1 - d0 + 2  # cum[:, t]: appointments on days before d0 + t
        counts = np.zeros(len(pool) * width, dtype=np.int32)
        code = self.p_code[pool]
        for first, last, row, day in self.counter.days_of(code, np.full(len(pool), d0), np.full(len(pool), d0 + width - 2)):
            counts[first * width:last * width] += np.bincount((row - first) * width + (day - d0 + 1),
                                                               minlength=(last - first) * width)
        cum = np.cumsum(counts.reshape(len(pool), width), axis=1, dtype=np.int32).ravel()
        del counts
        n_cand = self.p_cnt[self.r_key[refs]]
        p_start = self.p_ptr[self.r_key[refs]] - self.p_ptr[k0]
        ends = np.cumsum(n_cand)
        first = 0
        while first < len(refs):
            last = max(int(np.searchsorted(ends, (ends[first - 1] if first else 0) + _PAIR_CHUNK, side="right")),
                       first + 1)
            m = n_cand[first:last]
            tot = int(m.sum())
            i = np.repeat(np.arange(first, last), m)
            j = np.arange(tot, dtype=np.int64) - np.repeat(np.cumsum(m) - m, m) + np.repeat(p_start[first:last], m)
            day = d[i]
            alive = self.p_death[pool[j]] > day
            i, j, day = i[alive], j[alive], day[alive]
            n_c = cum[j * width + (day + m1 - d0 + 1)] - cum[j * width + (day + m0 - d0)]
            same = np.searchsorted(self.bins, n_c, side="right") == self.r_bin[refs[i]]
            yield refs[i[same]], pool[j[same]], n_c[same]
            first = last


def _fill_draws(base_state: dict, offsets: np.ndarray, sizes: np.ndarray, out: np.ndarray, at: np.ndarray) -> None:
    """Write the uniform draws at positions ``offsets[i] .. offsets[i] + sizes[i] - 1`` of the
    stream that starts at ``base_state`` (a PCG64 state) into ``out[at[i]:at[i] + sizes[i]]``:
    the numbers one ``random(total)`` call would give there, without drawing those in between."""
    bg = np.random.PCG64()
    gen = np.random.Generator(bg)
    for off, n, a in zip(offsets.tolist(), sizes.tolist(), at.tolist(), strict=True):
        bg.state = base_state
        bg.advance(off)
        out[a:a + n] = gen.random(n)


def match(idx: pd.DataFrame, pool: pd.DataFrame, counter: AppointmentCounter, extract: Extract,
          start: int, end: int, cfg: GPSettings) -> MatchRaw:
    """Match eligible referred patients to comparison patients (see the module docstring).

    Greedy, without replacement: referred patients in a seeded random order each take their
    ``matches_per_patient`` best unused candidates (nearest count in the matching window, then
    nearest age, then a seeded uniform draw). A comparison patient is a candidate only for
    referred patients with its own key, so the greedy runs key by key and memory is bounded by
    a run of keys, not by all pairs. The draws are the numbers one ``random(n pairs)`` call would
    give each pair, with the pairs in referred-patient then comparison-patient order (found by
    jumping the generator ahead), so the matches do not depend on how the keys are grouped."""
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
    # the referred patients' ids hashed once, for both questions (isin would hash them for each)
    referred = pd.Index(pd.unique(extract["referrals"]["patient_id"].astype(str).to_numpy()))
    pool = pool[referred.get_indexer(pool["patient_id"].astype(str).to_numpy()) < 0] \
        .drop_duplicates("patient_id").reset_index(drop=True)
    excluded["comparison_patients_also_referred"] = int(
        (referred.get_indexer(pd.unique(extract[COMPARISON]["patient_id"].astype(str).to_numpy())) >= 0).sum())
    bins = np.asarray(cfg.match_baseline_use_bins)
    ref["match_n"] = counter.count(ref["patient_id"], ref["index_day"] + m0, ref["index_day"] + m1)
    ref["key"], pool_key = _key_codes(ref, pool, cfg.match_age_bands)
    pool = pool.assign(key=pool_key, death_day=death_days(extract, pool["patient_id"]))
    rng = np.random.default_rng(cfg.match_seed)
    order = rng.permutation(len(ref))  # referred patients choose in this order (lowest first)
    base_state = rng.bit_generator.state
    cand = _Candidates(ref, pool, counter, (m0, m1), bins)
    # pass 1: how many candidates each referred patient has, hence where its draws start
    sizes = np.zeros(len(ref), dtype=np.int64)
    for k0, k1 in cand.groups:
        for r, _, _ in cand.pairs(k0, k1):
            sizes += np.bincount(r, minlength=len(ref))
    offsets = np.cumsum(sizes) - sizes
    r_age = pd.to_numeric(ref["age"], errors="coerce").to_numpy(dtype=float)
    p_age = pd.to_numeric(pool["age"], errors="coerce").to_numpy(dtype=float)
    k = cfg.matches_per_patient
    chosen: tuple[list[int], list[int], list[np.ndarray]] = ([], [], [])  # order, ref row, pool rows
    used = np.zeros(len(pool), dtype=bool)
    # pass 2: rank each referred patient's candidates and match, a run of keys at a time
    for k0, k1 in cand.groups:
        parts = list(cand.pairs(k0, k1))
        if not parts:
            continue
        r = np.concatenate([x[0] for x in parts])
        c = np.concatenate([x[1] for x in parts])
        n_c = np.concatenate([x[2] for x in parts])
        del parts
        who, first = np.unique(r, return_index=True)  # a referred patient's candidates are contiguous
        tie = np.empty(len(r))
        _fill_draws(base_state, offsets[who], sizes[who], tie, first)
        d_age = np.abs(r_age[r] - p_age[c])
        d_age = np.where(np.isnan(d_age), 999.0, d_age)
        o = np.lexsort((tie, d_age, np.abs(ref["match_n"].to_numpy()[r] - n_c), order[r]))
        r, c = r[o], c[o]
        bounds = np.flatnonzero(np.diff(r)) + 1
        for a, b in zip(np.r_[0, bounds].tolist(), np.r_[bounds, len(r)].tolist(), strict=True):
            cs = c[a:b]
            free = cs[~used[cs]][:k]
            used[free] = True
            if len(free):
                chosen[0].append(int(order[r[a]]))
                chosen[1].append(int(r[a]))
                chosen[2].append(free)
    # matched sets in the order referred patients chose; each set's comparison patients in the
    # order they were taken
    o = np.argsort(np.array(chosen[0], dtype=np.int64), kind="stable")
    set_ref = np.array(chosen[1], dtype=np.int64)[o]
    sizes_c = np.array([len(x) for x in chosen[2]], dtype=np.int64)[o]
    comp_rows = np.concatenate([chosen[2][i] for i in o]) if len(o) else np.zeros(0, dtype=np.int64)
    del chosen
    del cand
    cov = ["age", "gender", "risk_band", "imd_decile", "diabetes", "severe_mental_illness"]
    cols = ["patient_id", "treated", "set_id", "index_day", "end_day", "weight", "match_n", *cov]
    # each side built with just the units' columns, in their order: one copy of each, then one concat
    t = ref.iloc[np.sort(set_ref)][["patient_id", "index_day", "end_day", "match_n", *cov]]
    t.insert(1, "treated", 1)
    t.insert(2, "set_id", t["patient_id"].to_numpy())
    t.insert(5, "weight", 1.0)
    comp = pool.iloc[comp_rows][["patient_id", "death_day", *cov]].reset_index(drop=True)
    of_set = np.repeat(set_ref, sizes_c)
    comp.insert(1, "treated", 0)
    comp.insert(2, "set_id", ref["patient_id"].to_numpy()[of_set])
    comp.insert(3, "index_day", ref["index_day"].to_numpy()[of_set])
    comp.insert(4, "end_day", np.minimum(comp.pop("death_day").to_numpy(dtype=np.int64), end))
    comp.insert(5, "weight", np.repeat(1.0 / np.maximum(sizes_c, 1), sizes_c))
    comp.insert(6, "match_n", counter.count(comp["patient_id"], comp["index_day"] + m0, comp["index_day"] + m1))
    n_comp = len(comp)
    assert list(t.columns) == cols and list(comp.columns) == cols
    units = pd.concat([t, comp], ignore_index=True)
    del t, comp
    units["before_n"] = counter.count(units["patient_id"], units["index_day"] + b0, units["index_day"] + b1)
    return MatchRaw(units, int(len(ref)), int(len(set_ref)), int(len(pool)), n_comp, excluded)


# ---------------------------------------------------------------------------------- DiD
def did_panel(units: pd.DataFrame, counter: AppointmentCounter, start: int, end: int,
              before: tuple[int, int], after: tuple[int, int]) -> pd.DataFrame:
    """Two rows per unit (post = 0 before, 1 after): appointments and days of exposure."""
    out = []
    d = units["index_day"].to_numpy(dtype=np.int64)
    last = np.minimum(units["end_day"].to_numpy(dtype=np.int64), end)
    y = counter.windows(counter.codes(units["patient_id"]), d, [before, after], clip_lo=start, clip_hi=last)
    # the ids as integers (numbered by first appearance, so numbering them again in the panel
    # gives the numbers the text would): the fits group and cluster on these, not on text
    patient_code = pd.factorize(units["patient_id"].to_numpy(dtype=object))[0].astype(np.int32)
    set_code = pd.factorize(units["set_id"].to_numpy(dtype=object))[0].astype(np.int32)
    for post, (w0, w1) in ((0, before), (1, after)):
        lo = np.maximum(d + w0, start)
        hi = np.minimum(d + w1, last)
        out.append(pd.DataFrame({"patient_id": units["patient_id"].to_numpy(), "set_id": units["set_id"].to_numpy(),
                                 "treated": units["treated"].to_numpy(), "weight": units["weight"].to_numpy(),
                                 "post": post, "y": y[:, post], "exposure": np.maximum(hi - lo + 1, 0),
                                 "patient_code": patient_code, "set_code": set_code}))
    p = pd.concat(out, ignore_index=True)
    return p[p["exposure"] > 0].reset_index(drop=True)


def fit_did(panel: pd.DataFrame) -> FitResult | None:
    if panel.empty or panel["treated"].nunique() < 2:
        return None
    X = pd.DataFrame({"post": panel["post"].astype(float),
                      "post_x_referred": (panel["post"] * panel["treated"]).astype(float)})
    return poisson_fe(panel["y"].to_numpy(), X, panel["patient_code"].to_numpy(),
                      offset=np.log(panel["exposure"].to_numpy(dtype=float)),
                      clusters=panel["set_code"].to_numpy(), weights=panel["weight"].to_numpy())


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
                cov_kwds={"groups": pd.factorize(panel["set_code"])[0]})
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
            # each patient-level panel is let go once fitted (millions of rows at national scale)
            panel = did_panel(m.units, counter, start, end, before, after)
            fit, nb, rates = fit_did(panel), fit_did_nb(panel), group_rates(panel)
            del panel
            peak_panel = did_panel(m.units, counter, start, end, (before[0], -1), after)
            peak, peak_rates = fit_did(peak_panel), group_rates(peak_panel)
            del peak_panel
            comp_units = m.units[m.units["treated"] == 0][["patient_id", "index_day", "end_day"]]
            did = DidRaw(m, fit, nb, rates, peak, peak_rates, balance(m.units),
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
