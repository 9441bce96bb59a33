"""Referrals found by position: a referral's fields for rows of other tables (contacts, signposts,
outcome measures) in one look-up each, for the data-quality checks."""

from __future__ import annotations

import numpy as np
import pandas as pd


class ReferralIndex:
    """The referrals' ids hashed once, so rows of other tables find their referral by position
    (one look-up each) rather than by a dict or ``Series.map`` per question. An id given twice
    stands for its last row, as a dict of the ids would."""

    def __init__(self, ref: pd.DataFrame):
        self.row_code, uniques = pd.factorize(ref["referral_id"].to_numpy(dtype=object))
        self.index = pd.Index(uniques, dtype=object)
        ok = self.row_code >= 0
        self.last_row = np.full(len(uniques), -1, dtype=np.int64)
        np.maximum.at(self.last_row, self.row_code[ok], np.flatnonzero(ok))

    def codes(self, ids: pd.Series) -> np.ndarray:
        """Each id's referral (a code), -1 when it is not a referral."""
        return self.index.get_indexer(ids.to_numpy(dtype=object))

    def value(self, column: pd.Series, codes: np.ndarray) -> pd.Series:
        """``column`` (a referrals date column) of the referral at each code; NaT for -1."""
        v = column.to_numpy()[self.last_row][np.maximum(codes, 0)]
        v[codes < 0] = np.datetime64("NaT")
        return pd.Series(v, dtype=column.dtype)

    def per_referral(self, codes: np.ndarray, days: pd.Series, how: str) -> pd.Series:
        """The earliest (``min``) or latest (``max``) of ``days`` (a date column of another table,
        aligned with ``codes``) for each referral row, NaT when it has none; as ``groupby(id)``
        and ``map`` would give."""
        v = days.to_numpy().view(np.int64)
        ok = (codes >= 0) & (v != _NAT)
        out = np.full(len(self.index), _NAT if how == "max" else np.iinfo(np.int64).max, dtype=np.int64)
        (np.maximum if how == "max" else np.minimum).at(out, codes[ok], v[ok])
        out[(out == np.iinfo(np.int64).max)] = _NAT
        rows = np.where(self.row_code >= 0, out[np.maximum(self.row_code, 0)], _NAT)
        return pd.Series(rows.view(days.dtype))

    def followed_up(self, ons: pd.DataFrame, min_days: int) -> tuple[np.ndarray, np.ndarray]:
        """For each referral (code): whether ``ons`` (ONS4 rows) has any row for it, and whether
        some item was answered on two dates at least ``min_days`` apart (the earliest and latest
        answer of the item, as ``groupby([id, item])`` min and max would give)."""
        n = len(self.index)
        codes = self.codes(ons["referral_id"])
        has = np.zeros(n, dtype=bool)
        has[codes[codes >= 0]] = True
        item, items = pd.factorize(ons["item"].to_numpy(dtype=object))
        day = ons["assessment_date"].to_numpy().view(np.int64)
        ok = (codes >= 0) & (item >= 0) & (day != _NAT)
        key = codes[ok] * len(items) + item[ok]
        first = np.full(n * len(items), np.iinfo(np.int64).max, dtype=np.int64)
        last = np.full(n * len(items), _NAT, dtype=np.int64)
        np.minimum.at(first, key, day[ok])
        np.maximum.at(last, key, day[ok])
        answered = last != _NAT
        gap = np.zeros(len(first), dtype=np.int64)
        unit = np.datetime_data(ons["assessment_date"].dtype)[0]
        gap[answered] = (last[answered] - first[answered]).view(f"m8[{unit}]") // np.timedelta64(1, "D")
        paired = np.zeros(n, dtype=bool)
        paired[np.flatnonzero(answered & (gap >= min_days)) // len(items)] = True
        return has, paired


_NAT = np.iinfo(np.int64).min
