"""Participants: who was referred (referrals by characteristic), Core20, and referred people
against the ``comparison_patients`` pool, a proxy for the registered list.

Every characteristic is a split of the referrals cell (source and reason *are* the cells of
``referrals_by_source`` / ``referrals_by_reason``); Core20 and "IMD recorded" are sums of the IMD
decile cells. Referred people are the section's ``patients`` cell (each person at their earliest
referral of the period), split by the same characteristics; a person's earliest referral is one of
the referrals, so each group's referrals are its people and their other referrals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ...disclosure import Release
from ...disclosure.cells import Cell
from ...extract import Extract
from ..labels import col, label_counts
from ..order import REFERRAL_ORDER, first_positions
from .figures import part_of, split, sum_of
from .referrals import Core

# Age bands as the Merton dashboard shows them (seed 000, "Age (on referral date)").
AGE_BANDS = [(0, 14, "0-14"), (15, 18, "15-18"), (19, 24, "19-24"), (25, 34, "25-34"), (35, 44, "35-44"),
             (45, 54, "45-54"), (55, 64, "55-64"), (65, 74, "65-74"), (75, 84, "75-84"), (85, 200, "85+")]
PARTICIPANT_COLUMNS = ("age_band", "gender", "ethnicity", "imd_decile", "referral_source", "referral_reason",
                       "risk_band", "carer", "diabetes", "severe_mental_illness")
BOOLEAN_COLUMNS = ("carer", "diabetes", "severe_mental_illness")
#: characteristics that ``comparison_patients`` also holds (no ethnicity or carer status there)
POOL_COLUMNS = ("age_band", "gender", "imd_decile", "risk_band", "diabetes", "severe_mental_illness")
CORE20_DECILES = ("1", "2")
CORE20_DEFINITION = "IMD deciles 1-2 (the most deprived fifth of neighbourhoods), of referrals with an IMD decile"
POOL_NOTE = ("Referred people (each at their earliest referral) against the comparison_patients pool, registered "
             "patients never referred: a proxy for the registered list's profile, not the list itself.")
NO_POOL_NOTE = "No comparison_patients table: no registered-population profile to compare with."


@dataclass
class ParticipantsRaw:
    referrals: int
    by: dict[str, dict[str, int]]  # column -> {category: referrals}
    people: int  # referred people (index referrals)
    people_by: dict[str, dict[str, int]]  # the same characteristics for people, at the index referral
    pool: int | None = None  # comparison_patients rows, when given
    pool_by: dict[str, dict[str, int]] = field(default_factory=dict)

    def __getitem__(self, column: str) -> dict[str, int]:
        return self.by[column]


def age_band(age: pd.Series) -> pd.Series:
    bins = [lo for lo, _, _ in AGE_BANDS] + [AGE_BANDS[-1][1] + 1]
    labels = [name for _, _, name in AGE_BANDS]
    return pd.cut(age.astype("float64"), bins=bins, labels=labels, right=False).astype("object")


def _characteristics(df: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, dict[str, int]]:
    return {c: label_counts(age_band(col(df, "age")) if c == "age_band" else col(df, c), boolean=c in BOOLEAN_COLUMNS)
            for c in columns}


def compute_participants(extract: Extract) -> ParticipantsRaw:
    """Who was referred (counts of referrals), and referred people against the comparison pool."""
    ref = extract["referrals"]
    # each person's index referral, with only the columns described (a copy of every column is slow)
    index = ref[[c for c in ref.columns if c in POOL_COLUMNS or c == "age"]].take(first_positions(ref, REFERRAL_ORDER))
    raw = ParticipantsRaw(referrals=len(ref), by=_characteristics(ref, PARTICIPANT_COLUMNS), people=len(index),
                          people_by=_characteristics(index, POOL_COLUMNS))
    if extract.has("comparison_patients"):
        pool = extract["comparison_patients"]
        raw.pool = len(pool)
        raw.pool_by = _characteristics(pool, POOL_COLUMNS)
    return raw


def publish_participants(p: ParticipantsRaw, rel: Release, core: Core) -> dict:
    """Who was referred, and referred people against the pool (keys ``participants...``)."""
    n = core.referrals
    cells: dict[str, dict[str, Cell]] = {}
    for c in PARTICIPANT_COLUMNS:
        shared = core.source if c == "referral_source" else core.reason if c == "referral_reason" else None
        cells[c] = ({k: shared[k] for k in p.by[c]} if shared is not None
                    else split(rel, n, p.by[c], f"participants.{c}"))
    imd = rel.counts(cells["imd_decile"])
    core20 = sum_of(rel, [cells["imd_decile"][k] for k in CORE20_DECILES if k in imd], "participants_summary.core20")
    # referrals with a decile: the sum of the published deciles (a cell of its own, published beside
    # the referrals, would give away a small "not recorded" count)
    recorded = rel.derived(lambda *v: sum(v), *[f for k, f in imd.items() if k.isdigit()])
    return {
        "participants": {c: imd if c == "imd_decile" else rel.counts(cells[c]) for c in PARTICIPANT_COLUMNS},
        "participants_pct": {c: rel.pcts(cells[c], n) for c in PARTICIPANT_COLUMNS},
        "participants_summary": {
            "imd_recorded": recorded,
            "core20_referrals": rel.count(core20),
            "core20_pct": rel.derived(lambda c, r: c / r * 100 if r else None, rel.count(core20), recorded,
                                      decimals=rel.rules.pct_decimals, reason="no referral has an IMD decile"),
            "core20_definition": CORE20_DEFINITION,
            "unit": "referrals",
        },
        "participants_vs_registered": _vs_registered(p, rel, core, cells),
    }


def _vs_registered(p: ParticipantsRaw, rel: Release, core: Core, referral_cells: dict[str, dict[str, Cell]]) -> dict:
    people = core.patients  # the same people: each patient of the period at their earliest referral in it
    if p.people != people.value:
        raise ValueError(f"{p.people} referred people but {people.value} patients")
    pool = rel.cell(p.pool, "participants_vs_registered.pool_people") if p.pool is not None else None
    out: dict = {
        "pool": "comparison_patients" if pool is not None else None,
        "note": POOL_NOTE if pool is not None else NO_POOL_NOTE,
        "referred_people": rel.count(people),
        "pool_people": rel.count(pool) if pool is not None else None,
        "columns": {},
    }
    if pool is None:
        return out
    for c in POOL_COLUMNS:
        keys = list(dict.fromkeys(list(p.people_by[c]) + list(p.pool_by[c])))
        ref_cells = split(rel, people, {k: p.people_by[c].get(k, 0) for k in keys}, f"people.{c}")
        pool_cells = split(rel, pool, {k: p.pool_by[c].get(k, 0) for k in keys}, f"pool.{c}")
        for k, cell in ref_cells.items():  # a group's referrals: its people and their later referrals
            if k in referral_cells[c]:
                part_of(rel, referral_cells[c][k], cell, f"later_referrals.{c}[{k}]")
        out["columns"][c] = {"referred_pct": rel.pcts(ref_cells, people), "pool_pct": rel.pcts(pool_cells, pool)}
    return out
