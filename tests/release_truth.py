"""The truth behind a published report, to show the release check reports only true values.

The oracle is the same extract's sections published with disclosure control off (run in process
from the analyses, so a recovered count can be looked up at its own path), and the readmission
cohort (for the event counts read off the curves). Only tests import this: the release check
itself never sees the data.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pipeline import sections
from pipeline.analyses import readmission
from pipeline.config import DisclosureSettings, load_settings
from pipeline.disclosure import Rules
from pipeline.extract import Extract
from pipeline.release_check.published import get

SECTIONS = ("activity", "wellbeing", "targets", "gp_appointments", "readmission", "data_quality", "hospital",
            "practice_referrals", "caseload_rag")
CURVE_KEY = re.compile(r"(readmission|death)s (?:on days (\d+)-(\d+)|by day (\d+))")


def open_results(extract: Extract, names: tuple[str, ...] = SECTIONS) -> dict[str, Any]:
    """results.json sections as they would be published with disclosure control off (each registered
    section run as the notebooks run it, on the whole extract)."""
    inputs = sections.Inputs(extract, extract, load_settings())
    off = Rules(DisclosureSettings(enabled=False))
    out: dict[str, Any] = {}
    for name in names:
        result = sections.get(name).run(inputs, off)
        if result.ok:
            out[name] = result.data
    return out


def cohort(extract: Extract):
    co, _ = readmission.build_cohort(extract["hospital_spells"], extract.tables.get("deaths"), extract.config.end)
    return co


def _path(name: str) -> tuple:
    out: list[Any] = []
    for seg in name.split("."):
        m = re.fullmatch(r"(.*?)\[(\d+)\]", seg)
        out += [m.group(1), int(m.group(2))] if m else [seg]
    return tuple(out)


def truth(key: str, finding, opened: dict[str, dict[str, Any]], co=None) -> Any:
    """The true value behind one recovered quantity, or None when the oracle cannot tell.
    ``opened`` maps a report label ("" for the whole report, "2023-24" for a period report) to
    its sections published with control off."""
    m = CURVE_KEY.match(key)
    if m:
        if co is None:
            return None
        status = 1 if m.group(1) == "readmission" else 2
        t = co.loc[co["status"] == status, "time"]
        if m.group(4):
            return int((t <= int(m.group(4)) - 1).sum())
        return int(((t >= int(m.group(2))) & (t <= int(m.group(3)))).sum())
    label, _, rest = key.partition("/") if "/" in key.split(".")[0] else ("", "", key)
    if label not in opened:
        return None
    name, _, how = rest.partition(" (")
    value = get(opened[label], _path(name))
    if not how:
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    base_name = how[len("count of "):-1] if how.startswith("count of ") else (
        finding.paths[1] if len(finding.paths) > 1 else None)
    if base_name and "/" in base_name.split(".")[0]:
        base_name = base_name.partition("/")[2]
    base = get(opened[label], _path(base_name)) if base_name else None
    if not isinstance(value, (int, float)) or not isinstance(base, (int, float)):
        return None
    n = round(value * base / (1000 if "per_1000" in name else 100))
    return base - n if how.startswith("rest") else n


def mismatches(findings, opened: dict[str, dict[str, Any]], co=None) -> tuple[list[str], int]:
    """Recovered values the truth contradicts, and how many were checked."""
    wrong, checked = [], 0
    for f in findings:
        for key, got in f.recovered.items():
            if not isinstance(got, (int, tuple)) or isinstance(got, bool):
                continue  # a number shown in the HTML, a horizon's base: nothing recovered to check
            t = truth(key, f, opened, co)
            if t is None or (isinstance(t, float) and math.isnan(t)):
                continue
            checked += 1
            ok = t == got if isinstance(got, int) else (got[0] - 1e-6 <= t <= got[1] + 1e-6)
            if not ok:
                wrong.append(f"{f.attack}: {key} recovered {got}, truth {t}")
    return wrong, checked
