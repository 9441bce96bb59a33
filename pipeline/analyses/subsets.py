"""A breakdown of a count into parts, as cells of a section's release.

``breakdown(rel, whole, parts)`` is ``rel.split(whole, parts)``, except that a part holding all of
``whole`` *is* ``whole``'s cell (the same people are the same cell: the layer's rule "one cell per
quantity"; the other parts are then zeros), as ``rel.subset`` does for a single part. A chain of
splits each as large as its total is a chain of equations that the layer's protection step cannot
always resolve (it stops with an ``AssertionError``), so a section does not build one.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

from ..disclosure import Release
from ..disclosure.cells import Cell

K = TypeVar("K", bound=Hashable)


def breakdown(rel: Release, whole: Cell, parts: Mapping[K, int], label: str = "") -> dict[K, Cell]:
    """Cells for a breakdown of ``whole`` (parts that do not add up leave an unpublished rest)."""
    full = [k for k, v in parts.items() if whole.value > 0 and int(v) == whole.value]
    if full:
        return {k: whole if k == full[0] else rel.cell(int(v), f"{label}[{k}]") for k, v in parts.items()}
    return rel.split(whole, parts, label)


def common_subset(rel: Release, wholes: list[Cell], n: int, label: str = "") -> Cell:
    """The cell of ``n`` people who are among the people of *every* cell in ``wholes`` (pairs on one
    ONS4 question are both referrals with a score on it and referrals followed up on any): a part
    of each, so that no whole minus it is a small count left unprotected. A whole of exactly ``n``
    people *is* the part."""
    same = [w for w in wholes if w.value == int(n)]
    part = same[0] if same else rel.subset(wholes[0], int(n), label)
    for w in wholes:
        if w is part or (not same and w is wholes[0]):
            continue
        rel.group(w, [part] + ([rel.cell(w.value - int(n), f"{label}[rest]")] if w.value != int(n) else []))
    return part
