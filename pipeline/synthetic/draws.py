"""The random streams and the draws every table uses.

An area's extract is drawn from one generator seeded from its slug and :data:`GENERATOR_VERSION`
(:func:`seed_for`) and nothing else: no clock, no hash randomisation. The tables made so far all
draw from that one shared stream, in a fixed order (:mod:`pipeline.synthetic.build`); a table
added later draws from its own stream (:func:`table_stream`), so adding it leaves every other
table's values as they were. Days are whole numbers of days since 1970-01-01 (:func:`day_number`)
until a table is written out as dates (:func:`to_date`).
"""

from __future__ import annotations

import zlib
from datetime import date

import numpy as np
import pandas as pd

GENERATOR_VERSION = 1

_ALPHABET = np.frombuffer(b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789", dtype=np.uint8)


def seed_for(slug: str) -> int:
    """The seed of the area's shared stream."""
    return zlib.crc32(f"{slug}:v{GENERATOR_VERSION}".encode())


def table_stream(slug: str, table: str) -> np.random.Generator:
    """A table's own stream: seeded from the area's seed and the table's name, independent of the
    shared stream and of every other table's stream."""
    return np.random.default_rng([seed_for(slug), zlib.crc32(table.encode())])


def choice(rng: np.random.Generator, probs: dict[str, float], n: int) -> np.ndarray:
    """n draws of the keys of ``probs``, with those (relative) probabilities."""
    keys = np.array(list(probs), dtype=object)
    p = np.array(list(probs.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


def ids(rng: np.random.Generator, prefix: str, n: int) -> np.ndarray:
    """n distinct pseudonyms like 'pt-7KQ2M9XA' (never digits only, so never NHS-number-like)."""
    nums = rng.choice(32 ** 8, size=n, replace=False)
    digits = np.empty((n, 8), dtype=np.uint8)
    for k in range(8):
        digits[:, 7 - k] = _ALPHABET[nums % 32]
        nums = nums // 32
    body = digits.view("S8").ravel().astype(str)
    return np.char.add(prefix, body).astype(object)


def uniform_int(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Uniform integers in [lo, hi] elementwise (hi >= lo)."""
    lo, hi = np.asarray(lo, dtype=np.int64), np.asarray(hi, dtype=np.int64)
    return lo + np.floor(rng.random(lo.shape) * (hi - lo + 1)).astype(np.int64)


def inverse_cdf(rng: np.random.Generator, knots, n: int) -> np.ndarray:
    """Integer days drawn from a piecewise-linear CDF; -1 where the event never happens."""
    u = rng.random(n)
    xs = np.array([k[0] for k in knots], dtype=float)
    ps = np.array([k[1] for k in knots], dtype=float)
    t = np.interp(u, ps, xs)
    return np.where(u < ps[-1], np.floor(t).astype(np.int64), -1)


def day_number(d: date) -> int:
    """Days since 1970-01-01."""
    return int(np.datetime64(d, "D").astype(np.int64))


def to_date(days: np.ndarray) -> pd.Series:
    """Day numbers as a column of dates (``datetime64[ns]``)."""
    return pd.Series(np.asarray(days, dtype="int64").astype("datetime64[D]").astype("datetime64[ns]"))
