"""Inputs of the logic model: link-worker workforce, caseload per FTE and personal health budgets
(the extra ``inputs`` section of results.json).

- **FTE over time**: ``splw_fte`` of ``pcn_quarterly`` by PCN and quarter (every quarter given, so a
  period report still shows the trend), their total, and FTE per 100,000 registered.
- **Caseload per FTE**: people per full-time-equivalent link worker per year, against the
  national guidance of 200-250 different people a year for a full-time link worker (seed 003,
  the 2025 narrative pack: "The recommended caseload for a full-time Social Prescribing Link
  Worker is 200-250 annually ... different people seen by one full-time SPLW within a year").

  FTE-years = sum over PCN-quarters of ``splw_fte`` x (days of the quarter inside the period) /
  365.25. People are counted from the referrals received in a PCN-quarter that ``pcn_quarterly``
  covers (so the people and the FTE cover the same weeks), each person once per PCN and
  financial year. Two figures: people *referred* per FTE-year (the demand on the workforce) and
  people *seen* (at least one attended appointment) per FTE-year, the guidance's own measure.
  Rates are computed from the rounded counts.
- **Budget**: one-off personal health budgets (``health_budget_gbp`` of referrals, where given
  and above 0): how many, the total and the mean and median per budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config import Settings
from ..disclosure import SDC
from ..extract import Extract
from .activity import col, not_about_people, rate, stat
from .order import combine_codes

SECTION = "inputs"
REQUIRED = ("referrals", "pcn_quarterly")
CASELOAD_GUIDANCE = (200, 250)  # different people a year per full-time link worker (seed 003)
CASELOAD_SOURCE = ("NHS England social prescribing narrative pack (2025): 200-250 different people seen "
                   "by one full-time link worker within a year")
DAYS_PER_YEAR = 365.25


def _per_date(d: pd.Series, label: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``label(d)`` worked out once per distinct date (a million referrals have a thousand
    dates), as object text aligned with ``d``."""
    codes, uniq = pd.factorize(d, use_na_sentinel=False)
    labels = label(pd.Series(uniq, dtype=d.dtype)).to_numpy(dtype=object)
    return pd.Series(labels[codes], index=d.index, dtype=object)


def financial_year(d: pd.Series) -> pd.Series:
    """'2022/23' for dates 2022-04-01 .. 2023-03-31."""
    def label(u: pd.Series) -> pd.Series:
        y = u.dt.year - (u.dt.month < 4).astype(int)
        return y.astype(str) + "/" + ((y + 1) % 100).astype(str).str.zfill(2)
    return _per_date(d, label)


@dataclass
class Caseload:
    fte_years: float
    referred: int  # people, once per PCN and financial year
    seen: int


@dataclass
class InputsRaw:
    start: pd.Timestamp
    end: pd.Timestamp
    quarters: list[str]
    fte: dict[str, dict[str, float]]  # pcn -> quarter_start -> FTE
    population: dict[str, float]  # quarter_start -> registered population of the PCNs given
    overall: Caseload
    by_pcn: dict[str, Caseload]
    by_year: dict[str, Caseload]
    budgets: pd.Series = field(default_factory=lambda: pd.Series(dtype="float64"))  # amounts > 0
    budget_recorded: bool = False


def compute(extract: Extract, settings: Settings | None = None) -> InputsRaw:
    """``extract``: the activity extract (restricted to a reporting period when there is one)."""
    cfg = extract.config
    pq = extract["pcn_quarterly"].copy()
    pq["pcn"] = pq["pcn"].astype(str)
    pq["q_start"] = pd.to_datetime(pq["quarter_start"])
    pq["q_end"] = pq["q_start"] + pd.offsets.QuarterEnd(0)
    lo = pq["q_start"].where(pq["q_start"] > cfg.start, cfg.start)
    hi = pq["q_end"].where(pq["q_end"] < cfg.end, cfg.end)
    pq["days_in"] = ((hi - lo).dt.days + 1).clip(lower=0)
    pq["fte_years"] = pq["splw_fte"].astype("float64") * pq["days_in"] / DAYS_PER_YEAR
    pq["fy"] = financial_year(pq["q_start"])
    pq["label"] = pq["q_start"].dt.strftime("%Y-%m-%d")
    quarters = sorted(pq["label"].unique())
    fte = {p: dict(zip(g["label"], g["splw_fte"].astype(float), strict=True)) for p, g in pq.sort_values("label").groupby("pcn")}
    population = {str(k): float(v) for k, v in pq.groupby("label")["registered_population"].sum().items()}

    # referrals received in a PCN-quarter that pcn_quarterly covers (inside the period)
    ref = extract["referrals"][["referral_id", "patient_id", "pcn", "referral_date"]].copy()
    ref["pcn"] = ref["pcn"].astype(str)
    ref["label"] = _per_date(ref["referral_date"], lambda u: u.dt.to_period("Q").dt.start_time.dt.strftime("%Y-%m-%d"))
    covered = pq.loc[pq["days_in"] > 0, ["pcn", "label"]]
    ref = ref.merge(covered, on=["pcn", "label"], how="inner")
    ref["fy"] = financial_year(ref["referral_date"])
    con = extract["sp_contacts"] if extract.has("sp_contacts") else None
    seen_ids = set(con.loc[con["status"] == "attended", "referral_id"]) if con is not None else set()
    ref["seen"] = ref["referral_id"].isin(seen_ids)

    # people are counted once per PCN and financial year: each referral's (PCN, year, patient) as
    # one integer, so a count of people is a count of distinct integers among the rows asked about
    pcn_code, pcns = pd.factorize(ref["pcn"], use_na_sentinel=False)
    fy_code, fys = pd.factorize(ref["fy"], use_na_sentinel=False)
    patient, _ = pd.factorize(ref["patient_id"], use_na_sentinel=False)
    person = combine_codes([pcn_code, fy_code, patient])
    seen = ref["seen"].to_numpy(dtype=bool)
    pcn_of = {v: i for i, v in enumerate(pcns)}
    fy_of = {v: i for i, v in enumerate(fys)}

    def people(mask: np.ndarray) -> int:
        return int(len(pd.unique(person[mask])))

    def caseload(rows: pd.DataFrame, mask: np.ndarray) -> Caseload:
        return Caseload(float(rows["fte_years"].sum()), people(mask), people(mask & seen))

    in_period = pq[pq["days_in"] > 0]
    by_pcn = {p: caseload(in_period[in_period["pcn"] == p], pcn_code == pcn_of.get(p, -1))
              for p in sorted(in_period["pcn"].unique())}
    by_year = {y: caseload(in_period[in_period["fy"] == y], fy_code == fy_of.get(y, -1))
               for y in sorted(in_period["fy"].unique())}
    overall = caseload(in_period, np.ones(len(ref), dtype=bool))

    hb = pd.to_numeric(col(extract["referrals"], "health_budget_gbp"), errors="coerce")
    return InputsRaw(start=cfg.start, end=cfg.end, quarters=quarters, fte=fte, population=population,
                     overall=overall, by_pcn=by_pcn, by_year=by_year,
                     budgets=hb[hb > 0].astype("float64"), budget_recorded=bool(hb.notna().any()))


def judge(value: float | None, band: tuple[int, int] = CASELOAD_GUIDANCE) -> str | None:
    if value is None:
        return None
    return "below" if value < band[0] else "above" if value > band[1] else "within"


def _publish_caseload(c: Caseload, sdc: SDC, key: str) -> dict[str, Any]:
    referred = sdc.count(c.referred, f"{key}.people_referred")
    seen = sdc.count(c.seen, f"{key}.people_seen")
    ref_rate = rate(sdc, referred, c.referred, c.fte_years, 1, f"{key}.referred_per_fte_year", decimals=1)
    seen_rate = rate(sdc, seen, c.seen, c.fte_years, 1, f"{key}.seen_per_fte_year", decimals=1)
    return {
        "fte_years": not_about_people(sdc, c.fte_years, f"{key}.fte_years", 2),
        "people_referred": referred,
        "people_seen": seen,
        "referred_per_fte_year": ref_rate,
        "seen_per_fte_year": seen_rate,
        "seen_vs_guidance": judge(seen_rate),
        "referred_vs_guidance": judge(ref_rate),
    }


def publish(raw: InputsRaw, sdc: SDC) -> dict[str, Any]:
    fte = {p: {q: not_about_people(sdc, v, f"fte_by_pcn_quarter.{p}.{q}", 2) for q, v in qs.items()}
           for p, qs in raw.fte.items()}
    fte_total = {q: sum(qs.get(q, 0.0) for qs in raw.fte.values()) for q in raw.quarters}
    per_100k = {q: (fte_total[q] / raw.population[q] * 100_000 if raw.population.get(q) else None) for q in raw.quarters}
    b = raw.budgets
    n = len(b)
    if raw.budget_recorded:
        n_pub = sdc.count(n, "budget.budgets")
        total = stat(sdc, float(b.sum()) if n else None, n, "budget.total_gbp", 0)
        if total is not None and sdc.enabled:
            total = float(round(total, -1))  # to the nearest £10
        budget: dict[str, Any] = {
            "status": "ok",
            "budgets": n_pub,
            "total_gbp": total,
            # total / published count: an exact mean beside the total would give back the exact count
            "mean_gbp": (float(round(total / n_pub)) if total is not None and n_pub
                         else sdc.stat(None, None, "budget.mean_gbp") if n else None),
            "median_gbp": stat(sdc, float(b.median()) if n else None, n, "budget.median_gbp", 0),
            "counting": ("referrals with a one-off personal health budget above £0 (health_budget_gbp); the mean is "
                         "the total divided by the published (rounded) number of budgets"),
        }
    else:
        budget = {"status": "not_recorded", "reason": "health_budget_gbp is empty in this extract"}
    return {
        "period_covered": {"start": raw.start.date().isoformat(), "end": raw.end.date().isoformat()},
        "quarters": raw.quarters,
        "fte_by_pcn_quarter": fte,
        "fte_total_by_quarter": {q: not_about_people(sdc, v, f"fte_total_by_quarter.{q}", 2) for q, v in fte_total.items()},
        "fte_per_100k_registered_by_quarter": {q: not_about_people(sdc, v, f"fte_per_100k_registered_by_quarter.{q}", 2)
                                               for q, v in per_100k.items()},
        "caseload": {
            "guidance_per_fte_year": list(CASELOAD_GUIDANCE),
            "guidance_source": CASELOAD_SOURCE,
            "counting": ("people referred in PCN-quarters that pcn_quarterly covers inside the period, once per PCN "
                         "and financial year; seen = at least one attended appointment; FTE-years = FTE x days in "
                         "the period / 365.25"),
            **_publish_caseload(raw.overall, sdc, "caseload"),
            "by_pcn": {p: _publish_caseload(c, sdc, f"caseload.by_pcn.{p}") for p, c in raw.by_pcn.items()},
            "by_financial_year": {y: _publish_caseload(c, sdc, f"caseload.by_financial_year.{y}")
                                  for y, c in raw.by_year.items()},
        },
        "budget": budget,
    }

