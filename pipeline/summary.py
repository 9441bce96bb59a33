"""The executive summary: the headline figures with direction and uncertainty, and the caveats
that matter, placed at the front of the report. Each section writes its own headline rows from its
published figures (``Section.headlines``, saved with its fragment); this module lays them out.
"""

from __future__ import annotations

from typing import Any


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


def markdown(results: dict[str, Any], headlines: list[dict[str, str]]) -> str:
    """``headlines``: the sections' rows (``measure``, ``value``, ``reading``), in report order."""
    lines = ["# Executive summary", ""]
    if headlines:
        lines += ["| Measure | Figure | Reading |", "|---|---|---|"]
        lines += [f"| {h['measure']} | {h['value']} | {h['reading']} |" for h in headlines]
        lines.append("")
    lines += ["**Caveats that matter**", ""] + [f"- {c}" for c in caveats(results)]
    return "\n".join(lines)
