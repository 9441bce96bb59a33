"""Hospital-based social prescribing: service outcome, bed days saved, one-off personal health
budgets and the cost-benefit estimate (the extra ``hospital`` section of results.json).

Modelled on the Norfolk & Waveney secondary-care evaluation (seed 001, Tables 3, 4 and 7), from
the optional ``referrals`` columns ``service_outcome``, ``bed_days_saved`` and
``health_budget_gbp``.

Definitions (my readings, stated in the published ``method`` block too):

- **Hospital referrals**: referrals with at least one of the three columns recorded. A borough
  that runs a community service beside a hospital one leaves all three empty for community
  referrals, which are then outside this section. The unit is the *referral* (the seed reports
  "per referral"); every mean, SD or percentile must also rest on at least ``min_base`` distinct
  *people*, so a person referred twice cannot make a small group look large.
- **Service outcome** (Table 3): admission_avoided / discharge_expedited / other, and
  ``not_recorded`` for a hospital referral without one, as counts and as a percentage of all
  hospital referrals (the four add up to the total).
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
  (``settings.hospital.budget_bins_gbp``).
- **Cost benefit** (Table 7): bed days saved × ``settings.hospital.bed_day_tariff_gbp`` per
  referral; the *net* figure subtracts the budget spent on that referral (our reading of the
  seed's "value of system saving"). Both rest entirely on the service's own bed-day estimate,
  which is not an observed reduction in bed use.

Disclosure (:mod:`pipeline.disclosure`): every count is a cell, and every sum a reader can form is
declared: the outcomes add up to the referrals; in each outcome the referrals with a bed-day
estimate and those without add up to the outcome's count, and across outcomes to the section's
totals; likewise recipients and non-recipients of a budget, and the budget bins. A group's mean,
SD and total are withheld whenever its count is. A **total is the published mean times the
published (rounded) count**, never the exact sum: an exact total beside a mean gives the exact
count back (total / mean). The cost benefit is the published bed-day figures times the tariff
(an exact mean cost would show the bed-day mean to a thousandth of a day).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config import Settings, load_settings
from ..disclosure import Release
from ..disclosure.cells import Cell
from ..disclosure.figures import Figure
from ..extract import Extract
from ..formatting import fmt, money
from ..sections import Headline, NotAvailable, Section

FIELDS = ("service_outcome", "bed_days_saved", "health_budget_gbp")
OUTCOMES = ("admission_avoided", "discharge_expedited", "other")
NOT_RECORDED = "not_recorded"
GROUPS = (*OUTCOMES, NOT_RECORDED)
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
NO_VALUES = "no referral in the group has a value"


@dataclass
class HospitalRaw:
    frame: pd.DataFrame  # one row per hospital referral, patient level: never published
    tariff_gbp: float
    budget_bins: list[float]
    referrals_in_extract: int
    min_base: int
    notes: list[str] = field(default_factory=list)



def total_of(rel: Release, mean: Figure, n: Cell, decimals: int) -> Figure:
    """A group's total as its published mean x its published (rounded) count: dividing it by the mean
    gives the rounded count back, never the exact one."""
    return rel.derived(lambda m, k: m * k, mean, rel.count(n), decimals=decimals)

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
    fr["spent"] = fr["budget"].fillna(0)
    fr["net_saving"] = fr["bed_days"] * tariff - fr["spent"]
    # notes carry no numbers: counts are published (rounded) in the section itself
    notes = []
    if (fr["outcome"] == NOT_RECORDED).any():
        notes.append("Some hospital referrals have no service outcome recorded; they are counted as "
                     "'not recorded' and left out of the outcome percentages.")
    if fr["bed_days"].isna().any():
        notes.append("Some hospital referrals have no bed days saved recorded; bed-day and cost-benefit "
                     "figures use the referrals that do.")
    return HospitalRaw(fr, tariff, list(settings.hospital.budget_bins_gbp), len(ref),
                       settings.disclosure.min_base, notes)


# ----------------------------------------------------------------------------- helpers

def percentile_support(values: np.ndarray, people: np.ndarray, q_value: float) -> int:
    """Fewest distinct people on either side of a percentile value (at or below / at or above)."""
    below = len(set(people[values <= q_value]))
    above = len(set(people[values >= q_value]))
    return min(below, above)


def bin_labels(edges: list[float]) -> list[tuple[str, str, float, float]]:
    """(key, label, lo, hi) per bin; the first bin excludes 0 (recipients only), the last is open."""
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


def summarise(rel: Release, d: pd.DataFrame, col: str, n: Cell, decimals: int, suffix: str = "",
              percentiles: bool = True) -> dict[str, Any]:
    """Mean, SD, total and safe percentiles of ``d[col]`` (the rows of ``d`` with a value; ``n`` is
    their count's cell). Each rests on the distinct people behind it and is withheld with ``n``;
    the total is the published mean x the published count."""
    d = d[d[col].notna()]
    names = ["mean", "sd", "total"] + ([k for k, _ in PERCENTILES] if percentiles else [])
    if not len(d):
        return {k + suffix: rel.not_estimable(NO_VALUES) for k in names}
    v = d[col].to_numpy(dtype=float)
    pid = d["patient_id"].to_numpy()
    people = int(d["patient_id"].nunique())
    mean = rel.given(rel.mean(float(v.mean()), base=people, decimals=decimals), n)
    out = {"mean" + suffix: mean,
           "sd" + suffix: rel.given(rel.estimate(float(v.std(ddof=1)), base=people, decimals=decimals), n)
           if len(v) > 1 else rel.not_estimable("a standard deviation needs at least two values"),
           "total" + suffix: total_of(rel, mean, n, 0)}
    if percentiles:
        for k, q in PERCENTILES:
            val = float(np.quantile(v, q))
            out[k + suffix] = rel.given(rel.estimate(val, base=percentile_support(v, pid, val), decimals=decimals), n)
    return out


def _tariff(rel: Release, fig: Any, tariff: float) -> Any:
    """A published bed-day figure as its notional cost (to the pound)."""
    return rel.derived(lambda v: v * tariff, fig, decimals=0)


# ----------------------------------------------------------------------------- publish

def publish(raw: HospitalRaw, rel: Release) -> dict[str, Any]:
    fr = raw.frame
    outcome = fr["outcome"]
    n_ref = rel.cell(len(fr), "n_referrals")
    n_people = int(fr["patient_id"].nunique())
    n_pat = rel.cell(n_people, "n_patients")
    rel.group(n_ref, [n_pat, rel.cell(len(fr) - n_people, "repeat referrals")])  # referrals - people

    # --- Table 3: service outcome (the four add up to the referrals)
    by_outcome = rel.split(n_ref, {g: int((outcome == g).sum()) for g in GROUPS}, "service_outcome")
    present = [g for g in GROUPS if (outcome == g).any()]

    def crosstab(flag: pd.Series, total: Cell, label: str) -> tuple[Cell, Cell, dict[str, Cell]]:
        """Cells of outcome x (flag, not flag): the flag's count, the rest, the flag's count in each outcome."""
        yes, no = rel.cell(int(flag.sum()), label), rel.cell(int((~flag).sum()), f"not {label}")
        rel.group(total, [yes, no])
        counts = {g: {"yes": int((flag & (outcome == g)).sum()), "no": int((~flag & (outcome == g)).sum())}
                  for g in GROUPS}
        cells = rel.cross(by_outcome, {"yes": yes, "no": no}, counts, label)
        return yes, no, {g: cells[(g, "yes")] for g in GROUPS}

    # --- Table 7: bed days saved
    bd_n, _, bd_by = crosstab(fr["bed_days"].notna(), n_ref, "bed days")
    bd = {"n": rel.count(bd_n), **summarise(rel, fr, "bed_days", bd_n, decimals=1)}
    bd["by_outcome"] = {g: {"n": rel.count(bd_by[g]),
                            **summarise(rel, fr[outcome == g], "bed_days", bd_by[g], 1, percentiles=False)}
                        for g in present if fr.loc[outcome == g, "bed_days"].notna().any()}

    # --- Table 4: one-off personal health budgets
    rec_n, not_rec, rec_by = crosstab(fr["received_budget"], n_ref, "recipients")
    rec = fr[fr["received_budget"]]
    amount_nr = rel.cell(int(fr["budget"].isna().sum()), "amount not recorded")  # no budget: 0 or empty
    rel.group(not_rec, [amount_nr, rel.cell(int((fr["budget"] == 0).sum()), "amount 0")])
    hb: dict[str, Any] = {
        "referrals": rel.count(n_ref),
        "recipients": rel.count(rec_n),
        "recipients_pct": rel.pct(rec_n, n_ref),
        "amount_not_recorded": rel.count(amount_nr),
        **summarise(rel, rec, "budget", rec_n, decimals=2, suffix="_gbp"),
    }
    bins = {k: int(((rec["budget"] >= lo) & (rec["budget"] < hi)).sum()) for k, _l, lo, hi in bin_labels(raw.budget_bins)}
    hb["bins"] = rel.counts(rel.split(rec_n, bins, "budget bins"))
    hb["bin_labels"] = {k: label for k, label, _, _ in bin_labels(raw.budget_bins)}
    hbo: dict[str, Any] = {}
    for g in present:
        grec = rec[rec["outcome"] == g]
        mean = (rel.given(rel.mean(float(grec["budget"].mean()), base=int(grec["patient_id"].nunique()),
                                    decimals=2), rec_by[g])
                if len(grec) else rel.not_estimable("no recipients in the group"))
        hbo[g] = {"referrals": rel.count(by_outcome[g]), "recipients": rel.count(rec_by[g]),
                  "recipients_pct": rel.pct(rec_by[g], by_outcome[g]), "mean_gbp": mean,
                  "total_gbp": total_of(rel, mean, rec_by[g], 0) if len(grec)
                  else rel.derived(lambda n: 0.0 * n, rel.count(rec_by[g]))}
    hb["by_outcome"] = hbo

    # --- Table 7: cost benefit of the estimated bed days: the published bed-day figures x tariff
    t = raw.tariff_gbp
    cb: dict[str, Any] = {"n": rel.count(bd_n)}
    cb.update({f"{k}_gbp": _tariff(rel, bd[k], t) for k in ("mean", "sd", "total", *(p for p, _ in PERCENTILES))})
    cb["bed_day_tariff_gbp"] = rel.fact(t)
    withbd = fr[fr["bed_days"].notna()]
    spent = rel.given(rel.mean(float(withbd["spent"].mean()), base=int(withbd["patient_id"].nunique()), decimals=2),
                  bd_n) if len(withbd) else rel.not_estimable(NO_VALUES)
    net_mean = rel.derived(lambda c, s: c - s, cb["mean_gbp"], spent, decimals=0)
    cb["net_of_budget"] = {
        "n": rel.count(bd_n),
        "budget_mean_gbp": spent,
        "mean_gbp": net_mean,
        "sd_gbp": (rel.given(rel.estimate(float(withbd["net_saving"].std(ddof=1)),
                                           base=int(withbd["patient_id"].nunique()), decimals=0), bd_n)
                   if len(withbd) > 1 else rel.not_estimable("a standard deviation needs at least two values")),
        "total_gbp": total_of(rel, net_mean, bd_n, 0),
    }
    cb["by_outcome"] = {g: {"n": rel.count(bd_by[g]),
                            **{f"{k}_gbp": _tariff(rel, v[k], t) for k in ("mean", "sd", "total")}}
                        for g, v in bd["by_outcome"].items()}
    cb["caveat"] = BED_DAYS_CAVEAT

    m = raw.min_base
    return {
        "unit": "referral",
        "n_referrals": rel.count(n_ref),
        "n_patients": rel.count(n_pat),
        "service_outcome": {"counts": rel.counts(by_outcome), "pct": rel.pcts(by_outcome, n_ref)},
        "bed_days_saved": bd,
        "health_budget": hb,
        "cost_benefit": cb,
        "method": {
            "population": "referrals with a service outcome, bed days saved or health budget recorded",
            "unit": f"referral; every mean, SD or percentile also rests on at least {m} distinct people",
            "range": RANGE_CHOICE.format(m=m),
            "totals": "a total is the published mean x the published (rounded) number of referrals, so that the "
                      "two cannot be divided to give the exact number back",
            "service_outcome_pct": "of all hospital referrals, 'not recorded' included as a category",
            "health_budget": "received = health_budget_gbp > 0; 0 or empty = no budget; amounts among recipients",
            "cost_benefit": f"the published bed-day figures x £{raw.tariff_gbp:,.0f} per bed day "
                            "(settings.hospital.bed_day_tariff_gbp); net = cost benefit - the mean budget spent per "
                            "referral with a bed-day estimate (0 where none)",
            "percentiles": "numpy linear interpolation (type 7, as R's default)",
        },
        "notes": list(raw.notes),
    }


# ----------------------------------------------------------------------------- prose

def reading(hs: dict[str, Any]) -> str:
    """A plain-English reading of the published section (published figures only)."""
    so, bd, hb, cb = hs["service_outcome"], hs["bed_days_saved"], hs["health_budget"], hs["cost_benefit"]
    if hs["n_referrals"] is None or bd["mean"] is None:
        return ("Too few hospital referrals have an outcome, bed-day estimate or budget recorded in this extract to "
                "publish figures about them without risking identifying people.")
    txt = f"The hospital social prescribing service recorded about {fmt(hs['n_referrals'])} referrals. "
    pe, pa = so["pct"]["discharge_expedited"], so["pct"]["admission_avoided"]
    if pe is not None and pa is not None:
        txt += (f"For {fmt(pe, 0)}% the service recorded that it helped to expedite a discharge, and for "
                f"{fmt(pa, 0)}% that it helped to avoid an admission. ")
    txt += (f"By the service's own estimate it saved {fmt(bd['mean'], 1)} bed days per referral on average "
            f"(about {fmt(bd['total'], 0)} in total); valued at {money(cb['bed_day_tariff_gbp'])} a bed day that is "
            f"a notional {money(cb['total_gbp'])}. ")
    if hb["recipients_pct"] is not None and hb["mean_gbp"] is not None:
        txt += (f"About {fmt(hb['recipients_pct'], 0)}% of referrals received a one-off personal health "
                f"budget, averaging {money(hb['mean_gbp'])} per recipient. ")
    return txt + ("These bed days are the service's estimate, not a measured fall in bed use, and the money is a "
                  "notional value, not cash released.")


def headlines(hs: dict[str, Any]) -> list[Headline]:
    bd, cb = hs["bed_days_saved"], hs["cost_benefit"]
    if bd["mean"] is None:
        return []
    return [Headline("Bed days saved (the service's own estimate)", f"{fmt(bd['mean'], 1)} per referral",
                     f"about {fmt(bd['total'], 0)} in total; notional value {money(cb['total_gbp'])} at "
                     f"{money(cb['bed_day_tariff_gbp'])} a bed day, not cash released")]


SECTION = Section(
    name="hospital",
    title="Hospital-based social prescribing",
    notebook="80_hospital",
    order=80,
    required=("referrals",),
    needs="This section needs hospital referrals: the optional `referrals` columns `service_outcome`, "
          "`bed_days_saved` or `health_budget_gbp`.",
    compute=lambda inputs: compute(inputs.whole, inputs.settings),
    publish=publish,
    available=lambda inputs: availability(inputs.whole),
    reading=reading,
    headlines=headlines,
)
