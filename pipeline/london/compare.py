"""One indicator compared across boroughs: the pooled London value, each borough's z-score and
position against the 95% and 99.8% funnel limits (and against limits allowing for
overdispersion when the boroughs vary more than chance), and ranks with 95% intervals."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ..funnel import LEVELS, binomial_limits, normal_limits, overdispersion, poisson_limits
from .indicators import Indicator, Point

RANK_DRAWS = 2000
SEED = 20240401


@dataclass
class Row:
    point: Point
    z: float
    flag: str  # within | above_95 | below_95 | above_99.8 | below_99.8
    flag_adjusted: str | None
    rank: int
    rank_ci95: tuple[int, int]
    limits: dict[str, tuple[float, float]]  # level ("95", "99.8") -> funnel limits at this borough's n
    limits_adjusted: dict[str, tuple[float, float]] | None = None  # allowing for overdispersion, when drawn


def position(value: float, limits: tuple[float, float]) -> str:
    """below | within | above the limits."""
    return "below" if value < limits[0] else "above" if value > limits[1] else "within"


@dataclass
class Comparison:
    indicator: Indicator
    target: float | None
    rows: list[Row]
    skipped: dict[str, str]
    over: dict[str, Any]
    pooled_sd: float | None = None  # means only: per-person SD of change

    @property
    def flagged(self) -> list[Row]:
        return [r for r in self.rows if r.flag != "within"]


def _flag(value: float, lims: dict[str, tuple[float, float]]) -> str:
    """The widest limits the value is outside (``above_99.8``, ``below_95``, ...) or ``within``."""
    for level in ("99.8", "95"):
        side = position(value, lims[level])
        if side != "within":
            return f"{side}_{level}"
    return "within"


def _null_sd(ind: Indicator, target: float, pt: Point, pooled_sd: float | None) -> float:
    """Standard deviation of the indicator under the null (at the target) for this borough."""
    if ind.kind == "proportion":
        p0 = target / 100
        return math.sqrt(max(p0 * (1 - p0), 1e-12) / pt.n) * 100
    if ind.kind == "rate":
        exposure = pt.n / 1000
        return math.sqrt(target / exposure)
    if ind.kind == "mean":
        return (pooled_sd or 0) / math.sqrt(pt.n)
    return pt.se  # ratio: on the log scale


def limits_at(ind: Indicator, target: float, n: np.ndarray | float, level: float,
              pooled_sd: float | None = None, se: np.ndarray | float | None = None,
              tau2: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Funnel limits on the display scale at precision ``n`` (``se`` for ratios)."""
    n = np.atleast_1d(np.asarray(n, dtype=float))
    if tau2 > 0:
        if ind.kind == "proportion":
            p0 = target / 100
            sd = np.sqrt(p0 * (1 - p0) / n + tau2 / 1e4) * 100
        elif ind.kind == "rate":
            sd = np.sqrt(target / (n / 1000) + tau2)
        elif ind.kind == "mean":
            sd = np.sqrt((pooled_sd or 0) ** 2 / n + tau2)
        else:
            s = np.atleast_1d(np.asarray(se if se is not None else 1 / np.sqrt(n), dtype=float))
            lo, hi = normal_limits(math.log(target), np.sqrt(s ** 2 + tau2), level)
            return np.exp(lo), np.exp(hi)
        return normal_limits(target, sd, level)
    if ind.kind == "proportion":
        lo, hi = binomial_limits(target / 100, n, level)
        return lo * 100, hi * 100
    if ind.kind == "rate":
        lo, hi = poisson_limits(target, n / 1000, level)
        return lo, hi
    if ind.kind == "mean":
        return normal_limits(target, (pooled_sd or 0) / np.sqrt(n), level)
    s = np.atleast_1d(np.asarray(se if se is not None else 1 / np.sqrt(n), dtype=float))
    lo, hi = normal_limits(math.log(target), s, level)
    return np.exp(lo), np.exp(hi)


def compare(ind: Indicator, all_results: dict[str, dict[str, Any]]) -> Comparison:
    points: list[Point] = []
    skipped: dict[str, str] = {}
    for slug in sorted(all_results):
        got = ind.extract(all_results[slug], slug)
        if isinstance(got, str):
            skipped[slug] = got
        else:
            points.append(got)
    if not points:
        return Comparison(ind, None, [], skipped, {"estimated": False, "reason": "no borough to compare"})
    n = np.array([p.n for p in points])
    v = np.array([p.value for p in points])
    pooled_sd = None
    if ind.kind == "proportion":
        target = float((v * n).sum() / n.sum())
    elif ind.kind == "rate":
        events = v * n / 1000
        target = float(events.sum() / (n / 1000).sum())
    elif ind.kind == "mean":
        target = float((v * n).sum() / n.sum())
        sds2 = np.array([(p.se * math.sqrt(p.n)) ** 2 for p in points])
        dof = np.maximum(n - 1, 1)
        pooled_sd = float(math.sqrt((dof * sds2).sum() / dof.sum()))
    else:
        w = np.array([1 / p.se ** 2 for p in points])
        target = float(math.exp((w * np.log(v)).sum() / w.sum()))

    null_sd = np.array([_null_sd(ind, target, p, pooled_sd) for p in points])
    centre = math.log(target) if ind.kind == "ratio" else target
    vals = np.log(v) if ind.kind == "ratio" else v
    z = (vals - centre) / np.where(null_sd > 0, null_sd, np.nan)
    z = np.nan_to_num(z)
    over = overdispersion(z, 1 / np.maximum(null_sd, 1e-12) ** 2)
    tau2 = float(over.get("tau2") or 0.0)

    # ranks with a 95% interval from the sampling error of each borough's figure
    rng = np.random.default_rng(SEED)
    se = np.array([p.se for p in points])
    draws = rng.normal(vals, se, size=(RANK_DRAWS, len(points)))
    ranks = (-draws).argsort(axis=1).argsort(axis=1) + 1
    order = np.argsort(-vals, kind="stable")
    rank_of = np.empty(len(points), dtype=int)
    rank_of[order] = np.arange(1, len(points) + 1)

    rows = []
    for i, p in enumerate(points):
        lims = {}
        adj = {}
        for name, level in LEVELS.items():
            lo, hi = limits_at(ind, target, p.n, level, pooled_sd, p.se)
            lims[name] = (float(lo[0]), float(hi[0]))
            if tau2 > 0:
                alo, ahi = _adjusted_limits(ind, target, p, level, pooled_sd, tau2)
                adj[name] = (alo, ahi)
        lo_r, hi_r = np.percentile(ranks[:, i], [2.5, 97.5])
        rows.append(Row(p, float(z[i]), _flag(p.value, lims), _flag(p.value, adj) if adj else None,
                        int(rank_of[i]), (int(math.floor(lo_r)), int(math.ceil(hi_r))), lims, adj or None))
    rows.sort(key=lambda r: r.rank)
    return Comparison(ind, target, rows, skipped, over, pooled_sd)


def _adjusted_limits(ind: Indicator, target: float, p: Point, level: float, pooled_sd: float | None,
                     tau2: float) -> tuple[float, float]:
    sd = _null_sd(ind, target, p, pooled_sd)
    z = stats.norm.ppf(1 - (1 - level) / 2)
    half = z * math.sqrt(sd ** 2 + tau2)
    if ind.kind == "ratio":
        return math.exp(math.log(target) - half), math.exp(math.log(target) + half)
    return target - half, target + half



def outside(row: Row) -> bool:
    """Outside the limits a reader should act on: the overdispersion-allowing ones when drawn."""
    return (row.flag_adjusted if row.flag_adjusted is not None else row.flag) != "within"
