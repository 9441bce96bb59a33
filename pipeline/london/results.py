"""``reports/london/results.json``: every indicator's comparison in a machine-readable form,
with the inputs' hashes."""

from __future__ import annotations

from typing import Any

from .. import paths
from .compare import Comparison
from .funnel import LEVELS


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


def results_json(comps: list[Comparison], meta: dict[str, Any], found: dict[str, dict[str, Any]],
                 hashes: dict[str, str]) -> dict[str, Any]:
    return {
        "comparison": paths.LONDON,
        "boroughs": meta["included"],
        "excluded": meta["excluded"],
        "levels": list(LEVELS),
        "indicators": {c.indicator.key: comparison_json(c) for c in comps},
        "provenance": {"inputs": {s: {"results_sha256": hashes[s],
                                      "extract_sha256": (found[s].get("extract") or {}).get("sha256")}
                                  for s in meta["included"]},
                       "code_version": meta["code_version"], "build_time": meta["build_time"]},
    }
