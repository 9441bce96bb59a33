"""``make london``: read the boroughs' results, compare every indicator, draw the funnels and
publish ``reports/london/`` (index.html, results.json, figures/) with the same staging folder
and atomic swap as a borough report."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import paths
from ..atomic import staging_dir, swap_into_place
from ..provenance import build_time, code_version
from ..resultsjson import dumps
from .compare import compare
from .figures import funnel_png
from .indicators import indicators
from .page import render_html
from .read import LondonError, read_all, real_or_synthetic, scope
from .results import results_json


def build(reports_dir: Path | None = None, dest: Path | None = None, all_areas: bool = False,
          log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Build ``reports/london/`` (index.html, results.json, figures/) atomically."""
    reports_dir = reports_dir or paths.REPORTS
    dest = dest or reports_dir / paths.LONDON
    log = log or (lambda _m: None)
    t0 = time.perf_counter()
    found, excluded, hashes = read_all(reports_dir, all_areas)
    if not found:
        why = "; ".join(f"{s}: {w}" for s, w in excluded.items())
        raise LondonError("no borough results to compare: build some borough reports first (make report "
                          "BOROUGH=merton for one; make data, then make reports, then make london for all of "
                          "London)" + (f". Left out: {why}" if why else ""))
    found, left_out, synthetic = real_or_synthetic(found)
    excluded = dict(sorted({**excluded, **left_out}.items()))
    sentences = scope(sorted(found), excluded, synthetic)
    for sentence in sentences:
        log(f"[london] {sentence}")
    comps = [compare(ind, found) for ind in indicators(found)]
    figures = {c.indicator.key: funnel_png(c) for c in comps if c.rows}
    meta = {
        "included": sorted(found),
        "excluded": excluded,
        "synthetic": {s: bool(r.get("synthetic")) for s, r in found.items()},
        "synthetic_data": synthetic,
        "scope": [sentences[0][0].upper() + sentences[0][1:], *sentences[1:]],
        "extracts": {s: f"{(r.get('extract') or {}).get('start', '?')} to {(r.get('extract') or {}).get('end', '?')}"
                     for s, r in found.items()},
        "build_time": build_time(),
        "code_version": code_version(),
    }
    results = results_json(comps, meta, found, hashes)
    staged = staging_dir(dest)
    try:
        (staged / "figures").mkdir()
        for key, png in figures.items():
            (staged / "figures" / f"{key}.png").write_bytes(png)
        (staged / "index.html").write_text(render_html(comps, figures, meta), encoding="utf-8")
        (staged / "results.json").write_text(dumps(results), encoding="utf-8")
        swap_into_place(staged, dest)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    flagged = sum(len(c.flagged) for c in comps)
    log(f"[london] published {dest.relative_to(paths.ROOT) if dest.is_relative_to(paths.ROOT) else dest}/ "
        f"({len(comps)} indicators, {flagged} borough figure{'s' if flagged != 1 else ''} outside the 95% limits) "
        f"in {time.perf_counter() - t0:.1f} s")
    return results
