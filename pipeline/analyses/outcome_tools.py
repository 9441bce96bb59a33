"""Other outcome instruments before and after social prescribing: SWEMWBS, EQ-5D-5L, PAM, WSAS and
the Well-being Star, each with its own scoring rules (:mod:`pipeline.instruments`,
``docs/methods-outcome-tools.md``). The section ``outcome_tools`` of ``results.json``.

Definitions (the ONS4 pairs' rules, applied to each instrument's scores):

- an **assessment** is a referral's rows of one instrument on one date (several rows for an item
  on one date: the last in file order counts); a **score** is computed from an assessment only
  when every item it needs is there (SWEMWBS: all 7 items, summed and converted to the metric
  score; EQ-5D-5L: all 5 dimensions for the profile and the England index, the VAS on its own;
  PAM: the score, its level by the published cut-points, or the level given; WSAS: all 5 items,
  summed; the Well-being Star: each area on its own);
- per referral and score, **baseline** = the earliest assessment with that score, **follow-up** =
  the latest, a **pair** only if at least ``settings.wellbeing.min_days_between`` (28) days apart;
  **change** = follow-up - baseline (for WSAS and the EQ-5D levels a fall is an improvement);
- **completion**: referrals with a baseline of the instrument's main score that have a pair.

Per score it publishes the paired change (means, mean change with its 95% t-interval, paired
t-test, SD of the change), the shares improving / not changing meaningfully / worsening by the
instrument's meaningful change, and the mean baseline of those never followed up (against the
mean baseline of those who were: who stays to be re-assessed). Uncontrolled before/after
comparisons: change may reflect regression to the mean, natural recovery or who was re-assessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..config import Settings, load_settings
from ..disclosure import Release
from ..extract import Extract
from ..formatting import ci_text, fmt
from ..instruments import (
    EQ5D5L,
    EQ5D5L_ENGLAND,
    EQ5D_DIMENSIONS,
    INSTRUMENTS,
    PAM,
    PAM_LEVEL_CUTS,
    STAR_MEANINGFUL_CHANGE,
    SWEMWBS,
    SWEMWBS_MEANINGFUL_CHANGE,
    WELLBEING_STAR,
    WSAS,
    WSAS_BANDS,
    eq5d5l_index,
    pam_level,
    swemwbs_metric,
    wsas_band,
)
from ..sections import Headline, NotAvailable, Section
from .paired import PairedChange, paired_change

EQ5D_LABELS = dict(EQ5D_DIMENSIONS)
IMPROVED, SAME, WORSENED = "improved", "no_meaningful_change", "worsened"
CAVEAT = ("These are uncontrolled before/after comparisons. People often seek help at a low point, so "
          "scores tend to improve on re-assessment whatever the support (regression to the mean); some "
          "would have recovered anyway; and those re-assessed may differ from those who were not (compare "
          "the mean baseline of people never followed up). Changes describe what happened, not what the "
          "service caused.")


@dataclass
class ScoreRaw:
    """One score's pairs (patient level, never published) and what is published of them."""

    label: str
    n_with_baseline: int
    change: PairedChange
    direction: int  # +1 when a higher score is better, -1 when lower is better
    whole: bool  # a score of whole numbers (its means' decimals follow their base)
    decimals: int
    groups: dict[str, int] | None  # improved / no meaningful change / worsened
    meaningful: str  # how the groups are judged
    baseline_not_followed: tuple[float, int]  # mean baseline and count of those with no pair


@dataclass
class InstrumentRaw:
    name: str
    n_with_baseline: int  # referrals with a baseline of the main score (any area for the Star)
    n_completers: int  # of them, referrals with a pair
    scores: dict[str, ScoreRaw]
    tables: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # baseline x follow-up
    shares: dict[str, dict[str, int]] = field(default_factory=dict)  # pairs split by a classification


@dataclass
class OutcomeToolsRaw:
    instruments: dict[str, InstrumentRaw]
    missing: dict[str, str]  # instrument -> why it is not analysed
    min_days_between: int


# ---------------------------------------------------------------------------------- assessments
def assessments(outcome_measures: pd.DataFrame, instrument: str) -> pd.DataFrame:
    """One row per referral and assessment date of ``instrument`` (sorted by both), one column per
    item (the last row in file order for an item given twice on a date); empty when none."""
    ins = INSTRUMENTS[instrument]
    om = outcome_measures
    om = om[(om["instrument"] == instrument) & om["item"].isin(ins.item_names) & om["score"].notna()
            & om["assessment_date"].notna() & om["referral_id"].notna()]
    wide = (om.assign(score=pd.to_numeric(om["score"]).astype("float64"))
              .groupby(["referral_id", "assessment_date", "item"], sort=True)["score"].last().unstack("item"))
    return wide.reindex(columns=ins.item_names)


def pairs(wide: pd.DataFrame, have: np.ndarray, min_days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each referral's first and last assessment where ``have`` (a score is there), as row positions
    into ``wide`` (sorted by referral and date): ``first``, ``last``, whether they make a pair
    (``valid``), and the position of every referral with a baseline in ``first``'s order."""
    rows = np.flatnonzero(have)
    ref = wide.index.get_level_values(0).to_numpy(dtype=object)[rows]
    day = wide.index.get_level_values(1).to_numpy(dtype="datetime64[D]").astype(np.int64)[rows]
    if len(rows) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=bool), empty
    head = np.r_[True, ref[1:] != ref[:-1]]
    tail = np.r_[ref[1:] != ref[:-1], True]
    first, last = rows[head], rows[tail]
    valid = (day[tail] - day[head]) >= min_days
    return first, last, valid, np.arange(len(first))


def score_raw(label: str, values: np.ndarray, have: np.ndarray, wide: pd.DataFrame, min_days: int, *,
              direction: int = 1, whole: bool = True, decimals: int = 2, meaningful: float | None = None,
              meaningful_text: str = "") -> tuple[ScoreRaw, np.ndarray, np.ndarray]:
    """The pairs of one score (``values``, one per row of ``wide``; ``have``: where it is computed),
    with the groups judged by a change of at least ``meaningful`` in the better direction. Returns
    the :class:`ScoreRaw` and the baseline and follow-up rows of its pairs."""
    first, last, valid, _ = pairs(wide, have, min_days)
    b, f = values[first[valid]], values[last[valid]]
    ch = paired_change(b, f)
    groups = None
    if meaningful is not None:
        signed = (f - b) * direction
        groups = {IMPROVED: int((signed >= meaningful).sum()), WORSENED: int((signed <= -meaningful).sum())}
        groups[SAME] = int(len(signed) - groups[IMPROVED] - groups[WORSENED])
        groups = {k: groups[k] for k in (IMPROVED, SAME, WORSENED)}
    nf = values[first[~valid]]
    raw = ScoreRaw(label, int(len(first)), ch, direction, whole, decimals, groups, meaningful_text,
                   (float(nf.mean()) if len(nf) else float("nan"), int(len(nf))))
    return raw, first[valid], last[valid]


def _levels_table(b: np.ndarray, f: np.ndarray, names: list[str]) -> dict[str, dict[str, int]]:
    """Baseline x follow-up counts of category positions ``b``, ``f`` (0-based into ``names``)."""
    out = {r: {c: 0 for c in names} for r in names}
    for i, j in zip(b.astype(int), f.astype(int), strict=True):
        out[names[i]][names[j]] += 1
    return out


def _moves(b: np.ndarray, f: np.ndarray, better_when_lower: bool) -> dict[str, int]:
    up = (f < b) if better_when_lower else (f > b)
    down = (f > b) if better_when_lower else (f < b)
    return {IMPROVED: int(up.sum()), SAME: int((f == b).sum()), WORSENED: int(down.sum())}


# ---------------------------------------------------------------------------------- instruments
def _swemwbs(wide: pd.DataFrame, min_days: int) -> InstrumentRaw:
    items = wide[SWEMWBS.item_names]
    have = items.notna().all(axis=1).to_numpy()
    metric = swemwbs_metric(items.sum(axis=1).where(have).to_numpy())
    s, _, _ = score_raw("SWEMWBS metric score (7-35)", metric, have, wide, min_days, whole=False,
                        meaningful=SWEMWBS_MEANINGFUL_CHANGE,
                        meaningful_text=f"a change of at least {SWEMWBS_MEANINGFUL_CHANGE:g} metric points")
    return InstrumentRaw(SWEMWBS.name, s.n_with_baseline, s.change.n, {"metric": s})


PARETO = ("better", "worse", "mixed", "no_change")


def _eq5d5l(wide: pd.DataFrame, min_days: int) -> InstrumentRaw:
    dims = list(EQ5D5L_ENGLAND)
    have = wide[dims].notna().all(axis=1).to_numpy()
    index = eq5d5l_index(wide[dims])
    s, b_rows, f_rows = score_raw("EQ-5D-5L index (England value set)", index, have, wide, min_days, whole=False,
                                  decimals=3, meaningful=None, meaningful_text="Paretian classification")
    lv = wide[dims].to_numpy(dtype="float64")
    b, f = lv[b_rows], lv[f_rows]
    shares = {f"dimension.{d}": _moves(b[:, k], f[:, k], better_when_lower=True) for k, d in enumerate(dims)}
    better, worse = (f < b).any(axis=1), (f > b).any(axis=1)
    shares["paretian"] = {"better": int((better & ~worse).sum()), "worse": int((worse & ~better).sum()),
                          "mixed": int((better & worse).sum()), "no_change": int((~better & ~worse).sum())}
    vas = wide["vas"].to_numpy(dtype="float64")
    v, _, _ = score_raw("EQ VAS (0-100)", vas, ~np.isnan(vas), wide, min_days, meaningful=1.0,
                        meaningful_text="any change")
    return InstrumentRaw(EQ5D5L.name, s.n_with_baseline, s.change.n, {"index": s, "vas": v}, shares=shares)


PAM_LEVELS = ["1", "2", "3", "4"]


def _pam(wide: pd.DataFrame, min_days: int) -> InstrumentRaw:
    score = wide["score"].to_numpy(dtype="float64")
    level = np.where(np.isnan(score), wide["level"].to_numpy(dtype="float64"), pam_level(score))
    lv, b_rows, f_rows = score_raw("PAM level (1-4)", level, ~np.isnan(level), wide, min_days, meaningful=1.0,
                                   meaningful_text="moving up at least one level")
    sc, _, _ = score_raw("PAM score (0-100)", score, ~np.isnan(score), wide, min_days, whole=False, decimals=1,
                         meaningful=None)
    table = _levels_table(level[b_rows] - 1, level[f_rows] - 1, PAM_LEVELS)
    return InstrumentRaw(PAM.name, lv.n_with_baseline, lv.change.n, {"level": lv, "score": sc},
                         tables={"level_transitions": table})


WSAS_BAND_NAMES = [name for name, _, _ in WSAS_BANDS]


def _wsas(wide: pd.DataFrame, min_days: int) -> InstrumentRaw:
    items = wide[WSAS.item_names]
    have = items.notna().all(axis=1).to_numpy()
    total = items.sum(axis=1).where(have).to_numpy(dtype="float64")
    s, b_rows, f_rows = score_raw("WSAS total (0-40, lower is better)", total, have, wide, min_days, direction=-1,
                                  meaningful=None)
    bb, fb = wsas_band(total[b_rows]), wsas_band(total[f_rows])
    s.groups = _moves(bb, fb, better_when_lower=True)
    s.meaningful = "moving to a less impaired band (below 10, 10-20, above 20)"
    return InstrumentRaw(WSAS.name, s.n_with_baseline, s.change.n, {"total": s},
                         tables={"band_transitions": _levels_table(bb, fb, WSAS_BAND_NAMES)})


def _star(wide: pd.DataFrame, min_days: int) -> InstrumentRaw:
    scores = {}
    for it in WELLBEING_STAR.items:
        v = wide[it.name].to_numpy(dtype="float64")
        scores[it.name], _, _ = score_raw(it.label, v, ~np.isnan(v), wide, min_days, meaningful=STAR_MEANINGFUL_CHANGE,
                                          meaningful_text=f"a change of at least {STAR_MEANINGFUL_CHANGE:g} points "
                                                          "(one stage of the Journey of Change)")
    any_score = wide.notna().any(axis=1).to_numpy()
    first, _, _, _ = pairs(wide, any_score, min_days)
    ref = wide.index.get_level_values(0).to_numpy(dtype=object)
    completers = set()
    for it in WELLBEING_STAR.items:
        v = wide[it.name].to_numpy(dtype="float64")
        f, _, ok, _ = pairs(wide, ~np.isnan(v), min_days)
        completers.update(ref[f[ok]])
    return InstrumentRaw(WELLBEING_STAR.name, int(len(first)), len(completers), scores)


ANALYSES = {SWEMWBS.name: _swemwbs, EQ5D5L.name: _eq5d5l, PAM.name: _pam, WSAS.name: _wsas,
            WELLBEING_STAR.name: _star}


def compute(extract: Extract, settings: Settings | None = None) -> OutcomeToolsRaw:
    settings = settings or load_settings()
    min_days = settings.wellbeing.min_days_between
    om = extract["outcome_measures"]
    found, missing = {}, {}
    for name, analyse in ANALYSES.items():
        wide = assessments(om, name)
        if len(wide):
            found[name] = analyse(wide, min_days)
        else:
            missing[name] = f"this extract has no {name} scores"
    if not found:
        raise NotAvailable("the outcome_measures table has no SWEMWBS, EQ-5D-5L, PAM, WSAS or Well-being Star "
                           "scores (instrument swemwbs, eq5d5l, pam, wsas or wellbeing_star)")
    return OutcomeToolsRaw(found, missing, min_days)


# ---------------------------------------------------------------------------------- publish
def _publish_score(s: ScoreRaw, n, rel: Release) -> tuple[dict, dict | None]:
    """``n``: the cell of the score's pairs. Returns the tree and the cells of the groups."""
    ch = s.change
    mean = {"whole_numbers": s.whole, "decimals": s.decimals}
    out = {
        "label": s.label,
        "direction": "higher is better" if s.direction > 0 else "lower is better",
        "n_pairs": rel.count(n),
        "mean_baseline": rel.mean(ch.mean_baseline, n, **mean),
        "mean_followup": rel.mean(ch.mean_followup, n, **mean),
        "mean_change": rel.mean(ch.mean_change, n, **mean),
        "ci95": rel.interval(ch.ci_lo, ch.ci_hi, n, **mean),
        "p_value": rel.estimate(ch.p_value, n, decimals=4),
        "sd_change": rel.estimate(ch.sd_change, n, decimals=s.decimals),
    }
    parts = None
    if s.groups is not None:
        parts = rel.split(n, s.groups)
        out["meaningful_change"] = s.meaningful
        out["change_pct"] = rel.pcts(parts, n)
    nf_mean, nf_n = s.baseline_not_followed
    out["mean_baseline_not_followed_up"] = rel.mean(nf_mean, nf_n, **mean)
    return out, parts


#: instrument -> (its transition table, whether a later column is better); the table's pairs are
#: those of the instrument's main score
TABLE_DIRECTION = {"pam": ("level_transitions", True), "wsas": ("band_transitions", False)}


def _publish_instrument(ins: InstrumentRaw, rel: Release) -> dict:
    base = rel.cell(ins.n_with_baseline)
    main = next(iter(ins.scores))
    table = None
    if ins.name in TABLE_DIRECTION:
        key, later_better = TABLE_DIRECTION[ins.name]
        counts = ins.tables[key]
        table = rel.table(counts)
        completers = table.total  # the main score's pairs: one cell for one count
        rest = base.value - completers.value
        rel.group(base, [completers] + ([rel.cell(rest, "not followed up")] if rest else []))
    else:
        completers = rel.subset(base, ins.n_completers, "completers")
    out: dict = {"status": "ok", "title": INSTRUMENTS[ins.name].title,
                 "n_with_baseline": rel.count(base), "n_completers": rel.count(completers),
                 "completion_pct": rel.pct(completers, base), "scores": {}}
    for name, s in ins.scores.items():
        main_pairs = name == main and ins.name != WELLBEING_STAR.name
        n = completers if main_pairs else rel.subset(completers, s.change.n, name)
        out["scores"][name], parts = _publish_score(s, n, rel)
        if table is not None and main_pairs and parts is not None:
            # the groups are sums of the table's cells: better above (or below) the diagonal
            pos = {r: i for i, r in enumerate(table.rows)}
            for group, test in ((IMPROVED, lambda i, j: j > i if later_better else j < i), (SAME, lambda i, j: i == j),
                                (WORSENED, lambda i, j: j < i if later_better else j > i)):
                rel.group(parts[group], [c for (r, k), c in table.cell.items() if test(pos[r], pos[k])])
    if table is not None:
        out[key] = {"baseline": {r: rel.count(table.row_total[r]) for r in table.rows},
                    "followup": {c: rel.count(table.col_total[c]) for c in table.cols},
                    "counts": {r: {c: rel.count(table.cell[(r, c)]) for c in table.cols} for r in table.rows}}
    for key_, counts_ in ins.shares.items():
        pct = rel.pcts(rel.split(completers, counts_), completers)
        if key_.startswith("dimension."):
            out.setdefault("dimensions", {})[key_.split(".", 1)[1]] = pct
        else:
            out[f"{key_}_pct"] = pct
    return out


def publish(raw: OutcomeToolsRaw, rel: Release) -> dict:
    out: dict = {}
    for name in ANALYSES:
        if name in raw.instruments:
            out[name] = _publish_instrument(raw.instruments[name], rel)
        else:
            out[name] = {"status": "not_run", "reason": raw.missing[name]}
    out["min_days_between"] = rel.fact(raw.min_days_between)
    out["method"] = {
        "pairs": f"per referral and score: earliest vs latest assessment, at least {raw.min_days_between} days apart; "
                 "change = follow-up - baseline",
        "p_value": "two-sided paired t-test of the change",
        "ci95": "t-interval of the mean change",
        "swemwbs": "7 items summed (7-35) and converted to the metric score by the SWEMWBS conversion table "
                   "(Stewart-Brown et al. 2009); meaningful change 3 metric points (Shah et al. 2018: 1-3)",
        "eq5d5l": "index from the England EQ-5D-5L value set (Devlin et al. 2018); dimensions better/same/worse "
                  "by level; Paretian classification of the profile (Devlin et al. 2010)",
        "pam": "level from the score by the published cut-points (<=47.0, 47.1-55.1, 55.2-67.0, >=67.1) or as "
               f"given; meaningful change: up at least one level (cut-points {PAM_LEVEL_CUTS})",
        "wsas": "5 items summed (0-40); bands below 10, 10-20, above 20 (Mundt et al. 2002); improvement = a less "
                "impaired band",
        "wellbeing_star": "each area 1-10 on its own; meaningful change 2 points (one Journey of Change stage)",
    }
    out["caveat"] = CAVEAT
    return out


# ---------------------------------------------------------------------------------- reading
MAIN_SCORE = {"swemwbs": "metric", "eq5d5l": "index", "pam": "score", "wsas": "total"}


def reading(d: dict) -> str:
    parts = []
    for name, score in MAIN_SCORE.items():
        ins = d.get(name) or {}
        s = (ins.get("scores") or {}).get(score) if ins.get("status") == "ok" else None
        if not s or s["mean_change"] is None:
            continue
        dec = 3 if name == "eq5d5l" else (1 if name == "pam" else 2)
        parts.append(f"{ins['title']}: mean change {fmt(s['mean_change'], dec)} (95% CI {ci_text(s['ci95'], dec)}) "
                     f"over about {fmt(s['n_pairs'])} people assessed twice ({s['direction']})")
    star = d.get("wellbeing_star") or {}
    if star.get("status") == "ok":
        better = [k.replace("_", " ") for k, s in star["scores"].items()
                  if s["ci95"] is not None and s["ci95"][0] > 0]
        if better:
            parts.append("Well-being Star areas whose whole 95% interval shows improvement: " + ", ".join(better))
    if not parts:
        return ("Too few people were assessed twice with these instruments to publish their changes after "
                "disclosure control.")
    return "; ".join(parts) + ". " + CAVEAT


def headlines(d: dict) -> list[Headline]:
    s = ((d.get("swemwbs") or {}).get("scores") or {}).get("metric")
    if not s or s["mean_change"] is None:
        return []
    return [Headline("SWEMWBS change (metric score)", fmt(s["mean_change"], 2),
                     f"95% CI {ci_text(s['ci95'], 2)} over about {fmt(s['n_pairs'])} people assessed twice; "
                     "uncontrolled before/after")]


SECTION = Section(
    name="outcome_tools",
    title="Other outcome measures before and after",
    notebook="45_outcome_tools",
    order=45,
    required=("referrals", "outcome_measures"),
    needs="This section needs `outcome_measures` rows for SWEMWBS, EQ-5D-5L, PAM, WSAS or the Well-being Star "
          "(instrument swemwbs, eq5d5l, pam, wsas or wellbeing_star).",
    compute=lambda inputs: compute(inputs.whole, inputs.settings),
    publish=publish,
    reading=reading,
    headlines=headlines,
)
