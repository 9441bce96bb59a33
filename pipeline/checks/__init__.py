"""Checking typed tables against data contract v1 (:mod:`pipeline.contract`).

- :func:`check_tables`: every schema (:mod:`.schemas`: dtypes, missing values, allowed values,
  ranges, patterns, uniqueness), the rules that need several columns or several tables
  (:mod:`.rules`) and the NHS number refusal (:mod:`.nhs`), as a list of
  :class:`~pipeline.errors.Problem` naming the file, column, rows and values (:mod:`.locate`).
- :func:`validate_extract`: the same for an in-memory :class:`~pipeline.extract.Extract`
  (e.g. synthetic data); raises :class:`~pipeline.errors.DataError`.

Row numbers: :func:`check_tables` takes the row number a user sees from each table's index
(:mod:`pipeline.load` sets it: the header is row 1, the first data row is row 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import pandas as pd

from ..contract import REQUIRED_TABLES, TABLES
from ..errors import DataError, Problem
from ..textcodes import ExtractCodes
from .locate import Locator
from .nhs import hide_nhs_values, nhs_number_problems
from .rules import cross_rules, row_rules
from .schemas import schema_problems


def check_tables(
    tables: Mapping[str, pd.DataFrame],
    start: date | pd.Timestamp | None = None,
    end: date | pd.Timestamp | None = None,
    files: Mapping[str, str] | None = None,
    raw: Mapping[str, pd.DataFrame] | None = None,
    unreadable: Mapping[str, Mapping[str, Iterable[int]]] | None = None,
    codes: ExtractCodes | None = None,
) -> list[Problem]:
    """Every contract problem in typed ``tables`` (conventions of :mod:`pipeline.extract`).

    Each table's index must hold the row numbers to report. ``files`` maps table name to file
    name (default ``<table>.csv``); ``raw`` optionally gives the raw frames (same index) so
    problems quote what the user typed. ``start``/``end`` are the extract period.
    ``unreadable`` ({table: {column: row numbers}}) lists cells already reported as
    unreadable (they are missing in ``tables`` but not reported again as empty). Missing
    required tables are reported too. ``codes`` ({table: {column: codes}}) optionally gives the
    codes of text columns (:mod:`pipeline.textcodes`): their checks then run once per distinct value.
    """
    ctx = Locator(tables, files, raw, unreadable)
    s = pd.Timestamp(start) if start is not None else None
    e = pd.Timestamp(end) if end is not None else None
    problems: list[Problem] = []
    for name in REQUIRED_TABLES:
        if name not in tables:
            problems.append(
                Problem(file=ctx.file(name), message=f"required table is missing: provide {name}.csv or {name}.parquet")
            )
    nhs = nhs_number_problems(tables, ctx, codes)
    typed_ok: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        if name not in tables:
            continue
        df = tables[name]
        found = schema_problems(name, df, ctx, (codes or {}).get(name))
        problems.extend(found)
        if not any(
            p.message == "required column is missing"
            or p.message.startswith("has the wrong data type")
            or p.message == "columns are not in contract order"
            for p in found
        ):
            typed_ok[name] = df
            problems.extend(row_rules(name, df, ctx, s, e))
    problems.extend(cross_rules(typed_ok, ctx, codes))
    return hide_nhs_values(nhs + problems, nhs)


def validate_extract(extract: Any) -> None:
    """Check an in-memory :class:`~pipeline.extract.Extract` against the contract.

    Rows are numbered as if each table were a CSV file (first data row = row 2). Raises
    :class:`~pipeline.errors.DataError` listing every problem.
    """
    tables = {}
    for name, df in extract.tables.items():
        if name not in TABLES:
            continue
        df = df.copy()
        df.index = pd.RangeIndex(2, len(df) + 2)
        tables[name] = df
    problems = check_tables(tables, extract.config.extract_start, extract.config.extract_end)
    if problems:
        raise DataError(problems)
