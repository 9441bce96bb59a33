"""Where a problem is, for its message: the file of each table, the rows, and the value the user
typed there (shown as text: dates as YYYY-MM-DD, whole numbers without a decimal point)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MAX_EXAMPLES, Problem


def number_text(x: float) -> str:
    """A limit in a message: ``5`` for 5.0, ``0.5`` for 0.5."""
    return str(int(x)) if float(x).is_integer() else str(x)


def problem_at(
    file: str, column: str | None, message: str, rows: Iterable[Any], values: Sequence[Any] | None = None
) -> Problem:
    """A Problem for the offending ``rows`` (row numbers), showing the first few as examples."""
    rows = [int(r) for r in rows]
    return Problem(
        file=file,
        column=column,
        message=message,
        rows=tuple(rows[:MAX_EXAMPLES]),
        values=tuple(values[:MAX_EXAMPLES]) if values is not None else (),
        count=len(rows),
    )


def display_value(v: Any) -> Any:
    """A value as a message quotes it."""
    if v is None:
        return None
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        return None if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return v


class Locator:
    """Finds files and the raw value a user typed, by table and row number, for the tables being
    checked (``tables``: typed, indexed by row number; ``files``: table -> file name, default
    ``<table>.csv``; ``raw``: the frames as read, same index; ``unreadable``: {table: {column: row
    numbers}} of cells already reported as unreadable)."""

    def __init__(
        self,
        tables: Mapping[str, pd.DataFrame],
        files: Mapping[str, str] | None,
        raw: Mapping[str, pd.DataFrame] | None,
        unreadable: Mapping[str, Mapping[str, Iterable[int]]] | None = None,
    ):
        self.tables = tables
        self.files = dict(files or {})
        self.raw = dict(raw or {})
        self.unreadable = {t: {c: set(map(int, r)) for c, r in cols.items()} for t, cols in (unreadable or {}).items()}

    def file(self, table: str) -> str:
        return self.files.get(table, f"{table}.csv")

    def values(self, table: str, column: str, rows: Sequence[Any]) -> list[Any]:
        rows = list(rows)[:MAX_EXAMPLES]
        src = self.raw.get(table)
        if src is None or column not in src.columns:
            src = self.tables[table]
        col = src[column]
        return [display_value(col.loc[r]) for r in rows]

    def at(self, table: str, column: str, message: str, mask: pd.Series) -> Problem | None:
        """The problem at the rows where ``mask`` is true, quoting their values (None if none)."""
        if not bool(mask.any()):
            return None
        rows = mask.index[mask.to_numpy(dtype=bool)]
        return problem_at(self.file(table), column, message, rows, self.values(table, column, rows))
