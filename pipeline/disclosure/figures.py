"""The kinds of published figure, and the rule that decides each one.

A section's publish function builds a tree of these (see :mod:`pipeline.disclosure.release`);
nothing is decided until the whole tree is known, so a cell hidden anywhere is hidden everywhere.
Each figure resolves to an :class:`Outcome`: the published value (``None`` when withheld) and the
rule that decided it, recorded in the section's ledger.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .cells import ELSEWHERE, SECONDARY, SMALL, Cell
from .rules import Rules, rounded

# what happened to a figure: published ...
COUNT = "count"            # a count, rounded (0 as 0)
DERIVED = "derived"        # a percentage, rate or ratio computed from rounded counts, or from other figures
ESTIMATE = "estimate"      # a mean, median, test or model estimate resting on enough people
CURVE = "curve"            # a survival / cumulative-incidence figure from a curve's rounded counts
FACT = "fact"              # not about people: a setting, a population, a number of services
# ... or withheld
SMALL_COUNT = SMALL        # a count of 1..min_count-1
SECONDARY_CELL = SECONDARY  # hidden so that a small count cannot be recovered from a total
WITHHELD_ELSEWHERE = ELSEWHERE  # the same count is withheld in another section of the report
SMALL_BASE = "small_base"  # rests on fewer than min_base people
SMALL_EVENTS = "small_events"  # rests on 1..min_count-1 events
NOT_ESTIMABLE = "not_estimable"  # cannot be computed from these data (with a reason)
NOT_APPLICABLE = "not_applicable"  # does not apply to this extract (a literal None in the tree)

PUBLISHED = (COUNT, DERIVED, ESTIMATE, CURVE, FACT)
SUPPRESSED = (SMALL_COUNT, SECONDARY_CELL, WITHHELD_ELSEWHERE, SMALL_BASE, SMALL_EVENTS)


@dataclass(frozen=True)
class Outcome:
    value: Any
    rule: str
    reason: str | None = None

    @property
    def published(self) -> bool:
        return self.rule in PUBLISHED


def withheld(rule: str, reason: str | None = None) -> Outcome:
    return Outcome(None, rule, reason)


class Resolver:
    """What a figure needs to decide itself: the rules, the hidden cells, the other figures."""

    def __init__(self, rules: Rules, hidden: dict[Cell, str]):
        self.rules = rules
        self.hidden = hidden
        self._done: dict[int, Outcome] = {}

    def count(self, c: Cell) -> Outcome:
        if c in self.hidden:
            return withheld(self.hidden[c])
        return Outcome(self.rules.round_count(c.value), COUNT)

    def __call__(self, fig: "Figure") -> Outcome:
        key = id(fig)
        if key not in self._done:
            self._done[key] = fig.decide(self)
        return self._done[key]


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _value(n: Cell | int | None) -> int | None:
    return n.value if isinstance(n, Cell) else (None if n is None else int(n))


class Figure(ABC):
    """A number on its way out. ``cells()``: the counts it reveals when published; ``reveals(rules)``:
    those it reveals given what is decided before any cell is hidden (a percentage on too small a
    base is never published, so it reveals nothing)."""

    def cells(self) -> Iterable[Cell]:
        return ()

    def reveals(self, rules: Rules) -> Iterable[Cell]:
        return self.cells()

    @abstractmethod
    def decide(self, r: Resolver) -> Outcome:
        """Published, rounded or withheld, with the rule that decided it."""


class Count(Figure):
    def __init__(self, cell: Cell):
        self.cell = cell

    def cells(self) -> Iterable[Cell]:
        return (self.cell,)

    def decide(self, r: Resolver) -> Outcome:
        return r.count(self.cell)


class Share(Figure):
    """``num / den * scale`` from the rounded counts: a percentage (scale 100) or a ratio of two
    counts (e.g. contacts per person seen, scale 1). Withheld when ``den`` rests on fewer than
    min_base people or either count is hidden."""

    def __init__(self, num: Cell, den: Cell, scale: float, decimals: int | None):
        self.num, self.den, self.scale, self.decimals = num, den, scale, decimals

    def cells(self) -> Iterable[Cell]:
        return (self.num, self.den)

    def reveals(self, rules: Rules) -> Iterable[Cell]:
        return self.cells() if self.den.value and rules.base_ok(self.den.value) else ()

    def decide(self, r: Resolver) -> Outcome:
        if self.den.value == 0:
            return withheld(NOT_ESTIMABLE, "nothing to divide by (a base of 0)")
        if not r.rules.base_ok(self.den.value):
            return withheld(SMALL_BASE)
        num, den = r.count(self.num), r.count(self.den)
        for o in (num, den):
            if not o.published:
                return withheld(o.rule)
        d = r.rules.pct_decimals if self.decimals is None else self.decimals
        return Outcome(rounded(num.value / den.value * self.scale, d), DERIVED)


class Rate(Figure):
    """A rounded count over a denominator that does not describe people (a registered
    population, person-years), times ``per``."""

    def __init__(self, cell: Cell, denominator: float | None, per: float, decimals: int):
        self.cell, self.denominator, self.per, self.decimals = cell, denominator, per, decimals

    def cells(self) -> Iterable[Cell]:
        return (self.cell,)

    def decide(self, r: Resolver) -> Outcome:
        if _missing(self.denominator) or not self.denominator:
            return withheld(NOT_ESTIMABLE, "no denominator")
        n = r.count(self.cell)
        if not n.published:
            return withheld(n.rule)
        return Outcome(rounded(n.value / float(self.denominator) * self.per, self.decimals), DERIVED)


class Estimate(Figure):
    """A mean, median, proportion from a model, test statistic, p-value or model estimate resting
    on ``base`` people (and, when given, ``events`` events). ``whole_numbers``: a mean of whole
    numbers, published to no more decimals than its base can hide (:meth:`Rules.mean_decimals`)."""

    def __init__(self, value: Any, base: Cell | int | None, events: Cell | int | None, decimals: int,
                 whole_numbers: bool = False, reason: str | None = None):
        self.value, self.base, self.events = value, base, events
        self.decimals, self.whole_numbers, self.reason = decimals, whole_numbers, reason

    def _gate(self, r: Resolver) -> Outcome | None:
        base, events = _value(self.base), _value(self.events)
        if base == 0:
            return withheld(NOT_ESTIMABLE, self.reason or "no one to estimate it from")
        if not r.rules.base_ok(base):
            return withheld(SMALL_BASE)
        if events is not None and r.rules.is_small(events):
            return withheld(SMALL_EVENTS)
        return None

    def places(self, r: Resolver) -> int:
        if self.whole_numbers:
            return r.rules.mean_decimals(_value(self.base) or 0, self.decimals)
        return self.decimals

    def decide(self, r: Resolver) -> Outcome:
        gate = self._gate(r)
        if gate is not None:
            return gate
        if _missing(self.value):
            return withheld(NOT_ESTIMABLE, self.reason or "cannot be estimated from these data")
        return Outcome(rounded(self.value, self.places(r)), ESTIMATE)


class Interval(Estimate):
    """A confidence interval ``[lo, hi]`` under the same rules as :class:`Estimate`."""

    def __init__(self, lo: Any, hi: Any, base: Cell | int | None, events: Cell | int | None, decimals: int,
                 whole_numbers: bool = False, reason: str | None = None):
        super().__init__((lo, hi), base, events, decimals, whole_numbers, reason)

    def decide(self, r: Resolver) -> Outcome:
        gate = self._gate(r)
        if gate is not None:
            return gate
        lo, hi = self.value
        if _missing(lo) or _missing(hi):
            return withheld(NOT_ESTIMABLE, self.reason or "no interval can be computed from these data")
        d = self.places(r)
        return Outcome([rounded(lo, d), rounded(hi, d)], ESTIMATE)


class Derived(Figure):
    """A value computed from other published figures only (post-processing a safe output is
    safe). Withheld, with the same rule, when any input is (unless ``partial``: then a withheld input
    reaches ``fn`` as ``None``, as a reader sees it), or when its ``base`` (the people it rests on,
    when its inputs count something else) is too small; ``fn`` returning ``None`` is "not
    estimable". Numbers returned are rounded to ``decimals`` when given."""

    def __init__(self, fn: Callable[..., Any], inputs: tuple[Figure, ...], decimals: int | None,
                 reason: str | None = None, base: Cell | int | None = None, partial: bool = False):
        self.fn, self.inputs, self.decimals, self.reason, self.base = fn, inputs, decimals, reason, base
        self.partial = partial

    def cells(self) -> Iterable[Cell]:
        for f in self.inputs:
            yield from f.cells()

    def reveals(self, rules: Rules) -> Iterable[Cell]:
        if self.base is not None and not rules.base_ok(_value(self.base)):
            return ()
        return [c for f in self.inputs for c in f.reveals(rules)]

    def decide(self, r: Resolver) -> Outcome:
        if self.base is not None and not r.rules.base_ok(_value(self.base)):
            return withheld(SMALL_BASE)
        values = []
        for f in self.inputs:
            o = r(f)
            if not o.published and not self.partial:
                return withheld(o.rule, o.reason)
            values.append(o.value)
        v = self.fn(*values)
        if v is None:
            return withheld(NOT_ESTIMABLE, self.reason or "cannot be computed from the published figures")
        return Outcome(_round_all(v, self.decimals), DERIVED)


def _round_all(v: Any, decimals: int | None) -> Any:
    if isinstance(v, bool) or decimals is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_round_all(x, decimals) for x in v]
    if isinstance(v, (int, float)):
        return rounded(v, decimals)
    return v


class Given(Figure):
    """``figure``, withheld (with the cell's rule) whenever one of ``cells`` is: a group's mean or
    total goes with the group's count, so a hidden count stays hidden everywhere."""

    def __init__(self, figure: Figure, cells: tuple[Cell, ...]):
        self.figure, self.gates = figure, cells

    def cells(self) -> Iterable[Cell]:
        return self.figure.cells()

    def decide(self, r: Resolver) -> Outcome:
        for c in self.gates:
            if c in r.hidden:
                return withheld(r.hidden[c])
        return r(self.figure)


class Fact(Figure):
    """A figure that does not describe people (a setting, a registered population, the number of
    services named): published as it is."""

    def __init__(self, value: Any):
        self.value = value

    def decide(self, r: Resolver) -> Outcome:
        return Outcome(self.value, FACT)


class NotEstimable(Figure):
    def __init__(self, reason: str):
        self.reason = reason

    def decide(self, r: Resolver) -> Outcome:
        return withheld(NOT_ESTIMABLE, self.reason)


class Fixed(Figure):
    """An outcome decided elsewhere by the layer (a curve's figures), revealing ``cells``."""

    def __init__(self, decide: Callable[[Resolver], Outcome], cells: tuple[Cell, ...] = ()):
        self._decide, self._cells = decide, cells

    def cells(self) -> Iterable[Cell]:
        return self._cells

    def decide(self, r: Resolver) -> Outcome:
        return self._decide(r)
