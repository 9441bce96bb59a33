"""The executive summary: the headline figures with direction and uncertainty, and the caveats
that matter, written from the *published* results (so it can only repeat disclosure-controlled
numbers) and placed at the front of the report.
"""

from __future__ import annotations

from typing import Any

from . import sections
from .sections import Headline


def headlines(results: dict[str, Any]) -> list[Headline]:
    """Each section's own headline rows (``Section.headlines``), in report order."""
    out: list[Headline] = []
    for sec in sections.registry():
        data = results.get(sec.name)
        if sec.headlines and isinstance(data, dict) and data.get("status") != "not_run":
            out += sec.headlines(data)
    return out


def caveats(results: dict[str, Any]) -> list[str]:
    notes = []
    if results.get("synthetic"):
        notes.append("**Synthetic data.** Every figure describes made-up patients generated to resemble published "
                     "evaluations; nothing here is evidence about a real service.")
    notes.append("**Uncontrolled design.** Before-and-after comparisons cannot separate the service's effect from "
                 "regression to the mean, seasonality and other changes; the comparative analyses say which "
                 "estimates lean causal.")
    dc = results.get("disclosure_control", {})
    if dc.get("enabled", True):
        n = len(results.get("suppressed", []))
        notes.append(f"**Small numbers.** Counts are rounded to the nearest {dc.get('rounding', 5)} and "
                     f"{n} figure{'s' if n != 1 else ''} resting on fewer than {dc.get('min_base', 8)} people "
                     "are suppressed (shown as [c]); percentages may not sum to 100.")
    else:
        notes.append("**NOT FOR PUBLICATION.** Disclosure control is switched off: exact small numbers are shown.")
    missing = [k for k, v in results.items() if isinstance(v, dict) and v.get("status") == "not_run"]
    if missing:
        notes.append("**Not available from this extract:** " + ", ".join(m.replace("_", " ") for m in missing) + ".")
    if results.get("period"):
        p = results["period"]
        notes.append(f"**Reporting period {p['label']}** ({p['start']} to {p['end']}) applies to the activity "
                     "sections; outcome sections use their own follow-up windows over the whole extract.")
    return notes


def markdown(results: dict[str, Any]) -> str:
    lines = ["# Executive summary", ""]
    heads = headlines(results)
    if heads:
        lines += ["| Measure | Figure | Reading |", "|---|---|---|"]
        lines += [f"| {h.measure} | {h.value} | {h.reading} |" for h in heads]
        lines.append("")
    lines += ["**Caveats that matter**", ""] + [f"- {c}" for c in caveats(results)]
    return "\n".join(lines)
