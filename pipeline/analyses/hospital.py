"""Hospital-based social prescribing: service outcome, bed days saved, one-off personal health
budgets and the cost-benefit estimate (the extra ``hospital`` section of results.json).

Modelled on the Norfolk & Waveney secondary-care evaluation (seed 001, Tables 3, 4 and 7), from
the optional ``referrals`` columns ``service_outcome``, ``bed_days_saved`` and
``health_budget_gbp``.

Definitions (my readings, stated in the published ``method`` block too):

- **Hospital referrals**: referrals with at least one of the three columns recorded. A borough
  that runs a community service beside a hospital one leaves all three empty for community
  referrals, which are then outside this section. The unit is the *referral* (the seed reports
  "per referral"); every mean, percentage or percentile must also rest on at least
  ``min_base`` distinct *people*, so a person referred twice cannot make a small group look large.
- **Service outcome** (Table 3): admission_avoided / discharge_expedited / other, and
  ``not_recorded`` for a hospital referral without one, as counts and as a percentage of all
  hospital referrals (the four add up to the total, so they are one group for secondary
  suppression).
- **Bed days saved** (Table 7): the service's own estimate, per referral with a value. Mean, SD,
  total and percentiles. *Range:* the seed publishes the minimum and maximum (1 and 42 days);
  an extreme is one person's value, so this section never publishes a minimum or maximum.
  Instead it publishes P10, P25, median, P75 and P90, each only when at least ``min_base``
  people lie at or below it **and** at least ``min_base`` at or above it (so P10/P90 need about
  80 people, quartiles about 32, the median 16).
- **One-off personal health budgets** (Table 4): a referral *received* a budget when
  ``health_budget_gbp > 0``; 0 or empty count as "no budget" (the seed's Yes/No split covers
  every referral). The percentage receiving is of all hospital referrals; mean, SD, total and
  percentiles are among recipients; recipients are also binned by amount
  (``settings.hospital.budget_bins_gbp``) with secondary suppression.
- **Cost benefit** (Table 7): bed days saved × ``settings.hospital.bed_day_tariff_gbp`` per
  referral; the *net* figure subtracts the budget spent on that referral (our reading of the
  seed's "value of system saving"). Both rest entirely on the service's own bed-day estimate,
  which is not an observed reduction in bed use.

Breakdowns by service outcome suppress a group that rests on fewer than ``min_base`` people and,
when any group is suppressed, the next smallest as well (secondary suppression), so a hidden
group's total cannot be recovered as "overall total minus the others".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config import Settings, load_settings
from ..disclosure import SDC
from ..extract import Extract

SECTION = "hospital"
REQUIRED = ("referrals",)
FIELDS = ("service_outcome", "bed_days_saved", "health_budget_gbp")
OUTCOMES = ("admission_avoided", "discharge_expedited", "other")
NOT_RECORDED = "not_recorded"
OUTCOME_LABELS = {"admission_avoided": "Admission avoided", "discharge_expedited": "Discharge expedited",
                  "other": "Other", NOT_RECORDED: "Not recorded"}
PERCENTILES = (("p10", 0.10), ("p25", 0.25), ("median", 0.50), ("p75", 0.75), ("p90", 0.90))

BED_DAYS_CAVEAT = (
    "Bed days saved are the service's own estimate for each referral (in the published "
    "Norfolk & Waveney method, including 2 days added by the referral criteria), not an observed "
    "fall in bed use against a comparison group. The cost benefit multiplies that estimate by a "
    "single bed-day tariff, so it is a notional value of the estimate, not cash released: beds "
    "freed are normally re-used, and the tariff is an average that does not reflect marginal cost."
)
RANGE_CHOICE = (
    "No minimum or maximum is published: each is a single person's value. Percentiles are published "
    "only when at least {m} people lie on each side of them."
)


class NotAvailable(Exception):
    """The extract cannot support this section; the message is the reason."""


@dataclass
class HospitalRaw:
    frame: pd.DataFrame  # one row per hospital referral, patient level: never published
    tariff_gbp: float
    budget_bins: list[float]
    referrals_in_extract: int
    notes: list[str] = field(default_factory=list)


def availability(extract: Extract) -> str | None:
    """``None`` when the section can run, otherwise the reason it cannot."""
    if not extract.has("referrals"):
        return "this extract has no `referrals` table"
    ref = extract["referrals"]
    present = [c for c in FIELDS if c in ref.columns and ref[c].notna().any()]
    if not present:
        return ("no referral has a service outcome, bed days saved or personal health budget recorded "
                "(the optional `referrals` columns service_outcome, bed_days_saved, health_budget_gbp)")
    return None


def compute(extract: Extract, settings: Settings | None = None) -> HospitalRaw:
    settings = settings or load_settings()
    reason = availability(extract)
    if reason:
        raise NotAvailable(reason)
    ref = extract["referrals"]
    cols = {c: (ref[c] if c in ref.columns else pd.Series(np.nan, index=ref.index)) for c in FIELDS}
    mask = pd.Series(False, index=ref.index)
    for s in cols.values():
        mask |= s.notna()
    tariff = float(settings.hospital.bed_day_tariff_gbp)
    fr = pd.DataFrame({
        "referral_id": ref.loc[mask, "referral_id"].astype(str).to_numpy(),
        "patient_id": ref.loc[mask, "patient_id"].astype(str).to_numpy(),
        "outcome": cols["service_outcome"][mask].astype("object").where(cols["service_outcome"][mask].notna(),
                                                                         NOT_RECORDED).to_numpy(),
        "bed_days": pd.to_numeric(cols["bed_days_saved"][mask], errors="coerce").astype("float64").to_numpy(),
        "budget": pd.to_numeric(cols["health_budget_gbp"][mask], errors="coerce").astype("float64").to_numpy(),
    })
    fr["received_budget"] = fr["budget"].fillna(0) > 0
    fr["cost_benefit"] = fr["bed_days"] * tariff
    fr["net_saving"] = fr["cost_benefit"] - fr["budget"].fillna(0)
    # notes carry no numbers: counts are published (rounded) in the section itself
    notes = []
    if (fr["outcome"] == NOT_RECORDED).any():
        notes.append("Some hospital referrals have no service outcome recorded; they are counted as "
                     "'not recorded' and left out of the outcome percentages.")
    if fr["bed_days"].isna().any():
        notes.append("Some hospital referrals have no bed days saved recorded; bed-day and cost-benefit "
                     "figures use the referrals that do.")
    return HospitalRaw(fr, tariff, list(settings.hospital.budget_bins_gbp), len(ref), notes)


# ----------------------------------------------------------------------------- helpers

def hidden_groups(sdc: SDC, people: dict[str, int]) -> set[str]:
    """Groups (of a breakdown that adds up to a published total) whose figures must be hidden:
    those resting on fewer than ``min_base`` people, then, when any is hidden, the next smallest
    until at least two are hidden and together they hold at least ``min_base`` people."""
    if not sdc.enabled:
        return set()
    hidden = {g for g, n in people.items() if n > 0 and not sdc.base_ok(n)}
    if not hidden:
        return hidden
    cand = sorted((n, g) for g, n in people.items() if g not in hidden and n > 0)
    while cand and (len(hidden) == 1 or sum(people[g] for g in hidden) < sdc.rules.min_base):
        hidden.add(cand.pop(0)[1])
    return hidden


def percentile_support(values: np.ndarray, people: np.ndarray, q_value: float) -> int:
    """Fewest distinct people on either side of a percentile value (at or below / at or above)."""
    below = len(set(people[values <= q_value]))
    above = len(set(people[values >= q_value]))
    return min(below, above)


def summarise(sdc: SDC, df: pd.DataFrame, col: str, key: str, decimals: int = 2,
              total_decimals: int = 0, percentiles: bool = True, suffix: str = "",
              with_n: bool = True) -> dict[str, Any]:
    """n, mean, SD, total and safe percentiles of ``df[col]`` (rows with a value). Output keys
    (and suppressed paths ``<key>.<name>``) are ``n`` and ``mean<suffix>``, ``sd<suffix>``, ..."""
    d = df[df[col].notna()]
    v = d[col].to_numpy(dtype=float)
    pid = d["patient_id"].to_numpy()
    n_people = int(d["patient_id"].nunique())
    out: dict[str, Any] = {"n": sdc.count(len(d), f"{key}.n")} if with_n else {}
    if not len(d):  # nothing to summarise: empty, not suppressed
        names = ["mean", "sd", "total"] + ([n for n, _ in PERCENTILES] if percentiles else [])
        return {**out, **{n + suffix: None for n in names}}
    stats = {"mean": float(v.mean()) if len(v) else None,
             "sd": float(v.std(ddof=1)) if len(v) > 1 else None,
             "total": float(v.sum()) if len(v) else None}
    for name, val in stats.items():
        if val is None:  # undefined (an SD of one value): not estimable, not suppressed
            out[name + suffix] = None
            continue
        out[name + suffix] = sdc.stat(val, n_people, f"{key}.{name}{suffix}",
                                      total_decimals if name == "total" else decimals)
    if percentiles:
        for name, q in PERCENTILES:
            val = float(np.quantile(v, q)) if len(v) else None
            support = percentile_support(v, pid, val) if val is not None else 0
            out[name + suffix] = sdc.stat(val, support, f"{key}.{name}{suffix}", decimals)
    return out


def _suppress_all(sdc: SDC, key: str, names: tuple[str, ...]) -> dict[str, Any]:
    return {k: sdc.stat(None, None, f"{key}.{k}") for k in names}


def by_outcome(sdc: SDC, df: pd.DataFrame, col: str, key: str, decimals: int = 2,
               total_decimals: int = 0, suffix: str = "") -> dict[str, Any]:
    """Per service outcome: n, mean, SD, total (no percentiles: groups are small), with
    secondary suppression across the groups."""
    d = df[df[col].notna()]
    groups = [g for g in (*OUTCOMES, NOT_RECORDED) if (d["outcome"] == g).any()]
    people = {g: int(d.loc[d["outcome"] == g, "patient_id"].nunique()) for g in groups}
    hide = hidden_groups(sdc, people)
    out: dict[str, Any] = {}
    for g in groups:
        gk = f"{key}.{g}"
        if g in hide:
            out[g] = _suppress_all(sdc, gk, ("n", "mean" + suffix, "sd" + suffix, "total" + suffix))
        else:
            out[g] = summarise(sdc, d[d["outcome"] == g], col, gk, decimals, total_decimals,
                               percentiles=False, suffix=suffix)
    return out


def pct_of_people(sdc: SDC, num: int, den: int, people: int, key: str) -> float | None:
    """``sdc.pct`` with the base checked on distinct people as well as on referrals."""
    if not sdc.base_ok(people):
        return sdc.stat(None, None, key)
    return sdc.pct(num, den, key)


def bin_labels(edges: list[float]) -> list[tuple[str, str, float, float]]:
    """(key, label, lo, hi) per bin; the first bin excludes 0 (recipients only), the last is open."""
    def money(x: float) -> str:
        return f"£{x:,.0f}"
    out = []
    for i, lo in enumerate(edges):
        hi = edges[i + 1] if i + 1 < len(edges) else float("inf")
        k = f"{lo:g}-{hi:g}" if np.isfinite(hi) else f"{lo:g}+"
        if i == 0:
            label = f"under {money(hi)}" if np.isfinite(hi) else "any amount"
        elif np.isfinite(hi):
            label = f"{money(lo)} to under {money(hi)}"
        else:
            label = f"{money(lo)} and over"
        out.append((k, label, lo, hi))
    return out


# ----------------------------------------------------------------------------- publish

def publish(raw: HospitalRaw, sdc: SDC) -> dict[str, Any]:
    fr = raw.frame
    m = sdc.rules.min_base
    out: dict[str, Any] = {
        "unit": "referral",
        "n_referrals": sdc.count(len(fr), "n_referrals"),
        "n_patients": sdc.count(int(fr["patient_id"].nunique()), "n_patients"),
    }

    # --- Table 3: service outcome
    # the four cells add up to n_referrals, so "not recorded" is part of the group for secondary
    # suppression (a small "other" can then be protected by a small "not recorded" rather than by
    # hiding a large outcome)
    cells = {o: int((fr["outcome"] == o).sum()) for o in (*OUTCOMES, NOT_RECORDED)}
    out["service_outcome"] = {
        "counts": sdc.counts(cells, "service_outcome.counts"),
        "pct": sdc.distribution(cells, "service_outcome.pct"),
    }

    # --- Table 7: bed days saved
    bd = summarise(sdc, fr, "bed_days", "bed_days_saved", decimals=1, total_decimals=1)
    bd["by_outcome"] = by_outcome(sdc, fr, "bed_days", "bed_days_saved.by_outcome", decimals=1, total_decimals=1)
    out["bed_days_saved"] = bd

    # --- Table 4: one-off personal health budgets
    rec = fr[fr["received_budget"]]
    hb: dict[str, Any] = {
        "referrals": sdc.count(len(fr), "health_budget.referrals"),
        "recipients": sdc.count(len(rec), "health_budget.recipients"),
        "recipients_pct": pct_of_people(sdc, len(rec), len(fr), int(fr["patient_id"].nunique()),
                                        "health_budget.recipients_pct"),
        "amount_not_recorded": sdc.count(int(fr["budget"].isna().sum()), "health_budget.amount_not_recorded"),
    }
    # n would repeat "recipients"
    hb.update(summarise(sdc, rec, "budget", "health_budget", decimals=2, total_decimals=0, suffix="_gbp",
                        with_n=False))
    bins = {}
    for k, _label, lo, hi in bin_labels(raw.budget_bins):
        bins[k] = int(((rec["budget"] >= lo) & (rec["budget"] < hi)).sum())
    hb["bins"] = sdc.counts(bins, "health_budget.bins")
    hb["bin_labels"] = {k: label for k, label, _, _ in bin_labels(raw.budget_bins)}
    # by outcome: recipients and % receiving, mean among recipients; secondary suppression on people
    groups = [g for g in (*OUTCOMES, NOT_RECORDED) if (fr["outcome"] == g).any()]
    people = {g: int(fr.loc[fr["outcome"] == g, "patient_id"].nunique()) for g in groups}
    rec_people = {g: int(rec.loc[rec["outcome"] == g, "patient_id"].nunique()) for g in groups}
    hide = hidden_groups(sdc, people) | hidden_groups(sdc, rec_people)
    hbo: dict[str, Any] = {}
    for g in groups:
        gk = f"health_budget.by_outcome.{g}"
        if g in hide:
            hbo[g] = _suppress_all(sdc, gk, ("referrals", "recipients", "recipients_pct", "mean_gbp", "total_gbp"))
            continue
        gfr = fr[fr["outcome"] == g]
        grec = gfr[gfr["received_budget"]]
        hbo[g] = {
            "referrals": sdc.count(len(gfr), f"{gk}.referrals"),
            "recipients": sdc.count(len(grec), f"{gk}.recipients"),
            "recipients_pct": pct_of_people(sdc, len(grec), len(gfr), people[g], f"{gk}.recipients_pct"),
            # no recipients: the mean is undefined (None, not suppressed) and the total is £0
            "mean_gbp": sdc.stat(float(grec["budget"].mean()), rec_people[g], f"{gk}.mean_gbp", 2)
            if len(grec) else None,
            "total_gbp": sdc.stat(float(grec["budget"].sum()), rec_people[g], f"{gk}.total_gbp", 0)
            if len(grec) else 0.0,
        }
    hb["by_outcome"] = hbo
    out["health_budget"] = hb

    # --- Table 7: cost benefit of the estimated bed days
    cb = summarise(sdc, fr, "cost_benefit", "cost_benefit", decimals=0, total_decimals=0, suffix="_gbp")
    cb["bed_day_tariff_gbp"] = raw.tariff_gbp
    cb["net_of_budget"] = summarise(sdc, fr, "net_saving", "cost_benefit.net_of_budget", decimals=0,
                                    total_decimals=0, percentiles=False, suffix="_gbp")
    cb["by_outcome"] = by_outcome(sdc, fr, "cost_benefit", "cost_benefit.by_outcome", decimals=0, suffix="_gbp")
    cb["caveat"] = BED_DAYS_CAVEAT
    out["cost_benefit"] = cb

    out["method"] = {
        "population": "referrals with a service outcome, bed days saved or health budget recorded",
        "unit": "referral; every mean, % or percentile also rests on at least "
                f"{m} distinct people" if sdc.enabled else "referral",
        "range": RANGE_CHOICE.format(m=m),
        "service_outcome_pct": "of all hospital referrals, 'not recorded' included as a category",
        "health_budget": "received = health_budget_gbp > 0; 0 or empty = no budget; amounts among recipients",
        "cost_benefit": f"bed days saved x £{raw.tariff_gbp:,.0f} per bed day "
                        "(settings.hospital.bed_day_tariff_gbp); net = cost benefit - budget spent",
        "percentiles": "numpy linear interpolation (type 7, as R's default)",
    }
    out["notes"] = list(raw.notes)
    return out
