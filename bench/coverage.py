"""Do the published 95% confidence intervals cover the truth 95% of the time?

Simulates many data sets from known truths, computes each interval exactly as the pipeline does,
and prints the share of intervals containing the truth (target 93-97% with 400+ replicates):

- ONS4 mean change (``pipeline.analyses.wellbeing.paired_stats``, t-interval): integer scores
  0..10, baseline ~ Binomial(10, 0.45), latent change from a fixed discrete distribution,
  follow-up clipped to 0..10. The true mean change is computed exactly by enumeration.
- 30-day readmission cumulative incidence (``pipeline.analyses.survival.aalen_johansen``,
  delta-method variance, cloglog interval): competing exponential times for readmission
  (0.004/day) and death (0.0015/day), recorded in whole days; administrative censoring at a
  whole-day follow-up uniform on 0..365 (events on the last day count, as at extract_end).
  Truth: P(readmitted within 30 days) = P(T < 30, readmission) = l1/(l1+l2) (1 - exp(-30 (l1+l2))).
  Also the 90-day death cumulative incidence.

Usage: ``python bench/coverage.py [--reps 400] [--check]`` (``--check`` exits 1 when a coverage
falls outside 93-97%). Fixed seeds: the output is the same on every run.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.analyses.wellbeing import paired_stats  # noqa: E402
from pipeline.survival import aalen_johansen  # noqa: E402

# ONS4: a latent change distribution on -3..+4 with mean +0.46 before clipping
CHANGE_VALUES = np.arange(-3, 5)
CHANGE_PROBS = np.array([0.04, 0.08, 0.16, 0.24, 0.22, 0.14, 0.08, 0.04])
BASELINE_P = 0.45

READMIT_RATE, DEATH_RATE = 0.004, 0.0015
MAX_FOLLOW_UP = 365


def ons4_truth() -> float:
    """E[clip(b + c, 0, 10) - b], b ~ Binomial(10, p), c ~ CHANGE_PROBS, independent."""
    from scipy import stats

    b = np.arange(11)
    pb = stats.binom.pmf(b, 10, BASELINE_P)
    total = 0.0
    for bi, p1 in zip(b, pb, strict=True):
        for c, p2 in zip(CHANGE_VALUES, CHANGE_PROBS, strict=True):
            total += p1 * p2 * (min(max(bi + c, 0), 10) - bi)
    return float(total)


def ons4_coverage(reps: int = 400, n: int = 60, seed: int = 20240401) -> dict:
    rng = np.random.default_rng(seed)
    truth = ons4_truth()
    hits = 0
    for _ in range(reps):
        b = rng.binomial(10, BASELINE_P, n)
        f = np.clip(b + rng.choice(CHANGE_VALUES, n, p=CHANGE_PROBS), 0, 10)
        s = paired_stats(b, f)
        hits += s["ci_lo"] <= truth <= s["ci_hi"]
    return {"what": f"ONS4 mean change, t-interval (n = {n} pairs)", "truth": truth, "reps": reps,
            "coverage": hits / reps}


def cif_truth(days: int, cause: int) -> float:
    lam = READMIT_RATE + DEATH_RATE
    rate = READMIT_RATE if cause == 1 else DEATH_RATE
    return rate / lam * (1 - math.exp(-days * lam))


def cif_coverage(reps: int = 400, n: int = 300, seed: int = 20240402) -> dict:
    rng = np.random.default_rng(seed)
    t30, t90 = cif_truth(30, 1), cif_truth(90, 2)
    hits30 = hits90 = 0
    for _ in range(reps):
        tr = rng.exponential(1 / READMIT_RATE, n)
        td = rng.exponential(1 / DEATH_RATE, n)
        t = np.minimum(tr, td)
        cause = np.where(tr <= td, 1, 2)
        day = np.floor(t)
        cens = rng.integers(0, MAX_FOLLOW_UP + 1, n)  # whole days of follow-up; events on that day count
        observed = day <= cens
        fit = aalen_johansen(np.where(observed, day, cens), np.where(observed, cause, 0), causes=(1, 2))
        lo, hi = fit.ci(1, 29)  # within 30 days: t <= 29
        hits30 += lo <= t30 <= hi
        lo, hi = fit.ci(2, 89)
        hits90 += lo <= t90 <= hi
    return {"what": f"30-day readmission CIF, Aalen-Johansen (n = {n})", "truth": t30, "reps": reps,
            "coverage": hits30 / reps,
            "death_90d": {"what": f"90-day death CIF (n = {n})", "truth": t90, "coverage": hits90 / reps}}


# ------------------------------------------------------------------ GP appointments: matched DiD
GP_RATE_RATIO = 0.90  # planted: after referral the rate is baseline x 0.90
GP_PEAK = {-1: 1.5, -2: 1.2}  # planted pre-referral rise: quarter -1 = days -91..-1, -2 = days -182..-92
GP_RISK_RATE = {"very_high": 9.0, "high": 6.5, "medium": 4.5, "low": 3.0}  # mean appointments a year
GP_SHAPE = 2.0  # gamma shape of patients' baseline rates (overdispersion)
GP_REFERRED_LEVEL = 1.15  # referred patients use the GP 15% more at baseline (as pipeline.synthetic plants)
GP_BANDS = tuple(GP_RISK_RATE)


def simulate_gp_extract(n_referred: int = 400, n_pool: int = 2000, seed: int = 0, rate_ratio: float = GP_RATE_RATIO,
                        peak: dict | None = None, n_practices: int = 4, start: str = "2021-04-01",
                        end: str = "2024-03-31", comparison: bool = True, referred_level: float = GP_REFERRED_LEVEL):
    """An in-memory extract with ``referrals``, ``gp_appointments`` and ``comparison_patients``.

    Each patient has a constant baseline rate, gamma distributed around a mean set by the risk
    band, times ``referred_level`` for referred patients (so matching on prior GP use, and
    regression to the mean, matter). A referred patient's rate is baseline x 1.2 on days -182..-92,
    x 1.5 on days -91..-1 before referral and x ``rate_ratio`` from the referral day on;
    comparison patients keep their baseline rate. Referral dates are uniform over the extract."""
    import pandas as pd

    from pipeline.extract import Extract, ExtractConfig

    peak = GP_PEAK if peak is None else peak
    rng = np.random.default_rng(seed)
    s0 = int(np.datetime64(start, "D").astype(np.int64))
    e0 = int(np.datetime64(end, "D").astype(np.int64))
    n = n_referred + (n_pool if comparison else 0)
    practice = np.array([f"A{10001 + i}" for i in range(n_practices)])[rng.integers(0, n_practices, n)]
    age = rng.integers(18, 90, n)
    gender = rng.choice(["female", "male"], n, p=[0.6, 0.4])
    risk = rng.choice(GP_BANDS, n, p=[0.15, 0.25, 0.3, 0.3])
    mean = np.array([GP_RISK_RATE[r] for r in risk])
    treated = np.arange(n) < n_referred
    rate = rng.gamma(GP_SHAPE, mean / GP_SHAPE) / 365.0 * np.where(treated, referred_level, 1.0)  # per day
    ids = np.array([f"P{i:06d}" for i in range(n)])
    d = rng.integers(s0, e0 + 1, n)
    # piecewise-constant rate segments (patient, lo, hi, multiplier), clipped to the extract
    segs = []
    big = 10**6
    for lo_rel, hi_rel, mult in ((-big, -183, 1.0), (-182, -92, peak.get(-2, 1.0)), (-91, -1, peak.get(-1, 1.0)),
                                 (0, big, rate_ratio)):
        lo = np.maximum(d + lo_rel, s0)
        hi = np.minimum(d + hi_rel, e0)
        segs.append((np.flatnonzero(treated), lo[treated], hi[treated], mult))
    segs.append((np.flatnonzero(~treated), np.full((~treated).sum(), s0), np.full((~treated).sum(), e0), 1.0))
    pid, days = [], []
    for who, lo, hi, mult in segs:
        length = np.maximum(hi - lo + 1, 0)
        k = rng.poisson(rate[who] * mult * length)
        rep = np.repeat(np.arange(len(who)), k)
        pid.append(who[rep])
        days.append(lo[rep] + np.floor(rng.random(len(rep)) * length[rep]).astype(np.int64))
    pid, days = np.concatenate(pid), np.concatenate(days)
    appts = pd.DataFrame({"patient_id": ids[pid], "appointment_date": pd.to_datetime(days, unit="D"),
                          "clinician_role": "gp"}).sort_values(["appointment_date", "patient_id"], ignore_index=True)
    t = np.flatnonzero(treated)
    referrals = pd.DataFrame({
        "referral_id": [f"R{i:06d}" for i in t], "patient_id": ids[t], "practice_code": practice[t],
        "pcn": "PCN 1", "referral_date": pd.to_datetime(d[t], unit="D"), "referral_source": "gp",
        "referral_reason": "other", "first_contact_date": pd.NaT, "age": pd.array(age[t], dtype="Int64"),
        "gender": gender[t].astype(object), "ethnicity": "white", "imd_decile": pd.array([pd.NA] * len(t), dtype="Int64"),
        "risk_band": risk[t].astype(object), "diabetes": pd.array([False] * len(t), dtype="boolean"),
        "severe_mental_illness": pd.array([False] * len(t), dtype="boolean"),
    })
    tables = {"referrals": referrals, "gp_appointments": appts}
    if comparison:
        c = np.flatnonzero(~treated)
        tables["comparison_patients"] = pd.DataFrame({
            "patient_id": ids[c], "practice_code": practice[c], "age": pd.array(age[c], dtype="Int64"),
            "gender": gender[c].astype(object), "imd_decile": pd.array([pd.NA] * len(c), dtype="Int64"),
            "risk_band": risk[c].astype(object), "diabetes": pd.array([False] * len(c), dtype="boolean"),
            "severe_mental_illness": pd.array([False] * len(c), dtype="boolean")})
    cfg = ExtractConfig(slug="sim", borough="Simulated", ons_code="E09000099",
                        extract_start=pd.Timestamp(start).date(), extract_end=pd.Timestamp(end).date(),
                        registered_population=100000, synthetic=True)
    return Extract(cfg, tables, sha256="0" * 64)


def gp_did_coverage(reps: int = 400, n_referred: int = 1000, n_pool: int = 5000, seed: int = 20240403) -> dict:
    """Coverage of the matched DiD rate ratio's 95% CI (pipeline.analyses.gp_appointments.matched_did:
    matching, panel and conditional fixed-effects Poisson with sandwich SEs clustered by matched set)."""
    from pipeline.analyses.gp_appointments import matched_did
    from pipeline.config import load_settings

    settings = load_settings()
    hits = done = 0
    est = []
    for r in range(reps):
        ex = simulate_gp_extract(n_referred, n_pool, seed=seed + r)
        _, _, fit = matched_did(ex, settings)
        rr, lo, hi, _ = fit.ratio("post_x_referred")
        if not np.isfinite(lo):
            continue
        done += 1
        est.append(rr)
        hits += lo <= GP_RATE_RATIO <= hi
    return {"what": f"GP matched DiD rate ratio (n = {n_referred} referred, pool {n_pool})", "truth": GP_RATE_RATIO,
            "reps": done, "coverage": hits / done if done else float("nan"),
            "mean_estimate": float(np.mean(est)) if est else float("nan")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=400)
    ap.add_argument("--check", action="store_true", help="exit 1 when a coverage is outside 93-97%%")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    a = ons4_coverage(args.reps)
    c = cif_coverage(args.reps)
    g = gp_did_coverage(args.reps)
    rows = [(a["what"], a["truth"], a["coverage"]), (c["what"], c["truth"], c["coverage"]),
            (c["death_90d"]["what"], c["death_90d"]["truth"], c["death_90d"]["coverage"]),
            (g["what"], g["truth"], g["coverage"])]
    print(f"95% CI coverage, {args.reps} replicates each (target 93-97%)")
    for what, truth, cov in rows:
        print(f"  {what:<55} truth {truth:7.4f}  coverage {cov * 100:5.1f}%")
    print(f"  ({time.perf_counter() - t0:.1f} s)")
    if args.check and any(not (0.93 <= cov <= 0.97) for _, _, cov in rows):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
