"""The practices table: each PCN-service area's GP practices with their PCN and registered list
size by financial year, drawn from the table's own stream. Referrals were drawn in proportion to
each practice's share of the area's patients (``w.practices``), so the list sizes set each
practice's referral rate: a Gamma multiplier per practice makes practices vary more than chance,
and one practice, the planted under-referrer, has a list ``1 / low_rate_ratio`` times its share
(:data:`~pipeline.synthetic.planted.PRACTICE_LISTS`). A hospital service has no practices table:
its referrals come from wards, so a rate per practice list would not describe referring."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .planted import PRACTICE_LISTS
from .world import World


def planted_low_practice(practices: pd.DataFrame) -> str:
    """The planted under-referrer: the practice with the median share of the area's patients (large
    enough for the funnel to find it; the lower of the two middle ones when their number is even)."""
    order = np.argsort(practices["weight"].to_numpy(), kind="stable")
    return str(practices["practice_code"].iloc[order[(len(order) - 1) // 2]])


def financial_years(w: World) -> list[tuple[int, str]]:
    """(first calendar year, label) of the financial years the extract overlaps."""
    first = w.area.extract_start.year - (w.area.extract_start.month < 4)
    last = w.area.extract_end.year - (w.area.extract_end.month < 4)
    return [(y, f"{y}/{(y + 1) % 100:02d}") for y in range(first, last + 1)]


def practice_lists(w: World) -> pd.DataFrame | None:
    if w.hospital:
        return None
    rng = w.stream("practices")
    pr = w.practices
    cv = PRACTICE_LISTS["rate_cv"]
    rate = rng.gamma(1 / cv ** 2, cv ** 2, len(pr))
    rate[pr["practice_code"].to_numpy() == planted_low_practice(pr)] = PRACTICE_LISTS["low_rate_ratio"]
    share = pr["weight"].to_numpy() / rate
    base = share / share.sum() * w.area.population
    rows = []
    for k, (_, label) in enumerate(financial_years(w)):
        size = np.round(base * (1 + PRACTICE_LISTS["list_growth_per_year"]) ** k).astype(np.int64)
        rows.append(pd.DataFrame({"practice_code": pr["practice_code"].to_numpy(), "pcn": pr["pcn"].to_numpy(),
                                  "year": label, "list_size": np.maximum(size, 1)}))
    return pd.concat(rows, ignore_index=True)
