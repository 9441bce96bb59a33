"""Attacks a and e: differencing and suppressed cells recovered from margins.

The attacker writes every published count as the range the rounding allows (a published 15 is
13..17), every suppressed count as "at least 1", and every sum the documentation promises as an
equation: parts add up to totals, a cell of a two-way table to both margins, the same count
published under two names, a period's referrals to the whole report's. A linear programme
(``scipy.optimize.linprog``, then an integer programme when the answer is close) finds, for each
hidden count, the least and the greatest value consistent with everything published.

A hidden count is exposed when that range is a single value (``exact_small`` or
``exact_behind_rounded``), lies within a narrower range than 1..7 (``bounded_small``: the rules
already say a suppressed count may be 1..7, so proving that tells no more than a ``[c]`` does), or
is no wider than one rounding step (``suppressed_recovered``: as good as published). A difference
the report never publishes (referrals outside a period) is judged the same way.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_matrix

from .counts import Equation, Key, Model, Var, build
from .findings import BOUNDED_SMALL, SUPPRESSED_RECOVERED, Finding, exact_class
from .published import Published

ATTACK = "differencing"
#: a range this close to a flag is re-solved in whole numbers (the linear relaxation is looser)
REFINE_WIDTH = 12


class _Programme:
    """The linear programme over some equations and the variables they mention."""

    def __init__(self, model: Model, equations: list[Equation]):
        self.keys = list(dict.fromkeys(k for e in equations for k in e.coef))
        self.index = {k: i for i, k in enumerate(self.keys)}
        self.bounds = [(model.vars[k].lo, model.vars[k].hi) for k in self.keys]
        self.eq = [e for e in equations if not e.at_most]
        self.ub = [e for e in equations if e.at_most]
        self.A_eq = self._matrix(self.eq)
        self.A_ub = self._matrix(self.ub)

    def _matrix(self, eqs: list[Equation]) -> csr_matrix | None:
        if not eqs:
            return None
        rows, cols, vals = [], [], []
        for r, e in enumerate(eqs):
            for k, c in e.coef.items():
                rows.append(r)
                cols.append(self.index[k])
                vals.append(c)
        return csr_matrix((vals, (rows, cols)), shape=(len(eqs), len(self.keys)))

    def _solve(self, c: np.ndarray) -> float | None:
        res = linprog(c, A_ub=self.A_ub, b_ub=np.zeros(len(self.ub)) if self.ub else None,
                      A_eq=self.A_eq, b_eq=np.zeros(len(self.eq)) if self.eq else None,
                      bounds=self.bounds, method="highs")
        if res.status == 3:  # unbounded
            return math.inf
        return float(res.fun) if res.status == 0 else None

    def feasible(self) -> bool:
        return not self.keys or self._solve(np.zeros(len(self.keys))) is not None

    def range_of(self, key: Key) -> tuple[float, float] | None:
        c = np.zeros(len(self.keys))
        c[self.index[key]] = 1.0
        lo = self._solve(c)
        hi = self._solve(-c)
        if lo is None or hi is None:
            return None
        return lo, (math.inf if hi == math.inf else -hi)

    def integer_range_of(self, key: Key) -> tuple[float, float] | None:
        c = np.zeros(len(self.keys))
        c[self.index[key]] = 1.0
        cons = []
        if self.eq:
            cons.append(LinearConstraint(self.A_eq, 0, 0))
        if self.ub:
            cons.append(LinearConstraint(self.A_ub, -np.inf, 0))
        lb = np.array([b[0] for b in self.bounds], dtype=float)
        ub = np.array([np.inf if b[1] is None else b[1] for b in self.bounds], dtype=float)
        out = []
        for sign in (1.0, -1.0):
            res = milp(sign * c, constraints=cons, integrality=np.ones(len(self.keys)), bounds=Bounds(lb, ub),
                       options={"time_limit": 10})
            if res.status != 0:
                return None
            out.append(sign * float(res.fun))
        return out[0], out[1]


def components(equations: list[Equation]) -> list[list[Equation]]:
    """Groups of equations that share no variable with another group (each is solved alone)."""
    parent: dict[Key, Key] = {}

    def find(k: Key) -> Key:
        while parent.setdefault(k, k) != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for e in equations:
        ks = list(e.coef)
        for k in ks[1:]:
            parent[find(k)] = find(ks[0])
    groups: dict[Key, list[Equation]] = {}
    for e in equations:
        groups.setdefault(find(next(iter(e.coef))), []).append(e)
    return list(groups.values())


def _interval_ok(model: Model, e: Equation) -> bool:
    """Can this one equation hold with every variable in its range? (a quick check before the LP)"""
    lo = hi = 0.0
    for k, c in e.coef.items():
        v = model.vars[k]
        vhi = math.inf if v.hi is None else v.hi
        lo += c * (v.lo if c > 0 else vhi)
        hi += c * (vhi if c > 0 else v.lo)
    return lo <= 1e-9 if e.at_most else lo <= 1e-9 and hi >= -1e-9


def consistent_equations(model: Model) -> list[Equation]:
    """The catalogue's equations that the published values can satisfy together; any that they
    contradict are set aside with a note (the catalogue, not the report, is then out of date)."""
    ok = []
    for e in model.equations:
        if _interval_ok(model, e):
            ok.append(e)
        else:
            model.notes.append(f"set aside ({e.file}): {e.why}: {describe(model, e)} cannot hold")
    kept: list[Equation] = []
    for group in components(ok):
        if _Programme(model, group).feasible():
            kept += group
            continue
        good: list[Equation] = []
        for e in group:
            if _Programme(model, good + [e]).feasible():
                good.append(e)
            else:
                model.notes.append(f"set aside ({e.file}): {e.why}: {describe(model, e)} contradicts the rest")
        kept += good
    return kept


def describe(model: Model, e: Equation, focus: Key | None = None, most: int = 6) -> str:
    """An equation as a reader would write it: published values shown, hidden ones marked, names
    shortened to what differs from the focus cell, and long sides summarised."""
    ref = model.vars[focus].name().split(".") if focus else []

    def name(k: Key) -> str:
        parts = model.vars[k].name().split(".")
        i = 0
        while ref and i < min(len(parts), len(ref)) - 1 and parts[i] == ref[i]:
            i += 1
        return ".".join(parts[max(0, i - 1):]) if ref and k != focus else model.vars[k].name()

    def side(keys: list[Key]) -> str:
        shown, hidden = [], 0
        for k in keys:
            v = model.vars[k]
            if k == focus:
                shown.insert(0, f"[{name(k)}]")
            elif v.hidden or v.kind == "derived":
                hidden += 1
            else:
                shown.append(f"{name(k)}{'%' if v.kind == 'pct' else ''}={v.value}")
        if len(shown) > most:
            shown, hidden = shown[:most], hidden + len(shown) - most
        return " + ".join(shown + ([f"{hidden} hidden or unpublished cell(s)"] if hidden else [])) or "0"

    plus = [k for k, c in e.coef.items() if c > 0]
    minus = [k for k, c in e.coef.items() if c < 0]
    return f"{side(plus)} {'<=' if e.at_most else '='} {side(minus)} ({e.why})"


def _classify(v: Var, lo: int, hi: float, m: int, r: int) -> str | None:
    if hi == math.inf:
        return None
    if lo == hi:
        return exact_class([lo], m) if lo else None  # a zero is published as 0: nothing to protect
    # a suppressed count is 1..m-1 by the rules, a [c] says no more: only a narrower range tells more
    if lo >= 1 and hi <= m - 1 and (lo > 1 or hi < m - 1):
        return BOUNDED_SMALL
    if v.hidden and hi - lo <= r - 1:
        return SUPPRESSED_RECOVERED
    return None


def attack(report: Published, model: Model | None = None) -> list[Finding]:
    model = model or build(report)
    rules = model.rules
    if not rules.enabled:
        return []
    equations = consistent_equations(model)
    touching: dict[Key, list[Equation]] = {}
    programme: dict[Key, _Programme] = {}
    for group in components(equations):
        prog = _Programme(model, group)
        for e in group:
            for k in e.coef:
                touching.setdefault(k, []).append(e)
                programme[k] = prog
    findings = []
    reported: set[Key] = set()
    for key, v in model.vars.items():
        if not (v.hidden or v.kind == "derived") or key not in touching \
                or _reported_elsewhere(model, v, touching[key], reported):
            continue
        prog = programme[key]
        rng = prog.range_of(key)
        if rng is None:
            continue
        lo, hi = math.ceil(rng[0] - 1e-6), (rng[1] if rng[1] == math.inf else math.floor(rng[1] + 1e-6))
        cls = _classify(v, lo, hi, rules.min_count, rules.rounding)
        if cls is None and hi != math.inf and (hi - lo <= REFINE_WIDTH or hi < rules.min_count + REFINE_WIDTH):
            exact = prog.integer_range_of(key)
            if exact is not None:
                lo, hi = round(exact[0]), round(exact[1])
                cls = _classify(v, lo, hi, rules.min_count, rules.rounding)
        if cls is None or (v.kind == "derived" and cls == SUPPRESSED_RECOVERED):
            continue
        reported.add(key)
        findings.append(_finding(model, v, touching[key], lo, int(hi), cls))
    return findings


def _reported_elsewhere(model: Model, v: Var, eqs: list[Equation], reported: set[Key]) -> bool:
    """One finding per quantity: a count published under two names is reported once, and the
    count behind a hidden percentage under its hidden count; a published count behind a percentage
    hidden because its base is hidden tells nothing the report does not say (the base, if a reader
    can bound it, is a finding of its own)."""
    for e in eqs:
        if e.at_most or len(e.coef) != 2:
            continue
        other = next(k for k in e.coef if k != v.key)
        base_hidden = v.base is not None and model.vars[v.base].hidden
        if other in reported or (v.kind == "pct" and model.vars[other].kind == "count"
                                 and (model.vars[other].hidden or base_hidden)):
            return True
    return False


def _finding(model: Model, v: Var, eqs: list[Equation], lo: int, hi: int, cls: str) -> Finding:
    what = {"derived": "an unpublished count", "pct": "the count behind a suppressed percentage"}.get(v.kind, "a suppressed count")
    value = lo if lo == hi else (lo, hi)
    said = f"is exactly {lo}" if lo == hi else f"lies between {lo} and {hi}"
    rels = "; ".join(describe(model, e, v.key) for e in eqs[:2])
    how = (f"{v.name()} is {what}, but it {said}: reading each published count as its rounding window, "
           f"{rels}.")
    paths = (v.name(),) + tuple(dict.fromkeys(model.vars[k].name() for e in eqs[:3] for k in e.coef if k != v.key))
    key = v.name() if v.kind != "pct" or v.base is None else f"{v.name()} (count of {model.vars[v.base].name()})"
    return Finding(ATTACK, cls, eqs[0].file, paths, {key: value}, how)
