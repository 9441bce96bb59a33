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

from pipeline.analyses.survival import aalen_johansen  # noqa: E402
from pipeline.analyses.wellbeing import paired_stats  # noqa: E402

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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=400)
    ap.add_argument("--check", action="store_true", help="exit 1 when a coverage is outside 93-97%%")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    a = ons4_coverage(args.reps)
    c = cif_coverage(args.reps)
    rows = [(a["what"], a["truth"], a["coverage"]), (c["what"], c["truth"], c["coverage"]),
            (c["death_90d"]["what"], c["death_90d"]["truth"], c["death_90d"]["coverage"])]
    print(f"95% CI coverage, {args.reps} replicates each (target 93-97%)")
    for what, truth, cov in rows:
        print(f"  {what:<55} truth {truth:7.4f}  coverage {cov * 100:5.1f}%")
    print(f"  ({time.perf_counter() - t0:.1f} s)")
    if args.check and any(not (0.93 <= cov <= 0.97) for _, _, cov in rows):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
