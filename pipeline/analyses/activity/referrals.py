"""Referrals: how many, from whom (practice within PCN, source, reason), by month against the
target band, per 1,000 registered patients, and first referrals against re-referrals.

Every breakdown is a ``split`` of the one referrals cell, and practices are crossed with PCNs
(:func:`~.figures.cross`), so a count hidden in one breakdown cannot be recovered from another.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ...contract import CATEGORIES
from ...disclosure import Release
from ...disclosure.cells import Cell
from ...extract import Extract
from ..labels import col, label_counts, label_pairs
from ..order import REFERRAL_ORDER, first_positions
from .figures import MonthsAgainstTarget, containing, cross, split

JUDGED_ON = ("published (rounded) monthly counts; a month withheld as a small count is below a band whose lower "
             "edge is above the largest small count")


@dataclass
class ReferralsRaw:
    referrals: int
    patients: int
    by_month: dict[str, int]
    by_practice: dict[str, int]
    by_pcn: dict[str, int]
    pcn_practice: dict[tuple[str, str], int]  # (pcn, practice) -> referrals
    by_source: dict[str, int]
    by_reason: dict[str, int]
    new: int  # referrals that are the patient's first in the whole extract
    whole: bool  # the whole extract (not a period of it): its patients are its new referrals
    start: pd.Timestamp
    end: pd.Timestamp
    target: tuple[int, int] | None = None
    registered_population: int | None = None
    pcn_population: dict[str, float] = field(default_factory=dict)  # mean over overlapping quarters

    @property
    def re_referrals(self) -> int:
        return self.referrals - self.new


@dataclass
class Core:
    """The cells other parts of the section break down or divide by."""

    referrals: Cell
    patients: Cell
    months: dict[str, Cell]
    pcn: dict[str, Cell]
    source: dict[str, Cell]
    reason: dict[str, Cell]


def month_range(start: pd.Timestamp, end: pd.Timestamp) -> list[str]:
    return [p.strftime("%Y-%m") for p in pd.period_range(start, end, freq="M")]


def month_keys(d: pd.Series) -> pd.Series:
    """``YYYYMM`` as one integer per date (not a formatted string per row)."""
    return d.dt.year * 100 + d.dt.month


def by_month(d: pd.Series, months: list[str]) -> dict[str, int]:
    """Rows by the ``YYYY-MM`` of ``d``, for each of ``months`` (zeros included)."""
    ym = month_keys(d).value_counts()
    found = {f"{int(k) // 100:04d}-{int(k) % 100:02d}": int(v) for k, v in ym.items()}
    return {m: found.get(m, 0) for m in months}


def _pcn_population(extract: Extract) -> dict[str, float]:
    """PCN populations from ``pcn_quarterly``: the mean over the quarters overlapping the period."""
    if not extract.has("pcn_quarterly"):
        return {}
    cfg = extract.config
    pq = extract["pcn_quarterly"]
    qs = pd.to_datetime(pq["quarter_start"])
    qe = qs + pd.offsets.QuarterEnd(0)
    overlap = (qs <= cfg.end) & (qe >= cfg.start)
    use = pq[overlap] if overlap.any() else pq
    return {str(k): float(v) for k, v in use.groupby("pcn")["registered_population"].mean().items()}


def compute_referrals(extract: Extract, history: Extract | None = None) -> ReferralsRaw:
    """``history``: the whole extract, to tell a patient's first referral from a re-referral when
    ``extract`` is restricted to a period (default: ``extract`` itself)."""
    cfg = extract.config
    ref = extract["referrals"]
    hist = (history or extract)["referrals"]
    later = hist["patient_id"].notna().to_numpy(copy=True)  # a referral after the patient's first
    later[first_positions(hist, REFERRAL_ORDER)] = False
    re_n = int(ref["referral_id"].isin(hist["referral_id"].to_numpy()[later]).sum())
    return ReferralsRaw(
        referrals=len(ref),
        patients=int(ref["patient_id"].nunique()),
        by_month=by_month(ref["referral_date"], month_range(cfg.start, cfg.end)),
        by_practice=label_counts(col(ref, "practice_code")),
        by_pcn=label_counts(col(ref, "pcn")),
        pcn_practice=label_pairs(col(ref, "pcn"), col(ref, "practice_code")),
        by_source=label_counts(col(ref, "referral_source"), CATEGORIES["referral_source"]),
        by_reason=label_counts(col(ref, "referral_reason"), CATEGORIES["referral_reason"]),
        new=len(ref) - re_n,
        whole=history is None or history is extract,
        start=cfg.start,
        end=cfg.end,
        target=tuple(cfg.referral_target_monthly) if cfg.referral_target_monthly else None,
        registered_population=cfg.registered_population,
        pcn_population=_pcn_population(extract),
    )


# ---------------------------------------------------------------------------------- publishing
def _target(months: dict[str, Cell], target: tuple[int, int] | None, rel: Release) -> dict | None:
    if not target:
        return None
    lo, hi = int(target[0]), int(target[1])
    cells = list(months.values())
    out: dict = {"lower": rel.fact(lo), "upper": rel.fact(hi)}
    for which in ("below", "within", "above", "unknown"):
        out[f"months_{which}"] = MonthsAgainstTarget(cells, (lo, hi), which)
    out["judged_on"] = JUDGED_ON
    return out


def _rates(raw: ReferralsRaw, n: Cell, pcn: dict[str, Cell], rel: Release) -> dict:
    years = ((raw.end - raw.start).days + 1) / 365.25
    pop = raw.registered_population
    out: dict = {
        "registered_population": rel.fact(int(pop)) if pop else None,
        "years": rel.fact(round(years, 3)),
        "per_1000_registered": rel.rate(n, pop, 1000) if pop else None,
        "per_1000_registered_per_year": rel.rate(n, pop * years, 1000) if pop else None,
        "by_pcn": None,
        "pcn_population_source": None,
    }
    if raw.pcn_population:
        out["pcn_population_source"] = "pcn_quarterly: mean registered_population of the quarters overlapping the period"
        out["by_pcn"] = {}
        for p, cell in pcn.items():
            pp = raw.pcn_population.get(p)
            out["by_pcn"][p] = {
                "registered_population": rel.fact(int(round(pp))) if pp is not None else None,
                "referrals": rel.count(cell),
                "per_1000": rel.rate(cell, pp, 1000) if pp is not None else None,
                "per_1000_per_year": rel.rate(cell, pp * years, 1000) if pp is not None else None,
            }
    return out


def publish_referrals(raw: ReferralsRaw, rel: Release) -> tuple[dict, Core]:
    """The referral figures, and the cells the rest of the section ties to."""
    n = rel.cell(raw.referrals, "referrals")
    months = split(rel, n, raw.by_month, "referrals_by_month")
    pcn = split(rel, n, raw.by_pcn, "referrals_by_pcn")
    # a practice that is the whole of its PCN (and only in it) is the PCN's cell
    practices = {a: next((pcn[p] for (p, b), v in raw.pcn_practice.items()
                          if b == a and v == n_a == raw.by_pcn[p]), n_a) for a, n_a in raw.by_practice.items()}
    practice = split(rel, n, practices, "referrals_by_practice")
    cross(rel, pcn, practice, raw.pcn_practice, "pcn_practice")
    source = split(rel, n, raw.by_source, "referrals_by_source")
    reason = split(rel, n, raw.by_reason, "referrals_by_reason")
    new_re = split(rel, n, {"new": raw.new, "re_referral": raw.re_referrals}, "new_vs_rereferrals")
    # each new referral is one patient's first: the patients of the period are its new referrals and
    # the patients first referred before it (none in the whole extract, as a reader knows)
    patients = containing(rel, new_re["new"], raw.patients, "patients", known=raw.whole)
    tree = {
        "referrals": rel.count(n),
        "patients": rel.count(patients),
        "referrals_by_month": rel.counts(months),
        "period_covered": {"start": raw.start.date().isoformat(), "end": raw.end.date().isoformat()},
        "referral_target": _target(months, raw.target, rel),
        "referrals_by_practice": rel.counts(practice),
        "referrals_by_pcn": rel.counts(pcn),
        "referrals_by_source": rel.counts(source),
        "referrals_by_reason": rel.counts(reason),
        "referral_rates": _rates(raw, n, pcn, rel),
        "new_vs_rereferrals": rel.counts(new_re),
    }
    return tree, Core(n, patients, months, pcn, source, reason)
