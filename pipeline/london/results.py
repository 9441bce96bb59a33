"""``reports/london/results.json``: every indicator's comparison in a machine-readable form, the
``comparators`` a borough report reads for its "compared with London" markers, and the inputs'
hashes. The shape is documented in docs/data-contract.md (section 4)."""

from __future__ import annotations

from typing import Any

from .. import paths
from ..funnel import LEVELS
from .compare import Comparison, position


def _r(x: float | None, d: int = 4) -> float | None:
    return None if x is None else round(float(x), d)


def comparison_json(comp: Comparison) -> dict[str, Any]:
    ind = comp.indicator
    return {
        "label": ind.label,
        "kind": ind.kind,
        "london_value": _r(comp.target),
        "pooled_sd": _r(comp.pooled_sd),
        "overdispersion": {k: (_r(v, 6) if isinstance(v, float) else v) for k, v in comp.over.items()},
        "boroughs": [
            {"rank": row.rank, "rank_ci95": list(row.rank_ci95), "borough": row.point.borough,
             "value": _r(row.point.value), "ci95": [_r(row.point.ci95[0]), _r(row.point.ci95[1])],
             "n": _r(row.point.n, 2), "n_is": row.point.n_label, "z": _r(row.z, 3), "flag": row.flag,
             "flag_overdispersion_adjusted": row.flag_adjusted}
            for row in comp.rows
        ],
        "skipped": comp.skipped,
    }


def comparators(comps: list[Comparison], boroughs: list[str]) -> dict[str, dict[str, Any]]:
    """borough -> indicator -> the borough's value, London's, and where the borough sits against
    the 95% and 99.8% limits (``below`` / ``within`` / ``above``); a borough not on an indicator's
    funnel has ``value`` and ``position`` null and the ``reason``."""
    out: dict[str, dict[str, Any]] = {b: {} for b in boroughs}
    for comp in comps:
        ind = comp.indicator
        common = {"label": ind.label, "unit": ind.unit.strip(), "london_value": _r(comp.target)}
        for row in comp.rows:
            p = row.point
            adjusted = row.limits_adjusted
            out[p.borough][ind.key] = {
                **common, "value": _r(p.value),
                "position": {lvl: position(p.value, lim) for lvl, lim in row.limits.items()},
                "limits": {lvl: [_r(lo), _r(hi)] for lvl, (lo, hi) in row.limits.items()},
                "position_overdispersion_adjusted": (
                    {lvl: position(p.value, lim) for lvl, lim in adjusted.items()} if adjusted else None),
            }
        for slug, why in comp.skipped.items():
            out[slug][ind.key] = {**common, "value": None, "position": None, "limits": None,
                                  "position_overdispersion_adjusted": None, "reason": why}
    return out


def results_json(comps: list[Comparison], meta: dict[str, Any], found: dict[str, dict[str, Any]],
                 hashes: dict[str, str]) -> dict[str, Any]:
    return {
        "comparison": paths.LONDON,
        "boroughs": meta["included"],
        "excluded": meta["excluded"],
        "levels": list(LEVELS),
        "synthetic": meta["synthetic_data"],
        "indicators": {c.indicator.key: comparison_json(c) for c in comps},
        "comparators": comparators(comps, meta["included"]),
        "provenance": {"inputs": {s: {"results_sha256": hashes[s],
                                      "extract_sha256": (found[s].get("extract") or {}).get("sha256")}
                                  for s in meta["included"]},
                       "code_version": meta["code_version"], "build_time": meta["build_time"]},
    }
