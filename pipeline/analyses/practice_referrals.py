"""Referrals per GP practice against its registered list: the ``practice_referrals`` section
(``docs/methods-practice-referrals.md``).

- **Patient-years**: each row of ``practices`` gives a practice's list size for a financial year;
  the years count for the share of their days inside the extract (a whole year inside it counts
  as the list size, 1 April to 31 March; a year half inside it as half). A practice's
  patient-years are published to one decimal, and that published figure is the denominator of
  every rate, so a reader can redo each one.
- **Referrals**: rows of ``referrals`` over the whole extract, counted for the practice and
  financial year of the referral when ``practices`` gives a list size for that practice and year
  (numerator and denominator cover the same years); the others (a practice with no row, a year
  with none) are counted apart and named. A practice belongs to the PCN of its latest year in
  ``practices``; referrals whose ``pcn`` says otherwise are counted (a data-quality note).
- **Rates**: referrals per 1,000 registered patients a year, from the rounded counts, by
  practice, by PCN and for the borough (all practices with a list size).
- **Funnel limits** (Spiegelhalter 2005), as ``make london`` draws them for boroughs, with the
  same functions (:mod:`pipeline.funnel`): exact Poisson 95% and 99.8% limits around the
  borough's published rate at each practice's (and PCN's) patient-years. When the practices vary
  more than chance allows (overdispersion from 10%-winsorised z-scores, at least 10 practices:
  :func:`pipeline.funnel.overdispersion`), additive random-effects limits (normal, with variance
  rate / exposure + tau2, as the London comparison's) are given too and a practice is read
  against both. A practice *below* the 99.8% limit refers
  fewer people than chance explains: a prompt to ask why (its list, its population, how it
  uses the service), not a verdict.

Disclosure: referrals are counts of people's referrals: the practices of a PCN add up to the
PCN, the PCNs to the referrals with a list size, and those with and without a list size to all
referrals (so a small practice hides with a neighbour). List sizes and patient-years describe
practices, not people (``fact``). Intervals, limits and positions are derived from the published
counts and rates; the overdispersion estimate is a model estimate resting on every referral
with a list size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..disclosure import Release
from ..extract import Extract
from ..formatting import fmt
from ..funnel import LEVELS, MIN_FOR_OVERDISPERSION, normal_limits, overdispersion, poisson_interval, poisson_limits
from ..sections import Headline, NotAvailable, Section
from .inputs import financial_year

CURVE_POINTS = 25  # points along each funnel limit


@dataclass
class Unit:
    """A practice or a PCN: its patient-years (as published: 1 decimal) and referrals counted in
    the years its list covers."""

    patient_years: float
    referrals: int
    list_size: dict[str, int] = field(default_factory=dict)  # practices: financial year -> list size


@dataclass
class PracticeReferralsRaw:
    start: pd.Timestamp
    end: pd.Timestamp
    years: list[str]
    referrals: int
    pcns: dict[str, Unit]
    practices: dict[str, dict[str, Unit]]  # PCN -> practice code -> unit
    missing_practices: list[str]  # in referrals, with no row in practices
    moved_pcn: list[str]  # listed under more than one PCN (counted under the latest year's)
    pcn_differs: int  # referrals whose pcn is not their practice's PCN in practices
    over: dict[str, Any]

    @property
    def covered(self) -> int:
        return sum(u.referrals for u in self.pcns.values())

    @property
    def patient_years(self) -> float:
        return round(sum(u.patient_years for u in self.pcns.values()), 1)


def patient_years(practices: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """``practices`` with ``patient_years``: the list size times the share of the financial year's
    days inside ``start``..``end``; rows for years outside the extract dropped."""
    pr = practices.copy()
    fy_start = pd.to_datetime(pr["year"].str[:4] + "-04-01")
    fy_end = fy_start + pd.DateOffset(years=1) - pd.Timedelta(days=1)
    lo = fy_start.where(fy_start > start, start)
    hi = fy_end.where(fy_end < end, end)
    days_in = ((hi - lo).dt.days + 1).clip(lower=0)
    pr["patient_years"] = pr["list_size"].astype("float64") * days_in / ((fy_end - fy_start).dt.days + 1)
    return pr[days_in > 0]


def _overdispersion(units: list[Unit]) -> dict[str, Any]:
    """Between-practice variation beyond Poisson chance, on the exact counts."""
    n = np.array([u.referrals for u in units], dtype=float)
    py = np.array([u.patient_years for u in units], dtype=float)
    if len(units) < MIN_FOR_OVERDISPERSION:
        return {"estimated": False, "reason": f"needs at least {MIN_FOR_OVERDISPERSION} practices (have {len(units)})"}
    target = n.sum() / py.sum() * 1000
    if target <= 0:
        return {"estimated": False, "reason": "no referrals with a list size"}
    sd = np.sqrt(target / (py / 1000))
    return overdispersion((n / py * 1000 - target) / sd, 1 / sd ** 2)


def compute(extract: Extract) -> PracticeReferralsRaw:
    cfg = extract.config
    pr = patient_years(extract["practices"], cfg.start, cfg.end)
    if pr.empty:
        raise NotAvailable("the practices table gives no list size for a financial year the extract covers")
    pr = pr.sort_values(["practice_code", "year"], kind="mergesort")
    pcn_of = pr.groupby("practice_code", sort=True)["pcn"].last()
    moved = sorted(c for c, k in pr.groupby("practice_code")["pcn"].nunique().items() if k > 1)

    ref = extract["referrals"]
    counts = (pd.DataFrame({"practice_code": ref["practice_code"].to_numpy(),
                            "year": financial_year(ref["referral_date"]).to_numpy()})
              .groupby(["practice_code", "year"], sort=False).size().rename("n").reset_index())
    counts = counts.merge(pr[["practice_code", "year"]], on=["practice_code", "year"], how="inner")
    covered = counts.groupby("practice_code")["n"].sum()
    by_pcn_ref = ref.groupby(["practice_code", "pcn"], sort=False).size().rename("n").reset_index()
    listed = by_pcn_ref["practice_code"].isin(pcn_of.index)
    differs = listed & (by_pcn_ref["pcn"] != by_pcn_ref["practice_code"].map(pcn_of))

    practices: dict[str, dict[str, Unit]] = {}
    for code, rows in pr.groupby("practice_code", sort=True):
        unit = Unit(round(float(rows["patient_years"].sum()), 1), int(covered.get(code, 0)),
                    {str(y): int(s) for y, s in zip(rows["year"], rows["list_size"], strict=True)})
        practices.setdefault(str(pcn_of[code]), {})[str(code)] = unit
    practices = {p: practices[p] for p in sorted(practices)}
    pcns = {p: Unit(round(sum(u.patient_years for u in us.values()), 1), sum(u.referrals for u in us.values()))
            for p, us in practices.items()}
    units = [u for us in practices.values() for u in us.values()]
    return PracticeReferralsRaw(
        start=cfg.start, end=cfg.end, years=sorted(pr["year"].astype(str).unique()), referrals=len(ref),
        pcns=pcns, practices=practices,
        missing_practices=sorted(set(by_pcn_ref.loc[~listed, "practice_code"].astype(str))),
        moved_pcn=moved, pcn_differs=int(by_pcn_ref.loc[differs, "n"].sum()), over=_overdispersion(units))


# ---------------------------------------------------------------------------------- publish
def _limits(rate0: float, py: float, level: str, tau2: float = 0.0) -> list[float] | None:
    """Limits for a rate per 1,000 a year at ``py`` patient-years around ``rate0``: exact Poisson,
    or with ``tau2`` normal limits allowing for overdispersion."""
    if py <= 0:
        return None
    exposure = py / 1000
    if tau2 > 0:
        lo, hi = normal_limits(rate0, np.sqrt(rate0 / exposure + tau2), LEVELS[level])
    else:
        lo, hi = poisson_limits(rate0, exposure, LEVELS[level])
    return [max(float(lo[0]), 0.0), float(hi[0])]


def position(value: float, limits: list[float]) -> str:
    """below | within | above the limits."""
    return "below" if value < limits[0] else "above" if value > limits[1] else "within"


def _ci(n: int, py: float) -> list[float] | None:
    return list(poisson_interval(n, py / 1000)) if py > 0 else None


def _unit(rel: Release, u: Unit, cell: Any, borough: Any, tau2: Any = None) -> dict[str, Any]:
    """One practice's or PCN's row: count, rate, interval, limits and positions."""
    n = rel.count(cell)
    rate = rel.rate(cell, u.patient_years, per=1000, decimals=1)
    py = u.patient_years
    out: dict[str, Any] = {
        "referrals": n,
        "patient_years": rel.fact(py),
        "rate_per_1000_per_year": rate,
        "ci95": rel.derived(lambda k, py=py: _ci(k, py), n, decimals=1),
        "limits": {lv: rel.derived(lambda r0, py=py, lv=lv: _limits(r0, py, lv), borough, decimals=1)
                   for lv in LEVELS},
    }
    out["position"] = {lv: rel.derived(position, rate, out["limits"][lv]) for lv in LEVELS}
    if tau2 is not None:
        out["limits_overdispersion_adjusted"] = {
            lv: rel.derived(lambda r0, t2, py=py, lv=lv: _limits(r0, py, lv, t2), borough, tau2, decimals=1)
            for lv in LEVELS}
        out["position_overdispersion_adjusted"] = {
            lv: rel.derived(position, rate, out["limits_overdispersion_adjusted"][lv]) for lv in LEVELS}
    return out


def _curve(rel: Release, raw: PracticeReferralsRaw, borough: Any, tau2: Any) -> dict[str, Any]:
    """The funnel's limits along a range of patient-years, for the plot."""
    pys = [u.patient_years for us in raw.practices.values() for u in us.values() if u.patient_years > 0]
    grid = [round(float(x)) for x in np.geomspace(min(pys) * 0.7, max(pys) * 1.3, CURVE_POINTS)]
    out: dict[str, Any] = {"patient_years": [rel.fact(x) for x in grid]}
    for lv in LEVELS:
        out[lv] = rel.derived(lambda r0, lv=lv: [_limits(r0, x, lv) for x in grid], borough, decimals=2)
        if tau2 is not None:
            out[f"{lv}_overdispersion_adjusted"] = rel.derived(
                lambda r0, t2, lv=lv: [_limits(r0, x, lv, t2) for x in grid], borough, tau2, decimals=2)
    return out


def _publish_overdispersion(rel: Release, over: dict[str, Any], base: Any) -> tuple[dict[str, Any], Any]:
    if not over.get("estimated"):
        return {"estimated": False, "reason": over.get("reason", "")}, None
    out: dict[str, Any] = {"estimated": True, "detected": bool(over["detected"]),
                           "phi": rel.estimate(over["phi"], base=base, decimals=2)}
    tau2 = rel.estimate(over["tau2"], base=base, decimals=3) if over["detected"] else None
    out["tau2"] = tau2
    return out, tau2


def publish(raw: PracticeReferralsRaw, rel: Release) -> dict[str, Any]:
    total = rel.same_as(raw.referrals, "activity.referrals", "referrals")  # all referrals, as there
    covered = rel.cell(raw.covered, "with_list_size")
    uncovered = rel.cell(raw.referrals - raw.covered, "without_list_size")
    rel.group(total, [covered, uncovered])
    pcn_cells = rel.split(covered, {p: u.referrals for p, u in raw.pcns.items()}, "pcn")
    borough = rel.rate(covered, raw.patient_years, per=1000, decimals=2)
    over, tau2 = _publish_overdispersion(rel, raw.over, covered)
    by_pcn: dict[str, Any] = {}
    for p, unit in raw.pcns.items():
        cells = rel.split(pcn_cells[p], {c: u.referrals for c, u in raw.practices[p].items()}, f"practices[{p}]")
        by_pcn[p] = _unit(rel, unit, pcn_cells[p], borough)
        by_pcn[p]["practices"] = {
            c: {"list_size": {y: rel.fact(s) for y, s in u.list_size.items()}, **_unit(rel, u, cells[c], borough, tau2)}
            for c, u in raw.practices[p].items()}
    without = rel.count(uncovered)
    return {
        "period_covered": {"start": raw.start.date().isoformat(), "end": raw.end.date().isoformat()},
        "years": list(raw.years),
        "counting": ("referrals over the whole extract, counted for the practice and financial year of the referral "
                     "when practices gives that practice's list size for that year; patient-years = list size x the "
                     "share of the financial year inside the extract; rates are the rounded counts per 1,000 "
                     "patient-years"),
        "referrals": rel.count(total),
        "referrals_with_list_size": rel.count(covered),
        "referrals_without_list_size": without,
        "all_referrals_with_list_size": rel.derived(lambda n: n == 0, without),
        "practices_without_list_size": list(raw.missing_practices),
        "practices_listed_under_two_pcns": list(raw.moved_pcn),
        "referrals_pcn_differs_from_list": rel.count(raw.pcn_differs),
        "n_practices": rel.fact(sum(len(us) for us in raw.practices.values())),
        "n_pcns": rel.fact(len(raw.pcns)),
        "patient_years": rel.fact(raw.patient_years),
        "rate_per_1000_per_year": borough,
        "funnel": {
            "method": ("Spiegelhalter funnel limits around the borough's rate: exact Poisson 95% and 99.8% limits at "
                       "each practice's patient-years (pipeline/funnel.py, as for boroughs); with overdispersion, "
                       "additive random-effects limits too"),
            "levels": list(LEVELS),
            "overdispersion": over,
            "curve": _curve(rel, raw, borough, tau2),
        },
        "by_pcn": by_pcn,
    }


# ---------------------------------------------------------------------------------- reading
def practice_rows(pub: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(PCN, practice code, its published row) for every practice, lowest published rate first
    (withheld rates last)."""
    rows = [(p, c, r) for p, d in pub["by_pcn"].items() for c, r in d["practices"].items()]
    return sorted(rows, key=lambda t: (t[2]["rate_per_1000_per_year"] is None, t[2]["rate_per_1000_per_year"] or 0,
                                       t[1]))


def verdict(row: dict[str, Any]) -> str | None:
    """The position a reader should act on at 99.8%: against the limits allowing for
    overdispersion when they are given, else the Poisson limits."""
    adjusted = row.get("position_overdispersion_adjusted")
    return (adjusted or row["position"])["99.8"]


def flagged(pub: dict[str, Any], side: str) -> list[str]:
    """Practice codes published as ``side`` ("below", "above") the 99.8% limits."""
    return [c for _, c, r in practice_rows(pub) if verdict(r) == side]


def reading(pub: dict[str, Any]) -> str:
    """A plain-English reading of the published section (published figures only)."""
    rate = pub["rate_per_1000_per_year"]
    if rate is None:
        return "Too few referrals with a list size to publish rates after disclosure control."
    low, high = flagged(pub, "below"), flagged(pub, "above")
    over = pub["funnel"]["overdispersion"]
    against = ("the limits that allow for practices varying more than chance" if over.get("detected")
               else "the Poisson limits")
    text = (f"Across the borough's practices there were {fmt(rate, 2)} referrals per 1,000 registered patients a "
            f"year. Against {against}, ")
    if low:
        text += f"{_names(low)} referred below the 99.8% limit: fewer than chance alone explains"
    else:
        text += "no practice referred below the 99.8% limit"
    text += f"; {_names(high)} above it. " if high else ". "
    text += ("A practice outside the limits is a question, not a verdict: its list may be younger or less deprived, "
             "it may refer through another route (a practice-based link worker recording elsewhere), or its list "
             "size may be out of date. Rates are for the whole extract, from rounded counts.")
    if pub["practices_without_list_size"]:
        text += (f" Referrals from {_names(pub['practices_without_list_size'])} have no list size and are left out "
                 "of the rates.")
    return text


def _names(codes: list[str]) -> str:
    return codes[0] if len(codes) == 1 else ", ".join(codes[:-1]) + " and " + codes[-1]


def headlines(pub: dict[str, Any]) -> list[Headline]:
    rate = pub["rate_per_1000_per_year"]
    if rate is None:
        return []
    low = flagged(pub, "below")
    return [Headline("Practices referring below the 99.8% funnel limit", _names(low) if low else "none",
                     f"borough rate {fmt(rate, 2)} referrals per 1,000 registered patients a year")]


SECTION = Section(
    name="practice_referrals",
    title="Referrals by practice against list size",
    notebook="25_practice_referrals",
    order=25,
    required=("referrals", "practices"),
    needs="This section needs the `practices` table: each GP practice's PCN and registered list size by financial "
          "year.",
    compute=lambda inputs: compute(inputs.whole),
    after=("activity",),
    publish=publish,
    reading=reading,
    headlines=headlines,
)
