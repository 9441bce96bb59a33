"""Counts as cells, the sums that tie them together, and which cells must be hidden.

A :class:`Cell` is one exact count with an identity: the same count shown in two tables is one
cell, so it is hidden in both or in neither. A :class:`Group` says that some cells add up to
another (the months of a year add up to the year; the practices of a PCN add up to the PCN; the
rows of a two-way table add up to its column margins).

:func:`hidden_cells` decides what to hide:

1. **primary**: every cell holding 1..min_count-1 (a small count);
2. **secondary**: in every group whose total is known to a reader, the cells a reader cannot see
   (hidden, or never published) must not be a single small cell nor add up to a small number;
   otherwise the next smallest published, non-zero cell of the group is hidden too (or, with none
   left, the total). Repeated over every group until nothing changes, so suppression in one table
   carries into every table that shares a cell;
3. **audit**: the groups are a system of linear equations; a hidden cell that the published cells
   determine exactly (by any combination of equations, across tables) is protected by hiding one
   more cell of the equations that pin it down, and the whole check runs again;
4. **clean-up**: a cell hidden to protect another is published again when the cells hidden after
   it already protect that one (the costliest to lose first);
5. **bounds**: a reader also knows each published count's rounding window, that a withheld count
   is at least 1 and that none is negative; a hidden cell those bounds squeeze too closely
   (:mod:`.bounds`) is protected like an exposed one, and steps 2-3 run again.

Steps 2-3 hold even if a reader knew every published cell exactly; step 5 reads them as a reader
does, as rounded.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from . import bounds
from .rules import Rules

WIDELY_USED = 3  # figures resting on a count that make it the last choice for secondary suppression
SMALL = "small_count"
SECONDARY = "secondary"
ELSEWHERE = "elsewhere"  # the same count is withheld in another section of the report

_ids = itertools.count()


@dataclass(eq=False)
class Cell:
    """An exact count. Compared by identity: two cells with the same value are different cells."""

    value: int
    label: str = ""
    id: int = field(default_factory=lambda: next(_ids))

    def __post_init__(self) -> None:
        if self.value is None or int(self.value) != self.value or self.value < 0:
            raise ValueError(f"a count must be a whole number >= 0, not {self.value!r} ({self.label})")
        self.value = int(self.value)

    def __hash__(self) -> int:
        return self.id

    def __repr__(self) -> str:
        return f"Cell({self.value}{', ' + self.label if self.label else ''})"


@dataclass(frozen=True, eq=False)
class Group:
    """``sum(parts) == total``."""

    total: Cell
    parts: tuple[Cell, ...]

    def __post_init__(self) -> None:
        if sum(p.value for p in self.parts) != self.total.value:
            raise ValueError(f"the parts of {self.total!r} add up to {sum(p.value for p in self.parts)}")


def hidden_cells(cells: Iterable[Cell], groups: Iterable[Group], shown: set[Cell] | dict[Cell, int],
                 rules: Rules, elsewhere: Iterable[Cell] = ()) -> dict[Cell, str]:
    """{cell: SMALL, SECONDARY or ELSEWHERE} for the cells that must not be published.

    ``elsewhere``: cells that are counts another section of the report withholds (hidden from the
    start, like small counts, and protected the same way).

    ``cells``: every cell in play; ``shown``: those a published figure reveals (a count, or a
    percentage or rate built on it), with how many figures reveal each when it is a mapping;
    ``groups``: the sums that tie cells together. When a second cell must be hidden, the smallest
    goes first, except that a count many figures rest on (:data:`WIDELY_USED` or more: a whole
    table of percentages built on it) goes last: hiding it would take the table with it."""
    groups = list(groups)
    cells = set(cells) | {c for g in groups for c in (g.total, *g.parts)}
    if not rules.enabled:
        return {}
    uses = dict(shown) if isinstance(shown, dict) else dict.fromkeys(shown, 1)
    seen = set(uses)

    def cost(c: Cell) -> tuple[bool, int, int]:
        return (uses.get(c, 0) >= WIDELY_USED, c.value, c.id)

    hidden = {c: SMALL for c in cells if rules.is_small(c.value)}
    hidden.update({c: ELSEWHERE for c in elsewhere if c not in hidden})
    _settle(groups, seen, hidden, rules, cost)
    _release_unneeded(groups, seen, hidden, rules, cost)
    while loose := bounds.exposed(groups, seen, hidden, rules):
        _protect(loose, seen, hidden, cost)
        _settle(groups, seen, hidden, rules, cost)
    return hidden


def _settle(groups: list[Group], shown: set[Cell], hidden: dict[Cell, str], rules: Rules, cost) -> None:
    """Secondary suppression and the linear audit, until neither hides anything more."""
    while True:
        _spread(groups, shown, hidden, rules, cost)
        exposed = _determined(groups, shown, hidden)
        if not exposed:
            return
        _protect(exposed, shown, hidden, cost)


def _safe(groups: list[Group], shown: set[Cell], hidden: dict[Cell, str], rules: Rules) -> bool:
    """Whether every hidden cell is protected: no sum with a known total leaves a single hidden part
    or hidden parts adding up to a small number, and no combination of sums pins one down."""
    for g in groups:
        if _unseen(g.total, shown, hidden):
            continue
        unseen = [p for p in g.parts if _unseen(p, shown, hidden)]
        if any(p in hidden for p in unseen) and (len(unseen) == 1 or sum(p.value for p in unseen) < rules.min_count):
            return False
    return not _determined(groups, shown, hidden)


def _release_unneeded(groups: list[Group], shown: set[Cell], hidden: dict[Cell, str], rules: Rules, cost) -> None:
    """Publish again each cell hidden to protect another that turns out not to need it (cells hidden
    later in the search can make an earlier choice redundant), the costliest to lose first."""
    for c in sorted((c for c, why in hidden.items() if why == SECONDARY), key=cost, reverse=True):
        del hidden[c]
        if not _safe(groups, shown, hidden, rules):
            hidden[c] = SECONDARY


def _unseen(c: Cell, shown: set[Cell], hidden: dict[Cell, str]) -> bool:
    return c in hidden or c not in shown


def _hide_next(g: Group, shown: set[Cell], hidden: dict[Cell, str], cost) -> bool:
    """Hide the cheapest published non-zero part of ``g`` (or its total, when it is cheaper or no
    part is left); False if nothing is left to hide."""
    candidates = sorted((p for p in g.parts if not _unseen(p, shown, hidden) and p.value > 0), key=cost)
    total = [] if _unseen(g.total, shown, hidden) else [g.total]
    best = min(candidates[:1] + total, key=cost, default=None) if candidates else (total[0] if total else None)
    if best is None:
        return False
    hidden[best] = SECONDARY
    return True


def _spread(groups: list[Group], shown: set[Cell], hidden: dict[Cell, str], rules: Rules, cost) -> None:
    changed = True
    while changed:
        changed = False
        for g in groups:
            if _unseen(g.total, shown, hidden):
                continue
            while True:
                unseen = [p for p in g.parts if _unseen(p, shown, hidden)]
                if not any(p in hidden for p in unseen):
                    break
                if len(unseen) > 1 and sum(p.value for p in unseen) >= rules.min_count:
                    break
                if not _hide_next(g, shown, hidden, cost):
                    break
                changed = True


def _system(groups: list[Group], shown: set[Cell], hidden: dict[Cell, str]):
    """The groups as equations in the cells a reader cannot see: (matrix, its groups, unknown cells)."""
    unknown = sorted({c for g in groups for c in (g.total, *g.parts) if _unseen(c, shown, hidden)},
                     key=lambda c: c.id)
    col = {c: i for i, c in enumerate(unknown)}
    rows, used = [], []
    for g in groups:
        row = np.zeros(len(unknown))
        for p in g.parts:
            if p in col:
                row[col[p]] += 1.0
        if g.total in col:
            row[col[g.total]] -= 1.0
        if row.any():
            rows.append(row)
            used.append(g)
    return (np.array(rows) if rows else np.zeros((0, len(unknown)))), used, unknown


def _determined(groups: list[Group], shown: set[Cell], hidden: dict[Cell, str]) -> list[tuple[Cell, list[Group]]]:
    """Hidden cells that the groups' equations pin down exactly, given every published cell, each
    with the groups whose combination pins it down."""
    a, used, unknown = _system(groups, shown, hidden)
    targets = [c for c in unknown if c in hidden]
    if not targets or not len(a):
        return []
    rank = np.linalg.matrix_rank(a)
    out = []
    for c in targets:
        e = np.zeros(len(unknown))
        e[unknown.index(c)] = 1.0
        if np.linalg.matrix_rank(np.vstack([a, e])) == rank:  # e is in the row space: x_c is determined
            y = np.linalg.lstsq(a.T, e, rcond=None)[0]  # the combination of equations that gives x_c
            out.append((c, [g for g, w in zip(used, y, strict=True) if abs(w) > 1e-9]))
    return out


def _protect(exposed: list[tuple[Cell, list[Group]]], shown: set[Cell], hidden: dict[Cell, str], cost) -> None:
    """For an exposed cell, hide the cheapest published non-zero cell of the equations that pin it
    down (a sum across tables included), so that it is no longer determined."""
    for c, chain in exposed:
        if c not in hidden:
            continue
        candidates = sorted({p for g in chain for p in (g.total, *g.parts)
                             if not _unseen(p, shown, hidden) and p.value > 0}, key=cost)
        if not candidates:
            raise AssertionError(f"cannot protect {c!r}: every cell of the sums that pin it down is hidden")
        hidden[candidates[0]] = SECONDARY
        return  # one more hidden cell changes the system: look again
