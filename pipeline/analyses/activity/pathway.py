"""A referral's path: the wait from referral to first contact (overall and by referral month) and
how referrals were closed by the end of the period.

"With a first contact" and "not seen", "closed" and "still open" are splits of the referrals cell;
the wait distribution is a split of the referrals with a first contact, the closure reasons of
those closed, and "open for more than a year" is part of those still open.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ...contract import CATEGORIES
from ...disclosure import Release
from ...extract import Extract
from ..labels import col, dates, label_values, value_counts
from .figures import part_of, split, statistic
from .referrals import Core, month_keys

# Referral to first contact, in days: (label, lowest, highest) inclusive.
WAIT_BINS = [("0-7", 0, 7), ("8-14", 8, 14), ("15-28", 15, 28), ("29-56", 29, 56), ("57+", 57, math.inf)]
WAIT_TARGET_DAYS = 14
LONG_OPEN_DAYS = 365


@dataclass
class PathwayRaw:
    waits_days: pd.Series  # per referral with a first contact
    wait_by_month: dict[str, tuple[float | None, int]]  # referral month -> (median wait, referrals with a contact)
    closed: int
    closure_reasons: dict[str, int]
    days_to_closure: pd.Series
    long_open: int  # open at the end, referred more than LONG_OPEN_DAYS before it


def compute_pathway(extract: Extract, months: list[str]) -> PathwayRaw:
    cfg = extract.config
    ref = extract["referrals"]
    fc, rd = dates(ref, "first_contact_date"), ref["referral_date"]
    has_contact = fc.notna()
    waits = (fc[has_contact] - rd[has_contact]).dt.days.astype("float64")
    g = waits.groupby(month_keys(rd[has_contact]).to_numpy())
    med, n = g.median(), g.size()
    by_month = {}
    for m in months:
        k = int(m[:4]) * 100 + int(m[5:])
        by_month[m] = (float(med[k]), int(n[k])) if k in n.index else (None, 0)
    cd = dates(ref, "closure_date")
    closed = cd.notna() & (cd <= cfg.end)
    open_days = (cfg.end - rd[~closed]).dt.days
    return PathwayRaw(
        waits_days=waits,
        wait_by_month=by_month,
        closed=int(closed.sum()),
        closure_reasons=value_counts(label_values(col(ref, "closure_reason")[closed]), CATEGORIES["closure_reason"]),
        days_to_closure=(cd[closed] - rd[closed]).dt.days.astype("float64"),
        long_open=int((open_days > LONG_OPEN_DAYS).sum()),
    )


NO_CONTACT = "no referral had a first contact"


def _quantile(s: pd.Series, q: float) -> float | None:
    return float(s.quantile(q)) if len(s) else None


def publish_wait(raw: PathwayRaw, rel: Release, core: Core) -> tuple[dict, dict]:
    """(the ``wait`` figures, the median wait of each referral month for the monthly series)."""
    w = raw.waits_days
    state = split(rel, core.referrals, {"with_first_contact": len(w), "not_seen": core.referrals.value - len(w)},
                  "wait.state")
    seen = state["with_first_contact"]
    bins = split(rel, seen, {lab: int(((w >= lo) & (w <= hi)).sum()) for lab, lo, hi in WAIT_BINS}, "wait.distribution")
    dist = rel.counts(bins)
    assert WAIT_BINS[1][2] == WAIT_TARGET_DAYS
    # within 14 days = the first two bins, from their published counts (withheld with either)
    within_pct = rel.derived(lambda a, b, n: (a + b) / n * 100 if n else None, dist["0-7"], dist["8-14"],
                             rel.count(seen), decimals=rel.rules.pct_decimals, reason=NO_CONTACT)
    out = {
        "referrals_with_first_contact": rel.count(seen),
        "referrals_not_seen": rel.count(state["not_seen"]),
        "median_days": statistic(rel, _quantile(w, 0.5), seen, NO_CONTACT),
        "q1_days": statistic(rel, _quantile(w, 0.25), seen, NO_CONTACT),
        "q3_days": statistic(rel, _quantile(w, 0.75), seen, NO_CONTACT),
        "within_14_days_pct": within_pct,
        "distribution": dist,
        "bins": [lab for lab, _, _ in WAIT_BINS],
    }
    monthly = {m: statistic(rel, med, n, "no referral of this month had a first contact")
               for m, (med, n) in raw.wait_by_month.items()}
    return out, monthly


def publish_closures(raw: PathwayRaw, rel: Release, core: Core) -> dict:
    n = core.referrals
    state = split(rel, n, {"closed": raw.closed, "open": n.value - raw.closed}, "closures.state")
    long_open = part_of(rel, state["open"], raw.long_open, "closures.open_longer_than_365_days")
    reasons = split(rel, state["closed"], raw.closure_reasons, "closures.reasons")
    return {
        "closed": rel.count(state["closed"]),
        "open_at_end": rel.count(state["open"]),
        "open_longer_than_365_days": rel.count(long_open),
        "reasons": rel.counts(reasons),
        "reasons_pct": rel.pcts(reasons, state["closed"]),
        "median_days_referral_to_closure": statistic(rel, _quantile(raw.days_to_closure, 0.5), state["closed"],
                                                     "no referral was closed"),
    }
