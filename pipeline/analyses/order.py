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


def _rank_text(uniques: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(each distinct value's rank in sorted order, the order that sorts them), or None when the
    values are not all text NumPy can sort as Python does."""
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
    return rank, order


def _text_ranks(values: np.ndarray) -> tuple[np.ndarray, int] | None:
    """(rank of each value's distinct value in sorted order, -1 for missing; number of distinct
    values), or None when the values are not all text NumPy can sort as Python does."""
    codes, uniques = pd.factorize(values)
    ranked = _rank_text(uniques)
    if ranked is None:
        return None
    rank = ranked[0]
    return np.where(codes >= 0, rank[np.maximum(codes, 0)], -1), len(uniques)


def factorize_sorted(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values, sort=True)`` (codes in the sorted order of the distinct values, -1
    for missing; the sorted distinct values), with text sorted as NumPy text (see above)."""
    arr = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else np.asarray(values, dtype=object)
    codes, uniques = pd.factorize(arr)
    ranked = _rank_text(uniques)
    if ranked is None:
        codes, uniques = pd.factorize(arr, sort=True)
        return codes, np.asarray(uniques, dtype=object)
    rank, order = ranked
    return np.where(codes >= 0, rank[np.maximum(codes, 0)], -1), np.asarray(uniques, dtype=object)[order]


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
        ranked = _text_ranks(s.to_numpy(dtype=object))
        if ranked is None:
            return None
        rank, n = ranked
        key = rank if ascending else (n - 1) - rank
        key[rank < 0] = n  # missing: after every value
        return key
    return None


def _keys(df: pd.DataFrame, by: list[str], asc: list[bool]) -> list[np.ndarray] | None:
    keys = [sort_key(df[c], a) for c, a in zip(by, asc, strict=True)]
    return None if any(k is None for k in keys) else keys


def _directions(by: Sequence[str], ascending: bool | Sequence[bool]) -> tuple[list[str], list[bool]]:
    by = list(by)
    return by, ([ascending] * len(by) if isinstance(ascending, bool) else list(ascending))


def _order(df: pd.DataFrame, by: list[str], asc: list[bool], keys: list[np.ndarray] | None) -> np.ndarray:
    if keys is None:
        plain = df[by].reset_index(drop=True)
        return plain.sort_values(by, ascending=asc, kind="mergesort").index.to_numpy()
    return np.lexsort(keys[::-1])  # np.lexsort: the last key is the primary one


def sort_order(df: pd.DataFrame, by: Sequence[str], ascending: bool | Sequence[bool] = True) -> np.ndarray:
    """Row positions of ``df`` in the order of ``df.sort_values(by, ascending=ascending,
    kind="mergesort")``."""
    by, asc = _directions(by, ascending)
    return _order(df, by, asc, _keys(df, by, asc))


def first_positions(df: pd.DataFrame, by: Sequence[str], ascending: bool | Sequence[bool] = True,
                    unique: int = 1) -> np.ndarray:
    """Row positions of :func:`first_rows`, in its order."""
    by, asc = _directions(by, ascending)
    keys = _keys(df, by, asc)
    order = _order(df, by, asc, keys)
    if keys is None:
        plain = df[by].reset_index(drop=True).take(order)
        return plain.drop_duplicates(by[:unique], keep="first").index.to_numpy()
    same = np.ones(max(len(order) - 1, 0), dtype=bool)  # as the row before on every unique column
    for k in keys[:unique]:
        v = k[order]
        eq = v[1:] == v[:-1]
        if v.dtype.kind == "f":  # missing equals missing, as in drop_duplicates
            eq |= np.isnan(v[1:]) & np.isnan(v[:-1])
        same &= eq
    return order[np.r_[True, ~same]] if len(order) else order


def first_rows(df: pd.DataFrame, by: Sequence[str], ascending: bool | Sequence[bool] = True,
               unique: int = 1) -> pd.DataFrame:
    """``df.sort_values(by, ascending=..., kind="mergesort").drop_duplicates(by[:unique])``: the
    first row, in that order, of each distinct value of the first ``unique`` sort columns."""
    return df.take(first_positions(df, by, ascending, unique))
