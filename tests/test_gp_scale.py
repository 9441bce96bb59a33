"""The GP analysis's scalable parts against plain reference computations: windowed counts in one
pass against a count per window, key-by-key matching against matching over all pairs at once
(the algorithm it replaced, kept here as the oracle), and the one-hot fixed-effects Poisson
against the dense one."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from test_gp_appointments import make_extract

from pipeline.analyses import poisson_fe as P
from pipeline.analyses.gp_appointments import counter as GC
from pipeline.analyses.gp_appointments import event_study as GE
from pipeline.analyses.gp_appointments import matching as GM
from pipeline.analyses.gp_appointments import patients as GP
from pipeline.config import load_settings


def random_appointments(rng: np.random.Generator, n_patients: int, start: int, end: int) -> pd.DataFrame:
    k = rng.poisson(8, n_patients)
    pid = np.repeat([f"P{i}" for i in range(n_patients)], k)
    day = rng.integers(start - 30, end + 30, len(pid))
    df = pd.DataFrame({"patient_id": pid, "appointment_date": pd.to_datetime(day, unit="D")})
    df.loc[rng.random(len(df)) < 0.02, "appointment_date"] = pd.NaT
    return df.sample(frac=1, random_state=1).reset_index(drop=True)  # not in patient order


@pytest.mark.parametrize("in_patient_order", [False, True])
def test_windows_equal_one_count_per_window(in_patient_order):
    rng = np.random.default_rng(3)
    start, end = 19000, 19700
    appts = random_appointments(rng, 60, start, end)
    if in_patient_order:  # runs of one patient: the counter hashes each run once
        appts = appts.sort_values(["patient_id", "appointment_date"], kind="stable").reset_index(drop=True)
    counter = GC.AppointmentCounter(appts)
    ids = [f"P{i}" for i in rng.integers(0, 70, 200)]  # some have no appointments at all
    d = rng.integers(start, end, 200)
    clip_hi = np.minimum(d + rng.integers(-50, 400, 200), end)
    windows = [(-365, -183), (-91, -1), (1, 91), (-10, 10), (5, 4), (1, 365), (-547, -366)]
    code = counter.codes(ids)
    got = counter.windows(code, d, windows, clip_lo=start, clip_hi=clip_hi)
    unclipped = counter.windows(code, d, windows)
    days = {p: np.sort(GC.day_numbers(g["appointment_date"].dropna())) for p, g in appts.groupby("patient_id")}

    def brute(p, lo, hi):
        x = days.get(p, np.zeros(0))
        return int(((x >= lo) & (x <= hi)).sum())

    for w, (a, b) in enumerate(windows):
        want = counter.count(ids, np.maximum(d + a, start), np.minimum(d + b, clip_hi))
        assert list(want) == [brute(p, max(x + a, start), min(x + b, h)) for p, x, h in zip(ids, d, clip_hi, strict=True)]
        assert np.array_equal(got[:, w], want), (a, b)
        assert np.array_equal(unclipped[:, w], counter.count(ids, d + a, d + b)), (a, b)
    # chunked passes give the same answer
    small = [list(x) for x in counter.days_of(code, d - 600, d + 400, chunk=7)]
    assert len(small) > 10 and sum(len(x[2]) for x in small) == sum(len(x[2]) for x in counter.days_of(
        code, d - 600, d + 400))


def _key(df: pd.DataFrame, age_edges: list[int]) -> pd.Series:
    """The matching key as text, as the all-pairs matching built it."""
    rb = df["risk_band"].astype("object").where(df["risk_band"].notna(), "unknown")
    g = df["gender"].astype("object").where(df["gender"].notna(), "unknown")
    return (df["practice_code"].astype(str) + "|" + pd.Series(GM.band_of(df["age"], age_edges), index=df.index).astype(str)
            + "|" + g.astype(str) + "|" + rb.astype(str))


def all_pairs_match(idx, pool, counter, extract, start, end, cfg):
    """The matching as first written: every (referred, comparison) pair of a key at once."""
    b0, b1 = cfg.baseline_window_days
    m0, m1 = cfg.match_window_days
    a0, a1 = cfg.after_window_days
    ref = idx.copy()
    ref["index_day"] = GC.day_numbers(ref["referral_date"])
    ref["end_day"] = np.minimum(GP.death_days(extract, ref["patient_id"]), end)
    base_inside = ref["index_day"] + min(b0, m0) >= start
    after_days = np.minimum(ref["index_day"] + a1, ref["end_day"]) - (ref["index_day"] + a0) + 1
    ref = ref[base_inside & (after_days >= cfg.min_after_days)].reset_index(drop=True)
    referred = set(extract["referrals"]["patient_id"].astype(str))
    pool = pool[~pool["patient_id"].astype(str).isin(referred)].drop_duplicates("patient_id").reset_index(drop=True)
    bins = np.asarray(cfg.match_baseline_use_bins)
    ref["match_n"] = counter.count(ref["patient_id"], ref["index_day"] + m0, ref["index_day"] + m1)
    ref["key"] = _key(ref, cfg.match_age_bands).to_numpy()
    pool = pool.assign(key=_key(pool, cfg.match_age_bands).to_numpy(),
                       death_day=GP.death_days(extract, pool["patient_id"]))
    pairs = ref[["patient_id", "key", "index_day", "match_n", "age"]].merge(
        pool[["patient_id", "key", "death_day", "age"]], on="key", suffixes=("", "_c"))
    pairs = pairs[pairs["death_day"] > pairs["index_day"]]
    pairs = pairs.assign(match_n_c=counter.count(pairs["patient_id_c"], pairs["index_day"] + m0,
                                                 pairs["index_day"] + m1))
    pairs = pairs[np.searchsorted(bins, pairs["match_n"], side="right")
                  == np.searchsorted(bins, pairs["match_n_c"], side="right")]
    rng = np.random.default_rng(cfg.match_seed)
    order = pd.Series(rng.permutation(len(ref)), index=ref["patient_id"].to_numpy())
    age_gap = (pd.to_numeric(pairs["age"], errors="coerce") - pd.to_numeric(pairs["age_c"], errors="coerce")).abs()
    pairs = pairs.assign(order=pairs["patient_id"].map(order).to_numpy(),
                         d_use=(pairs["match_n"] - pairs["match_n_c"]).abs().to_numpy(),
                         d_age=age_gap.fillna(999).to_numpy(), tie=rng.random(len(pairs)))
    pairs = pairs.sort_values(["order", "d_use", "d_age", "tie"], kind="mergesort")
    used, taken = set(), {}
    for r, c in zip(pairs["patient_id"], pairs["patient_id_c"], strict=True):
        lst = taken.setdefault(r, [])
        if len(lst) < cfg.matches_per_patient and c not in used:
            lst.append(c)
            used.add(c)
    return {r: cs for r, cs in taken.items() if cs}


def random_matching_extract(seed: int, n_ref: int = 120, n_comp: int = 300):
    rng = np.random.default_rng(seed)
    start, end = date(2021, 4, 1), date(2024, 3, 31)
    s0, s1 = GC.day_numbers([start])[0], GC.day_numbers([end])[0]
    prac = ["A11111", "B22222", "C33333"]
    refs = [dict(patient_id=f"R{i}", referral_date=pd.Timestamp(int(rng.integers(s0 + 560, s1 - 100)), unit="D")
                 .strftime("%Y-%m-%d"), practice_code=str(rng.choice(prac)), age=int(rng.integers(18, 90)),
                 gender=str(rng.choice(["female", "male"])), risk_band=str(rng.choice(["high", "low"])))
            for i in range(n_ref)]
    refs += [dict(r, patient_id=r["patient_id"], referral_date="2023-12-01") for r in refs[:5]]  # repeat referrals
    comp = [dict(patient_id=f"C{i}", practice_code=str(rng.choice(prac)),
                 age=None if i % 37 == 0 else int(rng.integers(18, 90)),
                 gender=str(rng.choice(["female", "male"])), risk_band=str(rng.choice(["high", "low"])))
            for i in range(n_comp)]
    comp.append(dict(comp[3]))  # a duplicate row
    ids = [r["patient_id"] for r in refs[:n_ref]] + [c["patient_id"] for c in comp]
    appts = [(p, pd.Timestamp(int(d), unit="D").strftime("%Y-%m-%d")) for p in ids
             for d in rng.integers(s0, s1, int(rng.poisson(5)))]
    deaths = [(f"C{i}", "2023-01-15") for i in range(0, n_comp, 11)]
    return make_extract(refs, appts, comparison=comp, deaths=deaths, start=start, end=end)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("chunks", [(4_000_000, 16_000_000), (50, 2_000), (1, 1)])
def test_key_by_key_matching_equals_matching_over_all_pairs(seed, chunks, monkeypatch):
    """However the keys are grouped and the pairs chunked, the matches are those of the all-pairs
    algorithm, draw for draw."""
    monkeypatch.setattr(GM, "PAIR_CHUNK", chunks[0])
    monkeypatch.setattr(GM, "CUM_CELLS", chunks[1])
    ex = random_matching_extract(seed)
    cfg = load_settings().gp_appointments
    for k in (1, 3):
        c = cfg.model_copy(update={"matches_per_patient": k})
        start, end = GP.extract_days(ex)
        counter = GC.AppointmentCounter(ex["gp_appointments"])
        idx = GP.index_referrals(ex["referrals"])
        want = all_pairs_match(idx, ex["comparison_patients"], counter, ex, start, end, c)
        m = GM.match(idx, ex["comparison_patients"], counter, ex, start, end, c)
        comp = m.units[m.units["treated"] == 0]
        got = {s: list(g["patient_id"]) for s, g in comp.groupby("set_id", sort=False)}
        assert len(want) > 20 and got == want
        assert list(m.units.loc[m.units["treated"] == 1, "patient_id"]) == [r for r in idx["patient_id"] if r in want]


def test_one_hot_poisson_equals_dense():
    rng = np.random.default_rng(5)
    n_g, n_q = 400, 6
    g = np.repeat(np.arange(n_g), n_q)
    q = np.tile(np.arange(n_q), n_g)
    keep = rng.random(len(g)) > 0.15
    g, q = g[keep], q[keep]
    alpha = rng.normal(0, 0.7, n_g)
    beta = np.array([0.0, 0.2, -0.1, 0.4, 0.0, -0.3])
    expo = rng.integers(20, 92, len(g)).astype(float)
    y = rng.poisson(np.exp(alpha[g] + beta[q]) * expo / 91)
    cl = g // 3
    names = [f"q{v}" for v in range(1, n_q)]
    dense = pd.DataFrame({f"q{v}": (q == v).astype(float) for v in range(1, n_q)})
    for kw in ({}, {"clusters": cl}, {"weights": np.where(g % 2, 0.5, 1.0)}):
        a = P.poisson_fe(y, dense, g, offset=np.log(expo), **kw)
        b = P.poisson_fe(y, P.OneHot(np.where(q > 0, q - 1, -1), names), g, offset=np.log(expo), **kw)
        assert a.ok and b.ok and list(a.params.index) == list(b.params.index) == names
        np.testing.assert_allclose(b.params.to_numpy(), a.params.to_numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b.cov.to_numpy(), a.cov.to_numpy(), rtol=1e-7, atol=1e-14)
    # an indicator nobody has, and one that is constant within every group, are dropped in both
    g2 = np.r_[g, np.arange(n_g, n_g + 50)]
    q2 = np.r_[q, np.full(50, 5)]  # new groups with a single row each
    y2 = np.r_[y, np.ones(50, dtype=int)]
    only5 = np.isin(g2, np.arange(n_g, n_g + 50))
    codes = np.where(only5, 5, np.where(q2 > 0, q2 - 1, -1))  # column "extra": only in single-row groups
    d2 = pd.DataFrame({n: (codes == i).astype(float) for i, n in enumerate(names + ["extra", "never"])})
    a = P.poisson_fe(y2, d2, g2)
    b = P.poisson_fe(y2, P.OneHot(codes, names + ["extra", "never"]), g2)
    assert a.dropped == b.dropped == ["extra", "never"]
    np.testing.assert_allclose(b.params.to_numpy(), a.params.to_numpy(), rtol=1e-9)


def test_one_hot_collinear_indicator_is_dropped_like_dense():
    """Two indicators that always come together in a group, with the rest, are collinear after
    centring: both representations drop the later one."""
    rng = np.random.default_rng(8)
    n_g = 300
    g = np.repeat(np.arange(n_g), 3)
    q = np.tile([0, 1, 2], n_g)  # every group has exactly one row of each: q1 and q2 are not collinear
    y = rng.poisson(3, len(g))
    a = P.poisson_fe(y, pd.DataFrame({"q1": (q == 1) * 1.0, "q2": (q == 2) * 1.0}), g)
    b = P.poisson_fe(y, P.OneHot(np.where(q > 0, q - 1, -1), ["q1", "q2"]), g)
    np.testing.assert_allclose(b.params.to_numpy(), a.params.to_numpy(), rtol=1e-9)
    # a design where "q2" = 1 - "q1" within every group after centring (no reference rows)
    codes = np.where(q == 0, 0, 1)  # q1 on rows 0, q2 on rows 1 and 2: q1 + q2 = 1 in every row
    dense = pd.DataFrame({"q1": (codes == 0) * 1.0, "q2": (codes == 1) * 1.0})
    a = P.poisson_fe(y, dense, g)
    b = P.poisson_fe(y, P.OneHot(codes, ["q1", "q2"]), g)
    assert a.dropped == b.dropped == ["q2"]
    np.testing.assert_allclose(b.params.to_numpy(), a.params.to_numpy(), rtol=1e-9)


def test_event_study_on_exposure_patterns_equals_the_patient_level_fit():
    """Fitted on one pseudo-unit per exposure pattern, the coefficients and the patient-clustered
    covariance are those of the fit on every patient-quarter."""
    rng = np.random.default_rng(11)
    n, qs = 3000, [-3, -2, -1, 1, 2]
    expo = np.full((n, len(qs)), 91)
    expo[:400, 0] = rng.integers(0, 91, 400)  # index early in the extract: a partial first quarter
    expo[400:600, 3:] = np.column_stack([rng.integers(1, 91, 200), np.zeros(200, dtype=int)])  # death
    alpha = rng.gamma(2.0, 0.5, n)
    beta = np.array([0.0, 0.2, 0.4, -0.1, -0.1])
    y = rng.poisson(alpha[:, None] * np.exp(beta)[None, :] * expo / 91)
    y[expo == 0] = 0
    got = GE.fit_event_study(qs, y, expo, reference=-3)
    has = expo.T.ravel() > 0
    unit = np.tile(np.arange(n), len(qs))[has]
    q = np.repeat(qs, n)[has]
    codes = np.array([{-2: 0, -1: 1, 1: 2, 2: 3}.get(v, -1) for v in q])
    want = P.poisson_fe(y.T.ravel()[has], P.OneHot(codes, ["q-2", "q-1", "q1", "q2"]), unit,
                        offset=np.log(expo.T.ravel()[has].astype(float)))
    assert got.ok and want.ok and list(got.params.index) == list(want.params.index)
    np.testing.assert_allclose(got.params.to_numpy(), want.params.to_numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got.cov.to_numpy(), want.cov.to_numpy(), rtol=1e-8, atol=1e-14)
    assert (got.n_obs, got.n_groups, got.n_clusters) == (want.n_obs, want.n_groups, want.n_clusters)
    assert GE.fit_event_study(qs, np.zeros_like(y), expo, reference=-3).status == "not_estimable"


@pytest.mark.parametrize("values", [["a", "a", "b", "b", "b", "a", "c", "c"], ["a", None, "a", "b"], [],
                                    ["x"] * 10, [f"p{i % 7}" for i in range(50)],
                                    ["a"] * 8 + [None] * 8 + ["b"] * 8,  # missing ids inside a run of runs
                                    ["a"] * 8 + [float("nan")] * 3 + ["b"] * 8, ["a"] * 8 + [pd.NA] + ["b"] * 8,
                                    ["a"] * 8 + [pd.NaT] * 2 + ["a"] * 8])
def test_factorize_runs_is_factorize(values):
    v = np.array(values, dtype=object)
    codes, uniques = GC.factorize_runs(v)
    want_codes, want_uniques = pd.factorize(v)
    assert list(codes) == list(want_codes) and list(uniques) == list(want_uniques)


def test_release_returns_freed_heap_memory():
    """The kernel's reset cell gives freed heap pages back (glibc): a bool, never an error."""
    from pipeline.memory import release

    blocks = [bytearray(64 * 1024) for _ in range(2000)]  # heap-sized blocks, then freed
    del blocks
    assert isinstance(release(), bool)


@pytest.mark.parametrize(("rows", "cols", "high"), [(2000, 9, 3), (3000, 13, 93), (500, 40, 300), (7, 1, 2), (0, 5, 1)])
def test_unique_rows_is_numpys_unique_over_rows(rows, cols, high):
    """The same distinct rows in NumPy's order and the same inverse, including keys that would
    overflow one integer (40 columns of 300 values) and rows that repeat."""
    rng = np.random.default_rng(rows)
    a = rng.integers(0, high, (rows, cols))
    a[: rows // 3] = a[0] if rows else a[: rows // 3]
    want, inverse = np.unique(a, axis=0, return_inverse=True)
    got, pid = GE.unique_rows(a)
    assert np.array_equal(got, want)
    assert np.array_equal(pid, inverse.ravel())


def test_codes_reused_only_for_the_same_ids():
    appts = pd.DataFrame({"patient_id": ["a", "a", "b", "c"],
                          "appointment_date": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-02", "2024-01-03"])})
    counter = GC.AppointmentCounter(appts)
    ids = np.array(["c", "a", "x", "b"], dtype=object)
    first = counter.codes(ids)
    assert first.tolist() == [2, 0, -1, 1]
    ids[0] = "b"  # the caller changes its array: the kept answer must not be reused
    assert counter.codes(ids).tolist() == [1, 0, -1, 1]
    first[:] = 99  # nor can a caller change the kept answer
    assert counter.codes(pd.Series(["c", "a", "x", "b"])).tolist() == [2, 0, -1, 1]
