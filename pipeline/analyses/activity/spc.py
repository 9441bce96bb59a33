"""The activity section's monthly series read as NHS "Making Data Count" SPC charts.

Each measure's XmR analysis (:mod:`pipeline.spc`) is computed from the *published* monthly figures
(a withheld month is a gap), so its limits and icons are derived figures: nothing new about people
leaves. Measures: referrals (assured against the monthly referral target's lower edge where
``extract.yml`` sets one), the % of appointments missed or cancelled (lower is better), and the median
days from referral to first contact (lower is better).
"""

from __future__ import annotations

from typing import Any

from ... import spc
from ...disclosure import Release
from ...disclosure.figures import Figure
from ...spc.model import HIGHER, LIMIT_DECIMALS, LOWER, NEITHER

#: measure -> (the monthly key it reads, its label, unit, improvement direction)
MEASURES = {
    "referrals": ("referrals", "Referrals per month", "referrals", NEITHER),
    "dna_or_cancelled_pct": ("dna_or_cancelled_pct", "Appointments missed or cancelled (%)", "%", LOWER),
    "median_days_to_first_contact": ("median_days_to_first_contact", "Median days from referral to first contact",
                                     "days", LOWER),
}


def measures(target: tuple[int, int] | None) -> dict[str, tuple[str, str, str, str, float | None]]:
    """Each measure's (monthly key, label, unit, direction, target): with a referral target band,
    more referrals are better up to its lower edge, which is the target they are assured against."""
    out = {}
    for name, (key, label, unit, direction) in MEASURES.items():
        goal = None
        if name == "referrals" and target:
            direction, goal = HIGHER, float(target[0])
        out[name] = (key, label, unit, direction, goal)
    return out


def series(monthly: dict[str, dict[str, Any]], key: str) -> dict[str, float | None]:
    """A measure's published monthly values (a withheld month is None), in time order."""
    return {m: monthly[m].get(key) for m in sorted(monthly)}


def analyse(monthly: dict[str, dict[str, Any]], target: tuple[int, int] | None) -> dict[str, spc.SPCResult]:
    """Each measure's SPC result from the published monthly series (what the notebook draws)."""
    return {name: spc.xmr(series(monthly, key), direction=direction, target=goal)
            for name, (key, _, _, direction, goal) in measures(target).items()}


def summary(result: spc.SPCResult, label: str, unit: str) -> dict[str, Any]:
    """The published summary of one measure's chart: limits, icons, the months special causes flag."""
    lim = result.limits
    return {
        "label": label,
        "unit": unit,
        "direction": result.direction,
        "target": result.target,
        "latest_month": result.latest.label if result.latest else None,
        "latest_value": result.latest.value if result.latest else None,
        "mean": round(lim.mean, LIMIT_DECIMALS) if lim else None,
        "lower_limit": round(lim.lower, LIMIT_DECIMALS) if lim else None,
        "upper_limit": round(lim.upper, LIMIT_DECIMALS) if lim else None,
        "trial_limits": result.trial,
        "variation": result.variation if lim else None,
        "assurance": result.assurance if lim else None,
        "special_cause_months": {p.label: list(p.rules) for p in result.points if p.special},
        "months_withheld": len(result.missing),
        "note": result.reason,
    }


def publish(monthly: dict[str, dict[str, Figure]], target: tuple[int, int] | None, rel: Release) -> dict[str, Any]:
    """The ``spc`` key: each measure's summary, derived from the published monthly figures."""
    months = sorted(monthly)
    out = {}
    for name, (key, label, unit, direction, goal) in measures(target).items():
        figs = [monthly[m][key] for m in months]

        def one(*values, key=key, label=label, unit=unit, direction=direction, goal=goal):
            pub = {m: {key: v} for m, v in zip(months, values, strict=True)}
            return summary(spc.xmr(series(pub, key), direction=direction, target=goal), label, unit)
        out[name] = rel.derived(one, *figs, partial=True)
    return out
