"""Sorting a table by several columns, as ``DataFrame.sort_values`` does, with integer keys.

``sort_values`` over text columns (patient and referral ids) puts every column through an ordered
``Categorical``, which sorts the distinct values as Python strings: at a million referrals that is
most of an analysis's time, and it grows faster than the table (each comparison a cache miss).
Here each text column becomes ranks instead: the distinct values are hashed once
(``pd.factorize``, unsorted), sorted as fixed-width NumPy text (C comparisons, by code point: the
order Python gives strings), and ``np.lexsort`` (stable) orders the rows by the ranks. Dates are
their int64 day-times, numbers themselves.

The order is exactly ``df.sort_values(by, ascending=..., kind="mergesort")``'s: stable (rows that
tie on every key keep their order), missing values last whatever the direction. Anything else
(text with NUL characters, which NumPy text cannot hold; mixed or unusual types) falls back to
pandas itself. ``tests/test_order.py`` checks both against pandas.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

_MAX = np.iinfo(np.int64).max
#: a patient's referrals in order: the first is the patient's index referral (same day: by id)
REFERRAL_ORDER = ("patient_id", "referral_date", "referral_id")


def _factorize_text(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``pd.factorize(values, sort=True)`` when the values are text NumPy can sort as Python does
    (the distinct values hashed once, then sorted as NumPy text), else None."""
    codes, uniques = pd.factorize(values)
    if len(uniques) and pd.api.types.infer_dtype(uniques, skipna=False) != "string":
        return None
    text = np.asarray(uniques, dtype=str)
    # NumPy text drops trailing NUL characters: such values would tie where Python's do not
    if len(text) and not np.array_equal(np.strings.str_len(text),
                                        np.fromiter(map(len, uniques), np.int64, len(uniques))):
        return None
    order = np.argsort(text, kind="stable")
    rank = np.empty(len(text), dtype=np.int64)
    rank[order] = np.arange(len(text), dtype=np.int64)
    return np.where(codes >= 0, rank[np.maximum(codes, 0)], -1), np.asarray(uniques, dtype=object)[order]


def factorize_sorted(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values, sort=True)`` (codes in the sorted order of the distinct values, -1
    for missing; the sorted distinct values), with text sorted as NumPy text (see above)."""
    arr = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else np.asarray(values, dtype=object)
    done = _factorize_text(arr)
    if done is None:
        codes, uniques = pd.factorize(arr, sort=True)
        return codes, np.asarray(uniques, dtype=object)
    return done


def combine_codes(columns: Sequence[np.ndarray]) -> np.ndarray:
    """One int64 key per row from columns of non-negative integer codes, equal exactly when every
    column is: each column folded in as a digit in the base of its largest value + 1, the key
    renumbered (``pd.factorize``) whenever the next digit could overflow."""
    n = len(columns[0]) if len(columns) else 0
    key = np.zeros(n, dtype=np.int64)
    distinct = 1
    for col in columns:
        col = np.asarray(col, dtype=np.int64)
        base = int(col.max()) + 1 if n else 1
        if distinct * base >= 1 << 62:
            key, uniques = pd.factorize(key)
            distinct = len(uniques)
        key = key * base + col
        distinct *= base
    return key


def sort_key(values: pd.Series | np.ndarray, ascending: bool = True) -> np.ndarray | None:
    """An int64 or float64 array whose stable ascending order is the values' order in
    ``sort_values`` (``ascending`` as given, missing last), or None when only pandas can say."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    dtype = s.dtype
    if not isinstance(dtype, np.dtype):  # nullable and extension types: pandas' own order
        return None
    if dtype.kind in "mM":  # naive datetimes and timedeltas: int64, NaT the smallest
        if getattr(dtype, "tz", None) is not None:
            return None
        v = s.to_numpy().view(np.int64)
        nat = v == np.iinfo(np.int64).min
        key = v.copy() if ascending else -np.where(nat, 0, v)
        key[nat] = _MAX
        return key
    if dtype.kind in "iub":
        v = s.to_numpy().astype(np.int64)
        return v if ascending else -v
    if dtype.kind == "f":  # NumPy sorts NaN last, and -NaN is NaN
        v = s.to_numpy(dtype=np.float64)
        return v if ascending else -v
    if dtype.kind == "O":
        done = _factorize_text(s.to_numpy(dtype=object))
        if done is None:
            return None
        rank, n = done[0], len(done[1])
        key = rank if ascending else (n - 1) - rank
        key[rank < 0] = n  # missing: after every value
        return key
    return None


def _directions(by: Sequence[str], ascending: bool | Sequence[bool]) -> tuple[list[str], list[bool]]:
    by = list(by)
    return by, ([ascending] * len(by) if isinstance(ascending, bool) else list(ascending))


def _sorted(df: pd.DataFrame, by: list[str], asc: list[bool], unique: int = 0) -> tuple[np.ndarray, np.ndarray] | None:
    """(order, starts): the rows in sorted order, and whether each (in that order) differs from
    the one before on the first ``unique`` columns (all of them when ``unique`` is 0); None when a
    column needs pandas' own sort.

    Column by column, each key is computed and sorted only for the rows still tied on the
    columns before it: a patient's referrals need their dates compared, and only referrals of
    one patient on one day need their ids ranked (a million-id text ranking otherwise)."""
    n = len(df)
    order = np.arange(n)
    start = np.zeros(n, dtype=bool)  # where a run of rows tied on the columns so far begins
    start[:1] = True
    starts_unique = None
    for i, (c, a) in enumerate(zip(by, asc, strict=True)):
        if start.all():  # no ties left: the remaining columns change nothing
            break
        single = start & np.r_[start[1:], True]
        pos = np.flatnonzero(~single)  # positions, in the order, of rows tied with another
        rows = order[pos]
        key = sort_key(df[c].take(rows), a)
        if key is None:
            return None
        group = np.cumsum(start)[pos]
        sub = np.lexsort((key, group))  # stable: rows tied on this column too keep their order
        order[pos] = rows[sub]
        k, g = key[sub], group[sub]
        same = k[1:] == k[:-1]
        if k.dtype.kind == "f":  # missing ties with missing
            same |= np.isnan(k[1:]) & np.isnan(k[:-1])
        start[pos] = np.r_[True, (g[1:] != g[:-1]) | ~same]
        if i + 1 == unique:
            starts_unique = start.copy()
    return order, (start if starts_unique is None else starts_unique)


def _pandas_order(df: pd.DataFrame, by: list[str], asc: list[bool]) -> np.ndarray:
    plain = df[by].reset_index(drop=True)
    return plain.sort_values(by, ascending=asc, kind="mergesort").index.to_numpy()


def sort_order(df: pd.DataFrame, by: Sequence[str], ascending: bool | Sequence[bool] = True) -> np.ndarray:
    """Row positions of ``df`` in the order of ``df.sort_values(by, ascending=ascending,
    kind="mergesort")``."""
    by, asc = _directions(by, ascending)
    done = _sorted(df, by, asc)
    return _pandas_order(df, by, asc) if done is None else done[0]


def first_positions(df: pd.DataFrame, by: Sequence[str], ascending: bool | Sequence[bool] = True,
                    unique: int = 1) -> np.ndarray:
    """Row positions of :func:`first_rows`, in its order."""
    by, asc = _directions(by, ascending)
    unique = max(1, min(unique, len(by)))
    done = _sorted(df, by, asc, unique)
    if done is None:
        plain = df[by].reset_index(drop=True).take(_pandas_order(df, by, asc))
        return plain.drop_duplicates(by[:unique], keep="first").index.to_numpy()
    order, starts = done
    return order[starts]


def first_rows(df: pd.DataFrame, by: Sequence[str], ascending: bool | Sequence[bool] = True,
               unique: int = 1) -> pd.DataFrame:
    """``df.sort_values(by, ascending=..., kind="mergesort").drop_duplicates(by[:unique])``: the
    first row, in that order, of each distinct value of the first ``unique`` sort columns."""
    return df.take(first_positions(df, by, ascending, unique))
