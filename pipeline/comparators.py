""""Compared with London" markers for a borough report, Fingertips style.

Where the London comparison has been built (``reports/london/results.json``, ``comparators``), a
borough report shows, for each headline indicator, the borough's figure, London's and whether the
borough lies below, within or above the funnel limits (99.8%, with the 95% as the finer grade). The
markers are shapes and words as well as colours, so colour never carries the meaning alone.

They are shown only when the comparison was built from this very extract (the extract's sha256 in
the London comparison's provenance); otherwise the report says the comparison is out of date. The
borough's figure is the one the London comparison read: already published, so nothing new leaves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import paths

MARKERS = {  # position -> (shape, words)
    "above": ("▲", "higher than London"),
    "within": ("●", "similar to London"),
    "below": ("▼", "lower than London"),
}


@dataclass(frozen=True)
class Comparators:
    rows: list[dict[str, Any]]
    built: str
    n_boroughs: int
    synthetic: bool
    note: str | None = None  # why no markers are shown


def for_borough(slug: str, extract_sha256: str, reports_dir: Path | None = None) -> Comparators | None:
    """The London comparison's markers for ``slug``; ``None`` when there is no comparison of it."""
    path = (reports_dir or paths.REPORTS) / paths.LONDON / "results.json"
    if not path.exists():
        return None
    london = json.loads(path.read_text(encoding="utf-8"))
    if slug not in london.get("boroughs", []):
        return None
    built = london.get("provenance", {}).get("build_time", "")
    n, synthetic = len(london["boroughs"]), bool(london.get("synthetic"))
    compared = london.get("provenance", {}).get("inputs", {}).get(slug, {}).get("extract_sha256")
    if compared != extract_sha256:
        return Comparators([], built, n, synthetic, note="The London comparison was built from an earlier extract "
                           "of this borough: run `make london` to compare this report's figures.")
    return Comparators(list(london.get("comparators", {}).get(slug, {}).values()), built, n, synthetic)


def _value(x: float | None, unit: str) -> str:
    if x is None:
        return "[c]"
    return f"{x:.1f}%" if unit == "%" else (f"{x:+.2f}" if unit == "points" else f"{x:.2f}")


def marker(position: dict[str, str] | None) -> str:
    """'▲ higher than London (outside the 99.8% limits)', '● similar to London', ..."""
    if not position:
        return "not compared"
    outer, inner = position.get("99.8"), position.get("95")
    if outer in ("above", "below"):
        shape, words = MARKERS[outer]
        return f"{shape} {words} (outside the 99.8% limits)"
    if inner in ("above", "below"):
        shape, words = MARKERS[inner]
        return f"{shape} {words} (outside the 95% limits only)"
    shape, words = MARKERS["within"]
    return f"{shape} {words}"


def markdown(c: Comparators) -> str:
    lines = ["## Compared with London", ""]
    if c.note:
        return "\n".join(lines + [c.note])
    lines.append(f"From the London comparison of {c.n_boroughs} borough{'s' * (c.n_boroughs != 1)} "
                 f"(`make london`, built {c.built}{', synthetic data' if c.synthetic else ''}): each figure "
                 "against London's, and whether it lies outside the funnel limits at this borough's precision "
                 "(▲ higher, ● similar, ▼ lower). A figure outside the limits is a prompt to look closer, not a "
                 "verdict: case mix and recording differ between boroughs.")
    lines += ["", "| Indicator | This borough | London | Compared with London |", "|---|---|---|---|"]
    for r in c.rows:
        where = marker(r.get("position")) if r.get("value") is not None else f"not compared: {r.get('reason', '')}"
        lines.append(f"| {r['label']} | {_value(r.get('value'), r.get('unit', ''))} | "
                     f"{_value(r.get('london_value'), r.get('unit', ''))} | {where} |")
    return "\n".join(lines)
