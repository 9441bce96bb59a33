"""The boroughs' published ``reports/<borough>/results.json`` files, read and sorted into those
compared and those left out (with the reason): not data contract v1, not a London borough,
built with disclosure control switched off, or synthetic while real boroughs are compared (a
comparison never mixes real and synthetic data)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .. import paths
from ..areas import AREAS

#: the 33 London local authorities (32 boroughs and the City of London), as slugs: the built-in
#: areas with a London ONS code (E09)
LONDON_BOROUGHS: tuple[str, ...] = tuple(sorted(s for s, a in AREAS.items() if a.ons_code.startswith("E09")))


class LondonError(RuntimeError):
    """Nothing to compare (no usable borough results)."""


def display_name(slug: str) -> str:
    """'kingston-upon-thames' -> 'Kingston upon Thames' (the area's own name when it is built in)."""
    if slug in AREAS:
        return AREAS[slug].name
    small = {"and", "upon", "of", "on", "the"}
    words = slug.split("-")
    return " ".join(w if (i and w in small) else w.capitalize() for i, w in enumerate(words))


def read_all(reports_dir: Path | None = None, all_areas: bool = False) -> tuple[dict[str, dict[str, Any]],
                                                                                  dict[str, str], dict[str, str]]:
    """(results by borough, excluded borough -> reason, results.json sha256 by borough)."""
    reports_dir = reports_dir or paths.REPORTS
    found: dict[str, dict[str, Any]] = {}
    excluded: dict[str, str] = {}
    hashes: dict[str, str] = {}
    for f in sorted(reports_dir.glob("*/results.json")):
        slug = f.parent.name
        if slug == paths.LONDON or not paths.SLUG_RE.match(slug):
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


SYNTHETIC_LEFT_OUT = "synthetic data: this comparison is of the boroughs with real data, and never mixes the two"


def real_or_synthetic(found: dict[str, dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], dict[str, str], bool]:
    """(the boroughs to compare, synthetic boroughs left out -> reason, whether the comparison is of
    synthetic data): the real boroughs when there is any (each results.json says ``synthetic``),
    else the synthetic ones."""
    real = {s: r for s, r in found.items() if not r.get("synthetic")}
    if not real:
        return found, {}, True
    return real, {s: SYNTHETIC_LEFT_OUT for s in found if s not in real}, False


def scope(compared: list[str], excluded: dict[str, str], synthetic: bool) -> list[str]:
    """What was compared and how to compare the rest, in sentences for the page and the command's
    output: 'comparing 1 borough: Merton (synthetic data).' ..."""
    n = len(compared)
    synthetic_left_out = [s for s, why in excluded.items() if why == SYNTHETIC_LEFT_OUT]
    lines = [f"comparing {n} borough{'s' if n != 1 else ''}" + (f" ({len(excluded)} left out)" if excluded else "")
             + ": " + ", ".join(display_name(s) for s in compared) + (" (synthetic data)." if synthetic else ".")]
    if synthetic_left_out:
        k = len(synthetic_left_out)
        lines.append(f"Left out {k} borough{'s' if k != 1 else ''} built on synthetic data ("
                     + ", ".join(display_name(s) for s in synthetic_left_out)
                     + "): a comparison never mixes real and synthetic data.")
    missing = [s for s in LONDON_BOROUGHS if s not in compared and s not in excluded]
    if missing and synthetic:
        k = len(missing)
        lines.append(f"{k} London borough{'s have' if k != 1 else ' has'} no report here yet: to compare them all, "
                     "run make data (the synthetic extracts), then make reports, then make london.")
    elif missing:
        k = len(missing)
        lines.append(f"{k} London borough{'s have' if k != 1 else ' has'} no report with real data here yet: each "
                     "joins the comparison when its report is built (make report BOROUGH=<slug>, then make london).")
    return lines
