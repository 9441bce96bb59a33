"""Rows of the report's SPC summary table: one per measure, readable without colour.

Each row has the latest month with a value and its value, the mean and process limits, and the two icons
as a kind (for code), a plain-text label (for the table cell and for readers without colour or images)
and an inline SVG (shape and label). A measure without limits has no icons and says why in ``note``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.spc.icons import icon_label, icon_meaning, icon_svg
from pipeline.spc.limits import STABLE_MIN_POINTS
from pipeline.spc.model import SPCResult
from pipeline.spc.months import month_name

NO_ASSURANCE = {  # why a measure with limits has no assurance icon
    "no_target": "No target set",
    "no_direction": "No assurance: neither direction is better",
}


def _icon_cells(prefix: str, kind: str | None, trial: bool, none_label: str) -> dict[str, Any]:
    if kind is None:
        return {prefix: None, f"{prefix}_label": none_label, f"{prefix}_meaning": none_label,
                f"{prefix}_svg": ""}
    return {prefix: kind, f"{prefix}_label": icon_label(kind, trial=trial),
            f"{prefix}_meaning": icon_meaning(kind, trial=trial), f"{prefix}_svg": icon_svg(kind, trial=trial)}


def summary_row(name: str, result: SPCResult) -> dict[str, Any]:
    latest, lim = result.latest, result.limits
    row: dict[str, Any] = {
        "measure": name,
        "latest_month": latest.label if latest else None,
        "latest_month_name": month_name(latest.label) if latest else None,
        "latest_value": latest.value if latest else None,
        "mean": lim.mean if lim else None,
        "lower_limit": lim.lower if lim else None,
        "upper_limit": lim.upper if lim else None,
        "trial": result.trial,
        "target": result.target,
        "direction": result.direction,
        "months_suppressed": len(result.missing),
    }
    if lim is None:
        row.update(_icon_cells("variation", None, False, f"Not assessed: {result.reason}"))
        row.update(_icon_cells("assurance", None, False, "Not assessed"))
        row["note"] = f"No process limits: {result.reason}."
        return row
    row.update(_icon_cells("variation", result.variation, result.trial, ""))
    why_none = NO_ASSURANCE["no_target" if result.target is None else "no_direction"]
    row.update(_icon_cells("assurance", result.assurance, result.trial, why_none))
    row["note"] = (f"Trial limits: {lim.n_points} months, {STABLE_MIN_POINTS} needed for stable limits."
                   if result.trial else "")
    return row


def summary_rows(results: Mapping[str, SPCResult]) -> list[dict[str, Any]]:
    """One row per measure (``results``: measure name -> SPC result, in the table's order)."""
    return [summary_row(name, result) for name, result in results.items()]
