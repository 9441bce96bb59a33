"""The London-wide comparison: funnel plots and ranked tables built from every borough's
published ``reports/<borough>/results.json`` (data contract section 3), never from patient rows.

What is compared (one funnel plot and one ranked table per indicator):

- **referral rate** per 1,000 registered patients a year: a Poisson rate, referrals
  (``activity.referrals``) over person-years registered (``activity.referral_rates``:
  ``registered_population`` x ``years``);
- **missed or cancelled appointments** (``activity.dna_or_cancelled_pct`` of
  ``activity.contacts_booked``): a binomial proportion;
- **ONS4 change**, one indicator per item (``wellbeing.ons4.<item>``): a mean change over
  ``n_pairs`` people, its standard error taken from the published 95% CI (a t-interval);
- **30-day readmission** (``readmission.cif_30d_pct`` over ``n_index`` people): treated as a
  binomial proportion (the Aalen-Johansen estimate allows for censoring; the funnel does not);
- **GP appointment variance** as a ratio, appointments after / before referral
  (``1 + variance_pct / 100``) over 12 months for one financial-year cohort, on the log scale.
  Its precision comes from a published 95% CI (``variance_pct_ci95`` or ``ratio_ci95``) or from
  the before and after appointment totals (``appointments_before`` / ``appointments_after``,
  Poisson) published beside ``variance_pct`` (``gp_appointments.variance_detail[<cohort>][<window>]``);
  a borough that publishes only ``variance_pct`` cannot be placed on a funnel and is skipped
  with a note.

Funnel limits (Spiegelhalter 2005, *Funnel plots for comparing institutional performance*):
the target is the pooled London value; 95% and 99.8% limits are exact binomial / Poisson
quantiles with Spiegelhalter's interpolation for proportions and rates, and the target +/- z x
the pooled standard deviation / sqrt(n) for means (on the log scale: +/- z x SE for ratios).
When the boroughs vary more than chance allows (overdispersion, estimated from 10%-winsorised
z-scores), additive random-effects limits are also drawn and a borough is read against both.

Every figure here is already disclosure-controlled in the borough's results.json: a ``null``
(suppressed) value or base skips the borough for that indicator with a note, and no count
below the publication threshold is ever derived or printed. Boroughs built with disclosure
control switched off are left out entirely.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from scipy import stats

from . import paths

LONDON = "london"

#: the 33 London local authorities (32 boroughs and the City of London), as slugs.
LONDON_BOROUGHS: tuple[str, ...] = (
    "barking-and-dagenham", "barnet", "bexley", "brent", "bromley", "camden", "city-of-london",
    "croydon", "ealing", "enfield", "greenwich", "hackney", "hammersmith-and-fulham", "haringey",
    "harrow", "havering", "hillingdon", "hounslow", "islington", "kensington-and-chelsea",
    "kingston-upon-thames", "lambeth", "lewisham", "merton", "newham", "redbridge",
    "richmond-upon-thames", "southwark", "sutton", "tower-hamlets", "waltham-forest",
    "wandsworth", "westminster",
)

LEVELS = {"95": 0.95, "99.8": 0.998}
MIN_FOR_OVERDISPERSION = 10  # boroughs needed before between-borough variation is estimated
GP_WINDOW = "12m"
RANK_DRAWS = 2000
MAX_LABELS = 12  # boroughs named on a funnel plot (the furthest out)
SEED = 20240401


class LondonError(RuntimeError):
    """Nothing to compare (no usable borough results)."""


def display_name(slug: str) -> str:
    """'kingston-upon-thames' -> 'Kingston upon Thames' (or the area's own name when known)."""
    try:
        from .areas import AREAS  # written alongside; optional here

        info = AREAS.get(slug)
        name = info.get("name") if isinstance(info, dict) else getattr(info, "name", None)
        if isinstance(name, str) and name:
            return name
    except Exception:  # noqa: BLE001 - areas.py is optional for this module
        pass
    small = {"and", "upon", "of", "on", "the"}
    words = slug.split("-")
    return " ".join(w if (i and w in small) else w.capitalize() for i, w in enumerate(words))


# --------------------------------------------------------------------------- funnel maths

def _interp_quantile(dist, p: float) -> float:
    """Spiegelhalter's interpolated quantile of a discrete distribution (a continuous limit)."""
    r = float(dist.ppf(p))
    f_r, f_r1 = float(dist.cdf(r)), float(dist.cdf(r - 1))
    if f_r - f_r1 <= 0:
        return r
    alpha = (f_r - p) / (f_r - f_r1)
    return r - alpha


def binomial_limits(p0: float, n: float | np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper control limits for a proportion (0..1) with denominator ``n``.

    Exact binomial quantiles with interpolation (Spiegelhalter 2005, appendix A.1.1) for
    n up to 5,000; the normal approximation above that, where they agree closely.
    """
    n_arr = np.atleast_1d(np.asarray(n, dtype=float))
    lo, hi = np.empty_like(n_arr), np.empty_like(n_arr)
    a = (1 - level) / 2
    z = stats.norm.ppf(1 - a)
    for i, ni in enumerate(n_arr):
        if ni <= 0:
            lo[i], hi[i] = np.nan, np.nan
        elif ni > 5000:
            half = z * math.sqrt(p0 * (1 - p0) / ni)
            lo[i], hi[i] = p0 - half, p0 + half
        else:
            k = max(int(round(ni)), 1)
            dist = stats.binom(k, p0)
            lo[i], hi[i] = _interp_quantile(dist, a) / k, _interp_quantile(dist, 1 - a) / k
    return np.clip(lo, 0, 1), np.clip(hi, 0, 1)


def poisson_limits(rate0: float, exposure: float | np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Control limits for a rate (events per unit exposure) at ``exposure`` units (exact Poisson,
    interpolated as for the binomial)."""
    e = np.atleast_1d(np.asarray(exposure, dtype=float))
    lo, hi = np.empty_like(e), np.empty_like(e)
    a = (1 - level) / 2
    for i, ei in enumerate(e):
        if ei <= 0:
            lo[i], hi[i] = np.nan, np.nan
            continue
        dist = stats.poisson(rate0 * ei)
        lo[i], hi[i] = max(_interp_quantile(dist, a), 0) / ei, _interp_quantile(dist, 1 - a) / ei
    return lo, hi


def normal_limits(target: float, sd: float | np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """target +/- z x sd (sd already divided by sqrt(n) where that applies)."""
    z = stats.norm.ppf(1 - (1 - level) / 2)
    sd = np.atleast_1d(np.asarray(sd, dtype=float))
    return target - z * sd, target + z * sd


def wilson_interval(p: float, n: float, level: float = 0.95) -> tuple[float, float]:
    z = stats.norm.ppf(1 - (1 - level) / 2)
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(centre - half, 0.0), min(centre + half, 1.0)


def poisson_interval(events: float, exposure: float, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval for a rate, events / exposure."""
    a = (1 - level) / 2
    lo = stats.chi2.ppf(a, 2 * events) / 2 if events > 0 else 0.0
    hi = stats.chi2.ppf(1 - a, 2 * events + 2) / 2
    return lo / exposure, hi / exposure


def overdispersion(z: np.ndarray, weights: np.ndarray, winsor: float = 0.1) -> dict[str, Any]:
    """Between-borough variation beyond chance (Spiegelhalter 2005, section 3.3).

    ``z``: z-scores against the pooled target; ``weights``: 1 / null variance of each borough.
    Returns phi (the winsorised mean squared z), whether it exceeds what chance allows at 95%
    (N phi > chi2(N-1)), and tau2, the additive random-effects variance on the indicator's scale.
    """
    n = len(z)
    if n < MIN_FOR_OVERDISPERSION:
        return {"estimated": False, "reason": f"needs at least {MIN_FOR_OVERDISPERSION} boroughs (have {n})"}
    lo, hi = np.quantile(z, [winsor, 1 - winsor])
    zw = np.clip(z, lo, hi)
    phi = float(np.mean(zw ** 2))
    detected = bool(n * phi > stats.chi2.ppf(0.95, n - 1))
    tau2 = 0.0
    if detected:
        denom = float(weights.sum() - (weights ** 2).sum() / weights.sum())
        tau2 = max((n * phi - (n - 1)) / denom, 0.0) if denom > 0 else 0.0
    return {"estimated": True, "phi": round(phi, 3), "detected": detected, "tau2": tau2}


# --------------------------------------------------------------------------- indicators

@dataclass
class Point:
    """One borough's published figure for one indicator (already disclosure-controlled)."""

    borough: str
    value: float  # on the display scale (%, per 1,000 a year, points, ratio)
    n: float  # the x-axis of the funnel (denominator, exposure, people)
    n_label: str  # what n is, for the table
    ci95: tuple[float, float]
    se: float  # standard error on the analysis scale (log for ratios), for ranks


@dataclass
class Indicator:
    key: str
    label: str
    unit: str  # suffix for values
    kind: str  # proportion | rate | mean | ratio
    x_label: str
    describe: str  # one paragraph: what it is and where it comes from
    caution: str  # why a borough may sit outside the limits for reasons other than performance
    extract: Callable[[dict[str, Any], str], Point | str] = field(repr=False)
    decimals: int = 1
    higher_is: str = ""  # "better" / "worse" / "" (not judged): wording only
    y_label: str = ""  # the funnel plot's vertical axis


def _section(results: dict[str, Any], name: str) -> dict[str, Any] | str:
    sec = results.get(name)
    if not isinstance(sec, dict):
        return f"no {name} section in results.json"
    if "status" in sec and set(sec) <= {"status", "reason"}:
        return f"{name} not run ({sec.get('reason') or sec['status']})"
    return sec


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or x is None:
        return None
    if isinstance(x, (int, float)) and math.isfinite(x):
        return float(x)
    return None


def _suppressed(what: str) -> str:
    return f"{what} is suppressed in this borough's results (small numbers)"


def _referral_rate(results: dict[str, Any], slug: str) -> Point | str:
    act = _section(results, "activity")
    if isinstance(act, str):
        return act
    refs = _num(act.get("referrals"))
    rates = act.get("referral_rates") or {}
    pop, years = _num(rates.get("registered_population")), _num(rates.get("years"))
    if refs is None:
        return _suppressed("the number of referrals")
    if not pop or not years:
        return "no registered population or period length published (activity.referral_rates)"
    exposure = pop * years / 1000  # thousand person-years
    lo, hi = poisson_interval(refs, exposure)
    return Point(slug, refs / exposure, pop * years, "person-years", (lo, hi),
                 math.sqrt(max(refs, 1)) / exposure)


def _proportion_point(slug: str, pct: float, n: float, n_label: str, ci: Any = None) -> Point:
    p = pct / 100
    if ci and _num(ci[0]) is not None and _num(ci[1]) is not None:
        lo, hi = float(ci[0]) / 100, float(ci[1]) / 100
    else:
        lo, hi = wilson_interval(p, n)
    se = math.sqrt(max(p * (1 - p), 0.25 / n) / n)
    return Point(slug, pct, n, n_label, (lo * 100, hi * 100), se * 100)


def _dna(results: dict[str, Any], slug: str) -> Point | str:
    act = _section(results, "activity")
    if isinstance(act, str):
        return act
    pct, n = _num(act.get("dna_or_cancelled_pct")), _num(act.get("contacts_booked"))
    if pct is None or n is None:
        return _suppressed("the missed or cancelled rate")
    if n <= 0:
        return "no appointments booked"
    return _proportion_point(slug, pct, n, "appointments booked")


def _readmission(results: dict[str, Any], slug: str) -> Point | str:
    sec = _section(results, "readmission")
    if isinstance(sec, str):
        return sec
    pct, n = _num(sec.get("cif_30d_pct")), _num(sec.get("n_index"))
    if pct is None or n is None:
        return _suppressed("the 30-day readmission rate")
    if n <= 0:
        return "no index hospital stays"
    return _proportion_point(slug, pct, n, "index stays", sec.get("cif_30d_ci95"))


def _ons4(item: str) -> Callable[[dict[str, Any], str], Point | str]:
    def get(results: dict[str, Any], slug: str) -> Point | str:
        sec = _section(results, "wellbeing")
        if isinstance(sec, str):
            return sec
        d = (sec.get("ons4") or {}).get(item)
        if not isinstance(d, dict):
            return f"no ONS4 {item} result published"
        change, n, ci = _num(d.get("mean_change")), _num(d.get("n_pairs")), d.get("ci95")
        if change is None or n is None or not ci or _num(ci[0]) is None or _num(ci[1]) is None:
            return _suppressed(f"the ONS4 {item.replace('_', ' ')} change")
        if n < 2:
            return "fewer than 2 pairs"
        t = stats.t.ppf(0.975, n - 1)
        se = (float(ci[1]) - float(ci[0])) / (2 * t)
        if se <= 0:
            return "the published interval has no width"
        return Point(slug, change, n, "people with before and after scores", (float(ci[0]), float(ci[1])), se)
    return get


def _gp_detail(gp: dict[str, Any], cohort: str, window: str) -> dict[str, Any]:
    for key in ("variance_detail", "detail", "by_cohort", "cohorts"):
        d = (gp.get(key) or {}).get(cohort) if isinstance(gp.get(key), dict) else None
        if isinstance(d, dict) and isinstance(d.get(window), dict):
            return d[window]
    return {}


def gp_cohorts(results: dict[str, Any]) -> list[str]:
    gp = results.get("gp_appointments")
    if not isinstance(gp, dict):
        return []
    var = gp.get("variance_pct") or {}
    return sorted(c for c, v in var.items() if isinstance(v, dict) and _num(v.get(GP_WINDOW)) is not None)


def _gp(cohort: str | None) -> Callable[[dict[str, Any], str], Point | str]:
    def get(results: dict[str, Any], slug: str) -> Point | str:
        sec = _section(results, "gp_appointments")
        if isinstance(sec, str):
            return sec
        if cohort is None:
            return "no financial-year cohort has a 12-month figure in any borough"
        v = _num(((sec.get("variance_pct") or {}).get(cohort) or {}).get(GP_WINDOW))
        if v is None:
            return _suppressed(f"the {cohort} 12-month variance") if cohort in (sec.get("variance_pct") or {}) \
                else f"no {cohort} cohort"
        ratio = 1 + v / 100
        if ratio <= 0:
            return "a ratio of zero cannot be compared on the log scale"
        det = _gp_detail(sec, cohort, GP_WINDOW)
        n = _num(det.get("n_patients", det.get("n")))
        ci_pct = det.get("variance_pct_ci95") or det.get("ci95")
        ci_ratio = det.get("ratio_ci95")
        lo_r = hi_r = None
        if ci_ratio and _num(ci_ratio[0]) and _num(ci_ratio[1]):
            lo_r, hi_r = float(ci_ratio[0]), float(ci_ratio[1])
        elif ci_pct and _num(ci_pct[0]) is not None and _num(ci_pct[1]) is not None:
            lo_r, hi_r = 1 + float(ci_pct[0]) / 100, 1 + float(ci_pct[1]) / 100
        if lo_r is not None and hi_r is not None and lo_r > 0 and hi_r > lo_r:
            se = (math.log(hi_r) - math.log(lo_r)) / (2 * stats.norm.ppf(0.975))
        else:
            before = _num(det.get("appointments_before", det.get("before")))
            after = _num(det.get("appointments_after", det.get("after")))
            if not before or not after:
                return ("only variance_pct is published: the London comparison needs its 95% CI or the before and "
                        "after appointment totals to place the borough on a funnel")
            se = math.sqrt(1 / before + 1 / after)
            lo_r, hi_r = ratio * math.exp(-1.96 * se), ratio * math.exp(1.96 * se)
        return Point(slug, ratio, n if n else 1 / se ** 2, "patients" if n else "precision (1/SE²)",
                     (lo_r, hi_r), se)
    return get


ONS4_LABELS = {"life_satisfaction": "life satisfaction", "worthwhile": "feeling things are worthwhile",
               "happiness": "happiness", "anxiety": "anxiety"}

_CASEMIX = ("Nothing here is adjusted for who each service reaches (age, deprivation, need), for how "
            "services record their work, or for when their extracts start and end.")


def indicators(all_results: dict[str, dict[str, Any]]) -> list[Indicator]:
    """The indicators compared, given the boroughs' results (the GP cohort depends on them)."""
    counts: dict[str, int] = {}
    for res in all_results.values():
        for c in gp_cohorts(res):
            counts[c] = counts.get(c, 0) + 1
    cohort = max(sorted(counts), key=lambda c: counts[c]) if counts else None
    out = [
        Indicator("referral_rate", "Referrals per 1,000 registered patients a year", "", "rate",
                  "person-years registered (registered population x years of extract)",
                  "Referrals received over the extract, per 1,000 registered patients per year "
                  "(activity.referrals and activity.referral_rates). A Poisson rate; the funnel is drawn "
                  "against person-years registered.",
                  "A high or low rate reflects how a service is commissioned and promoted, which teams can "
                  "refer, and whether self-referral is open, as much as local need. " + _CASEMIX,
                  _referral_rate, decimals=1, y_label="referrals per 1,000 registered a year"),
        Indicator("dna_or_cancelled", "Appointments missed or cancelled", "%", "proportion",
                  "appointments booked",
                  "Link-worker appointments that were not attended or were cancelled, as a percentage of "
                  "those booked (activity.dna_or_cancelled_pct). A binomial proportion against appointments "
                  "booked.",
                  "Appointments are clustered within people (one person missing several inflates the rate), "
                  "and services differ in whether they book and record telephone and group contacts. "
                  + _CASEMIX,
                  _dna, higher_is="worse", y_label="% of booked appointments missed or cancelled"),
    ]
    for item, label in ONS4_LABELS.items():
        better = "worse" if item == "anxiety" else "better"
        out.append(Indicator(
            f"ons4_{item}", f"ONS4 change in {label} (0-10 points)", " points", "mean",
            "people with before and after scores",
            f"Mean change from baseline to follow-up in ONS4 {label} (wellbeing.ons4.{item}); "
            + ("for anxiety a fall is an improvement. " if item == "anxiety" else "")
            + "Limits use the pooled standard deviation of change across London, recovered from each "
            "borough's published 95% confidence interval and number of pairs.",
            "Only people with a follow-up score are counted, and services follow up at different times and "
            "with different effort, so completers may differ. Before-and-after change includes regression to "
            "the mean. " + _CASEMIX,
            _ons4(item), decimals=2, higher_is=better, y_label=f"mean change in {label} (points)"))
    out.append(Indicator(
        "readmission_30d", "Emergency readmission within 30 days", "%", "proportion", "index hospital stays",
        "Cumulative incidence of an emergency readmission within 30 days of the index discharge, with death "
        "as a competing risk (readmission.cif_30d_pct), compared as a binomial proportion of index stays "
        "(the funnel ignores censoring, which is small at 30 days).",
        "Hospital-discharge services differ in whom they support (frailty, end of life), and a readmission "
        "depends on the local hospital as much as on the service. " + _CASEMIX,
        _readmission, higher_is="worse", y_label="% readmitted within 30 days"))
    out.append(Indicator(
        "gp_variance", f"GP appointments after / before referral, {cohort or 'no'} cohort, 12 months", "", "ratio",
        "patients (or precision)",
        f"The ratio of GP-practice appointments in the 12 months after referral to the 12 months before "
        f"(1 + gp_appointments.variance_pct / 100) for people referred in financial year {cohort or '-'}, "
        "the cohort most boroughs publish. Compared on the log scale; a ratio below 1 means fewer "
        "appointments after referral. Precision comes from the borough's published 95% CI of the "
        "variance (gp_appointments.variance_detail, patient-level) where there is one; otherwise from "
        "the before and after totals treated as Poisson counts, an approximation that ignores both the "
        "clustering of appointments within people (limits too narrow) and the pairing of before and "
        "after in the same people (limits too wide).",
        "People are often referred at a time of crisis, so appointments tend to fall afterwards whatever the "
        "service does (regression to the mean); there is no comparison group here. " + _CASEMIX,
        _gp(cohort), decimals=3, higher_is="", y_label="appointments after / before"))
    return out


# --------------------------------------------------------------------------- comparison

@dataclass
class Row:
    point: Point
    z: float
    flag: str  # within | above_95 | below_95 | above_99.8 | below_99.8
    flag_adjusted: str | None
    rank: int
    rank_ci95: tuple[int, int]


@dataclass
class Comparison:
    indicator: Indicator
    target: float | None
    rows: list[Row]
    skipped: dict[str, str]
    over: dict[str, Any]
    pooled_sd: float | None = None  # means only: per-person SD of change

    @property
    def flagged(self) -> list[Row]:
        return [r for r in self.rows if r.flag != "within"]


def _flag(value: float, lims: dict[str, tuple[float, float]]) -> str:
    lo998, hi998 = lims["99.8"]
    lo95, hi95 = lims["95"]
    if value > hi998:
        return "above_99.8"
    if value < lo998:
        return "below_99.8"
    if value > hi95:
        return "above_95"
    if value < lo95:
        return "below_95"
    return "within"


def _null_sd(ind: Indicator, target: float, pt: Point, pooled_sd: float | None) -> float:
    """Standard deviation of the indicator under the null (at the target) for this borough."""
    if ind.kind == "proportion":
        p0 = target / 100
        return math.sqrt(max(p0 * (1 - p0), 1e-12) / pt.n) * 100
    if ind.kind == "rate":
        exposure = pt.n / 1000
        return math.sqrt(target / exposure)
    if ind.kind == "mean":
        return (pooled_sd or 0) / math.sqrt(pt.n)
    return pt.se  # ratio: on the log scale


def limits_at(ind: Indicator, target: float, n: np.ndarray | float, level: float,
              pooled_sd: float | None = None, se: np.ndarray | float | None = None,
              tau2: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Funnel limits on the display scale at precision ``n`` (``se`` for ratios)."""
    n = np.atleast_1d(np.asarray(n, dtype=float))
    if tau2 > 0:
        if ind.kind == "proportion":
            p0 = target / 100
            sd = np.sqrt(p0 * (1 - p0) / n + tau2 / 1e4) * 100
        elif ind.kind == "rate":
            sd = np.sqrt(target / (n / 1000) + tau2)
        elif ind.kind == "mean":
            sd = np.sqrt((pooled_sd or 0) ** 2 / n + tau2)
        else:
            s = np.atleast_1d(np.asarray(se if se is not None else 1 / np.sqrt(n), dtype=float))
            lo, hi = normal_limits(math.log(target), np.sqrt(s ** 2 + tau2), level)
            return np.exp(lo), np.exp(hi)
        return normal_limits(target, sd, level)
    if ind.kind == "proportion":
        lo, hi = binomial_limits(target / 100, n, level)
        return lo * 100, hi * 100
    if ind.kind == "rate":
        lo, hi = poisson_limits(target, n / 1000, level)
        return lo, hi
    if ind.kind == "mean":
        return normal_limits(target, (pooled_sd or 0) / np.sqrt(n), level)
    s = np.atleast_1d(np.asarray(se if se is not None else 1 / np.sqrt(n), dtype=float))
    lo, hi = normal_limits(math.log(target), s, level)
    return np.exp(lo), np.exp(hi)


def compare(ind: Indicator, all_results: dict[str, dict[str, Any]]) -> Comparison:
    points: list[Point] = []
    skipped: dict[str, str] = {}
    for slug in sorted(all_results):
        got = ind.extract(all_results[slug], slug)
        if isinstance(got, str):
            skipped[slug] = got
        else:
            points.append(got)
    if not points:
        return Comparison(ind, None, [], skipped, {"estimated": False, "reason": "no borough to compare"})
    n = np.array([p.n for p in points])
    v = np.array([p.value for p in points])
    pooled_sd = None
    if ind.kind == "proportion":
        target = float((v * n).sum() / n.sum())
    elif ind.kind == "rate":
        events = v * n / 1000
        target = float(events.sum() / (n / 1000).sum())
    elif ind.kind == "mean":
        target = float((v * n).sum() / n.sum())
        sds2 = np.array([(p.se * math.sqrt(p.n)) ** 2 for p in points])
        dof = np.maximum(n - 1, 1)
        pooled_sd = float(math.sqrt((dof * sds2).sum() / dof.sum()))
    else:
        w = np.array([1 / p.se ** 2 for p in points])
        target = float(math.exp((w * np.log(v)).sum() / w.sum()))

    null_sd = np.array([_null_sd(ind, target, p, pooled_sd) for p in points])
    centre = math.log(target) if ind.kind == "ratio" else target
    vals = np.log(v) if ind.kind == "ratio" else v
    z = (vals - centre) / np.where(null_sd > 0, null_sd, np.nan)
    z = np.nan_to_num(z)
    over = overdispersion(z, 1 / np.maximum(null_sd, 1e-12) ** 2)
    tau2 = float(over.get("tau2") or 0.0)

    # ranks with a 95% interval from the sampling error of each borough's figure
    rng = np.random.default_rng(SEED)
    se = np.array([p.se for p in points])
    draws = rng.normal(vals, se, size=(RANK_DRAWS, len(points)))
    ranks = (-draws).argsort(axis=1).argsort(axis=1) + 1
    order = np.argsort(-vals, kind="stable")
    rank_of = np.empty(len(points), dtype=int)
    rank_of[order] = np.arange(1, len(points) + 1)

    rows = []
    for i, p in enumerate(points):
        lims = {}
        adj = {}
        for name, level in LEVELS.items():
            lo, hi = limits_at(ind, target, p.n, level, pooled_sd, p.se)
            lims[name] = (float(lo[0]), float(hi[0]))
            if tau2 > 0:
                alo, ahi = _adjusted_limits(ind, target, p, level, pooled_sd, tau2)
                adj[name] = (alo, ahi)
        lo_r, hi_r = np.percentile(ranks[:, i], [2.5, 97.5])
        rows.append(Row(p, float(z[i]), _flag(p.value, lims), _flag(p.value, adj) if adj else None,
                        int(rank_of[i]), (int(math.floor(lo_r)), int(math.ceil(hi_r)))))
    rows.sort(key=lambda r: r.rank)
    return Comparison(ind, target, rows, skipped, over, pooled_sd)


def _adjusted_limits(ind: Indicator, target: float, p: Point, level: float, pooled_sd: float | None,
                     tau2: float) -> tuple[float, float]:
    sd = _null_sd(ind, target, p, pooled_sd)
    z = stats.norm.ppf(1 - (1 - level) / 2)
    half = z * math.sqrt(sd ** 2 + tau2)
    if ind.kind == "ratio":
        return math.exp(math.log(target) - half), math.exp(math.log(target) + half)
    return target - half, target + half


# --------------------------------------------------------------------------- reading

FLAG_TEXT = {
    "within": "within the 95% limits",
    "above_95": "above the 95% limit",
    "below_95": "below the 95% limit",
    "above_99.8": "above the 99.8% limit",
    "below_99.8": "below the 99.8% limit",
}


def fmt_value(ind: Indicator, x: float | None) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if ind.kind == "mean":
        return f"{x:+.{ind.decimals}f}"
    return f"{x:,.{ind.decimals}f}{ind.unit}"


def fmt_n(x: float) -> str:
    return f"{x:,.0f}" if x >= 10 else f"{x:,.2f}"


def reading(comp: Comparison, row: Row, n_boroughs: int) -> str:
    """A cautious sentence for a borough outside the limits."""
    ind, p = comp.indicator, row.point
    side = "above" if row.flag.startswith("above") else "below"
    level = "99.8%" if row.flag.endswith("99.8") else "95%"
    chance = n_boroughs * (0.002 if level == "99.8%" else 0.05)
    judged = " It is"
    if ind.higher_is:
        good = (side == "above") == (ind.higher_is == "better")
        judged = " On its face that is a " + ("favourable" if good else "less favourable") + " position, but it is"
    text = (f"{display_name(p.borough)}: {fmt_value(ind, p.value)} (95% CI {fmt_value(ind, p.ci95[0])} to "
            f"{fmt_value(ind, p.ci95[1])}; {fmt_n(p.n)} {p.n_label}) is {side} the {level} limit around the "
            f"London figure of {fmt_value(ind, comp.target)}. With {n_boroughs} boroughs compared, about "
            f"{chance:.1f} would fall outside {level} limits by chance alone.{judged} a prompt to look "
            "at how the data are recorded and who the service reaches before reading it as a difference in "
            "performance.")
    if row.flag_adjusted is not None:
        if row.flag_adjusted == "within":
            text += (" Allowing for the extra variation between London boroughs (overdispersion), it is within "
                     "the adjusted limits.")
        else:
            text += f" It stays {FLAG_TEXT[row.flag_adjusted]} even after allowing for overdispersion."
    return text


# --------------------------------------------------------------------------- reading results

def read_all(reports_dir: Path | None = None, all_areas: bool = False) -> tuple[dict[str, dict[str, Any]],
                                                                                  dict[str, str], dict[str, str]]:
    """(results by borough, excluded borough -> reason, results.json sha256 by borough)."""
    reports_dir = reports_dir or paths.REPORTS
    found: dict[str, dict[str, Any]] = {}
    excluded: dict[str, str] = {}
    hashes: dict[str, str] = {}
    for f in sorted(reports_dir.glob("*/results.json")):
        slug = f.parent.name
        if slug == LONDON or not paths.SLUG_RE.match(slug):
            continue
        data = f.read_bytes()
        try:
            res = json.loads(data)
        except json.JSONDecodeError as e:
            excluded[slug] = f"results.json is not valid JSON ({e.msg})"
            continue
        if not isinstance(res, dict) or res.get("contract_version") != 1:
            excluded[slug] = "results.json is not data contract v1"
            continue
        if res.get("borough") != slug:
            excluded[slug] = f"results.json is for {res.get('borough')!r}, not {slug!r}"
            continue
        if not all_areas and slug not in LONDON_BOROUGHS:
            excluded[slug] = "not a London borough"
            continue
        if (res.get("disclosure_control") or {}).get("enabled") is False:
            excluded[slug] = ("built with disclosure control switched off (NOT FOR PUBLICATION); rebuild it with "
                              "control on to include it")
            continue
        found[slug] = res
        hashes[slug] = hashlib.sha256(data).hexdigest()
    return found, excluded, hashes


# --------------------------------------------------------------------------- figures

def _outside(row: Row) -> bool:
    """Outside the limits a reader should act on: the overdispersion-allowing ones when drawn."""
    return (row.flag_adjusted if row.flag_adjusted is not None else row.flag) != "within"


def funnel_png(comp: Comparison) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    ind = comp.indicator
    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=100)
    xs = np.array([r.point.n for r in comp.rows])
    if ind.kind == "ratio":
        prec = np.array([1 / r.point.se ** 2 for r in comp.rows])
        grid = np.linspace(max(prec.min() * 0.5, 1e-9), prec.max() * 1.1, 200)
        gse = 1 / np.sqrt(grid)
        xs_plot, x_label = prec, "precision (1 / SE² of the log ratio)"
    else:
        grid = np.linspace(max(xs.min() * 0.5, 1.0), xs.max() * 1.1, 200)
        gse = None
        xs_plot, x_label = xs, ind.x_label
    tau2 = float(comp.over.get("tau2") or 0.0)
    for name, style in (("95", "--"), ("99.8", ":")):
        lo, hi = limits_at(ind, comp.target, grid, LEVELS[name], comp.pooled_sd, gse)
        ax.plot(grid, lo, style, color="#2b6a99", lw=1.2, label=f"{name}% limits")
        ax.plot(grid, hi, style, color="#2b6a99", lw=1.2)
        if tau2 > 0:
            alo, ahi = limits_at(ind, comp.target, grid, LEVELS[name], comp.pooled_sd, gse, tau2=tau2)
            ax.plot(grid, alo, style, color="#f2b134", lw=1.2,
                    label=f"{name}% limits allowing for overdispersion")
            ax.plot(grid, ahi, style, color="#f2b134", lw=1.2)
    ax.axhline(comp.target, color="#1d2731", lw=1, label=f"London: {fmt_value(ind, comp.target)}")
    # red: outside the limits that count (those allowing for overdispersion when drawn);
    # amber: outside the plain limits only; grey: within
    colours = ["#9a3412" if _outside(r) else "#d97706" if r.flag != "within" else "#5b6770" for r in comp.rows]
    ax.scatter(xs_plot, [r.point.value for r in comp.rows], c=colours, s=28, zorder=3)
    offsets = [(5, 4), (5, -10), (-5, 10), (-5, -12)]
    named = sorted(((x, r) for x, r in zip(xs_plot, comp.rows, strict=True) if _outside(r)),
                   key=lambda t: -abs(t[1].z))[:MAX_LABELS]
    for i, (x, r) in enumerate(sorted(named, key=lambda t: (t[0], t[1].point.value))):
        dx, dy = offsets[i % len(offsets)]
        ax.annotate(display_name(r.point.borough), (x, r.point.value), textcoords="offset points",
                    xytext=(dx, dy), ha="left" if dx > 0 else "right", fontsize=8, color="#9a3412")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}" if v >= 10 else f"{v:g}"))
    ax.set_xlabel(x_label)
    ax.set_ylabel(ind.y_label)
    ax.set_title(ind.label, fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best", frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


# --------------------------------------------------------------------------- outputs

def comparison_json(comp: Comparison) -> dict[str, Any]:
    ind = comp.indicator

    def r(x: float | None, d: int = 4) -> float | None:
        return None if x is None else round(float(x), d)

    return {
        "label": ind.label,
        "kind": ind.kind,
        "london_value": r(comp.target),
        "pooled_sd": r(comp.pooled_sd),
        "overdispersion": {k: (r(v, 6) if isinstance(v, float) else v) for k, v in comp.over.items()},
        "boroughs": [
            {"rank": row.rank, "rank_ci95": list(row.rank_ci95), "borough": row.point.borough,
             "value": r(row.point.value), "ci95": [r(row.point.ci95[0]), r(row.point.ci95[1])],
             "n": r(row.point.n, 2), "n_is": row.point.n_label, "z": r(row.z, 3), "flag": row.flag,
             "flag_overdispersion_adjusted": row.flag_adjusted}
            for row in comp.rows
        ],
        "skipped": comp.skipped,
    }


CSS_EXTRA = """
.flag-out { color: #9a3412; font-weight: 600; }
.note { color: #5b6770; font-size: .9rem; }
details { margin: .4rem 0 1rem; }
figure { margin: .5rem 0 1rem; }
figcaption { color: #5b6770; font-size: .85rem; }
"""


def _table(comp: Comparison) -> str:
    ind = comp.indicator
    head = ("<tr><th>Rank (95% interval)</th><th>Borough</th><th>Value</th><th>95% CI</th>"
            f"<th>{html.escape(comp.rows[0].point.n_label if comp.rows else 'n')}</th><th>Funnel</th></tr>")
    body = []
    for row in comp.rows:
        p = row.point
        flag = FLAG_TEXT[row.flag]
        if row.flag_adjusted is not None:
            flag += f"; adjusted: {FLAG_TEXT[row.flag_adjusted]}"
        cls = ' class="flag-out"' if row.flag != "within" else ""
        body.append(f"<tr><td>{row.rank} ({row.rank_ci95[0]}–{row.rank_ci95[1]})</td>"
                    f"<td>{html.escape(display_name(p.borough))}</td><td>{fmt_value(ind, p.value)}</td>"
                    f"<td>{fmt_value(ind, p.ci95[0])} to {fmt_value(ind, p.ci95[1])}</td>"
                    f"<td>{fmt_n(p.n)}</td><td{cls}>{html.escape(flag)}</td></tr>")
    return f'<table class="sp-table">{head}{"".join(body)}</table>'


def render_html(comps: list[Comparison], figures: dict[str, bytes], meta: dict[str, Any]) -> str:
    from .render import PAGE_CSS, SYNTHETIC_NOTE

    n_b = len(meta["included"])
    toc = ['<li><a href="#how-to-read">How to read this page</a></li>']
    sections = []
    for comp in comps:
        ind = comp.indicator
        sid = ind.key.replace("_", "-")
        toc.append(f'<li><a href="#{sid}">{html.escape(ind.label)}</a></li>')
        parts = [f'<section><h2 id="{sid}">{html.escape(ind.label)}</h2>', f"<p>{html.escape(ind.describe)}</p>"]
        if not comp.rows:
            parts.append('<p class="note">No borough publishes this figure yet, so there is nothing to compare.</p>')
        else:
            b64 = base64.b64encode(figures[ind.key]).decode()
            parts.append(f'<figure><img src="data:image/png;base64,{b64}" alt="Funnel plot: '
                         f'{html.escape(ind.label)} by borough, with 95% and 99.8% limits">'
                         f"<figcaption>{len(comp.rows)} boroughs. London figure {fmt_value(ind, comp.target)} "
                         "(pooled); dashed lines 95% limits, dotted 99.8%"
                         + ("; amber lines allow for overdispersion. Red points are outside the amber lines, "
                            "amber points outside the blue lines only" if comp.over.get("tau2") else
                            "; red points are outside the limits")
                         + f" (the {MAX_LABELS} furthest out are named).</figcaption></figure>")
            over = comp.over
            if over.get("estimated"):
                if over.get("detected"):
                    parts.append(f"<p>The boroughs vary more than chance alone would give (overdispersion "
                                 f"&phi; = {over['phi']:.2f}); the amber limits allow for that extra variation, "
                                 "and a borough outside the blue but inside the amber limits is not unusual "
                                 "for London.</p>")
                else:
                    parts.append(f"<p>The spread between boroughs is about what chance would give "
                                 f"(&phi; = {over['phi']:.2f}), so no overdispersion allowance is made.</p>")
            else:
                parts.append(f'<p class="note">Overdispersion not estimated: {html.escape(over.get("reason", ""))}.</p>')
            flagged = [r for r in comp.flagged if _outside(r)]
            explained = [r for r in comp.flagged if not _outside(r)]  # within the overdispersion limits
            if flagged:
                parts.append("<h3>Outside the limits</h3><ul>")
                parts += [f"<li>{html.escape(reading(comp, r, len(comp.rows)))}</li>" for r in flagged]
                parts.append("</ul>")
            elif not explained:
                parts.append("<p>No borough is outside the 95% limits.</p>")
            if explained:
                names = ", ".join(display_name(r.point.borough) for r in explained)
                lead = "A further" if flagged else "No borough is outside the limits that allow for overdispersion. A"
                verb = "boroughs are" if len(explained) != 1 else "borough is"
                parts.append(f"<p>{lead} {len(explained)} {verb} outside the plain limits but within those allowing "
                             "for the extra variation between London boroughs, so not unusual for London: "
                             f"{html.escape(names)}.</p>")
            parts.append(f"<p><em>Why a borough may sit outside the limits:</em> {html.escape(ind.caution)}</p>")
            parts.append("<h3>Ranked table</h3>" + _table(comp))
            parts.append('<p class="note">Rank 1 is the highest value. The rank interval is the range of ranks '
                         "consistent with each figure's sampling error (95% of simulated rankings): "
                         "neighbouring ranks with overlapping intervals are not meaningfully different.</p>")
        if comp.skipped:
            items = "".join(f"<li>{html.escape(display_name(s))}: {html.escape(why)}</li>"
                            for s, why in comp.skipped.items())
            parts.append(f"<details><summary>{len(comp.skipped)} borough(s) not on this plot</summary>"
                         f"<ul>{items}</ul></details>")
        parts.append("</section>")
        sections.append("\n".join(parts))
    toc.append('<li><a href="#boroughs">Boroughs included</a></li>')
    toc.append('<li><a href="#methods">Methods and provenance</a></li>')

    banners = []
    synthetic = [s for s, syn in meta["synthetic"].items() if syn]
    if synthetic and len(synthetic) == n_b:
        banners.append(SYNTHETIC_NOTE)
    elif synthetic:
        banners.append(f"Some boroughs here are SYNTHETIC DATA ({', '.join(display_name(s) for s in synthetic)}): "
                       "their figures describe made-up patients.")
    banner_html = "".join(f'<div class="banner">{html.escape(b)}</div>' for b in banners)
    included = "".join(
        f"<li>{html.escape(display_name(s))} (extract {html.escape(meta['extracts'][s])}"
        f"{', synthetic' if meta['synthetic'][s] else ''})</li>" for s in meta["included"])
    excluded = "".join(f"<li>{html.escape(display_name(s))}: {html.escape(w)}</li>"
                       for s, w in meta["excluded"].items())
    missing = [s for s in LONDON_BOROUGHS if s not in meta["included"] and s not in meta["excluded"]]
    title = "Social prescribing across London: a comparison of boroughs"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{PAGE_CSS}{CSS_EXTRA}</style>
</head>
<body>
{banner_html}
<div class="layout">
<nav class="toc" aria-label="Contents"><strong>Contents</strong>
<ul>{''.join(toc)}</ul>
</nav>
<main>
<header class="title"><h1 id="report-title">{html.escape(title)}</h1>
<p>{n_b} borough{'s' if n_b != 1 else ''}, from their published results.json · built {html.escape(meta['build_time'])}</p></header>
<section><h2 id="how-to-read">How to read this page</h2>
<p>Each funnel plot puts one published figure for every borough against how much data lies behind it. The
horizontal line is the London figure (all boroughs pooled). The funnel lines show where a borough would
fall 95% and 99.8% of the time if its service were no different from London's and only chance separated
them; they narrow as the amount of data grows. About 1 borough in 20 falls outside the 95% lines and 1 in
500 outside the 99.8% lines by chance alone.</p>
<p>A borough outside the lines is a question, not a verdict: the first explanations to check are how the
data were recorded and extracted, and who the service reaches. No figure here is adjusted for case mix,
and the comparison is descriptive, not causal. The figures come only from each borough's published,
disclosure-controlled <code>results.json</code>; suppressed figures are left out, never estimated, and no
patient-level data are read.</p>
</section>
{''.join(sections)}
<section><h2 id="boroughs">Boroughs included</h2>
<ul>{included}</ul>
{f'<h3>Not included</h3><ul>{excluded}</ul>' if excluded else ''}
{f'<p class="note">No report yet for: {html.escape(", ".join(display_name(s) for s in missing))}.</p>' if missing else ''}
</section>
<section class="provenance"><h2 id="methods">Methods and provenance</h2>
<ul>
<li>Funnel limits: exact binomial (proportions) and Poisson (rates) quantiles with Spiegelhalter's
interpolation; normal limits from the pooled standard deviation (ONS4 means) and from the standard error
on the log scale (GP appointment ratio). Overdispersion: 10%-winsorised z-scores, additive random-effects
limits when the spread exceeds chance (Spiegelhalter, Statistics in Medicine 2005).</li>
<li>Ranks: {RANK_DRAWS} simulated rankings from each figure's sampling error (seed {SEED}).</li>
<li>Code version: <code>{html.escape(meta['code_version'])}</code>. Inputs: the results.json of each
borough listed above (sha256 in <code>results.json</code> of this page).</li>
</ul>
</section>
</main>
</div>
</body>
</html>
"""


def build(reports_dir: Path | None = None, dest: Path | None = None, all_areas: bool = False,
          log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Build ``reports/london/`` (index.html, results.json, figures/) atomically."""
    from .provenance import build_time, code_version
    from .publish import dumps, staging_dir, swap_into_place

    reports_dir = reports_dir or paths.REPORTS
    dest = dest or reports_dir / LONDON
    log = log or (lambda _m: None)
    t0 = time.perf_counter()
    found, excluded, hashes = read_all(reports_dir, all_areas)
    if not found:
        why = "; ".join(f"{s}: {w}" for s, w in excluded.items())
        raise LondonError("no borough results to compare: build some borough reports first (make data, then "
                          "make -j4 reports)" + (f". Left out: {why}" if why else ""))
    log(f"[london] comparing {len(found)} borough{'s' if len(found) != 1 else ''}"
        + (f" ({len(excluded)} left out)" if excluded else ""))
    comps = [compare(ind, found) for ind in indicators(found)]
    figures = {c.indicator.key: funnel_png(c) for c in comps if c.rows}
    meta = {
        "included": sorted(found),
        "excluded": excluded,
        "synthetic": {s: bool(r.get("synthetic")) for s, r in found.items()},
        "extracts": {s: f"{(r.get('extract') or {}).get('start', '?')} to {(r.get('extract') or {}).get('end', '?')}"
                     for s, r in found.items()},
        "build_time": build_time(),
        "code_version": code_version(),
    }
    results = {
        "comparison": LONDON,
        "boroughs": meta["included"],
        "excluded": excluded,
        "levels": list(LEVELS),
        "indicators": {c.indicator.key: comparison_json(c) for c in comps},
        "provenance": {"inputs": {s: {"results_sha256": hashes[s],
                                      "extract_sha256": (found[s].get("extract") or {}).get("sha256")}
                                  for s in meta["included"]},
                       "code_version": meta["code_version"], "build_time": meta["build_time"]},
    }
    staged = staging_dir(dest)
    try:
        (staged / "figures").mkdir()
        for key, png in figures.items():
            (staged / "figures" / f"{key}.png").write_bytes(png)
        (staged / "index.html").write_text(render_html(comps, figures, meta), encoding="utf-8")
        (staged / "results.json").write_text(dumps(results), encoding="utf-8")
        swap_into_place(staged, dest)
    except BaseException:
        import shutil

        shutil.rmtree(staged, ignore_errors=True)
        raise
    flagged = sum(len(c.flagged) for c in comps)
    log(f"[london] published {dest.relative_to(paths.ROOT) if dest.is_relative_to(paths.ROOT) else dest}/ "
        f"({len(comps)} indicators, {flagged} borough figure{'s' if flagged != 1 else ''} outside the 95% limits) "
        f"in {time.perf_counter() - t0:.1f} s")
    return results

