"""A text column as integer codes into its distinct values.

A big extract repeats its ids and categories millions of times: the GP table of a million
referrals holds 51 million ``patient_id`` values but 2.3 million distinct ones. Each check the
loader makes on a text column (is it stripped, is it empty, is it text, does it look like an NHS
number, is it in the referrals table) is made once per distinct value and carried to the rows by
their code, and the column goes back to Arrow by its codes; without them, every check was one more
pass hashing or testing every row's Python string.

The codes come for free with a Parquet column read dictionary-encoded, and from one
``pd.factorize`` otherwise. They describe one array: :meth:`Codes.of` hands them out only for that
very array (the same memory, the same length), so a column that has been replaced is never
described by stale codes. The loader treats its arrays as read-only.
"""

from __future__ import annotations

from collections.abc import Callable
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
