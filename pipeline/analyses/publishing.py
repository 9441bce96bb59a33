"""Figure builders that a section's ``publish(raw, rel)`` needs and the disclosure layer does not
offer yet (candidates to move into :class:`pipeline.disclosure.Release`). Each builds on the
release's public methods only, so every number still leaves through the layer:

- :func:`fact` a figure about the service (an FTE, a setting) to fixed decimals;
- :func:`cross` a two-way table of counts whose margins are cells already published elsewhere in
  the section (a breakdown of each outcome's referrals into "with a value" / "without"), so that
  every sum a reader can form across the tables is declared;
- :func:`given` a statistic of a group withheld whenever the group's count is, so that a hidden
  count is hidden everywhere, its group's mean and total included;
- :func:`times` a figure derived from a published mean and a published (rounded) count, such as a
  total that cannot be divided by the mean to give the exact count back.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, TypeVar

from ..disclosure import Release
from ..disclosure.cells import Cell
from ..disclosure.figures import Figure
from ..disclosure.rules import rounded

R = TypeVar("R", bound=Hashable)
C = TypeVar("C", bound=Hashable)


def fact(rel: Release, value: Any, decimals: int | None = None) -> Figure:
    """A figure that does not describe people, published as it is (to ``decimals`` when given)."""
    if value is None or decimals is None:
        return rel.fact(value)
    return rel.fact(rounded(float(value), decimals))


def cross(rel: Release, rows: Mapping[R, Cell], cols: Mapping[C, Cell], counts: Mapping[R, Mapping[C, int]],
          label: str = "") -> dict[tuple[R, C], Cell]:
    """Cells of a two-way table whose row and column totals are the existing cells ``rows`` and
    ``cols`` (each row of ``counts`` must add up to its row's cell, each column to its column's)."""
    cells = {(r, c): rel.cell(int(counts.get(r, {}).get(c, 0)), f"{label}[{r},{c}]") for r in rows for c in cols}
    for r, total in rows.items():
        rel.group(total, [cells[(r, c)] for c in cols])
    for c, total in cols.items():
        rel.group(total, [cells[(r, c)] for r in rows])
    return cells


def given(rel: Release, figure: Figure, *cells: Cell) -> Figure:
    """``figure``, withheld (with the cell's rule) whenever one of ``cells`` is withheld."""
    return rel.derived(lambda *values: values[-1], *(rel.count(c) for c in cells), figure)


def times(rel: Release, figure: Figure, n: Cell, decimals: int) -> Figure:
    """``figure`` x the published (rounded) count ``n``: e.g. a total as mean x rounded count."""
    return rel.derived(lambda v, k: v * k, figure, rel.count(n), decimals=decimals)
