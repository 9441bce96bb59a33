"""What the activity section needs from the disclosure layer beyond its ``Release`` methods:

- :func:`split`, :func:`part_of`, :func:`containing`, :func:`sum_of`, :func:`cross`: the sums a
  reader can form between published counts: a breakdown of a total; a part of a cell published on
  its own (people seen of people referred); a sum published on its own (missed = did not attend +
  cancelled); two breakdowns that cross (practices within PCNs). They declare what a reader
  *knows*: a rest the reader cannot see (people referred but not seen) is always a cell of its
  own, even when it is 0, since a reader does not know it is 0; and where a reader does know that
  a part is all of its total (every other category is a published 0), the part *is* the total's
  cell, not a second cell tied to it by a sum of one;
- :func:`statistic`: a median or mean over nothing is *not estimable*, not withheld for a small base;
- :class:`MonthsAgainstTarget`: months counted below / within / above a target band from the
  *published* monthly counts, a withheld month included (``rel.derived`` withholds a figure when
  any input is withheld).

The cells a reader cannot see (a remainder, the crossings) stay unpublished: the layer hides what
it must so that none of them can be worked out when it is small.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, TypeVar

from ...disclosure import Release
from ...disclosure.cells import Cell
from ...disclosure.figures import DERIVED, SMALL_COUNT, Figure, Outcome, Resolver

K = TypeVar("K", bound=Hashable)


def _tie(rel: Release, total: Cell, parts: list[Cell], label: str, closed: bool) -> None:
    """``total`` is the sum of ``parts`` and of what they leave: ``closed``, the reader knows the parts
    cover the total (a breakdown into every category), so the rest is a cell only when the parts fall
    short; otherwise (people seen of people referred) the rest is always a cell a reader cannot see,
    even when it is 0 (a reader does not know it is 0)."""
    if any(p is total for p in parts):
        return  # the total's own cell (the other parts are published zeros): nothing to tie
    rest = total.value - sum(p.value for p in parts)
    if rest < 0:
        raise ValueError(f"the parts of {label or total!r} add up to more than it ({-rest} more)")
    if not parts or (closed and not rest and not any(p.value for p in parts)):
        return  # nothing, or published zeros that cover nothing
    rel.group(total, list(parts) + ([rel.cell(rest, f"{label}[rest]")] if rest or not closed else []))


def split(rel: Release, total: Cell, parts: Mapping[K, int | Cell], label: str = "",
          closed: bool = True) -> dict[K, Cell]:
    """Cells for a breakdown of ``total`` (``rel.split``): a part given as a cell is that cell.
    ``closed``: the parts are every category of the total, published, so a part that is all of the
    total *is* the total's cell (one cell per quantity; the others are published zeros)."""
    cells: dict[K, Cell] = {}
    for k, v in parts.items():
        if isinstance(v, Cell):
            cells[k] = v
        elif closed and v and v == total.value:
            cells[k] = total
        else:
            cells[k] = rel.cell(int(v), f"{label}[{k}]")
    _tie(rel, total, list(cells.values()), label, closed)
    return cells


def part_of(rel: Release, total: Cell | int, n: int | Cell, label: str = "") -> Cell:
    """The cell of ``n`` of ``total`` (people seen of people referred), the rest unpublished."""
    return split(rel, rel.cell(total), {0: n}, label, closed=False)[0]


def containing(rel: Release, part: Cell, n: int, label: str = "", known: bool = False) -> Cell:
    """The cell of a total of ``n`` that ``part`` is some of (the patients of a period, of whom its new
    referrals are some). ``known``: a reader knows from the definitions that they are equal when
    they are (then it is ``part``'s own cell)."""
    if known and n == part.value:
        return part
    total = rel.cell(n, label)
    _tie(rel, total, [part], label, closed=False)
    return total


def sum_of(rel: Release, parts: list[Cell], label: str = "") -> Cell:
    """The cell of ``sum(parts)`` of published cells, tied to them; the part's own when only one is
    not 0 (the others being published zeros)."""
    nonzero = [p for p in parts if p.value]
    if len(nonzero) == 1:
        return nonzero[0]
    total = rel.cell(sum(p.value for p in nonzero), label)
    _tie(rel, total, nonzero, label, closed=True)
    return total


def cross(rel: Release, rows: Mapping[Hashable, Cell], cols: Mapping[Hashable, Cell],
          counts: Mapping[tuple[Hashable, Hashable], int], label: str = "",
          open_cols: tuple[Hashable, ...] = ()) -> dict[tuple[Hashable, Hashable], Cell]:
    """Two breakdowns of one total that cross: ``counts[(row, col)]`` is how many of ``rows[row]``
    are also in ``cols[col]`` (a practice's referrals in a PCN; a two-way table's cells, its margins
    being ``rows`` and ``cols``). Each row and each column is the sum of its crossings, so a reader
    who knows which practice is in which PCN cannot take a PCN's published practices from the PCN
    to find a hidden one. A pair not in ``counts`` is known to be empty (a practice outside a PCN),
    except in ``open_cols``, whose crossings a reader does not know ("all other" services across
    categories). Returns the crossings' cells."""
    pairs = dict(counts)
    for c in open_cols:
        for r in rows:
            pairs.setdefault((r, c), 0)
    inner: dict[tuple[Hashable, Hashable], Cell] = {}
    for (r, c), n in pairs.items():
        n = int(n)
        if n and c not in open_cols and not open_cols and n == rows[r].value:
            inner[(r, c)] = rows[r]
        elif n and c not in open_cols and n == cols[c].value:
            inner[(r, c)] = cols[c]
        else:
            inner[(r, c)] = rel.cell(n, f"{label}[{r},{c}]")
    for r, cell in rows.items():
        _tie(rel, cell, [x for (a, _), x in inner.items() if a == r], f"{label}[{r},total]", closed=True)
    for c, cell in cols.items():
        _tie(rel, cell, [x for (_, b), x in inner.items() if b == c], f"{label}[total,{c}]", closed=True)
    return inner


def statistic(rel: Release, value: Any, base: Cell | int, nothing: str, decimals: int = 1,
              mean: bool = False) -> Figure:
    """A median (or, with ``mean``, a mean of whole numbers) resting on ``base``; with a base of 0
    there is nothing to summarise: not estimable, for the reason ``nothing``."""
    n = base.value if isinstance(base, Cell) else int(base)
    if n == 0:
        return rel.not_estimable(nothing)
    if mean:
        return rel.mean(value, base, decimals=decimals)
    return rel.estimate(value, base, decimals=decimals)


class MonthsAgainstTarget(Figure):
    """How many months fall ``which`` ("below", "within", "above", "unknown") the band, judged on
    the *published* monthly counts: a month withheld as a small count (1 to min_count - 1) is below
    a band whose lower edge is above that; any other withheld month is unknown."""

    def __init__(self, months: list[Cell], band: tuple[int, int], which: str):
        self.months, self.band, self.which = months, band, which

    def cells(self):
        return tuple(self.months)

    def decide(self, r: Resolver) -> Outcome:
        lo, hi = self.band
        n = 0
        for c in self.months:
            o = r.count(c)
            if o.value is not None:
                judged = "below" if o.value < lo else "above" if o.value > hi else "within"
            elif o.rule == SMALL_COUNT and r.rules.min_count - 1 < lo:
                judged = "below"
            else:
                judged = "unknown"
            n += judged == self.which
        return Outcome(n, DERIVED)
