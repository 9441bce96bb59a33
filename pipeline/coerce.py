"""Typing a raw table to the contract's types (:mod:`pipeline.contract`, the conventions of
:mod:`pipeline.extract`): text stripped and empty text made missing, dates in the extract's
date format, yes/no values, whole numbers and numbers; every cell that cannot be typed is a
problem naming the file, column, rows and values. Rows that are entirely empty are dropped (they
keep their row numbers). A text column's checks run once per distinct value, by its codes
(:mod:`pipeline.textcodes`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .checks.locate import problem_at
from .contract import TEXT_TYPES, ColumnSpec, TableSpec
from .errors import Problem
from .extract_config import ISO_DATE, human_date_format
from .textcodes import Codes, only_text

_TRUE = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def all_stripped(words: np.ndarray) -> bool:
    """No string is empty or starts or ends with whitespace (nothing for ``str.strip`` to do),
    found in Arrow: only the distinct first and last characters are tested in Python."""
    try:
        arr = pa.array(words, type=pa.string())
    except (pa.ArrowException, UnicodeError):  # not UTF-8 as it stands (a lone surrogate, say)
        u = pd.Series(words, dtype=object)
        stripped = u.str.strip()
        return not bool(((stripped != u) | (stripped == "")).to_numpy(dtype=bool).any())
    if len(arr) == 0:
        return True
    if pc.min(pc.utf8_length(arr)).as_py() == 0:
        return False
    ends = pc.unique(pa.concat_arrays([pc.utf8_slice_codeunits(arr, 0, 1), pc.utf8_slice_codeunits(arr, -1)]))
    return not any(ch.isspace() for ch in ends.to_pylist())


def _strip_text(s: pd.Series, codes: Codes) -> tuple[pd.Series, Codes]:
    """Text stripped, empty text made missing (NaN); a missing value stays as it was. Returns the
    result and its codes (``codes`` describe ``s``); each distinct value is stripped once."""
    if all_stripped(codes.uniques):
        return s, codes  # already clean (the usual case): no copy
    u = pd.Series(codes.uniques, dtype=object)
    stripped = u.str.strip()
    empty = (stripped == "").to_numpy(dtype=bool)
    values = s.to_numpy(dtype=object, copy=False)
    out = codes.gather(stripped.mask(empty).to_numpy(dtype=object), None)
    missing = codes.missing()
    if missing.any():
        out[missing] = values[missing]
    new = codes.codes
    if empty.any():  # text that was only spaces is missing now
        new = np.append(np.where(empty, -1, np.arange(len(empty))), -1)[new]
    result = pd.Series(out, index=s.index, name=s.name, dtype=object)
    return result, Codes(new, stripped.to_numpy(dtype=object), result.to_numpy(dtype=object, copy=False))


def _prepare(s: pd.Series, codes: Codes | None = None) -> tuple[pd.Series, Codes | None]:
    """Raw values with text stripped and empty text made missing (NaN), and the codes of a text
    column (``codes``: those of ``s`` as read, if known; otherwise found here)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        s = s.astype(object, copy=False)
        codes = Codes.of(s, codes)
        kind = pd.api.types.infer_dtype(s if codes is None else codes.uniques, skipna=True)
        if kind in ("string", "empty"):
            return _strip_text(s, codes or Codes.factorize(s.to_numpy(dtype=object, copy=False)))
        if kind not in ("date", "datetime", "datetime64"):
            # mixed Python objects (Parquet only): compare as text
            s = s.where(s.isna(), s.astype(str).str.strip())
            s = s.mask(s == "")
    return s, None


def _to_strings(s: pd.Series) -> pd.Series:
    present = s.notna()
    if pd.api.types.is_float_dtype(s.dtype):
        whole = s.dropna()
        if len(whole) and bool((whole == np.round(whole)).all()):
            s = s.astype("Int64")
    out = s.astype(object).where(present, None)
    out[present] = s[present].astype(str)
    return out.astype(object)


#: rows tested at a time by the checks that need a temporary array per row
CHECK_CHUNK_ROWS = 1 << 22

_NS_PER_DAY = 86_400 * 10**9


def _at_midnight(values: np.ndarray) -> bool:
    """Every time in a ``datetime64[ns]`` array is midnight (NaT counts): tested a slice at a time,
    so a 50-million-row column needs no second column-sized array."""
    ns = values.view("i8")
    nat = np.iinfo(np.int64).min
    for lo in range(0, len(ns), CHECK_CHUNK_ROWS):
        part = ns[lo:lo + CHECK_CHUNK_ROWS]
        if bool(((part % _NS_PER_DAY != 0) & (part != nat)).any()):
            return False
    return True


def _convert(
    s: pd.Series, col: ColumnSpec, date_format: str, codes: Codes | None = None
) -> tuple[pd.Series, pd.Series, str]:
    """Type one prepared column. Returns (typed, bad mask, message for bad values). ``codes``: those
    of a text column (:func:`_prepare`); text is then typed once per distinct value."""
    codes = Codes.of(s, codes)
    if codes is None and only_text(s):
        codes = Codes.factorize(s.to_numpy(dtype=object, copy=False))
    present = s.notna() if codes is None else pd.Series(~codes.missing(), index=s.index)
    no_bad = pd.Series(False, index=s.index)
    t = col.type
    if t in TEXT_TYPES:
        if codes is not None:
            if codes.missing_count == 0:
                # nothing to replace: the prepared values are the typed ones
                return s, no_bad, ""
            return s.where(present, None).astype(object), no_bad, ""
        return _to_strings(s), no_bad, ""

    if t == "date":
        human = human_date_format(date_format)
        msg = f"is not a valid date in the format {human}"
        if date_format != ISO_DATE:
            msg += f" (date_format {date_format!r} in extract.yml)"
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            if getattr(s.dt, "tz", None) is not None:
                s = s.dt.tz_localize(None)
            s = s.astype("datetime64[ns]", copy=False)
            # already dates (the usual case): the column itself, not a second copy of it
            return (s if _at_midnight(s.to_numpy(copy=False)) else s.dt.normalize()), no_bad, msg
        if codes is not None:
            typed = codes.map(lambda u: pd.to_datetime(u, format=date_format, errors="coerce")
                              .astype("datetime64[ns]").dt.normalize(), np.datetime64("NaT", "ns"))
            typed = pd.Series(typed, index=s.index, dtype="datetime64[ns]")
            return typed, present & typed.isna(), msg
        if s.dtype == object:
            typed = pd.to_datetime(s, errors="coerce")
        else:
            typed = pd.Series(pd.NaT, index=s.index)
        typed = pd.Series(typed, index=s.index).astype("datetime64[ns]").dt.normalize()
        return typed, present & typed.isna(), msg

    if t == "boolean":
        msg = "is not a yes/no value: use true/false, 1/0 or yes/no"
        if pd.api.types.is_bool_dtype(s.dtype):
            return s.astype("boolean"), no_bad, msg
        if pd.api.types.is_numeric_dtype(s.dtype):
            mapped = s.map({1: True, 0: False})
        elif codes is not None:
            mapped = pd.Series(codes.map(lambda u: u.astype(str).str.lower().map(_TRUE).astype(object), np.nan),
                               index=s.index, dtype=object)
        else:
            mapped = s.astype(str).str.lower().map(_TRUE).where(present)
        bad = present & mapped.isna()
        return mapped.where(~bad).astype("boolean"), bad, msg

    # integer / number
    if codes is not None:
        num = codes.map(lambda u: pd.to_numeric(u, errors="coerce").astype("float64"), np.nan)
    elif pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
        num = pd.to_numeric(s.where(present).astype(object), errors="coerce")
    else:
        num = s
    num = pd.Series(num, index=s.index).astype("float64")
    if pd.api.types.is_bool_dtype(s.dtype):
        num[:] = np.nan
    values = num.to_numpy()
    finite = np.isfinite(values) & (np.abs(np.nan_to_num(values)) < 2.0**53)
    if t == "integer":
        bad = present & ~(finite & (num == np.round(num)))
        typed = num.where(~bad).round().astype("Int64")
        return typed, bad, "is not a whole number"
    bad = present & ~finite
    return num.where(~bad), bad, "is not a number"



def type_table(
    spec: TableSpec,
    raw: pd.DataFrame,
    file: str,
    date_format: str,
    unreadable: dict[str, list[int]] | None = None,
    known: Mapping[str, Codes] | None = None,
) -> tuple[pd.DataFrame | None, pd.DataFrame, list[Problem], dict[str, Codes]]:
    """Type a raw table (index = row numbers). Returns (typed or None, prepared raw, problems,
    codes of the typed table's text columns: :mod:`pipeline.textcodes`).

    Row numbers of unreadable cells are added to ``unreadable`` by column. ``known``: the codes of
    the raw text columns as read (:func:`pipeline.rawtables.read_table`), if any.
    """
    known = known or {}
    codes: dict[str, Codes] = {}
    problems: list[Problem] = []
    unreadable = unreadable if unreadable is not None else {}
    dup = sorted({c for c in raw.columns if list(raw.columns).count(c) > 1})
    if dup:
        problems.append(Problem(file=file, message="has the same column name more than once", values=tuple(dup)))
        return None, raw, problems, codes
    wanted = [c for c in spec.column_names if c in raw.columns]
    everything = {c: _prepare(raw[c], known.get(c)) for c in raw.columns}
    # copy=False: one array per column, never consolidated into a copy (tables can be big)
    prepared = pd.DataFrame({c: everything[c][0] for c in wanted}, index=raw.index, copy=False)
    found = {c: everything[c][1] for c in wanted if everything[c][1] is not None}
    # rows where every cell is empty (e.g. trailing blank lines) are not data
    all_blank = None
    for c in raw.columns:  # until a column with no missing value shows that no row is blank
        s, k = everything[c]
        missing = s.isna().to_numpy() if k is None else k.missing()
        all_blank = missing if all_blank is None else all_blank & missing
        if not all_blank.any():
            break
    if all_blank is not None and all_blank.any():
        prepared = prepared[~all_blank]
        found = {c: k.take(~all_blank).describe(prepared[c].to_numpy(dtype=object, copy=False))
                 for c, k in found.items()}
    del everything

    lower = {c.lower(): c for c in raw.columns}
    for col in spec.columns:
        if col.required and col.name not in raw.columns:
            hint = ""
            if col.name.lower() in lower:
                hint = f" (found {lower[col.name.lower()]!r}: column names are lower case, exactly as in the contract)"
            problems.append(Problem(file=file, column=col.name, message="required column is missing" + hint))
    if problems:
        return None, prepared, problems, codes

    typed: dict[str, pd.Series] = {}
    for col in spec.columns:
        if col.name not in prepared.columns:
            if col.dtype is object:
                typed[col.name] = pd.Series([None] * len(prepared), index=prepared.index, dtype=object)
            else:
                typed[col.name] = pd.Series(index=prepared.index, dtype=col.dtype)
            continue
        series, bad, msg = _convert(prepared[col.name], col, date_format, found.get(col.name))
        if bool(bad.any()):
            rows = bad.index[bad.to_numpy(dtype=bool)]
            vals = [prepared[col.name].loc[r] for r in rows[:5]]
            problems.append(problem_at(file, col.name, msg, rows, vals))
            unreadable[col.name] = [int(r) for r in rows]
        typed[col.name] = series
        if col.name in found and col.type in TEXT_TYPES:
            # a text column keeps its values (missing ones become None): the same codes
            codes[col.name] = found[col.name].describe(series.to_numpy(dtype=object, copy=False))
    return pd.DataFrame(typed, index=prepared.index, copy=False), prepared, problems, codes

