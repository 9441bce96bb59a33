"""pipeline.analyses.order: the same order and first rows as pandas, on awkward data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.analyses.order import first_rows, sort_key, sort_order


def _frame(seed: int, n: int = 400) -> pd.DataFrame:
    """Few distinct values (many ties), missing values in every column, text that sorts
    differently by code point than by length or case."""
    rng = np.random.default_rng(seed)
    words = np.array(["a", "B", "b", "ab", "aB", "é", "Z", "z1", "z10", "z2", "", " a", "pt-1", "pt-10"], dtype=object)
    text = words[rng.integers(0, len(words), n)]
    text[rng.random(n) < 0.1] = None
    text2 = words[rng.integers(0, 4, n)]
    text2[rng.random(n) < 0.1] = np.nan
    day = pd.to_datetime("2023-01-01") + pd.to_timedelta(rng.integers(0, 5, n), unit="D")
    day = pd.Series(day).where(rng.random(n) > 0.1)
    num = rng.integers(-2, 3, n).astype(float)
    num[rng.random(n) < 0.1] = np.nan
    num[rng.random(n) < 0.05] = -0.0
    return pd.DataFrame({
        "text": text, "text2": text2, "day": day.to_numpy(), "num": num,
        "int": rng.integers(-3, 3, n), "flag": rng.random(n) < 0.5, "row": np.arange(n),
    }, index=rng.permutation(n) * 7)


CASES = [
    (["text", "day", "text2"], True),
    (["text", "day", "text2"], [True, False, True]),
    (["text2", "num", "int"], [False, True, False]),
    (["day", "text"], False),
    (["num", "flag", "text"], [False, False, True]),
    (["int"], True),
]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(("by", "ascending"), CASES)
def test_sort_order_is_pandas_mergesort_order(seed, by, ascending):
    df = _frame(seed)
    want = df.sort_values(by, ascending=ascending, kind="mergesort")
    got = df.take(sort_order(df, by, ascending))
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(("by", "ascending"), CASES)
@pytest.mark.parametrize("unique", [1, 2])
def test_first_rows_is_sort_then_drop_duplicates(seed, by, ascending, unique):
    df = _frame(seed)
    unique = min(unique, len(by))
    want = df.sort_values(by, ascending=ascending, kind="mergesort").drop_duplicates(by[:unique], keep="first")
    got = first_rows(df, by, ascending, unique=unique)
    pd.testing.assert_frame_equal(got, want)


def test_text_keys_are_ranks_and_missing_sorts_last_either_way():
    s = pd.Series(["b", None, "a", "b", "c"], dtype=object)
    assert sort_key(s).tolist() == [1, 3, 0, 1, 2]
    assert sort_key(s, ascending=False).tolist() == [1, 3, 2, 1, 0]
    d = pd.Series(pd.to_datetime(["2024-01-02", None, "2024-01-01"]))
    assert np.argsort(sort_key(d), kind="stable").tolist() == [2, 0, 1]
    assert np.argsort(sort_key(d, ascending=False), kind="stable").tolist() == [0, 2, 1]


@pytest.mark.parametrize("values", [
    ["b\x00", "b", "a", "b\x00"],  # NUL characters: NumPy text would make "b\x00" equal to "b"
    [2, "a", 1, "a"],  # mixed types
])
def test_values_numpy_cannot_order_fall_back_to_pandas(values):
    assert sort_key(pd.Series(values, dtype=object)) is None
    df = pd.DataFrame({"k": pd.Series(values, dtype=object), "r": range(len(values))})
    if all(isinstance(v, str) for v in values):
        want = df.sort_values(["k", "r"], kind="mergesort")
        pd.testing.assert_frame_equal(df.take(sort_order(df, ["k", "r"])), want)
        pd.testing.assert_frame_equal(first_rows(df, ["k", "r"]), want.drop_duplicates("k"))


def test_nullable_columns_fall_back_to_pandas():
    df = pd.DataFrame({"k": pd.array([True, None, False, True], dtype="boolean"),
                       "n": pd.array([1, 2, None, 1], dtype="Int64"), "r": [3, 2, 1, 0]})
    assert sort_key(df["k"]) is None and sort_key(df["n"]) is None
    for by in (["k", "r"], ["n", "k"]):
        want = df.sort_values(by, kind="mergesort")
        pd.testing.assert_frame_equal(df.take(sort_order(df, by)), want)
        pd.testing.assert_frame_equal(first_rows(df, by), want.drop_duplicates(by[0]))


def test_empty_and_single_row_frames():
    df = _frame(0).iloc[:0]
    assert len(first_rows(df, ["text", "day"])) == 0
    one = _frame(0).iloc[:1]
    pd.testing.assert_frame_equal(first_rows(one, ["text", "day"]), one)


@pytest.mark.parametrize("values", [
    ["b", "a", None, "é", "b", "A", "a"],
    ["b\x00", "b", "a"],  # NUL characters: pandas' own sort
    [3, 1, None, 2, 1],  # not text: pandas' own sort
    [],
])
def test_factorize_sorted_is_pandas_factorize_with_sort(values):
    from pipeline.analyses.order import factorize_sorted

    arr = np.array(values, dtype=object)
    want_codes, want_uniques = pd.factorize(arr, sort=True)
    codes, uniques = factorize_sorted(pd.Series(arr, dtype=object))
    assert codes.tolist() == want_codes.tolist()
    assert list(uniques) == list(want_uniques)


@pytest.mark.parametrize("seed", range(3))
def test_referral_like_order_with_ties_resolved_column_by_column(seed):
    """Patients with several referrals, some on the same day (only those need the id): the
    shape of the analyses' own sorts, where later columns are computed only for tied rows."""
    rng = np.random.default_rng(seed)
    n = 5000
    df = pd.DataFrame({
        "patient_id": [f"pt-{i:04d}" for i in rng.integers(0, 1500, n)],
        "referral_date": pd.to_datetime("2023-04-01") + pd.to_timedelta(rng.integers(0, 40, n), unit="D"),
        "first_contact_date": (pd.to_datetime("2023-05-01") + pd.to_timedelta(rng.integers(0, 3, n), unit="D"))
        .where(rng.random(n) > 0.3),
        "referral_id": [f"rf-{v}" for v in rng.permutation(n * 3)[:n]],
    })
    by = ["patient_id", "referral_date", "first_contact_date", "referral_id"]
    for asc in (True, [True, False, True, False]):
        want = df.sort_values(by, ascending=asc, kind="mergesort")
        pd.testing.assert_frame_equal(df.take(sort_order(df, by, asc)), want)
        for unique in (1, 2, 3):
            pd.testing.assert_frame_equal(first_rows(df, by, asc, unique=unique),
                                          want.drop_duplicates(by[:unique], keep="first"))


@pytest.mark.parametrize(("cols", "high"), [(3, 5), (12, 2**20)])  # the second overflows one int64
def test_combine_codes_equal_exactly_when_every_column_is(cols, high):
    from pipeline.analyses.order import combine_codes

    rng = np.random.default_rng(cols)
    a = rng.integers(0, high, (3000, cols))
    a[1000:2000] = a[:1000]  # repeated rows
    key = combine_codes([a[:, j] for j in range(cols)])
    _, by_row = np.unique(a, axis=0, return_inverse=True)
    _, by_key = np.unique(key, return_inverse=True)
    assert pd.crosstab(by_row.ravel(), by_key.ravel()).gt(0).sum().eq(1).all()  # one row value per key
    assert len(np.unique(key)) == len(np.unique(a, axis=0))
