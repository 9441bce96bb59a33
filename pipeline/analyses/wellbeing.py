"""Personal wellbeing (ONS4) before and after social prescribing: the contract's ``wellbeing``
section (data contract section 2, *ONS4 pairs*).

Definitions, exactly as the contract states them:

- only ``instrument == "ons4"`` rows with one of the four items and a score are used;
- per referral and item, **baseline** = the earliest assessment and **follow-up** = the latest
  (several rows on the same date: the first in file order is the baseline, the last the
  follow-up); the pair counts only if they are at least ``settings.wellbeing.min_days_between``
  (default 28) days apart;
- **change** = follow-up - baseline; for ``anxiety`` a fall is an improvement.

Per item the contract publishes n_pairs, mean baseline, mean follow-up, mean change, the 95%
t-interval of the mean change and ``p_value``, which is the two-sided **paired t-test**.
Extra keys (``ons4_detail``) add the Wilcoxon signed-rank p (zero differences dropped), the
SD of the change, the effect size d_av (mean change / average of the baseline and follow-up SDs;
:func:`paired_stats` says why not Cohen's dz, which is kept), the share improved / unchanged /
worse, the ONS threshold bands at baseline and follow-up, and the % who moved out of the worst
band among those who started there (out of *low* for life satisfaction, worthwhile, happiness:
0-4; out of *high* anxiety: 6-10). ``completion`` says how many referrals with a baseline got
a valid follow-up, and how completers differ from non-completers (standardised differences).

This is an uncontrolled before/after comparison: change may reflect regression to the mean
(people often seek help at a low point), natural recovery, or who stayed to be re-assessed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..config import Settings, load_settings
from ..disclosure import Release
from ..disclosure.cells import Cell
from ..extract import Extract
from ..formatting import ci_text, fmt
from ..sections import Headline, Section
from .order import factorize_sorted
from .subsets import breakdown, common_subset

INSTRUMENT = "ons4"
ITEMS = ("life_satisfaction", "worthwhile", "happiness", "anxiety")
ITEM_LABELS = {"life_satisfaction": "Life satisfaction", "worthwhile": "Feeling things are worthwhile",
               "happiness": "Happiness yesterday", "anxiety": "Anxiety yesterday"}

# ONS thresholds (ONS personal well-being user guidance)
POSITIVE_BANDS = (("low", 0, 4), ("medium", 5, 6), ("high", 7, 8), ("very_high", 9, 10))
ANXIETY_BANDS = (("very_low", 0, 1), ("low", 2, 3), ("medium", 4, 5), ("high", 6, 10))


def bands(item: str) -> tuple[tuple[str, int, int], ...]:
    return ANXIETY_BANDS if item == "anxiety" else POSITIVE_BANDS


def worst_band(item: str) -> str:
    return "high" if item == "anxiety" else "low"


def direction(item: str) -> int:
    """+1 when a higher score is better, -1 for anxiety."""
    return -1 if item == "anxiety" else 1


def categorise(scores: pd.Series, item: str) -> pd.Series:
    """ONS threshold band of each score (scores are 0..10; a fractional score falls in the band
    of its integer part's range by the half-way cut points)."""
    b = bands(item)
    edges = [-np.inf] + [hi + 0.5 for _, _, hi in b[:-1]] + [np.inf]
    return pd.cut(pd.to_numeric(scores, errors="coerce").astype("float64"), bins=edges,
                  labels=[name for name, _, _ in b], right=False).astype("object")


# ---------------------------------------------------------------------------------- statistics
def paired_stats(baseline, followup, alpha: float = 0.05) -> dict:
    """Mean baseline, follow-up and change; t-interval of the mean change; paired t-test and
    Wilcoxon signed-rank p; Cohen's dz (mean change / SD of the change) and d_av (mean change /
    the average of the baseline and follow-up SDs). NaN where undefined (n < 2, or no variation).

    d_av is the effect size to report: it is on the scale of the scores' own spread, as a
    between-group d is, so it can be set beside one. dz divides by the SD of the *change*, which
    is small when the two scores are correlated, and so reads larger (life satisfaction on the
    synthetic Merton extract: dz 0.85, d_av 0.61); against the 0.2 / 0.5 / 0.8 benchmarks, which
    were set for between-group differences, it overstates the size."""
    b = np.asarray(baseline, dtype="float64")
    f = np.asarray(followup, dtype="float64")
    c = f - b
    n = len(c)
    out = {"n": n, "mean_baseline": np.nan, "mean_followup": np.nan, "mean_change": np.nan,
           "sd_change": np.nan, "ci_lo": np.nan, "ci_hi": np.nan, "p_t": np.nan, "p_wilcoxon": np.nan,
           "dz": np.nan, "d_av": np.nan, "sd_baseline": np.nan, "sd_followup": np.nan,
           "baseline_ci": (np.nan, np.nan), "followup_ci": (np.nan, np.nan)}
    if n == 0:
        return out
    out.update(mean_baseline=float(b.mean()), mean_followup=float(f.mean()), mean_change=float(c.mean()))
    if n < 2:
        return out
    sd = float(c.std(ddof=1))
    se = sd / np.sqrt(n)
    tq = float(stats.t.ppf(1 - alpha / 2, n - 1))
    out.update(sd_change=sd, ci_lo=out["mean_change"] - tq * se, ci_hi=out["mean_change"] + tq * se)
    for name, x in (("baseline", b), ("followup", f)):
        out[f"sd_{name}"] = float(x.std(ddof=1))
        half = tq * out[f"sd_{name}"] / np.sqrt(n)
        out[f"{name}_ci"] = (float(x.mean()) - half, float(x.mean()) + half)
    spread = (out["sd_baseline"] + out["sd_followup"]) / 2
    if spread > 0:
        out["d_av"] = out["mean_change"] / spread
    if sd > 0:
        out["p_t"] = float(2 * stats.t.sf(abs(out["mean_change"] / se), n - 1))
        out["dz"] = out["mean_change"] / sd
    if np.any(c != 0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out["p_wilcoxon"] = float(stats.wilcoxon(c, zero_method="wilcox").pvalue)
            except ValueError:
                pass
    return out


def std_diff_mean(x1: np.ndarray, x0: np.ndarray) -> float:
    """Standardised difference of means: (m1 - m0) / sqrt((s1^2 + s0^2) / 2)."""
    if len(x1) < 2 or len(x0) < 2:
        return np.nan
    pooled = np.sqrt((np.var(x1, ddof=1) + np.var(x0, ddof=1)) / 2)
    return float((np.mean(x1) - np.mean(x0)) / pooled) if pooled > 0 else np.nan


def std_diff_prop(p1: float, p0: float) -> float:
    """Standardised difference of proportions: (p1 - p0) / sqrt((p1(1-p1) + p0(1-p0)) / 2)."""
    pooled = np.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
    if pooled == 0:
        return 0.0 if p1 == p0 else np.nan
    return float((p1 - p0) / pooled)


# ---------------------------------------------------------------------------------- data
def build_pairs(outcome_measures: pd.DataFrame, min_days: int) -> pd.DataFrame:
    """One row per referral and ONS4 item with any score: baseline and follow-up dates and
    scores, days between, ``valid`` (a pair at least ``min_days`` apart) and ``change``."""
    return _build_pairs(outcome_measures, min_days)[0]


def _build_pairs(outcome_measures: pd.DataFrame, min_days: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """:func:`build_pairs`, with each pair's referral and item as integer codes: the referral's
    rank among the pairs' referral ids (the pairs are in referral id order, so the codes are
    ``factorize_sorted`` of the column) and the item's position in ``ITEMS``. The analysis splits
    and groups the pairs by these instead of hashing and comparing the text again."""
    om = outcome_measures
    om = om[(om["instrument"] == INSTRUMENT) & om["item"].isin(ITEMS) & om["score"].notna()
            & om["assessment_date"].notna()]
    # each referral's and item's first and last assessment (ties: row order), with integer sort
    # keys: the referral's rank among the sorted referral ids, the item's, the day, the row
    rid, rid_u = factorize_sorted(om["referral_id"])
    item, item_u = pd.factorize(om["item"], sort=True)
    day = om["assessment_date"].to_numpy().view(np.int64)  # no missing dates here
    keep = rid >= 0  # a row without a referral id is in no group
    rows = np.flatnonzero(keep)
    rows = rows[np.lexsort((rows, day[rows], item[rows], rid[rows]))]
    key = rid[rows].astype(np.int64) * max(len(item_u), 1) + item[rows]
    head = np.r_[True, key[1:] != key[:-1]] if len(rows) else np.zeros(0, dtype=bool)
    tail = np.r_[key[1:] != key[:-1], True] if len(rows) else np.zeros(0, dtype=bool)
    first, last = rows[head], rows[tail]
    dates, scores = om["assessment_date"], om["score"].astype("float64")
    pairs = pd.DataFrame({
        "referral_id": np.asarray(rid_u, dtype=object)[rid[first]], "item": np.asarray(item_u, dtype=object)[item[first]],
        "baseline_date": dates.to_numpy()[first], "baseline": scores.to_numpy()[first],
        "followup_date": dates.to_numpy()[last], "followup": scores.to_numpy()[last],
    })
    pairs["days"] = (pairs["followup_date"] - pairs["baseline_date"]).dt.days
    pairs["valid"] = pairs["days"] >= min_days
    pairs["change"] = np.where(pairs["valid"], pairs["followup"] - pairs["baseline"], np.nan)
    r = rid[first]  # non-decreasing: the rows are in referral id order
    ref_code = np.cumsum(np.r_[True, r[1:] != r[:-1]]) - 1 if len(r) else np.zeros(0, dtype=np.int64)
    item_pos = np.array([ITEMS.index(x) for x in item_u], dtype=np.int64)  # every item is one of ITEMS
    return pairs, ref_code, item_pos[item[first]] if len(first) else np.zeros(0, dtype=np.int64)


@dataclass
class ItemRaw:
    item: str
    n_with_baseline: int
    stats: dict
    baseline_bands: dict[str, int]
    followup_bands: dict[str, int]
    started_worst: int
    moved_out: int
    change_groups: dict[str, int]  # improved / no_change / worsened
    median_days: float


@dataclass
class CompletionRaw:
    n_with_baseline: int
    n_completers: int
    # row -> {"kind": "mean"|"pct", completers/non_completers: (value, n) or (count, n), "std_diff": float}
    comparison: dict[str, dict] = field(default_factory=dict)


@dataclass
class WellbeingRaw:
    pairs: pd.DataFrame  # patient level, never published
    items: dict[str, ItemRaw]
    completion: CompletionRaw
    min_days_between: int


def _item_raw(pairs: pd.DataFrame, item: str, is_item: np.ndarray) -> ItemRaw:
    """``is_item``: which pairs are of ``item``."""
    allp = pairs[is_item]
    p = allp[allp["valid"]]
    st = paired_stats(p["baseline"], p["followup"])
    names = [name for name, _, _ in bands(item)]
    bb = categorise(p["baseline"], item).value_counts()
    fb = categorise(p["followup"], item).value_counts()
    worst = worst_band(item)
    started = categorise(p["baseline"], item) == worst
    moved = started & (categorise(p["followup"], item) != worst)
    signed = p["change"] * direction(item)
    return ItemRaw(
        item=item, n_with_baseline=int(len(allp)), stats=st,
        baseline_bands={k: int(bb.get(k, 0)) for k in names},
        followup_bands={k: int(fb.get(k, 0)) for k in names},
        started_worst=int(started.sum()), moved_out=int(moved.sum()),
        change_groups={"improved": int((signed > 0).sum()), "no_change": int((signed == 0).sum()),
                       "worsened": int((signed < 0).sum())},
        median_days=float(p["days"].median()) if len(p) else np.nan,
    )


def _completion(pairs: pd.DataFrame, referrals: pd.DataFrame, code: np.ndarray, item_pos: np.ndarray) -> CompletionRaw:
    """``code``, ``item_pos``: each pair's referral code (``factorize_sorted`` of its referral id)
    and item position in ``ITEMS``, as :func:`_build_pairs` gives them."""
    # one row per referral with a pair, in referral id order: its baseline per item, whether it
    # completed (any valid pair) and its characteristics (what pivot and joins by id would give,
    # with the ids hashed once)
    first = np.r_[True, code[1:] != code[:-1]] if len(code) else np.zeros(0, dtype=bool)
    ids = pairs["referral_id"].to_numpy(dtype=object)[first]
    df = pd.DataFrame(index=pd.Index(ids, name="referral_id"))
    baseline = pairs["baseline"].to_numpy(dtype="float64")
    for k, it in enumerate(ITEMS):
        col = np.full(len(ids), np.nan)
        m = item_pos == k
        col[code[m]] = baseline[m]
        df[it] = col
    valid = pairs["valid"].to_numpy(dtype=bool)
    df["completer"] = np.bincount(code, weights=valid, minlength=len(ids)) > 0  # every pair has a referral
    cols = [c for c in ("age", "gender", "imd_decile") if c in referrals]
    ref = referrals.drop_duplicates("referral_id").set_index("referral_id")[cols]
    df = df.join(ref, how="left")
    comp = df["completer"].to_numpy(dtype=bool)
    out = CompletionRaw(n_with_baseline=int(len(df)), n_completers=int(comp.sum()))

    def mean_row(name: str, values: pd.Series) -> None:
        v = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
        x1, x0 = v[comp & ~np.isnan(v)], v[~comp & ~np.isnan(v)]
        out.comparison[name] = {"kind": "mean",
                                "completers": (float(x1.mean()) if len(x1) else np.nan, len(x1)),
                                "non_completers": (float(x0.mean()) if len(x0) else np.nan, len(x0)),
                                "std_diff": std_diff_mean(x1, x0)}

    def pct_row(name: str, flag: pd.Series, known: pd.Series) -> None:
        f = flag.to_numpy(dtype=bool)
        k = known.to_numpy(dtype=bool)
        n1, n0 = int((comp & k).sum()), int((~comp & k).sum())
        c1, c0 = int((comp & k & f).sum()), int((~comp & k & f).sum())
        sd = std_diff_prop(c1 / n1, c0 / n0) if n1 and n0 else np.nan
        out.comparison[name] = {"kind": "pct", "completers": (c1, n1), "non_completers": (c0, n0), "std_diff": sd}

    if "age" in df:
        mean_row("age", df["age"])
    if "gender" in df:
        g = df["gender"].astype("object")
        pct_row("female_pct", g == "female", g.notna() & (g != "not_stated"))
    if "imd_decile" in df:
        imd = pd.to_numeric(df["imd_decile"], errors="coerce").astype("float64")
        mean_row("imd_decile", imd)
        pct_row("imd_most_deprived_fifth_pct", imd <= 2, imd.notna())
    for item in ITEMS:
        mean_row(f"baseline_{item}", df[item])
    return out


def compute(extract: Extract, settings: Settings | None = None) -> WellbeingRaw:
    settings = settings or load_settings()
    min_days = settings.wellbeing.min_days_between
    pairs, ref_code, item_pos = _build_pairs(extract["outcome_measures"], min_days)
    items = {item: _item_raw(pairs, item, item_pos == k) for k, item in enumerate(ITEMS)}
    return WellbeingRaw(pairs=pairs, items=items,
                        completion=_completion(pairs, extract["referrals"], ref_code, item_pos),
                        min_days_between=min_days)


# ---------------------------------------------------------------------------------- publish
NO_PAIRS = "no valid pairs for this item"
UNDEFINED = "undefined for these pairs (fewer than 2, or every change the same)"
NO_NONZERO_CHANGE = "every change is 0: the signed-rank test has nothing to rank"
NO_SPREAD = "undefined for these pairs (fewer than 2, or every score the same)"


def _item_figures(r: ItemRaw, referrals: Cell, completers: Cell, rel: Release) -> tuple[dict, dict]:
    """The contract's ``ons4.<item>`` and the extra ``ons4_detail.<item>``.

    One cell per count: the referrals with a score for the item are part of those with any ONS4
    score (``referrals``); its pairs are part of them and of the referrals followed up on any
    question (``completers``), so neither difference is a small count left to subtract; the
    baseline bands, the follow-up bands and the change groups each split the pairs; those who
    left the worst band are part of the worst band's cell, which is also what
    ``n_started_in_worst_band`` publishes (so a band count hidden in the table is hidden there too).
    Means of whole-number scores carry the decimals their base can hide, with their intervals."""
    s, item = r.stats, r.item
    with_baseline = rel.subset(referrals, r.n_with_baseline, f"{item}.with_baseline")
    n = common_subset(rel, [with_baseline, completers], s["n"], f"{item}.pairs")
    baseline_bands = breakdown(rel, n, r.baseline_bands, f"{item}.baseline_band")
    followup_bands = breakdown(rel, n, r.followup_bands, f"{item}.followup_band")
    changes = breakdown(rel, n, r.change_groups, f"{item}.change")
    worst = baseline_bands[worst_band(item)]
    moved = rel.subset(worst, r.moved_out, f"{item}.moved_out")

    def of_pairs(fig):
        """A statistic of the pairs; with none, there is nothing to estimate (not suppressed)."""
        return rel.not_estimable(NO_PAIRS) if s["n"] == 0 else fig

    contract = {
        "n_pairs": rel.count(n),
        "mean_baseline": of_pairs(rel.mean(s["mean_baseline"], n)),
        "mean_followup": of_pairs(rel.mean(s["mean_followup"], n)),
        "mean_change": of_pairs(rel.mean(s["mean_change"], n)),
        "ci95": of_pairs(rel.interval(s["ci_lo"], s["ci_hi"], n, whole_numbers=True, reason=UNDEFINED)),
        "p_value": of_pairs(rel.estimate(s["p_t"], n, decimals=4, reason=UNDEFINED)),
    }
    detail = {
        "direction": "lower is better" if item == "anxiety" else "higher is better",
        "n_with_baseline": rel.count(with_baseline),
        "completion_pct": rel.pct(n, with_baseline),
        "mean_baseline_ci95": of_pairs(rel.interval(*s["baseline_ci"], n, whole_numbers=True, reason=UNDEFINED)),
        "mean_followup_ci95": of_pairs(rel.interval(*s["followup_ci"], n, whole_numbers=True, reason=UNDEFINED)),
        # an SD of whole numbers: no more decimals than their mean may carry
        "sd_change": of_pairs(rel.mean(s["sd_change"], n, reason=UNDEFINED)),
        "wilcoxon_p_value": of_pairs(rel.estimate(s["p_wilcoxon"], n, decimals=4, reason=NO_NONZERO_CHANGE)),
        "cohens_dz": of_pairs(rel.estimate(s["dz"], n, reason=UNDEFINED)),
        "effect_size_d_av": of_pairs(rel.estimate(s["d_av"], n, reason=NO_SPREAD)),
        "median_days_between": of_pairs(rel.estimate(r.median_days, n, decimals=0)),
        "change_pct": rel.pcts(changes, n),
        "baseline_band_pct": rel.pcts(baseline_bands, n),
        "followup_band_pct": rel.pcts(followup_bands, n),
        "worst_band": worst_band(item),
        "n_started_in_worst_band": rel.count(worst),
        "moved_out_of_worst_band_pct": rel.pct(moved, worst),
    }
    return contract, detail


def _comparison_row(row: dict, groups: dict[str, Cell], rel: Release) -> dict:
    """Completers vs non-completers on one characteristic. A mean (of whole numbers: age, IMD
    decile, a baseline score) with the decimals its base can hide; a percentage from the rounded
    counts of a breakdown of each group (people with the characteristic recorded, and those with
    it), its standardised difference computed from the two published percentages."""
    (v1, n1), (v0, n0) = row["completers"], row["non_completers"]
    if row["kind"] == "mean":
        a, b = rel.mean(v1, n1), rel.mean(v0, n0)
        sd = rel.estimate(row["std_diff"], min(n1, n0))
    else:
        shares = []
        for group, count, known in (("completers", v1, n1), ("non_completers", v0, n0)):
            recorded = rel.subset(groups[group], known, f"completion.{group}.recorded")
            yes = rel.subset(recorded, count, f"completion.{group}.yes")
            shares.append(rel.pct(yes, recorded))
        a, b = shares
        sd = rel.derived(_std_diff_pct, a, b, decimals=2)
    return {"completers": a, "non_completers": b, "std_diff": sd}


def _std_diff_pct(p1: float, p0: float) -> float | None:
    d = std_diff_prop(p1 / 100, p0 / 100)
    return None if np.isnan(d) else d


def publish(raw: WellbeingRaw, rel: Release) -> dict:
    """The contract's ``wellbeing`` section (``ons4``, all four items), plus extra keys."""
    c = raw.completion
    referrals = rel.cell(c.n_with_baseline, "completion.with_baseline")
    groups = breakdown(rel, referrals, {"completers": c.n_completers,
                                        "non_completers": c.n_with_baseline - c.n_completers}, "completion")
    ons4, detail = {}, {}
    for item in ITEMS:
        ons4[item], detail[item] = _item_figures(raw.items[item], referrals, groups["completers"], rel)
    return {
        "ons4": ons4,
        # ------------------------------------------------------------- extra keys
        "ons4_detail": detail,
        "completion": {
            "definition": "referrals with at least one ONS4 score (baseline) that have a valid pair "
                          f"(>= {raw.min_days_between} days apart) for at least one item",
            "n_with_baseline": rel.count(referrals),
            "n_completers": rel.count(groups["completers"]),
            "completion_pct": rel.pct(groups["completers"], referrals),
            "comparison": {name: _comparison_row(row, groups, rel) for name, row in c.comparison.items()},
            "std_diff_note": "standardised difference = (completers - non-completers) / pooled SD; "
                             "|d| > 0.1 is a notable imbalance",
        },
        "method": {
            "pairs": f"per referral and item: earliest vs latest ONS4 score, at least {raw.min_days_between} "
                     "days apart; change = follow-up - baseline",
            "p_value": "two-sided paired t-test of the change (the contract's p_value)",
            "wilcoxon_p_value": "Wilcoxon signed-rank test, zero changes dropped",
            "ci95": "t-interval of the mean change",
            "effect_size_d_av": "mean change / average of the baseline and follow-up SDs (comparable with a "
                                "between-group d); cohens_dz = mean change / SD of the change reads larger when "
                                "the two scores are correlated and is not to be read against between-group "
                                "benchmarks",
            "bands": "ONS thresholds: life satisfaction, worthwhile, happiness 0-4 low, 5-6 medium, "
                     "7-8 high, 9-10 very high; anxiety 0-1 very low, 2-3 low, 4-5 medium, 6-10 high",
        },
        "min_days_between": rel.fact(raw.min_days_between),
    }


# ---------------------------------------------------------------------------------- prose
HEADLINE_ITEMS = {"life_satisfaction": "Life satisfaction", "anxiety": "Anxiety"}
WORST_BAND_CAVEAT = (
    "The share who left the worst band (low, or high anxiety) is the figure most exposed to regression to the "
    "mean: those people were picked out by one low score, and a score that low is partly a bad day, so many "
    "would score higher at a second measurement without any help; it overstates improvement.")


def reading(wb: dict) -> str:
    """A plain-English reading of the published section (published figures only)."""
    if not any(wb["ons4"][i]["mean_change"] is not None for i in ITEMS):
        return (f"Too few people with ONS4 scores at least {wb['min_days_between']} days apart to report changes "
                "after disclosure control (a mean needs at least 8 people behind it).")
    parts = []
    for item in ITEMS:
        o = wb["ons4"][item]
        if o["mean_change"] is None:
            parts.append(f"{ITEM_LABELS[item].lower()}: not enough pairs to report")
            continue
        parts.append(f"{ITEM_LABELS[item].lower()} {fmt(o['mean_baseline'], 1)} → {fmt(o['mean_followup'], 1)} "
                     f"(change {o['mean_change']:+.2f}, 95% CI {ci_text(o['ci95'], signed=True)})")
    return (
        f"Among people who answered the ONS4 questions at least {wb['min_days_between']} days apart, average "
        "scores moved as follows: " + "; ".join(parts) + ". For anxiety a fall is an improvement. "
        f"{fmt(wb['completion']['completion_pct'], 1)}% of referrals with a first score had a follow-up score, and "
        "those followed up may differ from those who were not. "
        "This is a before-and-after comparison without a comparison group: people often seek help at a low point "
        "and tend to feel better over time anyway (regression to the mean), so these changes show how people's "
        "wellbeing moved while they were supported, not how much of it the service caused. " + WORST_BAND_CAVEAT)


def headlines(wb: dict) -> list[Headline]:
    """Life satisfaction and anxiety: the published mean change, its direction judged on the
    published interval."""
    out = []
    for item, label in HEADLINE_ITEMS.items():
        o = wb["ons4"][item]
        change, ci = o["mean_change"], o["ci95"]
        if change is None:
            continue
        better = change < 0 if item == "anxiety" else change > 0
        sure = ci is not None and (ci[0] > 0 or ci[1] < 0)
        direction = ("improved" if better else "worsened") if sure else "no clear change"
        interval = f" (95% CI {ci_text(ci, 1)})" if ci is not None else ""
        out.append(Headline(f"{label} (ONS4, 0–10)", f"{change:+.1f} points",
                            f"{direction}{interval}, {fmt(o['n_pairs'])} people with before and after scores"))
    return out


SECTION = Section(
    name="wellbeing",
    title="Personal wellbeing (ONS4)",
    notebook="40_wellbeing",
    order=40,
    required=("referrals", "outcome_measures"),
    needs="This section needs the `referrals` and `outcome_measures` tables with ONS4 scores.",
    contract=True,
    compute=lambda inputs: compute(inputs.whole, inputs.settings),
    publish=publish,
    reading=reading,
    headlines=headlines,
)
