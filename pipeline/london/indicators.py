"""The indicators compared, and each borough's point for each, parsed from its published
``results.json`` (data contract section 3): a :class:`Point` (value, precision, interval) or
the reason the borough cannot be placed on that funnel (a suppressed figure, a section not run)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scipy import stats

from ..funnel import poisson_interval, wilson_interval

GP_WINDOW = "12m"


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


def _proportion(section: str, pct_key: str, n_key: str, what: str, none: str, n_label: str,
                ci_key: str | None = None) -> Callable[[dict[str, Any], str], Point | str]:
    """A published percentage of a published base (``section.pct_key`` of ``section.n_key``)."""
    def get(results: dict[str, Any], slug: str) -> Point | str:
        sec = _section(results, section)
        if isinstance(sec, str):
            return sec
        pct, n = _num(sec.get(pct_key)), _num(sec.get(n_key))
        if pct is None or n is None:
            return _suppressed(what)
        if n <= 0:
            return none
        return _proportion_point(slug, pct, n, n_label, sec.get(ci_key) if ci_key else None)
    return get


_dna = _proportion("activity", "dna_or_cancelled_pct", "contacts_booked", "the missed or cancelled rate",
                   "no appointments booked", "appointments booked")
_readmission = _proportion("readmission", "cif_30d_pct", "n_index", "the 30-day readmission rate",
                           "no index hospital stays", "index stays", ci_key="cif_30d_ci95")


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


def gp_ratio(cohort: str | None) -> Callable[[dict[str, Any], str], Point | str]:
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
        gp_ratio(cohort), decimals=3, higher_is="", y_label="appointments after / before"))
    return out

