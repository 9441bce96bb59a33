"""The last check on hidden cells: what a reader can bound, not only solve.

:mod:`.cells` hides cells until no equation pins a hidden one down. A reader knows more than
equations: a published count is its rounding window (a published 15 is 13..17, a published 0 is
exactly 0, a published 10 is at least the minimum count because smaller counts are never
published), a withheld count is at least 1 (a zero is published as 0), and no count is negative.
With those bounds a hidden cell can be squeezed without being determined: twelve withheld months
under a published 10 referrals are each exactly 1; 60 escalations at reviews rated red under a
withheld number of red reviews put that number at 60 or more.

:func:`exposed` solves, for each hidden cell, the least and greatest value those bounds and the
groups' sums allow (a linear programme per connected set of sums, as the release check's
differencing attack does) and returns the cells a reader learns too much about:

- a single value;
- a small count (1..min_count-1) confined to a narrower range than "small";
- any hidden cell confined to no more than one rounding step (as good as published).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from .rules import Rules

if TYPE_CHECKING:  # cells calls this module: the types only
    from .cells import Cell, Group


def cell_bounds(c: Cell, shown: set[Cell], hidden: dict, rules: Rules) -> tuple[float, float]:
    """The range a reader knows ``c`` lies in before any sum is used."""
    if c not in shown:
        return 0.0, math.inf
    if c in hidden:
        return 1.0, math.inf
    p = rules.round_count(c.value)
    if p == 0:
        return 0.0, 0.0
    low = max(p - rules.window, rules.min_count, 0)
    return float(low), float(p + rules.rounding - 1 - rules.window)


def _components(groups: list[Group]) -> list[list[Group]]:
    parent: dict[Cell, Cell] = {}

    def find(c: Cell) -> Cell:
        while parent.setdefault(c, c) is not c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for g in groups:
        for p in g.parts:
            parent[find(p)] = find(g.total)
    out: dict[Cell, list[Group]] = {}
    for g in groups:
        out.setdefault(find(g.total), []).append(g)
    return list(out.values())


def _ranges(groups: list[Group], shown: set[Cell], hidden: dict, rules: Rules) -> dict[Cell, tuple[float, float]]:
    """The least and greatest value of each hidden cell of one connected set of sums."""
    cells = list(dict.fromkeys(c for g in groups for c in (g.total, *g.parts)))
    targets = [c for c in cells if c in hidden]
    if not targets:
        return {}
    col = {c: i for i, c in enumerate(cells)}
    rows, cols, vals = [], [], []
    for r, g in enumerate(groups):
        for p in g.parts:
            rows.append(r)
            cols.append(col[p])
            vals.append(1.0)
        rows.append(r)
        cols.append(col[g.total])
        vals.append(-1.0)
    a = csr_matrix((vals, (rows, cols)), shape=(len(groups), len(cells)))
    bounds = [cell_bounds(c, shown, hidden, rules) for c in cells]
    bounds = [(lo, None if hi == math.inf else hi) for lo, hi in bounds]
    out = {}
    for c in targets:
        objective = np.zeros(len(cells))
        objective[col[c]] = 1.0
        got = []
        for sign in (1.0, -1.0):
            res = linprog(sign * objective, A_eq=a, b_eq=np.zeros(len(groups)), bounds=bounds, method="highs")
            got.append(math.inf if res.status == 3 else (sign * res.fun if res.status == 0 else None))
        if None not in got:
            out[c] = (got[0], got[1])
    return out


def too_narrow(c: Cell, lo: float, hi: float, rules: Rules, published: bool = True) -> bool:
    """Does the range ``lo..hi`` tell a reader more about hidden ``c`` than withholding it does?
    (``published``: a figure would show ``c``; a count no figure shows is only protected from
    being pinned down or shown to be small.)"""
    if hi == math.inf:
        return False
    lo, hi = math.ceil(lo - 1e-6), math.floor(hi + 1e-6)
    m = rules.min_count
    if lo == hi:
        return True
    if rules.is_small(c.value) and 1 <= lo and hi <= m - 1 and (lo > 1 or hi < m - 1):
        return True
    return published and hi - lo <= rules.rounding - 1


def exposed(groups: list[Group], shown: set[Cell], hidden: dict, rules: Rules) -> list[tuple[Cell, list[Group]]]:
    """Hidden cells a reader bounds too closely, each with the sums it is part of."""
    out = []
    for comp in _components(groups):
        for c, (lo, hi) in _ranges(comp, shown, hidden, rules).items():
            if too_narrow(c, lo, hi, rules, c in shown):
                own = [g for g in comp if c is g.total or c in g.parts]
                visible = {x for g in own for x in (g.total, *g.parts) if x in shown and x not in hidden and x.value}
                out.append((c, own if visible else comp))
    return out
