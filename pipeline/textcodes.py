"""A text column as integer codes into its distinct values.

A big extract repeats its ids and categories millions of times: the GP table of a million
referrals holds 51 million ``patient_id`` values but 2.3 million distinct ones. Each check the
loader makes on a text column (is it stripped, is it empty, is it text, does it look like an NHS
number, is it in the referrals table) is made once per distinct value and carried to the rows by
their code, and the column goes back to Arrow by its codes; without them, every check was one more
pass hashing or testing every row's Python string.

The codes come for free with a Parquet column read dictionary-encoded (:func:`arrow_text`), and
from one ``pd.factorize`` otherwise. They describe one array: :meth:`Codes.of` hands them out only for that
very array (the same memory, the same length), so a column that has been replaced is never
described by stale codes. The loader treats its arrays as read-only. :func:`column_codes` finds a
column's codes among an extract's; :func:`only_text` tells whether a column is all text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd


def _address(values: np.ndarray) -> tuple[int, int, tuple[int, ...]]:
    return values.__array_interface__["data"][0], len(values), values.strides


@dataclass(frozen=True, eq=False)
class Codes:
    """``uniques[codes]`` is the column, code -1 is a missing value.

    ``uniques`` holds each value that occurs (possibly more than once, after stripping); every
    per-value result is gathered to the rows by :meth:`gather`."""

    codes: np.ndarray
    uniques: np.ndarray
    values: np.ndarray | None = None  # the object array described (kept alive: its memory is its key)

    @classmethod
    def factorize(cls, values: np.ndarray) -> Codes:
        """The codes of an object array, by hashing it once; missing (None, NaN, NA) = -1."""
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        return cls(codes, np.asarray(uniques, dtype=object), values)

    @classmethod
    def from_dictionary(cls, indices: np.ndarray, dictionary: np.ndarray, values: np.ndarray) -> Codes:
        """Codes from an Arrow dictionary array (``indices``: -1 where null). Dictionary entries no
        row uses (a categorical's unused category, say) are dropped, so every distinct value is a
        value of the column."""
        used = np.bincount(indices[indices >= 0], minlength=len(dictionary)) > 0
        if not used.all():
            remap = np.full(len(dictionary) + 1, -1, dtype=indices.dtype)  # Arrow's int32 stays int32
            remap[np.flatnonzero(used)] = np.arange(int(used.sum()))
            indices = remap[indices]  # -1 stays -1 (the last entry)
            dictionary = dictionary[used]
        return cls(indices, np.asarray(dictionary, dtype=object), values)

    def describe(self, values: np.ndarray) -> Codes:
        """The same codes, now describing ``values`` (a new array with the same values)."""
        return Codes(self.codes, self.uniques, values)

    @staticmethod
    def of(s: pd.Series | np.ndarray, codes: Codes | None) -> Codes | None:
        """``codes`` if they describe exactly this column's array, else ``None``."""
        if codes is None or codes.values is None:
            return None
        values = s.to_numpy(dtype=object, copy=False) if isinstance(s, pd.Series) else s
        if values.dtype != object or _address(values) != _address(codes.values):
            return None
        return codes

    @cached_property
    def missing_count(self) -> int:
        return int(np.count_nonzero(self.codes < 0))

    def missing(self) -> np.ndarray:
        return self.codes < 0

    def gather(self, per_value: np.ndarray, missing: Any) -> np.ndarray:
        """``per_value[codes]``, with ``missing`` for the missing rows."""
        per_value = np.asarray(per_value)
        return np.append(per_value, np.array([missing], dtype=per_value.dtype))[self.codes]

    def map(self, f: Callable[[pd.Series], Any], missing: Any) -> np.ndarray:
        """``f`` (elementwise, Series -> Series) on each distinct value, gathered to the rows."""
        return self.gather(np.asarray(f(pd.Series(self.uniques, dtype=object))), missing)

    def isin(self, allowed: Any) -> np.ndarray:
        """Which rows hold one of ``allowed`` (missing rows: ``False``)."""
        return self.gather(pd.Index(self.uniques).isin(allowed), False)

    def take(self, rows: np.ndarray) -> Codes:
        """The codes of the rows selected by boolean mask ``rows`` (describing no array yet)."""
        return Codes(self.codes[rows], self.uniques)


#: the codes of an extract's text columns, ``{table: {column: codes}}``
ExtractCodes = Mapping[str, Mapping[str, Codes]]


def column_codes(codes: ExtractCodes | None, table: str, s: pd.Series) -> Codes | None:
    """The codes of column ``s`` of ``table``, if known and still describing it."""
    return Codes.of(s, (codes or {}).get(table, {}).get(str(s.name))) if codes else None


def only_text(s: pd.Series, codes: Codes | None = None) -> bool:
    """Every value is a string or missing (what pandera's ``str`` check accepts), found in C (on
    the distinct values, when ``codes`` describe ``s``)."""
    if s.dtype != object:
        return False
    k = Codes.of(s, codes)
    return pd.api.types.infer_dtype(s if k is None else k.uniques, skipna=True) in ("string", "empty")


def arrow_text(arr: Any, with_codes: bool = True) -> tuple[np.ndarray, Codes | None]:
    """An Arrow string column (``pa.ChunkedArray``) as an object array (``None`` for missing), and
    its codes when it was read dictionary-encoded (``with_codes``). Read dictionary-encoded, each
    distinct string becomes one Python object shared by its rows: a 20-million-row id column costs
    its pointers, not 20 million strings."""
    import pyarrow as pa  # the caller read the column with Arrow

    from .memory import release_arrow

    if not pa.types.is_dictionary(arr.type):
        return arr.to_numpy(zero_copy_only=False).astype(object), None
    d = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    del arr  # the caller's reference only: a column read for this call is let go here
    release_arrow()
    words = np.empty(len(d.dictionary) + 1, dtype=object)
    words[:-1] = d.dictionary.to_numpy(zero_copy_only=False)
    words[-1] = None
    indices = (d.indices.fill_null(-1) if d.indices.null_count else d.indices).to_numpy(zero_copy_only=False)
    small = np.min_scalar_type(-len(words))  # the smallest signed type for every code and -1
    if small.itemsize < indices.itemsize:  # a category of a few words: int8, a quarter of int32
        indices = indices.astype(small)
    values = words[indices]  # -1 (missing) is the last word: None
    return values, (Codes.from_dictionary(indices, words[:-1], values) if with_codes else None)
