"""GP appointments held once, counted in many windows: the analysis's appointment store.

:class:`AppointmentCounter` keeps every appointment as a day offset, patient by patient, and
counts each asked-about patient's appointments in any number of windows around one index day in
one pass (the published method's windows, the event study's quarters, the matching and DiD
windows). Dates are whole day numbers (:func:`day_numbers`).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

DAY_KEY = 1_000_000  # day numbers (days since 1970) are far below this
NAT_DAY = np.iinfo(np.int64).min  # a missing date as a day number


def day_numbers(dates) -> np.ndarray:
    """Dates (datetime64 / Timestamps) as whole days since 1970-01-01 (int64); a missing date is
    ``NAT_DAY``."""
    s = dates if isinstance(dates, pd.Series) else pd.Series(dates)
    if not (isinstance(s.dtype, np.dtype) and s.dtype.kind == "M"):  # already dates: no parsing pass
        s = pd.to_datetime(s)
    return s.to_numpy().astype("datetime64[D]").view(np.int64)



class AppointmentCounter:
    """A patient's appointments between two days (inclusive), vectorised.

    The appointments are held once, patient by patient (``_ptr[c]:_ptr[c + 1]`` are patient
    ``c``'s), as sorted day offsets from the earliest day in the smallest integer type that
    holds them (two bytes a row for any extract under 179 years: 100 MB for 50 million
    appointments). Counting walks each asked-about patient's own appointments (about twenty), so
    many windows around one index day per patient (:meth:`windows`) are one pass, not a search
    per window. Rows without a patient or a date are ignored.
    """

    def __init__(self, appointments: pd.DataFrame):
        codes, uniques = factorize_runs(appointments["patient_id"].to_numpy(dtype=object))  # -1: missing
        keys = day_numbers(appointments["appointment_date"])  # becomes the keys, in place
        ok = (codes >= 0) & (keys != NAT_DAY)
        self._day0 = int(keys[ok].min()) if ok.any() else 0
        span = int(keys[ok].max()) - self._day0 + 1 if ok.any() else 1
        if span >= DAY_KEY:
            raise ValueError(f"appointment dates span {span:,} days; at most {DAY_KEY - 1:,} are supported")
        # key = patient code x 1e6 + day offset: sorted, the appointments patient by patient
        for a in range(0, len(keys), 1 << 22):  # in slices: no second 8-byte copy of the table
            b = a + (1 << 22)
            keys[a:b] += codes[a:b].astype(np.int64) * DAY_KEY - self._day0
        del codes
        keys = keys[ok] if not ok.all() else keys
        # codes follow first appearance, so an extract in patient and date order is sorted already
        # and the stable sort (timsort) is one linear pass
        keys.sort(kind="stable")
        self._ptr = np.searchsorted(keys, np.arange(len(uniques) + 1, dtype=np.int64) * DAY_KEY)
        keys %= DAY_KEY
        dtype = np.int16 if span <= np.iinfo(np.int16).max else np.int32
        self._days = keys.astype(dtype)
        u = np.asarray(uniques, dtype=object)
        if len(u) and pd.api.types.infer_dtype(u, skipna=False) != "string":  # the contract makes ids text
            u = np.array([str(x) for x in u], dtype=object)  # anything else as text
        self._index = pd.Index(u, dtype=object)  # the extract's own strings, not copies
        self._recent: list[tuple[np.ndarray, np.ndarray]] = []  # (ids, codes) last asked about

    def codes(self, patient_ids) -> np.ndarray:
        """Each patient's code (-1: no appointments).

        The analysis asks about the same patients several times (the matched units for their
        matching count, baseline, DiD panel and event study): the last few answers are kept and
        reused when the ids are the same, which comparing the ids (mostly the very same string
        objects) tells far faster than hashing a million of them into the index again."""
        ids = np.asarray(patient_ids.to_numpy() if isinstance(patient_ids, pd.Series) else patient_ids, dtype=object)
        for old, codes in self._recent:
            if len(old) == len(ids) and np.array_equal(old, ids):
                return codes.copy()
        codes = self._index.get_indexer(pd.Index(pd.Series(ids).astype(str)))
        self._recent = [(ids.copy(), codes), *self._recent[:2]]  # a copy: the caller may change its own
        return codes.copy()

    def count(self, patient_ids, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Appointments of each patient on days lo..hi (day numbers; empty when hi < lo)."""
        code = self.codes(patient_ids)
        out = np.zeros(len(code), dtype=np.int64)
        for first, last, row, _ in self.days_of(code, lo, hi):
            out[first:last] += np.bincount(row - first, minlength=last - first)
        return out

    def days_of(self, code: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                chunk: int = 4_000_000) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        """``(first, last, row, day)``: every appointment of patient ``code[row]`` on days
        ``lo[row]..hi[row]`` (day numbers), in chunks of about ``chunk`` of the patients'
        appointments, each covering the rows ``first..last - 1`` (rows in order)."""
        code = np.asarray(code)
        has = code >= 0
        c = np.where(has, code, 0)
        s = np.where(has, self._ptr[c], 0)
        n = np.where(has, self._ptr[c + 1] - s, 0)
        lo = np.asarray(lo, dtype=np.int64) - self._day0
        hi = np.asarray(hi, dtype=np.int64) - self._day0
        lo = np.broadcast_to(lo, code.shape)
        hi = np.broadcast_to(hi, code.shape)
        ends = np.cumsum(n)
        first = 0
        while first < len(n):
            last = max(int(np.searchsorted(ends, (ends[first - 1] if first else 0) + chunk, side="right")), first + 1)
            m = n[first:last]
            tot = int(m.sum())
            row = np.repeat(np.arange(first, last), m)
            pos = np.arange(tot, dtype=np.int64) - np.repeat(np.cumsum(m) - m, m) + np.repeat(s[first:last], m)
            day = self._days[pos].astype(np.int64)
            keep = (day >= lo[row]) & (day <= hi[row])
            yield first, last, row[keep], day[keep] + self._day0
            first = last

    def windows(self, code: np.ndarray, index_day: np.ndarray, windows: list[tuple[int, int]],
                clip_lo: np.ndarray | int | None = None, clip_hi: np.ndarray | int | None = None) -> np.ndarray:
        """Appointments of each patient (``code``) in each window of days ``index_day + a .. index_day
        + b`` (inclusive) for ``(a, b)`` in ``windows``, counting only days ``clip_lo..clip_hi`` (per
        patient or one for all; default no limit): an (n patients x n windows) array. One pass over
        the patients' appointments: each is placed between the windows' edges, and a window's
        count is a difference of cumulative counts."""
        code = np.asarray(code)
        d = np.asarray(index_day, dtype=np.int64)
        n = len(code)
        out = np.zeros((n, len(windows)), dtype=np.int64)
        if n == 0 or not windows:
            return out
        edges = np.unique(np.array([x for a, b in windows for x in (a, b + 1)], dtype=np.int64))
        lo = d + edges[0]
        hi = d + edges[-1] - 1
        if clip_lo is not None:
            lo = np.maximum(lo, clip_lo)
        if clip_hi is not None:
            hi = np.minimum(hi, clip_hi)
        nb = len(edges)  # bucket j: edges[j] <= day - index_day < edges[j + 1]
        counts = np.zeros(n * nb, dtype=np.int32)  # appointments per patient and bucket
        for first, last, row, day in self.days_of(code, lo, hi):
            b = np.searchsorted(edges, day - d[row], side="right") - 1
            counts[first * nb:last * nb] += np.bincount((row - first) * nb + b, minlength=(last - first) * nb)
        cum = np.zeros((n, nb + 1), dtype=np.int32)
        np.cumsum(counts.reshape(n, nb), axis=1, out=cum[:, 1:])  # cum[:, j]: days before edges[j]
        for w, (a, b) in enumerate(windows):
            out[:, w] = cum[:, np.searchsorted(edges, b + 1)] - cum[:, np.searchsorted(edges, a)]
        return out


def factorize_runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` (codes by first appearance, -1 for missing) that hashes each run of
    repeated values once: a GP table is usually in patient order, and hashing 50 million ids
    into a table of millions is slow (a cache miss each) where comparing neighbours is not."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.array([], dtype=object)
    try:
        starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    except TypeError:  # a value that does not compare (pd.NA)
        return pd.factorize(values)
    # a missing value starts a run or repeats the one before it (None == None), so any missing
    # value is among the runs' first values: only those need checking (not 50 million rows)
    if len(starts) > n // 4 or pd.isna(values[starts]).any():  # not in runs, or missing ids
        return pd.factorize(values)
    codes, uniques = pd.factorize(values[starts])
    return np.repeat(codes.astype(np.int32) if len(uniques) < 2**31 else codes, np.diff(np.r_[starts, n])), uniques

