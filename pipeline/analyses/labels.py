"""Category labels of a column and counts by label, shared by the analyses.

A value's label is text: numbers as whole numbers (an IMD decile ``3`` is ``"3"``), booleans as
``yes``/``no``, a missing value as ``not_recorded``. Counting labels a column's distinct values
once instead of building a column of labels (a million-row column of a few categories is one
counting pass). Free-text names (services, needs) are grouped ignoring case and spacing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

NOT_RECORDED = "not_recorded"
_ONE_KIND = ("string", "boolean", "integer", "floating", "empty")


def col(df: pd.DataFrame, name: str) -> pd.Series:
    """A column, or an all-missing one when an optional column is absent."""
    if name in df.columns:
        return df[name]
    return pd.Series([pd.NA] * len(df), index=df.index, dtype="object")


def dates(df: pd.DataFrame, name: str) -> pd.Series:
    return pd.to_datetime(col(df, name), errors="coerce")


def label(v: Any, boolean: bool = False) -> str:
    """One value's category label (see the module docstring)."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return NOT_RECORDED
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if boolean and isinstance(v, str):
        return {"true": "yes", "1": "yes", "false": "no", "0": "no"}.get(v.lower(), v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return str(int(v))
    return str(v)


def label_values(s: pd.Series, boolean: bool = False) -> pd.Series:
    """Category labels as strings, one per row."""
    def one(v: Any) -> str:
        return label(v, boolean)
    obj = s.astype("object")
    if pd.api.types.infer_dtype(obj, skipna=True) not in _ONE_KIND:
        return obj.map(one)
    # one kind of value (missing values aside): label each distinct value once, then look the rows up
    present = obj.notna()
    out = pd.Series(NOT_RECORDED, index=obj.index, dtype="object", name=obj.name)
    if present.any():
        vals = obj[present]
        out[present] = vals.map({u: one(u) for u in pd.unique(vals.to_numpy())})
    return out


def value_counts(s: pd.Series, order: list[str] | None = None) -> dict[str, int]:
    """Counts by value; with ``order`` every listed value appears (zeros included), then any other."""
    vc = s.value_counts()
    return ordered_counts({str(k): int(v) for k, v in vc.items()}, order)


def label_counts(s: pd.Series, order: list[str] | None = None, boolean: bool = False) -> dict[str, int]:
    """``value_counts(label_values(s, boolean), order)``, counting the raw values first."""
    obj = s.astype("object")
    if pd.api.types.infer_dtype(obj, skipna=True) not in _ONE_KIND:
        return value_counts(label_values(s, boolean), order)
    counts: dict[str, int] = {}
    vc = obj.value_counts(dropna=True)
    for v, n in vc.items():
        k = label(v, boolean)
        counts[k] = counts.get(k, 0) + int(n)
    if len(obj) > int(vc.sum()):
        counts[NOT_RECORDED] = counts.get(NOT_RECORDED, 0) + len(obj) - int(vc.sum())
    return ordered_counts(counts, order)


def ordered_counts(counts: dict[str, int], order: list[str] | None) -> dict[str, int]:
    """``order``'s values first (zeros included), then the rest by value."""
    out = {k: counts.get(k, 0) for k in order} if order is not None else {}
    out.update({k: counts[k] for k in sorted(counts) if k not in out})
    return out


def label_pairs(a: pd.Series, b: pd.Series, boolean: bool = False) -> dict[tuple[str, str], int]:
    """Rows by the labels of two columns (``(label of a, label of b) -> rows``, no zeros), counted
    on codes: each distinct value is labelled once."""
    ac, au = pd.factorize(a.astype("object"), use_na_sentinel=False)
    bc, bu = pd.factorize(b.astype("object"), use_na_sentinel=False)
    out: dict[tuple[str, str], int] = {}
    if not len(a):
        return out
    n = np.bincount(ac.astype("int64") * len(bu) + bc, minlength=len(au) * len(bu))
    for k in np.flatnonzero(n):
        key = (label(au[k // len(bu)], boolean), label(bu[k % len(bu)], boolean))
        out[key] = out.get(key, 0) + int(n[k])
    return out


def _per_value(s: pd.Series, f: Callable[[Any], Any]) -> pd.Series:
    """``s.map(f)``, with ``f`` called once per distinct value when every value is text."""
    obj = s.astype("object")
    if pd.api.types.infer_dtype(obj, skipna=False) != "string":
        return obj.map(f)
    codes, uniques = pd.factorize(obj)
    return pd.Series(np.array([f(u) for u in uniques], dtype=object)[codes], index=obj.index, name=obj.name,
                     dtype="object")


def normalise_name(s: pd.Series) -> pd.Series:
    """Group free-text names ignoring case, punctuation at the ends and repeated spaces."""
    return _per_value(s, lambda v: re.sub(r"\s+", " ", str(v)).strip(" .,;:-").casefold())


def display_names(raw: pd.Series, key: pd.Series) -> dict[str, str]:
    """For each normalised key, its most common spelling (ties: alphabetical)."""
    df = pd.DataFrame({"key": key, "name": _per_value(raw, lambda v: re.sub(r"\s+", " ", str(v)).strip())})
    vc = df.groupby(["key", "name"]).size().reset_index(name="n").sort_values(["key", "n", "name"],
                                                                              ascending=[True, False, True])
    return dict(vc.drop_duplicates("key")[["key", "name"]].itertuples(index=False, name=None))
