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
- **Budget**: one-off personal health budgets are published once, in the ``hospital`` section
  (over the whole extract); publishing them here again, under a second release whose disclosure
  decisions could differ, would let a reader subtract one from the other.

Disclosure: FTE, FTE-years and registered populations describe the service, not people
(``fact``). People referred and seen are counts, tied by their sums: the PCNs add up to the
whole, so do the financial years, and in each of them the people referred are those seen plus
those never seen (so a small number never seen is hidden, not left to subtraction). Caseloads
are rates of the rounded counts per FTE-year.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..config import Settings
from ..disclosure import Release
from ..extract import Extract
from ..formatting import fmt
from ..sections import Section
from .order import combine_codes

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

    ref_all = extract["referrals"]
    recorded = "health_budget_gbp" in ref_all.columns and bool(ref_all["health_budget_gbp"].notna().any())
    return InputsRaw(start=cfg.start, end=cfg.end, quarters=quarters, fte=fte, population=population,
                     overall=overall, by_pcn=by_pcn, by_year=by_year, budget_recorded=recorded)


def judge(value: float | None, band: tuple[int, int] = CASELOAD_GUIDANCE) -> str | None:
    if value is None:
        return None
    return "below" if value < band[0] else "above" if value > band[1] else "within"


PEOPLE = ("people_referred", "people_seen", "people_never_seen")


def _people(rel: Release, c: Caseload, label: str) -> dict[str, Any]:
    """Cells for one caseload row: referred = seen + never seen."""
    cells = {"people_referred": rel.cell(c.referred, f"{label}.referred"),
             "people_seen": rel.cell(c.seen, f"{label}.seen"),
             "people_never_seen": rel.cell(c.referred - c.seen, f"{label}.never_seen")}
    rel.group(cells["people_referred"], [cells["people_seen"], cells["people_never_seen"]])
    return cells


def _publish_caseload(rel: Release, c: Caseload, cells: dict[str, Any]) -> dict[str, Any]:
    referred = rel.rate(cells["people_referred"], c.fte_years, per=1, decimals=1)
    seen = rel.rate(cells["people_seen"], c.fte_years, per=1, decimals=1)
    return {
        "fte_years": rel.fact(c.fte_years, decimals=2),
        "people_referred": rel.count(cells["people_referred"]),
        "people_seen": rel.count(cells["people_seen"]),
        "referred_per_fte_year": referred,
        "seen_per_fte_year": seen,
        "seen_vs_guidance": rel.derived(judge, seen),
        "referred_vs_guidance": rel.derived(judge, referred),
    }


def publish(raw: InputsRaw, rel: Release) -> dict[str, Any]:
    fte = {p: {q: rel.fact(v, decimals=2) for q, v in qs.items()} for p, qs in raw.fte.items()}
    fte_total = {q: sum(qs.get(q, 0.0) for qs in raw.fte.values()) for q in raw.quarters}
    per_100k = {q: (rel.fact(fte_total[q] / raw.population[q] * 100_000, decimals=2) if raw.population.get(q)
                    else rel.not_estimable("no registered population given for the quarter"))
                for q in raw.quarters}
    # people: the PCNs add up to the whole, and so do the financial years (each person is counted
    # once per PCN and financial year), in every column (referred, seen, never seen)
    overall = _people(rel, raw.overall, "caseload")
    by_pcn = {p: _people(rel, c, f"caseload.{p}") for p, c in raw.by_pcn.items()}
    by_year = {y: _people(rel, c, f"caseload.{y}") for y, c in raw.by_year.items()}
    for parts in (by_pcn, by_year):
        for k in PEOPLE:
            rel.group(overall[k], [cells[k] for cells in parts.values()])
    if raw.budget_recorded:
        budget = {"status": "in_hospital_section",
                  "reason": "one-off personal health budgets are published once, in the hospital section (over the "
                            "whole extract), so that the same budgets are not published twice"}
    else:
        budget = {"status": "not_recorded",
                  "reason": "the extract records no one-off personal health budgets (`health_budget_gbp` is empty)"}
    return {
        "period_covered": {"start": raw.start.date().isoformat(), "end": raw.end.date().isoformat()},
        "quarters": raw.quarters,
        "fte_by_pcn_quarter": fte,
        "fte_total_by_quarter": {q: rel.fact(v, decimals=2) for q, v in fte_total.items()},
        "fte_per_100k_registered_by_quarter": per_100k,
        "caseload": {
            "guidance_per_fte_year": [rel.fact(v) for v in CASELOAD_GUIDANCE],
            "guidance_source": CASELOAD_SOURCE,
            "counting": ("people referred in PCN-quarters that pcn_quarterly covers inside the period, once per PCN "
                         "and financial year; seen = at least one attended appointment; FTE-years = FTE x days in "
                         "the period / 365.25; rates are the rounded counts per FTE-year"),
            **_publish_caseload(rel, raw.overall, overall),
            "by_pcn": {p: _publish_caseload(rel, c, by_pcn[p]) for p, c in raw.by_pcn.items()},
            "by_financial_year": {y: _publish_caseload(rel, c, by_year[y]) for y, c in raw.by_year.items()},
        },
        "budget": budget,
    }


def fte_table(inp: dict[str, Any]) -> pd.DataFrame:
    """The numbers the FTE chart draws, from the published section: a row per quarter, the FTE of
    each PCN (empty where ``pcn_quarterly`` has no row for the PCN that quarter) and the FTE per
    100,000 registered (``None``, shown as ``[c]``, where it is not published)."""
    fte = inp["fte_by_pcn_quarter"]
    per = inp["fte_per_100k_registered_by_quarter"]
    rows = [{"Quarter starting": q, **{f"{p} (FTE)": fte[p].get(q, "") for p in fte},
             "All PCNs given: FTE per 100,000 registered": per.get(q)} for q in inp["quarters"]]
    return pd.DataFrame(rows, dtype=object)


def caseload_table(inp: dict[str, Any]) -> pd.DataFrame:
    """The numbers the caseload chart draws, from the published section: people seen per FTE-year
    in each PCN and how that compares with the guidance (``None`` where withheld)."""
    c = inp["caseload"]
    lo, hi = c["guidance_per_fte_year"]
    rows = [(p, r["seen_per_fte_year"], r["seen_vs_guidance"]) for p, r in c["by_pcn"].items()]
    return pd.DataFrame(rows, columns=["PCN", "People seen per FTE-year", f"Against the guidance of {lo}–{hi}"],
                        dtype=object)


def reading(inp: dict[str, Any]) -> str:
    """A plain-English reading of the published section (published figures only)."""
    c = inp["caseload"]
    lo, hi = c["guidance_per_fte_year"]
    period = inp["period_covered"]
    seen = c["seen_per_fte_year"]
    if seen is None:
        text = "Too few people in the period to publish a caseload per link worker after disclosure control."
    else:
        text = (f"From {period['start']} to {period['end']}, each full-time-equivalent link worker saw about "
                f"{fmt(seen, 0)} different people a year ({fmt(c['referred_per_fte_year'], 0)} referred), "
                f"{c['seen_vs_guidance']} the national guidance of {lo}–{hi}.")
        n_pcn = {k: sum(1 for r in c["by_pcn"].values() if r["seen_vs_guidance"] == k)
                 for k in ("below", "within", "above")}
        n_hidden = sum(1 for r in c["by_pcn"].values() if r["seen_vs_guidance"] is None)
        text += (f" By PCN: {n_pcn['below']} below, {n_pcn['within']} within and {n_pcn['above']} above the band"
                 + (f" ({n_hidden} not shown after disclosure control)" if n_hidden else "") + ".")
    return text + (" A caseload well below the band can mean spare capacity, long and intensive support, or link "
                   "workers doing work the extract does not record (groups, outreach); well above it can mean short "
                   "contacts or waiting lists. The FTE figures are as the PCNs reported them.")


SECTION = Section(
    name="inputs",
    title="Inputs: link workers, caseloads and budgets",
    notebook="10_inputs",
    order=10,
    required=("referrals", "pcn_quarterly"),
    optional=("sp_contacts",),
    needs="Link-worker FTE and caseloads need `pcn_quarterly` (PCN, quarter, registered population and "
          "`splw_fte`).",
    follows_period=True,
    compute=lambda inputs: compute(inputs.extract, inputs.settings),
    publish=publish,
    reading=reading,
)
