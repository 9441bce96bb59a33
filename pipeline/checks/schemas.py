"""Each contract table's pandera schema (after typing: the conventions of :mod:`pipeline.extract`)
and the problems it finds: dtypes, missing values, allowed values, ranges, patterns and uniqueness,
column by column, as messages naming the file, column, rows and values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import pandera.pandas as pa

from ..contract import TABLES, TEXT_TYPES, ColumnSpec
from ..errors import MAX_EXAMPLES, Problem
from ..textcodes import Codes, only_text
from .locate import Locator, display_value, number_text, problem_at


def _range_text(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"must be between {number_text(lo)} and {number_text(hi)}"
    if lo == 0:
        return "must not be negative (0 or more)"
    if lo is not None:
        return f"must be {number_text(lo)} or more"
    return f"must be {number_text(hi)} or less"  # type: ignore[arg-type]


def _allowed_text(values: Sequence[str]) -> str:
    return "is not an allowed value; use one of " + ", ".join(values) + " (lower case, exactly as listed)"


def _matches(pattern: str):
    """pandera's ``str_matches`` (``str.match(pattern, na=False)``), evaluated once per distinct
    value: a practice code repeats thousands of times in a big table."""

    def check(s: pd.Series) -> pd.Series:
        values = s.to_numpy(dtype=object, copy=False)
        u = pd.Series(pd.unique(values), dtype=object)
        ok = u.str.match(pattern, na=False).to_numpy(dtype=bool)
        if ok.all():
            return pd.Series(True, index=s.index)
        return s.isin(u[ok]) if ok.any() else pd.Series(False, index=s.index)

    return check


def _column_schema(col: ColumnSpec, text_dtype: Any = str, complete: bool = False) -> pa.Column:
    """``complete``: the column is known to hold no missing value, so pandera need not look for
    any (the same outcome, one pass fewer over a big column)."""
    checks: list[pa.Check] = []
    na = {"ignore_na": not complete}
    if col.allowed is not None:
        checks.append(pa.Check.isin(col.allowed, error=_allowed_text(col.allowed), **na))
    if col.pattern:
        checks.append(pa.Check(_matches(col.pattern), error=f"must be {col.pattern_hint}", **na))
    if col.min is not None and col.max is not None:
        checks.append(pa.Check.in_range(col.min, col.max, error=_range_text(col.min, col.max)))
    elif col.min is not None:
        checks.append(pa.Check.ge(col.min, error=_range_text(col.min, None)))
    elif col.max is not None:
        checks.append(pa.Check.le(col.max, error=_range_text(None, col.max)))
    dtype = text_dtype if col.type in TEXT_TYPES else col.dtype
    nullable = complete or not col.required
    return pa.Column(dtype, checks, nullable=nullable, unique=col.unique, required=True, name=col.name)


_SCHEMAS: dict[tuple[str, bool, frozenset[str]], pa.DataFrameSchema] = {}


def schema(table: str, *, text_checked: bool = False, complete: Iterable[str] = ()) -> pa.DataFrameSchema:
    """The pandera schema of a typed table: exactly the contract columns, in order.

    ``text_checked=True`` leaves out the ``str`` type check of the text columns (pandera tests
    every value with ``isinstance``), for a table whose text columns are known to hold only text.
    ``complete`` names columns known to hold no missing value: pandera does not look for any."""
    key = (table, text_checked, frozenset(complete))
    if key not in _SCHEMAS:
        spec = TABLES[table]
        _SCHEMAS[key] = pa.DataFrameSchema(
            {c.name: _column_schema(c, None if text_checked else str, c.name in key[2]) for c in spec.columns},
            strict=True,
            ordered=True,
            name=table,
        )
    return _SCHEMAS[key]


_PANDERA_MESSAGES = {
    "not_nullable": "is empty, but a value is required",
    "field_uniqueness": "has repeated values, but each value must be unique",
}


def schema_problems(
    table: str, df: pd.DataFrame, ctx: Locator, codes: Mapping[str, Codes] | None = None
) -> list[Problem]:
    """Every problem the table's schema finds in typed ``df`` (``codes``: those of its text columns,
    if known: columns known to be text and complete skip those checks)."""
    file = ctx.file(table)
    spec = TABLES[table]
    out: list[Problem] = []
    # pandera accepts a pandas categorical for ``str``; the conventions want plain objects
    for col in spec.columns:
        if col.dtype is object and col.name in df.columns and df[col.name].dtype != object:
            out.append(
                Problem(
                    file=file,
                    column=col.name,
                    message=f"has the wrong data type: expected {col.type} (object), got {df[col.name].dtype}",
                )
            )
    text = [c.name for c in spec.columns if c.dtype is object and c.name in df.columns]
    known = {c: Codes.of(df[c], (codes or {}).get(c)) for c in text}
    text_checked = all(only_text(df[c], known[c]) for c in text)
    complete = sorted(c for c, k in known.items() if k is not None and k.missing_count == 0)
    try:
        # inplace: nothing is coerced, so pandera need not copy the table first
        schema(table, text_checked=text_checked, complete=complete).validate(df, lazy=True, inplace=True)
        return out
    except pa.errors.SchemaErrors as e:
        fc = e.failure_cases
    order = {n: i for i, n in enumerate(spec.column_names)}
    fc = fc.assign(_order=fc["column"].map(order).fillna(len(order)))
    for (_, column, check), grp in fc.groupby(["_order", "column", "check"], sort=True, dropna=False):
        column = None if pd.isna(column) else str(column)
        check = str(check)
        if check == "column_in_dataframe":
            for c in grp["failure_case"]:
                out.append(Problem(file=file, column=str(c), message="required column is missing"))
            continue
        if check == "column_in_schema":
            out.append(
                Problem(
                    file=file,
                    message="has columns that are not in the contract",
                    values=tuple(str(c) for c in grp["failure_case"]),
                )
            )
            continue
        if check == "column_ordered":
            out.append(Problem(file=file, message="columns are not in contract order"))
            continue
        if column in spec and check.startswith("dtype("):
            out.append(
                Problem(
                    file=file,
                    column=column,
                    message=f"has the wrong data type: expected {spec.column(column).type} "
                    f"({spec.column(column).dtype}), got {check}",
                )
            )
            continue
        message = _PANDERA_MESSAGES.get(check, check)
        if column == "referral_id" and check == "field_uniqueness":
            message = "has repeated values, but each referral_id must be unique"
        rows = pd.to_numeric(grp["index"], errors="coerce").dropna().astype(int)
        rows = sorted(set(rows))
        if check == "not_nullable":  # cells already reported as unreadable are not also "empty"
            skip = ctx.unreadable.get(table, {}).get(column or "", set())
            rows = [r for r in rows if r not in skip]
            if not rows:
                continue
        if rows and column in df.columns:
            out.append(problem_at(file, column, message, rows, ctx.values(table, column, rows)))
        else:
            out.append(
                Problem(
                    file=file,
                    column=column,
                    message=message,
                    values=tuple(display_value(v) for v in grp["failure_case"][:MAX_EXAMPLES]),
                )
            )
    return out
