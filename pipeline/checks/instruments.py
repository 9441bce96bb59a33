"""The rules of ``outcome_measures`` for the instruments of :mod:`pipeline.instruments` (SWEMWBS,
EQ-5D-5L, PAM, WSAS, Well-being Star): a row of one of their items must have a score within that
item's range (a whole number where the item is scored in whole numbers). A row of another item is
carried, not analysed, as every such row was before these rules (an extract may hold, say, a
SWEMWBS total of its own); rows of ONS4 are left to :mod:`.rules`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import Problem
from ..instruments import INSTRUMENTS
from .locate import Locator, number_text


def instrument_problems(table: str, df: pd.DataFrame, ctx: Locator) -> list[Problem]:
    """Problems of the rows of typed ``outcome_measures`` ``df`` whose instrument is one of
    :data:`~pipeline.instruments.INSTRUMENTS`: one per item for scores outside its range."""
    out: list[Problem | None] = []
    instrument, item = df["instrument"], df["item"]
    score = pd.to_numeric(df["score"], errors="coerce").astype("float64")
    for name, ins in INSTRUMENTS.items():
        rows = instrument == name
        if not rows.any():
            continue
        for it in ins.items:
            these = rows & (item == it.name) & score.notna()
            bad = these & ((score < it.low) | (score > it.high) | (it.whole & (score != np.round(score))))
            kind = "a whole number" if it.whole else "a number"
            out.append(ctx.at(table, "score", f"must be {kind} from {number_text(it.low)} to "
                              f"{number_text(it.high)} for {name} item {it.name}", bad))
    return [p for p in out if p is not None]
