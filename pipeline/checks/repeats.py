"""Rows that repeat a key of several columns: a practice's list size given twice for one financial
year, a referral rated twice on one day. Each is a problem naming the file, the column whose value
is shown, and every row of the repeated key."""

from __future__ import annotations

import pandas as pd

from ..errors import Problem
from .locate import Locator

#: table -> (the key's columns, the column a problem names, what one row per key means)
KEYS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "practices": (("practice_code", "year"), "practice_code",
                  "has more than one row for the same year: give one list size per practice and financial year"),
    "caseload_reviews": (("referral_id", "review_date"), "review_date",
                         "repeats a review of the same referral on the same day: give one RAG rating per "
                         "referral and day"),
}


def repeated_keys(table: str, df: pd.DataFrame, ctx: Locator) -> list[Problem]:
    """The rows of ``df`` whose key (:data:`KEYS`) another row repeats (rows with a missing key
    column are left to the missing-value check)."""
    if table not in KEYS:
        return []
    columns, shown, message = KEYS[table]
    complete = df[list(columns)].notna().all(axis=1)
    repeated = df[list(columns)].duplicated(keep=False) & complete
    problem = ctx.at(table, shown, message, repeated)
    return [problem] if problem is not None else []
