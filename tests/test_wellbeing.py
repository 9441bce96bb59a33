"""ONS4 wellbeing: pairs as the contract defines them, hand-computed statistics, ONS bands,
completion, disclosure control through the section's release (one cell per count, means to the
decimals their base can hide), the executive summary's rows, and recovery of planted changes on
simulated extracts."""

import json
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from notebook_runs import TINY
from scipy import stats

from pipeline.analyses import wellbeing as W
from pipeline.config import DisclosureSettings, load_settings
from pipeline.contract import TABLES
from pipeline.disclosure import release
from pipeline.extract import Extract, ExtractConfig

OFF = DisclosureSettings(enabled=False)
REF_DEFAULTS = dict(patient_id=None, practice_code="A12345", pcn="PCN 1", referral_date="2022-06-01",
                    referral_source="gp", referral_reason="other", age=60, gender="female", ethnicity="white")


def typed(name: str, df: pd.DataFrame, defaults: dict | None = None) -> pd.DataFrame:
    out = {}
    for col in TABLES[name].columns:
        if col.name in df:
            s = df[col.name]
            out[col.name] = pd.to_datetime(s) if col.type == "date" else s.astype(col.dtype)
        elif defaults and defaults.get(col.name) is not None:
            v = defaults[col.name]
            out[col.name] = (pd.Series(pd.to_datetime([v] * len(df))) if col.type == "date"
                             else pd.Series([v] * len(df), dtype=col.dtype))
        else:
            out[col.name] = pd.Series([None] * len(df), dtype=col.dtype)
    return pd.DataFrame(out)


def make_extract(measures, referrals=None):
    om = pd.DataFrame(measures, columns=["referral_id", "assessment_date", "instrument", "item", "score"])
    if referrals is None:
        ids = sorted(om["referral_id"].unique())
        referrals = pd.DataFrame({"referral_id": ids, "patient_id": [f"P{r}" for r in ids]})
    refs = typed("referrals", pd.DataFrame(referrals), REF_DEFAULTS)
    cfg = ExtractConfig(slug="test", borough="Test", ons_code="E09000099", extract_start=date(2022, 4, 1),
                        extract_end=date(2024, 3, 31), registered_population=10000)
    return Extract(cfg, {"referrals": refs, "outcome_measures": typed("outcome_measures", om)}, sha256="0" * 64)


def m(ref, day, item, score, instrument="ons4"):
    return (ref, pd.Timestamp("2023-01-01") + pd.Timedelta(days=day), instrument, item, score)


# ------------------------------------------------------------------------------ pairs
def test_pairs_earliest_vs_latest_and_28_day_rule():
    ex = make_extract([
        m("R1", 0, "happiness", 3), m("R1", 20, "happiness", 9), m("R1", 60, "happiness", 6),  # middle ignored
        m("R2", 0, "happiness", 5), m("R2", 27, "happiness", 8),                               # 27 days: no pair
        m("R3", 0, "happiness", 5), m("R3", 28, "happiness", 7),                               # 28 days: a pair
        m("R4", 0, "happiness", 4),                                                            # baseline only
        m("R5", 0, "happiness", 1, instrument="swemwbs"), m("R5", 90, "happiness", 9, instrument="swemwbs"),
        m("R6", 50, "anxiety", 8), m("R6", 10, "anxiety", 2),                                  # unsorted input
    ])
    pairs = W.build_pairs(ex["outcome_measures"], 28).set_index(["referral_id", "item"])
    assert pairs.loc[("R1", "happiness"), ["baseline", "followup", "change", "days"]].tolist() == [3, 6, 3, 60]
    assert not pairs.loc[("R2", "happiness"), "valid"]
    assert pairs.loc[("R3", "happiness"), "valid"] and pairs.loc[("R3", "happiness"), "change"] == 2
    assert not pairs.loc[("R4", "happiness"), "valid"]
    assert ("R5", "happiness") not in pairs.index  # only ons4 rows are used
    assert pairs.loc[("R6", "anxiety"), ["baseline", "followup", "change"]].tolist() == [2, 8, 6]


def test_same_date_ties_first_row_baseline_last_row_followup():
    ex = make_extract([m("R1", 0, "worthwhile", 4), m("R1", 0, "worthwhile", 5),
                       m("R1", 40, "worthwhile", 6), m("R1", 40, "worthwhile", 7)])
    p = W.build_pairs(ex["outcome_measures"], 28).iloc[0]
    assert (p["baseline"], p["followup"]) == (4, 7)


# ------------------------------------------------------------------------------ statistics by hand
def test_paired_stats_by_hand():
    # baseline 4 5 6 3, follow-up 6 5 9 4 -> change 2 0 3 1; mean 1.5
    # SD = sqrt((0.25 + 2.25 + 2.25 + 0.25) / 3) = sqrt(5/3); SE = SD / 2
    # t(0.975, 3) = 3.182446; CI = 1.5 +/- 3.182446 * sqrt(5/3)/2
    s = W.paired_stats([4, 5, 6, 3], [6, 5, 9, 4])
    sd = math.sqrt(5 / 3)
    assert s["n"] == 4 and s["mean_baseline"] == 4.5 and s["mean_followup"] == 6.0 and s["mean_change"] == 1.5
    assert s["sd_change"] == pytest.approx(sd)
    half = stats.t.ppf(0.975, 3) * sd / 2
    assert s["ci_lo"] == pytest.approx(1.5 - half) and s["ci_hi"] == pytest.approx(1.5 + half)
    assert stats.t.ppf(0.975, 3) == pytest.approx(3.182446, abs=1e-6)
    # paired t: t = 1.5 / (sd/2) = 2.3238, df 3
    assert s["p_t"] == pytest.approx(stats.ttest_rel([6, 5, 9, 4], [4, 5, 6, 3]).pvalue)
    assert s["p_t"] == pytest.approx(2 * stats.t.sf(1.5 / (sd / 2), 3))
    # Wilcoxon: the zero change is dropped; 3 positive ranks, exact two-sided p = 2 * 1/2^3 = 0.25
    assert s["p_wilcoxon"] == pytest.approx(0.25)
    assert s["dz"] == pytest.approx(1.5 / sd)


def test_paired_stats_degenerate():
    assert math.isnan(W.paired_stats([], [])["mean_change"])
    one = W.paired_stats([3], [5])
    assert one["mean_change"] == 2 and math.isnan(one["ci_lo"])
    same = W.paired_stats([3, 4, 5], [4, 5, 6])  # every change is +1: no variation
    assert same["mean_change"] == 1 and math.isnan(same["p_t"]) and same["ci_lo"] == 1


def test_ons_bands():
    scores = pd.Series(range(11))
    pos = W.categorise(scores, "happiness").tolist()
    assert pos == ["low"] * 5 + ["medium"] * 2 + ["high"] * 2 + ["very_high"] * 2
    anx = W.categorise(scores, "anxiety").tolist()
    assert anx == ["very_low"] * 2 + ["low"] * 2 + ["medium"] * 2 + ["high"] * 5


# ------------------------------------------------------------------------------ compute / publish
def hand_extract():
    """10 referrals. Life satisfaction pairs for R0..R9: baseline 0..9, follow-up baseline + 2 for even,
    baseline - 1 for odd. Anxiety pairs: baseline 8 for R0..R4 (high) -> 5 for R0..R2, 7 for R3..R4;
    baseline 3 for R5..R9 -> 3. Worthwhile only at baseline (no follow-up). Happiness: none."""
    rows = []
    for i in range(10):
        r = f"R{i}"
        b = i
        f = min(b + 2, 10) if i % 2 == 0 else b - 1
        rows += [m(r, 0, "life_satisfaction", b), m(r, 90, "life_satisfaction", f)]
        if i < 5:
            rows += [m(r, 0, "anxiety", 8), m(r, 90, "anxiety", 5 if i < 3 else 7)]
        else:
            rows += [m(r, 0, "anxiety", 3), m(r, 90, "anxiety", 3)]
        rows.append(m(r, 0, "worthwhile", 6))
    refs = pd.DataFrame({"referral_id": [f"R{i}" for i in range(12)], "patient_id": [f"P{i}" for i in range(12)],
                         "age": [30 + 5 * i for i in range(12)]})
    rows.append(m("R10", 0, "life_satisfaction", 2))  # a baseline with no follow-up: a non-completer
    rows.append(m("R11", 0, "anxiety", 9))
    return make_extract(rows, refs)


def test_compute_and_publish_by_hand():
    raw = W.compute(hand_extract(), load_settings())
    ls = raw.items["life_satisfaction"]
    # changes: even i: +2 (i = 0, 2, 4, 6, 8; 8 -> 10 is not capped); odd: -1 -> (2*5 - 5)/10 = 0.5
    assert ls.stats["n"] == 10 and ls.stats["mean_change"] == pytest.approx(0.5)
    assert ls.stats["mean_baseline"] == pytest.approx(4.5)
    assert ls.n_with_baseline == 11
    # bands at baseline (0..9): low 0-4 = 5, medium 5-6 = 2, high 7-8 = 2, very high 9 = 1
    assert ls.baseline_bands == {"low": 5, "medium": 2, "high": 2, "very_high": 1}
    # started low: 0..4 -> 2, 0, 4, 2, 6: out of low only i = 4 (6)
    assert (ls.started_worst, ls.moved_out) == (5, 1)
    assert ls.change_groups == {"improved": 5, "no_change": 0, "worsened": 5}
    anx = raw.items["anxiety"]
    # changes -3 x3, -1 x2, 0 x5: mean -1.1; improved = fall
    assert anx.stats["mean_change"] == pytest.approx(-1.1)
    assert anx.change_groups == {"improved": 5, "no_change": 5, "worsened": 0}
    assert (anx.started_worst, anx.moved_out) == (5, 3)
    assert raw.items["worthwhile"].stats["n"] == 0 and raw.items["worthwhile"].n_with_baseline == 10
    assert raw.items["happiness"].n_with_baseline == 0
    # completion: 12 referrals with a baseline, 10 with a valid pair
    assert (raw.completion.n_with_baseline, raw.completion.n_completers) == (12, 10)
    age = raw.completion.comparison["age"]
    assert age["completers"] == (pytest.approx(52.5), 10) and age["non_completers"] == (pytest.approx(82.5), 2)

    out = release(W.publish, raw, OFF).data
    assert set(out["ons4"]) == set(W.ITEMS)  # all four items, always
    o = out["ons4"]["life_satisfaction"]
    assert o["n_pairs"] == 10 and o["mean_change"] == 0.5 and o["mean_baseline"] == 4.5
    p = W.paired_stats(*[raw.pairs.query("item == 'life_satisfaction' and valid")[c] for c in ("baseline", "followup")])
    assert o["ci95"] == [round(p["ci_lo"], 2), round(p["ci_hi"], 2)]
    assert o["p_value"] == round(p["p_t"], 4)
    assert out["ons4"]["happiness"]["n_pairs"] == 0 and out["ons4"]["happiness"]["mean_change"] is None
    d = out["ons4_detail"]["anxiety"]
    assert d["worst_band"] == "high" and d["moved_out_of_worst_band_pct"] == 60.0
    assert d["change_pct"] == {"improved": 50.0, "no_change": 50.0, "worsened": 0.0}
    for item in W.ITEMS:
        assert set(out["ons4"][item]) == {"n_pairs", "mean_baseline", "mean_followup", "mean_change", "ci95",
                                          "p_value"}
    json.dumps(out, allow_nan=False)


def test_disclosure_small_groups_suppressed_and_paths_recorded():
    rows = []
    for i in range(6):
        rows += [m(f"R{i}", 0, "happiness", 4), m(f"R{i}", 60, "happiness", 6 + i % 2)]
    pub = release(W.publish, W.compute(make_extract(rows), load_settings()))
    out = pub.data
    h = out["ons4"]["happiness"]
    assert all(h[k] is None for k in h)
    for k in h:
        assert f"ons4.happiness.{k}" in pub.suppressed
    assert out["ons4"]["anxiety"]["n_pairs"] == 0  # a true zero is published
    # a mean of nobody is not estimable, not suppressed
    assert "ons4.anxiety.mean_change" in pub.not_estimable and "ons4.anxiety.mean_change" not in pub.suppressed
    json.dumps(out, allow_nan=False)


def test_worst_band_count_hidden_in_the_band_table_is_hidden_everywhere():
    """32 pairs; baseline life satisfaction low (3) x 3, medium (5) x 9, high (7) x 20. The 3 in the
    worst band (low) are withheld in the band table, with a second band so that they cannot be worked
    out from the total. The low band's count is also published as n_started_in_worst_band: it is the
    same cell, withheld there too (it was published under that name before), and so is the share who
    left it (it rests on that cell)."""
    scores = [3] * 3 + [5] * 9 + [7] * 20
    rows = []
    for i, b in enumerate(scores):
        rows += [m(f"R{i:02d}", 0, "life_satisfaction", b), m(f"R{i:02d}", 60, "life_satisfaction", b + 1)]
    pub = release(W.publish, W.compute(make_extract(rows), load_settings()))
    d = pub.data["ons4_detail"]["life_satisfaction"]
    bands = d["baseline_band_pct"]
    assert bands["low"] is None and sum(v is None for v in bands.values()) >= 2
    assert d["n_started_in_worst_band"] is None
    assert d["moved_out_of_worst_band_pct"] is None
    assert "ons4_detail.life_satisfaction.n_started_in_worst_band" in pub.suppressed
    # with disclosure control off, the same figures are there
    off = release(W.publish, W.compute(make_extract(rows), load_settings()), OFF).data["ons4_detail"]
    assert off["life_satisfaction"]["n_started_in_worst_band"] == 3


def test_the_worst_band_published_in_the_table_is_the_same_figure_under_its_other_name():
    """When a larger band is the one hidden beside a small one, the worst band is published, and its
    count is the same number in both places (one cell)."""
    scores = [3] * 9 + [5] * 3 + [7] * 20
    rows = []
    for i, b in enumerate(scores):
        rows += [m(f"R{i:02d}", 0, "life_satisfaction", b), m(f"R{i:02d}", 60, "life_satisfaction", b + 1)]
    d = release(W.publish, W.compute(make_extract(rows), load_settings())).data["ons4_detail"]["life_satisfaction"]
    n = release(W.publish, W.compute(make_extract(rows), load_settings())).data["ons4"]["life_satisfaction"]["n_pairs"]
    assert d["baseline_band_pct"]["medium"] is None
    if d["baseline_band_pct"]["low"] is None:
        assert d["n_started_in_worst_band"] is None
    else:
        assert round(d["n_started_in_worst_band"] / n * 100, 1) == d["baseline_band_pct"]["low"]


def test_a_question_some_skipped_cannot_be_subtracted_from_the_referrals():
    """40 referrals with an ONS4 score, 3 of whom skipped the anxiety question; 30 followed up, 3 of them
    without a life-satisfaction follow-up. The referrals with an anxiety score are part of all with a
    score, and the life-satisfaction pairs part of those followed up: the two differences (3 and 3) are
    small, so each pair of counts is not published whole (both were: 40 and 35, 30 and 25)."""
    rows = []
    for i in range(40):
        r = f"R{i:02d}"
        for item in W.ITEMS:
            if item == "anxiety" and i < 3:
                continue
            rows.append(m(r, 0, item, 4))
            if i < 30 and not (item == "life_satisfaction" and i >= 27):
                rows.append(m(r, 60, item, 6))
    pub = release(W.publish, W.compute(make_extract(rows), load_settings()))
    out = pub.data
    c, d = out["completion"], out["ons4_detail"]
    assert out["ons4"]["happiness"]["n_pairs"] == 30 and d["happiness"]["n_with_baseline"] == 40
    assert None in (c["n_with_baseline"], d["anxiety"]["n_with_baseline"])
    assert None in (c["n_completers"], out["ons4"]["life_satisfaction"]["n_pairs"])
    off = release(W.publish, W.compute(make_extract(rows), load_settings()), OFF).data
    assert (off["ons4_detail"]["anxiety"]["n_with_baseline"], off["ons4"]["life_satisfaction"]["n_pairs"]) == (37, 27)


def test_means_of_scores_carry_only_the_decimals_their_base_can_hide():
    """12 pairs (published as 10: exactly 10 to 14 people could be behind it). Baselines 4 x 9 and 5 x 3:
    mean 4.25, which to two decimals only 12 people can give (51 / 12), so it would pin down the exact
    number of pairs; with 10 to 14 people a mean is published to whole numbers, and so is its interval."""
    rows = []
    for i, b in enumerate([4] * 9 + [5] * 3):
        rows += [m(f"R{i:02d}", 0, "happiness", b), m(f"R{i:02d}", 60, "happiness", b + 1 + i % 2)]
    raw = W.compute(make_extract(rows), load_settings())
    assert raw.items["happiness"].stats["mean_baseline"] == 4.25
    o = release(W.publish, raw).data["ons4"]["happiness"]
    assert o["n_pairs"] == 10
    assert o["mean_baseline"] == 4.0 and o["mean_followup"] == 6.0 and o["mean_change"] == 2.0
    lo, hi = o["ci95"]
    assert lo == round(lo) and hi == round(hi)
    # exact with disclosure control off
    assert release(W.publish, raw, OFF).data["ons4"]["happiness"]["mean_baseline"] == 4.25


def test_completer_comparison_percentages_and_their_difference_from_rounded_counts():
    """27 completers (13 female) and 20 non-completers (10 female). From the rounded counts the shares
    are 15/25 = 60% and 10/20 = 50%; the standardised difference is computed from those published
    shares (0.20), not from the exact ones (13/27 against 10/20: -0.04), which would show the exact
    counts through it."""
    rows, genders = [], []
    for i in range(47):
        rows.append(m(f"R{i:02d}", 0, "worthwhile", 5))
        if i < 27:
            rows.append(m(f"R{i:02d}", 60, "worthwhile", 6))
        genders.append("female" if (i < 13 or 27 <= i < 37) else "male")
    refs = pd.DataFrame({"referral_id": [f"R{i:02d}" for i in range(47)], "patient_id": [f"P{i}" for i in range(47)],
                         "gender": genders})
    raw = W.compute(make_extract(rows, refs), load_settings())
    assert raw.completion.comparison["female_pct"]["completers"] == (13, 27)
    row = release(W.publish, raw).data["completion"]["comparison"]["female_pct"]
    assert (row["completers"], row["non_completers"]) == (60.0, 50.0)
    assert row["std_diff"] == round(W.std_diff_prop(0.6, 0.5), 2) == 0.2


def test_headlines_and_reading_quote_published_figures():
    raw = W.compute(simulated_extract(200, {"life_satisfaction": 1, "worthwhile": 0, "happiness": 0,
                                           "anxiety": -1}, seed=4), load_settings())
    wb = release(W.publish, raw).data
    heads = {h.measure: h for h in W.headlines(wb)}
    ls = wb["ons4"]["life_satisfaction"]
    assert heads["Life satisfaction (ONS4, 0–10)"].value == f"{ls['mean_change']:+.1f} points"
    assert heads["Life satisfaction (ONS4, 0–10)"].reading.startswith(
        f"improved (95% CI {ls['ci95'][0]:.1f} to {ls['ci95'][1]:.1f}), {ls['n_pairs']:,} people")
    assert heads["Anxiety (ONS4, 0–10)"].reading.startswith("improved")
    text = W.reading(wb)
    assert f"change {ls['mean_change']:+.2f}" in text and f"{wb['completion']['completion_pct']:.1f}%" in text
    assert "regression to the mean" in text


def test_small_random_extracts_publish_without_error_or_small_counts():
    """Sparse, small extracts through the release: nothing raises (a pair count equal to its baseline
    count, or a band holding every pair, is the same cell, not a chain of equal cells that could stop
    the layer's protection step), the result is JSON, and the independent scanner finds no small count."""
    from scan import small_counts_in_json

    rng = np.random.default_rng(11)
    for _ in range(40):
        n, follow, rows = int(rng.integers(2, 40)), rng.random(), []
        for i in range(n):
            for item in W.ITEMS:
                if rng.random() < 0.8:
                    b = int(rng.integers(0, 11))
                    rows.append(m(f"R{i:03d}", 0, item, b))
                    if rng.random() < follow:
                        rows.append(m(f"R{i:03d}", int(rng.integers(10, 200)), item,
                                      int(np.clip(b + rng.integers(-2, 3), 0, 10))))
        if not rows:
            continue
        ids = sorted({r[0] for r in rows})
        refs = pd.DataFrame({"referral_id": ids, "patient_id": [f"P{r}" for r in ids],
                             "gender": rng.choice(["female", "male", "not_stated"], len(ids)),
                             "imd_decile": rng.integers(1, 11, len(ids))})
        out = release(W.publish, W.compute(make_extract(rows, refs), load_settings())).data
        json.dumps(out, allow_nan=False)
        assert small_counts_in_json({"wellbeing": out}) == []


def test_effect_size_is_d_av_by_hand():
    """baseline 4 5 6 3 (SD sqrt(5/3)), follow-up 6 5 9 4 (SD sqrt(14/3)), mean change 1.5:
    d_av = 1.5 / ((sqrt(5/3) + sqrt(14/3)) / 2) = 0.869; dz = 1.5 / sqrt(5/3) = 1.162 reads larger
    because it divides by the SD of the change, which is small when the scores are correlated."""
    s = W.paired_stats([4, 5, 6, 3], [6, 5, 9, 4])
    d_av = 1.5 / ((math.sqrt(5 / 3) + math.sqrt(14 / 3)) / 2)
    assert s["sd_baseline"] == pytest.approx(math.sqrt(5 / 3)) and s["sd_followup"] == pytest.approx(math.sqrt(14 / 3))
    assert s["d_av"] == pytest.approx(d_av) and round(d_av, 3) == 0.869
    assert s["dz"] > s["d_av"]
    rows = []
    for i, (b, f) in enumerate(zip([4, 5, 6, 3] * 3, [6, 5, 9, 4] * 3, strict=True)):
        rows += [m(f"R{i:02d}", 0, "happiness", b), m(f"R{i:02d}", 60, "happiness", f)]
    out = release(W.publish, W.compute(make_extract(rows), load_settings()), OFF).data
    assert out["ons4_detail"]["happiness"]["effect_size_d_av"] == round(W.paired_stats(
        [4, 5, 6, 3] * 3, [6, 5, 9, 4] * 3)["d_av"], 2)
    assert "between-group" in out["method"]["effect_size_d_av"]


def test_reading_gives_the_worst_band_its_own_regression_to_the_mean_caveat():
    raw = W.compute(simulated_extract(200, {"life_satisfaction": 1, "worthwhile": 0, "happiness": 0,
                                           "anxiety": -1}, seed=4), load_settings())
    text = W.reading(release(W.publish, raw).data)
    sentence = next(x for x in text.split(". ") if "left the worst band" in x)
    assert "regression to the mean" in sentence


# ------------------------------------------------------------------------------ recovery
def simulated_extract(n, planted: dict, seed: int, follow_share=0.7):
    """n referrals; baseline scores uniform on 2..8; follow-up = baseline + planted change + noise
    in {-1, 0, +1} (symmetric, so the mean change is exactly the planted value while nothing is capped)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        r = f"R{i:05d}"
        followed = rng.random() < follow_share
        gap = int(rng.integers(35, 200))
        for item, delta in planted.items():
            b = int(rng.integers(2, 9))
            rows.append(m(r, 0, item, b))
            if followed:
                rows.append(m(r, gap, item, b + delta + int(rng.integers(-1, 2))))
    return make_extract(rows)


def test_planted_changes_fall_in_the_confidence_intervals():
    planted = {"life_satisfaction": 1, "worthwhile": 1, "happiness": 2, "anxiety": -2}
    raw = W.compute(simulated_extract(400, planted, seed=3), load_settings())
    out = release(W.publish, raw).data
    for item, delta in planted.items():
        lo, hi = out["ons4"][item]["ci95"]
        assert lo <= delta <= hi, (item, lo, hi)
        assert out["ons4"][item]["p_value"] < 0.001
    assert 60 <= out["completion"]["completion_pct"] <= 80


def test_no_ons4_rows_still_publishes_all_four_items():
    ex = make_extract([m("R1", 0, "happiness", 3, instrument="swemwbs")])
    out = release(W.publish, W.compute(ex, load_settings())).data
    assert set(out["ons4"]) == set(W.ITEMS)
    assert all(out["ons4"][i]["n_pairs"] == 0 for i in W.ITEMS)
    assert out["completion"]["n_with_baseline"] == 0
    json.dumps(out, allow_nan=False)


def test_tiny_fixture_by_hand():
    """tests/fixtures/tiny: pairs for R001 (133 days) and R010 (141 days); R005 baseline only.
    life_satisfaction 3 -> 6 and 2 -> 5: mean 2.5 -> 5.5, change +3 (no variation: p not estimable);
    happiness 3 -> 5 and 2 -> 6: changes +2, +4, mean 3, SD sqrt(2), SE 1, t(0.975, 1) = 12.706
    -> CI 3 +/- 12.706; t = 3 on 1 df -> p = 0.2048."""
    from pipeline.load import load_extract

    ex = load_extract(TINY)
    pub = release(W.publish, W.compute(ex, load_settings()), OFF)
    out = pub.data
    ls = out["ons4"]["life_satisfaction"]
    assert ls == {"n_pairs": 2, "mean_baseline": 2.5, "mean_followup": 5.5, "mean_change": 3.0,
                  "ci95": [3.0, 3.0], "p_value": None}
    assert "ons4.life_satisfaction.p_value" in pub.not_estimable
    h = out["ons4"]["happiness"]
    half = stats.t.ppf(0.975, 1)
    assert h["mean_change"] == 3.0 and h["ci95"] == [round(3 - half, 2), round(3 + half, 2)]
    assert h["p_value"] == round(2 * stats.t.sf(3, 1), 4) == 0.2048
    assert out["ons4"]["anxiety"]["mean_change"] == -3.0
    assert out["ons4"]["worthwhile"]["mean_change"] == 2.0
    assert out["completion"]["n_with_baseline"] == 3 and out["completion"]["n_completers"] == 2
    assert pub.suppressed == []  # disclosure off: nothing suppressed; undefined values are not_estimable
    json.dumps(out, allow_nan=False)


# ------------------------------------------------------------------------------ synthetic areas
def _find_numeric_dict(obj, keys):
    """The first nested dict holding a number for every one of ``keys`` (PLANTED's layout is the
    synthetic module's business; this finds the planted ONS4 changes wherever they sit)."""
    if isinstance(obj, dict):
        if all(isinstance(obj.get(k), (int, float)) for k in keys):
            return obj
        for v in obj.values():
            found = _find_numeric_dict(v, keys)
            if found is not None:
                return found
    return None


@pytest.mark.parametrize("slug", ["norfolk-and-waveney", "city-of-london"])
def test_synthetic_area_recovers_planted_ons4_changes(slug, tmp_path):
    synthetic = pytest.importorskip("pipeline.synthetic")
    from pipeline.load import load_extract

    synthetic.generate(slug, tmp_path / slug)
    raw_dir = next(p.parent for p in sorted(tmp_path.rglob("extract.yml")))
    ex = load_extract(raw_dir)
    if "outcome_measures" not in ex.tables:
        pytest.skip(f"the synthetic {slug} extract has no outcome_measures")
    out = release(W.publish, W.compute(ex, load_settings())).data
    assert set(out["ons4"]) == set(W.ITEMS)
    json.dumps(out, allow_nan=False)
    planted = getattr(synthetic, "PLANTED", {})
    planted = planted.get(slug, planted) if isinstance(planted, dict) else {}
    changes = _find_numeric_dict(planted, W.ITEMS)
    if changes is None:
        pytest.skip("PLANTED has no ONS4 changes to compare with")
    for item in W.ITEMS:
        ci = out["ons4"][item]["ci95"]
        if ci is not None:
            # the CI should cover the planted change (allowing for regression to the mean / capping
            # at 0 and 10 that the generator may add: 0.25 points of slack)
            assert ci[0] - 0.25 <= changes[item] <= ci[1] + 0.25, (item, ci, changes[item])


def test_pair_codes_match_the_text(tmp_path):
    """compute() splits and groups the pairs by the integer codes _build_pairs returns: they must be
    factorize_sorted of the pairs' referral ids (the codes the completion table was built from) and
    the items' places in ITEMS."""
    from pipeline import synthetic
    from pipeline.analyses.order import factorize_sorted
    from pipeline.load import load_extract

    synthetic.generate("city-of-london", tmp_path / "c")
    ex = load_extract(next(p.parent for p in sorted(tmp_path.rglob("extract.yml"))))
    om = ex["outcome_measures"]
    om = pd.concat([om, om.iloc[:5].assign(referral_id=None)], ignore_index=True)  # rows in no pair
    pairs, ref_code, item_pos = W._build_pairs(om, 28)
    code, ids = factorize_sorted(pairs["referral_id"])
    assert len(pairs) > 100 and np.array_equal(ref_code, code)
    assert np.array_equal(item_pos, pd.Index(W.ITEMS).get_indexer(pairs["item"]))
    assert list(ids) == list(pairs["referral_id"].drop_duplicates())
    pd.testing.assert_frame_equal(pairs, W.build_pairs(om, 28))
    done = W._completion(pairs, ex["referrals"], ref_code, item_pos)
    assert done.n_with_baseline == len(ids) and done.n_completers == pairs.groupby("referral_id")["valid"].any().sum()
