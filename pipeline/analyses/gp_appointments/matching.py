"""The matched comparison group: each eligible referred patient matched to similar registered
patients who were not referred.

Each eligible referred patient is matched, without replacement, to up to
``matches_per_patient`` comparison patients registered at the same practice, in the same age
band, of the same gender and risk band (missing = its own category), alive at the index date,
with GP use in a *matching window* in the same band (``match_baseline_use_bins``; nearest count,
then nearest age, then a seeded random draw, break ties). Comparison patients take the index
date of the referred patient they are matched to. The matching window (``match_window_days``,
default days -547..-366) lies before, and apart from, the difference-in-differences "before"
window on purpose: referred patients use the GP more than unreferred ones even at baseline, so
among people with the same *count* in a window, referred patients have the higher underlying
rate; if "before" were the window matched on, the comparison group's counts would fall back
towards their lower mean afterwards (regression to the mean created by the matching) and bias
the ratio towards 1. Eligible referred patients need the matching and "before" windows inside
the extract and at least ``min_after_days`` of follow-up inside it (follow-up also ends at
death).

The matching runs key by key (a run of keys at a time), so memory is bounded by a run of keys,
not by all candidate pairs; ``tests/test_gp_scale.py`` checks it against matching over all pairs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ...config import GPSettings
from ...extract import Extract
from ..order import combine_codes
from .counter import AppointmentCounter, day_numbers
from .patients import COMPARISON, death_days

PAIR_CHUNK = 1_000_000  # (referred, comparison) pairs examined at once
CUM_CELLS = 4_000_000  # comparison patients x days of cumulative appointment counts held at once
# why an index patient is not eligible for matching (the rest of the index patients are eligible)
REFERRAL_EXCLUSIONS = ("history_before_extract_start", "too_little_follow_up")


def band_of(values: pd.Series, edges: list[int]) -> np.ndarray:
    """The band (index of the last lower edge at or below the value) of each value; -1 when missing."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    out = np.searchsorted(np.asarray(edges, dtype=float), v, side="right") - 1
    return np.where(np.isnan(v), -1, out)


def _key_codes(ref: pd.DataFrame, pool: pd.DataFrame, age_edges: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The matching key of each referred and each comparison patient as an integer: equal exactly
    when practice, age band, gender and risk band are (missing gender or risk band is "unknown"),
    without building a string per patient."""
    both = pd.concat([ref[["practice_code", "age", "gender", "risk_band"]],
                      pool[["practice_code", "age", "gender", "risk_band"]]], ignore_index=True)
    parts = [pd.factorize(both["practice_code"].astype(str))[0],
             pd.factorize(band_of(both["age"], age_edges))[0],
             pd.factorize(both["gender"].astype("object").where(both["gender"].notna(), "unknown").astype(str))[0],
             pd.factorize(both["risk_band"].astype("object").where(both["risk_band"].notna(), "unknown").astype(str))[0]]
    key = combine_codes(parts)
    return key[:len(ref)], key[len(ref):]


@dataclass
class MatchRaw:
    units: pd.DataFrame  # patient_id, treated, set_id, index_day, end_day, weight + covariates
    n_referred_eligible: int
    n_referred_matched: int
    n_comparison_pool: int
    n_comparison_matched: int
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def referral_exclusions(self) -> dict[str, int]:
        """The index patients who could not be matched, by reason: with the eligible ones, all of them."""
        return {k: v for k, v in self.excluded.items() if k in REFERRAL_EXCLUSIONS}

    @property
    def pool_exclusions(self) -> dict[str, int]:
        """Comparison patients left out of the pool, by reason."""
        return {k: v for k, v in self.excluded.items() if k not in REFERRAL_EXCLUSIONS}


def _key_groups(r_cnt: np.ndarray, p_cnt: np.ndarray, days: int) -> list[tuple[int, int]]:
    """Runs of consecutive matching keys ``[k0, k1)`` small enough to handle at once: at most
    ``PAIR_CHUNK`` pairs and ``CUM_CELLS`` cells of cumulative counts (a key above either
    limit on its own is a run of its own; its pairs are then taken a few referred patients at a
    time)."""
    out: list[tuple[int, int]] = []
    k0, pairs, cells = 0, 0, 0
    for k in range(len(r_cnt)):
        kp, kc = int(r_cnt[k]) * int(p_cnt[k]), int(p_cnt[k]) * days
        if k > k0 and (pairs + kp > PAIR_CHUNK or cells + kc > CUM_CELLS):
            out.append((k0, k))
            k0, pairs, cells = k, 0, 0
        pairs += kp
        cells += kc
    if len(r_cnt):
        out.append((k0, len(r_cnt)))
    return out


class _Candidates:
    """The matching's candidate pairs, key by key, never all at once.

    A referred patient's candidates are the comparison patients with the same key (practice, age
    band, gender, risk band), alive on the index day, whose appointments in the matching window
    *around that referred patient's index day* fall in the same use band. Pairs are formed for a
    run of keys at a time; each comparison patient's appointments in the run's span of days are
    turned into cumulative counts once, so a pair's count is two look-ups. Referred patients come
    in ``ref`` row order within a key and comparison patients in ``pool`` row order, as a merge
    on the key orders them."""

    def __init__(self, ref: pd.DataFrame, pool: pd.DataFrame, counter: AppointmentCounter,
                 window: tuple[int, int], bins: np.ndarray):
        kc, _ = pd.factorize(np.r_[ref["key"].to_numpy(), pool["key"].to_numpy()])
        self.r_key, p_key = kc[:len(ref)], kc[len(ref):]
        n_keys = int(kc.max()) + 1 if len(kc) else 0
        self.r_ord = np.argsort(self.r_key, kind="stable")
        self.p_ord = np.argsort(p_key, kind="stable")
        self.r_cnt = np.bincount(self.r_key, minlength=n_keys)
        self.p_cnt = np.bincount(p_key, minlength=n_keys)
        self.r_ptr = np.r_[0, np.cumsum(self.r_cnt)]
        self.p_ptr = np.r_[0, np.cumsum(self.p_cnt)]
        self.index_day = ref["index_day"].to_numpy(dtype=np.int64)
        self.match_n = ref["match_n"].to_numpy(dtype=np.int64)
        self.r_bin = np.searchsorted(bins, self.match_n, side="right")
        self.p_code = counter.codes(pool["patient_id"])
        self.p_death = pool["death_day"].to_numpy(dtype=np.int64)
        self.counter, self.window, self.bins = counter, window, bins
        span = int(self.index_day.max() - self.index_day.min()) if len(ref) else 0
        self.groups = _key_groups(self.r_cnt, self.p_cnt, span + window[1] - window[0] + 2)

    def pairs(self, k0: int, k1: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """For keys ``k0..k1 - 1``: ``(ref row, pool row, comparison's count in the matching
        window)`` of each candidate pair, referred patient by referred patient."""
        refs = self.r_ord[self.r_ptr[k0]:self.r_ptr[k1]]
        pool = self.p_ord[self.p_ptr[k0]:self.p_ptr[k1]]
        if not len(refs) or not len(pool):
            return
        m0, m1 = self.window
        d = self.index_day[refs]
        d0 = int(d.min()) + m0
        width = int(d.max()) + m1 - d0 + 2  # cum[:, t]: appointments on days before d0 + t
        counts = np.zeros(len(pool) * width, dtype=np.int32)
        code = self.p_code[pool]
        for first, last, row, day in self.counter.days_of(code, np.full(len(pool), d0), np.full(len(pool), d0 + width - 2)):
            counts[first * width:last * width] += np.bincount((row - first) * width + (day - d0 + 1),
                                                               minlength=(last - first) * width)
        cum = np.cumsum(counts.reshape(len(pool), width), axis=1, dtype=np.int32).ravel()
        del counts
        n_cand = self.p_cnt[self.r_key[refs]]
        p_start = self.p_ptr[self.r_key[refs]] - self.p_ptr[k0]
        ends = np.cumsum(n_cand)
        first = 0
        while first < len(refs):
            last = max(int(np.searchsorted(ends, (ends[first - 1] if first else 0) + PAIR_CHUNK, side="right")),
                       first + 1)
            m = n_cand[first:last]
            tot = int(m.sum())
            i = np.repeat(np.arange(first, last), m)
            j = np.arange(tot, dtype=np.int64) - np.repeat(np.cumsum(m) - m, m) + np.repeat(p_start[first:last], m)
            day = d[i]
            alive = self.p_death[pool[j]] > day
            i, j, day = i[alive], j[alive], day[alive]
            n_c = cum[j * width + (day + m1 - d0 + 1)] - cum[j * width + (day + m0 - d0)]
            same = np.searchsorted(self.bins, n_c, side="right") == self.r_bin[refs[i]]
            yield refs[i[same]], pool[j[same]], n_c[same]
            first = last


def _fill_draws(base_state: dict, offsets: np.ndarray, sizes: np.ndarray, out: np.ndarray, at: np.ndarray) -> None:
    """Write the uniform draws at positions ``offsets[i] .. offsets[i] + sizes[i] - 1`` of the
    stream that starts at ``base_state`` (a PCG64 state) into ``out[at[i]:at[i] + sizes[i]]``:
    the numbers one ``random(total)`` call would give there, without drawing those in between."""
    bg = np.random.PCG64()
    gen = np.random.Generator(bg)
    for off, n, a in zip(offsets.tolist(), sizes.tolist(), at.tolist(), strict=True):
        bg.state = base_state
        bg.advance(off)
        out[a:a + n] = gen.random(n)


def match(idx: pd.DataFrame, pool: pd.DataFrame, counter: AppointmentCounter, extract: Extract,
          start: int, end: int, cfg: GPSettings) -> MatchRaw:
    """Match eligible referred patients to comparison patients (see the module docstring).

    Greedy, without replacement: referred patients in a seeded random order each take their
    ``matches_per_patient`` best unused candidates (nearest count in the matching window, then
    nearest age, then a seeded uniform draw). A comparison patient is a candidate only for
    referred patients with its own key, so the greedy runs key by key and memory is bounded by
    a run of keys, not by all pairs. The draws are the numbers one ``random(n pairs)`` call would
    give each pair, with the pairs in referred-patient then comparison-patient order (found by
    jumping the generator ahead), so the matches do not depend on how the keys are grouped."""
    b0, b1 = cfg.baseline_window_days
    m0, m1 = cfg.match_window_days
    a0, a1 = cfg.after_window_days
    ref = idx.copy()
    ref["index_day"] = day_numbers(ref["referral_date"])
    ref["end_day"] = np.minimum(death_days(extract, ref["patient_id"]), end)
    base_inside = ref["index_day"] + min(b0, m0) >= start
    after_days = np.minimum(ref["index_day"] + a1, ref["end_day"]) - (ref["index_day"] + a0) + 1
    enough_after = after_days >= cfg.min_after_days
    excluded = {"history_before_extract_start": int((~base_inside).sum()),
                "too_little_follow_up": int((base_inside & ~enough_after).sum())}
    ref = ref[base_inside & enough_after].reset_index(drop=True)
    # the referred patients' ids hashed once, for both questions (isin would hash them for each)
    referred = pd.Index(pd.unique(extract["referrals"]["patient_id"].astype(str).to_numpy()))
    pool = pool[referred.get_indexer(pool["patient_id"].astype(str).to_numpy()) < 0] \
        .drop_duplicates("patient_id").reset_index(drop=True)
    excluded["comparison_patients_also_referred"] = int(
        (referred.get_indexer(pd.unique(extract[COMPARISON]["patient_id"].astype(str).to_numpy())) >= 0).sum())
    bins = np.asarray(cfg.match_baseline_use_bins)
    ref["match_n"] = counter.count(ref["patient_id"], ref["index_day"] + m0, ref["index_day"] + m1)
    ref["key"], pool_key = _key_codes(ref, pool, cfg.match_age_bands)
    pool = pool.assign(key=pool_key, death_day=death_days(extract, pool["patient_id"]))
    rng = np.random.default_rng(cfg.match_seed)
    order = rng.permutation(len(ref))  # referred patients choose in this order (lowest first)
    base_state = rng.bit_generator.state
    cand = _Candidates(ref, pool, counter, (m0, m1), bins)
    # pass 1: how many candidates each referred patient has, hence where its draws start
    sizes = np.zeros(len(ref), dtype=np.int64)
    for k0, k1 in cand.groups:
        for r, _, _ in cand.pairs(k0, k1):
            sizes += np.bincount(r, minlength=len(ref))
    offsets = np.cumsum(sizes) - sizes
    r_age = pd.to_numeric(ref["age"], errors="coerce").to_numpy(dtype=float)
    p_age = pd.to_numeric(pool["age"], errors="coerce").to_numpy(dtype=float)
    k = cfg.matches_per_patient
    chosen: tuple[list[int], list[int], list[np.ndarray]] = ([], [], [])  # order, ref row, pool rows
    used = np.zeros(len(pool), dtype=bool)
    # pass 2: rank each referred patient's candidates and match, a run of keys at a time
    for k0, k1 in cand.groups:
        parts = list(cand.pairs(k0, k1))
        if not parts:
            continue
        r = np.concatenate([x[0] for x in parts])
        c = np.concatenate([x[1] for x in parts])
        n_c = np.concatenate([x[2] for x in parts])
        del parts
        who, first = np.unique(r, return_index=True)  # a referred patient's candidates are contiguous
        tie = np.empty(len(r))
        _fill_draws(base_state, offsets[who], sizes[who], tie, first)
        d_age = np.abs(r_age[r] - p_age[c])
        d_age = np.where(np.isnan(d_age), 999.0, d_age)
        o = np.lexsort((tie, d_age, np.abs(ref["match_n"].to_numpy()[r] - n_c), order[r]))
        r, c = r[o], c[o]
        bounds = np.flatnonzero(np.diff(r)) + 1
        for a, b in zip(np.r_[0, bounds].tolist(), np.r_[bounds, len(r)].tolist(), strict=True):
            cs = c[a:b]
            free = cs[~used[cs]][:k]
            used[free] = True
            if len(free):
                chosen[0].append(int(order[r[a]]))
                chosen[1].append(int(r[a]))
                chosen[2].append(free)
    # matched sets in the order referred patients chose; each set's comparison patients in the
    # order they were taken
    o = np.argsort(np.array(chosen[0], dtype=np.int64), kind="stable")
    set_ref = np.array(chosen[1], dtype=np.int64)[o]
    sizes_c = np.array([len(x) for x in chosen[2]], dtype=np.int64)[o]
    comp_rows = np.concatenate([chosen[2][i] for i in o]) if len(o) else np.zeros(0, dtype=np.int64)
    del chosen
    del cand
    cov = ["age", "gender", "risk_band", "imd_decile", "diabetes", "severe_mental_illness"]
    cols = ["patient_id", "treated", "set_id", "index_day", "end_day", "weight", "match_n", *cov]
    # each side built with just the units' columns, in their order: one copy of each, then one concat
    t = ref.iloc[np.sort(set_ref)][["patient_id", "index_day", "end_day", "match_n", *cov]]
    t.insert(1, "treated", 1)
    t.insert(2, "set_id", t["patient_id"].to_numpy())
    t.insert(5, "weight", 1.0)
    comp = pool.iloc[comp_rows][["patient_id", "death_day", *cov]].reset_index(drop=True)
    of_set = np.repeat(set_ref, sizes_c)
    comp.insert(1, "treated", 0)
    comp.insert(2, "set_id", ref["patient_id"].to_numpy()[of_set])
    comp.insert(3, "index_day", ref["index_day"].to_numpy()[of_set])
    comp.insert(4, "end_day", np.minimum(comp.pop("death_day").to_numpy(dtype=np.int64), end))
    comp.insert(5, "weight", np.repeat(1.0 / np.maximum(sizes_c, 1), sizes_c))
    comp.insert(6, "match_n", counter.count(comp["patient_id"], comp["index_day"] + m0, comp["index_day"] + m1))
    n_comp = len(comp)
    assert list(t.columns) == cols and list(comp.columns) == cols
    units = pd.concat([t, comp], ignore_index=True)
    del t, comp
    units["before_n"] = counter.count(units["patient_id"], units["index_day"] + b0, units["index_day"] + b1)
    return MatchRaw(units, int(len(ref)), int(len(set_ref)), int(len(pool)), n_comp, excluded)

