"""The clinical-targets section through the disclosure layer: ``publish(raw, rel)``.

Every count is a cell, tied to the counts it is part of, so a count hidden in one table is
hidden wherever a reader could work it out:

- a cohort's index patients split into the eligible and those with too short a follow-up; the
  eligible split into the four risk bands and those without a band (``flow``);
- each band split, per window, by the number of targets met (the contract's tables), and by
  whether a patient met more, the same or fewer targets after first contact;
- per target and window, the patients measured are part of the eligible and those meeting the
  target part of those measured (``by_target``);
- with a single target, the cohort's patients meeting it are the bands' "1" cells plus those
  without a band who met it.

Percentages come from the rounded counts; the tests and models rest on the band sizes' cells. The
share meeting at least one target (``at_least_one_target_pct``, over the patients with a band) is
derived from the bands' published sizes and shares meeting none.
"""

from __future__ import annotations

from typing import Any

from ...disclosure import Release
from ...disclosure.cells import Cell
from ...disclosure.figures import DERIVED, Figure, Outcome, Resolver, withheld
from ...disclosure.rules import rounded
from ..stats import FitResult, TestResult, holm
from ..subsets import breakdown
from .cohorts import CohortRaw, TargetsRaw
from .method import BANDS, COHORT_LABELS, COHORTS, DEFAULT_N_TARGETS, WINDOWS, describe
from .models import MODEL_METHOD
from .proportional_odds import METHOD as PO_METHOD
from .proportional_odds import POCheck

NO_BAND = "no_risk_band"
NOT_CONFIGURED = "no targets are configured for this cohort"
EMPTY_BAND = "no eligible patient in this risk band"
NOT_FITTED = "the model was not fitted"
NO_BANDED = "no eligible patient with a risk band"
NO_INTERACTION = "an interaction model needs at least two risk bands with patients"
NO_DEATHS = "this extract has no deaths table"
TEST_REASON = (
    "Stuart–Maxwell test of marginal homogeneity on the prior x after table of targets met (the "
    "published tables are exactly these two marginal distributions of the same patients; the "
    "outcome is a short ordinal scale with many ties, which a Wilcoxon signed-rank test would "
    "partly discard). Holm correction across the risk bands of each cohort whose p-value is published."
)
PUBLISHED_RULE = ("the latest measurement in the window decides (blood pressure: the latest date with both readings; "
                  "several readings that day: the lowest of each); no measurement in the window counts as not met")


class HolmPValue(Figure):
    """The Holm-adjusted p-value of one band's test, over the bands of its cohort whose p-value is
    published. A withheld p-value stays out of the family: through the adjustment it would show
    in the others' (two bands with p_b < p_a: p_holm_a = max(2 p_b, p_a))."""

    def __init__(self, band: str, pvalues: dict[str, Figure], exact: dict[str, float | None]):
        self.band, self.pvalues, self.exact = band, pvalues, exact

    def decide(self, r: Resolver) -> Outcome:
        own = r(self.pvalues[self.band])
        if not own.published:
            return withheld(own.rule, own.reason)
        family = {b: self.exact[b] for b, f in self.pvalues.items() if r(f).published}
        return Outcome(rounded(holm(family)[self.band], 4), DERIVED)


def _with(rel: Release, figure: Figure, value: Any) -> Figure | None:
    """``value`` (a test's degrees of freedom, a note about it) published with ``figure`` and
    withheld with it; ``None`` when there is none."""
    return None if value is None else rel.derived(lambda _f: value, figure)


def _test(t: TestResult, n: Cell, rel: Release) -> dict:
    if t.status == "empty":
        why = rel.not_estimable(EMPTY_BAND)
        return {"method": t.method, "status": t.status, "statistic": why, "df": None, "p_value": why}
    reason = t.note or "the test is undefined for this table"
    stat = rel.estimate(t.statistic, n, reason=reason)
    out = {"method": t.method, "status": t.status, "statistic": stat, "df": _with(rel, stat, t.df),
           "p_value": rel.estimate(t.p_value, n, decimals=4, reason=reason)}
    if t.note:
        out["note"] = _with(rel, stat, t.note)
    return out


def _band(c: CohortRaw, b: str, n: Cell, keys: list[str], rel: Release) -> tuple[dict, dict[str, dict[str, Cell]]]:
    """One band's contract entry (``n``, ``prior_pct``, ``after_pct``) and extras (``change_pct``,
    ``test``), and its cells by window and number of targets met."""
    p = c.band(b)
    label = f"{c.name}.{b}"
    dist = {w: breakdown(rel, n, {k: int((p[f"met_{w}"] == int(k)).sum()) for k in keys}, f"{label}.{w}")
            for w in WINDOWS}
    diff = p["met_after"] - p["met_prior"]
    change = breakdown(rel, n, {"met_more": int((diff > 0).sum()), "same": int((diff == 0).sum()),
                                "met_fewer": int((diff < 0).sum())}, f"{label}.change")
    entry = {"n": rel.count(n), "prior_pct": rel.pcts(dist["prior"], n), "after_pct": rel.pcts(dist["after"], n),
             "change_pct": rel.pcts(change, n), "test": _test(c.tests[b], n, rel)}
    return entry, dist


def _ratio(rel: Release, fit: FitResult | None, name: str, base: Cell | int, combo: dict | None = None,
           why: str = NOT_FITTED, events: Cell | int | None = None) -> dict:
    """An odds ratio with its interval and p-value; ``fit`` None: no model could be set up for it
    (``why``), which is not estimable rather than withheld."""
    if fit is None:
        none = rel.not_estimable(why)
        return {"odds_ratio": none, "ci95": none, "p_value": none}
    est = lo = hi = p = float("nan")
    if fit.ok:
        est, lo, hi, p = fit.combo_ratio(combo) if combo else fit.ratio(name)
    return _odds(rel, (est, lo, hi, p), base, events, fit.reason or "no finite estimate")


def _odds(rel: Release, ratio: tuple[float, float, float, float], base: Cell | int, events: Cell | int | None,
          reason: str) -> dict:
    est, lo, hi, p = ratio
    return {"odds_ratio": rel.estimate(est, base, events, decimals=3, reason=reason),
            "ci95": rel.interval(lo, hi, base, events, decimals=3, reason=reason),
            "p_value": rel.estimate(p, base, events, decimals=4, reason=reason)}


def _proportional_odds(check: POCheck | None, smallest: Cell | int, banded: int, rel: Release) -> dict:
    """The Brant-type check: the overall test rests on every band (the smallest), the period's
    test and its odds ratio at each cut-point on the patients with a band (and, per cut-point, on
    the observations either side of it)."""
    if check is None or check.status != "ok":
        none = rel.not_estimable(check.reason if check is not None and check.reason else NO_BANDED)
        test = {"chi2": none, "df": None, "p_value": none}
        return {"method": PO_METHOD, "status": "not_run" if check is None else check.status,
                "overall": test, "period": dict(test), "period_odds_ratio_by_cut": {}}

    def test(result: tuple[float, int, float], base: Cell | int) -> dict:
        chi2, df, p = result
        stat = rel.estimate(chi2, base)
        return {"chi2": stat, "df": _with(rel, stat, df), "p_value": rel.estimate(p, base, decimals=4)}

    out = {"method": PO_METHOD, "status": check.status,
           "overall": test(check.overall, smallest), "period": test(check.period_test, banded),
           "period_odds_ratio_by_cut": {str(k): _odds(rel, check.period[k], banded, check.events[k],
                                                      "no finite estimate") for k in check.cuts}}
    if check.dropped:
        out["cuts_left_out"] = {str(k): why for k, why in check.dropped.items()}
    return out


def _smallest(cells: list[Cell]) -> Cell | int:
    """The cell a figure resting on all of ``cells`` rests on least (0 with none)."""
    return min(cells, key=lambda x: x.value) if cells else 0


def _models(c: CohortRaw, band_n: dict[str, Cell], rel: Release) -> dict:
    """The models' estimates, each resting on the band sizes behind it."""
    banded = sum(band_n[b].value for b in BANDS)
    out: dict = {"method": MODEL_METHOD, "reference_band": c.reference_band}
    main = c.ordinal
    out["status"] = "not_run" if main is None else main.status
    if main is None:
        out["reason"] = NO_BANDED
    elif not main.ok:
        out["reason"] = main.reason
    out["period"] = _ratio(rel, main, "after", banded, why=NO_BANDED)
    ref = [band_n[c.reference_band]] if c.reference_band in band_n else []
    out["band_vs_reference"] = {}
    for b in BANDS:
        if b == c.reference_band:
            continue
        fit = main if (main is not None and f"band_{b}" in main.params.index) else None
        out["band_vs_reference"][b] = _ratio(rel, fit, f"band_{b}", _smallest([band_n[b], *ref]), why=EMPTY_BAND)
    inter = c.ordinal_interaction
    out["period_by_band"] = {}
    for b in BANDS:
        combo = {"after": 1.0} if b == c.reference_band else {"after": 1.0, f"after_x_{b}": 1.0}
        usable = inter is not None and (b == c.reference_band or f"after_x_{b}" in inter.params.index)
        out["period_by_band"][b] = _ratio(rel, inter if usable else None, "after", band_n[b], combo=combo,
                                          why=EMPTY_BAND if band_n[b].value == 0 else NO_INTERACTION)
    chi2, df, p = float("nan"), None, float("nan")
    if inter is not None and inter.ok:
        chi2, df, p = inter.wald([k for k in inter.params.index if k.startswith("after_x_")])
    # the heterogeneity test rests on every band in the model: on the smallest of them
    base = _smallest([band_n[b] for b in BANDS if band_n[b].value > 0])
    if inter is None:
        none = rel.not_estimable(NO_INTERACTION)
        out["interaction_wald"] = {"chi2": none, "df": None, "p_value": none}
    else:
        why = inter.reason or "no finite estimate"
        stat = rel.estimate(chi2, base, reason=why)
        out["interaction_wald"] = {"chi2": stat, "df": _with(rel, stat, df),
                                   "p_value": rel.estimate(p, base, decimals=4, reason=why)}
    anyt = c.any_target
    out["any_target_logit"] = {"method": anyt.method if anyt else None,
                               "status": "not_run" if anyt is None else anyt.status,
                               **_ratio(rel, anyt, "after", banded, why=NO_BANDED)}
    out["proportional_odds"] = _proportional_odds(c.po_check, base, banded, rel)
    return out


def _excluding_deaths(c: CohortRaw, died: Cell, rel: Release) -> dict:
    """The main model's period odds ratio without the patients who died in the after window: a
    sensitivity analysis resting on the patients with a band who did not die, withheld when fewer
    than 8 died (it would difference out their outcomes)."""
    survived = c.patients[~c.patients["died_after"]]
    base = int(survived["risk_band"].isin(BANDS).sum())
    return {"method": "the proportional-odds model's common period odds ratio, refitted without the eligible "
                      "patients who died within the after window (the published method counts their missing "
                      "measurements as targets not met)",
            "period": _ratio(rel, c.ordinal_survivors, "after", base, why=NO_BANDED, events=died)}


def _mean(*values: float) -> float:
    return sum(values) / len(values)


def _share_meeting_some(*figures: float) -> float | None:
    """% meeting at least one target over bands of sizes ``n`` with ``p0`` % meeting none (the
    first half of ``figures`` the sizes, the second the shares)."""
    k = len(figures) // 2
    n, p0 = figures[:k], figures[k:]
    total = sum(n)
    return sum(x * (100 - p) for x, p in zip(n, p0, strict=True)) / total if total else None


def _cohort(c: CohortRaw, rel: Release) -> tuple[dict, dict]:
    name, p = c.name, c.patients
    keys = [str(i) for i in range(c.n_targets + 1)]
    index = rel.cell(c.flow["index_patients_in_cohort"], f"{name}.index")
    selected = breakdown(rel, index, {"eligible": c.flow["eligible"],
                                      "excluded": c.flow["excluded_short_follow_up"]}, f"{name}.flow")
    eligible = selected["eligible"]
    sizes = {b: int((p["risk_band"] == b).sum()) for b in BANDS}
    band_n = breakdown(rel, eligible, {**sizes, NO_BAND: c.flow["missing_risk_band"]}, f"{name}.band")
    bands_out, tables = {}, {}
    for b in BANDS:
        bands_out[b], tables[b] = _band(c, b, band_n[b], keys, rel)
    pvalues = {b: bands_out[b]["test"]["p_value"] for b in BANDS}
    exact = {b: c.tests[b].p_value for b in BANDS}
    for b in BANDS:
        bands_out[b]["test"]["p_holm"] = (pvalues[b] if c.tests[b].status == "empty"
                                          else HolmPValue(b, pvalues, exact))

    by_target: dict = {}
    met: dict[tuple[str, str], Cell] = {}
    for t in c.targets:
        by_target[t.name] = {"target": describe(t)}
        for w in WINDOWS:
            s = p[f"{t.name}_{w}"]
            measured = rel.subset(eligible, int((s != "not_measured").sum()), f"{name}.{t.name}.{w}.measured")
            met[(t.name, w)] = rel.subset(measured, int((s == "met").sum()), f"{name}.{t.name}.{w}.met")
            by_target[t.name][w] = {"n": rel.count(eligible), "measured_pct": rel.pct(measured, eligible),
                                    "met_pct": rel.pct(met[(t.name, w)], eligible),
                                    "met_if_measured_pct": rel.pct(met[(t.name, w)], measured)}

    # the share meeting at least one target, over the patients the band tables describe (those with
    # a band), from the bands' published sizes and shares meeting none: a figure derived from
    # published figures adds no count a reader could subtract (a count of it would, with the bands')
    filled = [b for b in BANDS if band_n[b].value > 0]  # an empty band's share is not estimable, its size 0
    sizes_pub = [bands_out[b]["n"] for b in filled]
    at_least_one = {w: rel.derived(_share_meeting_some, *sizes_pub, *[bands_out[b][f"{w}_pct"]["0"] for b in filled],
                                   decimals=1, reason=NO_BANDED) for w in WINDOWS}
    with_band = rel.derived(lambda *n: sum(n), *sizes_pub) if filled else rel.count(rel.cell(0, f"{name}.banded"))
    if c.n_targets == 1:  # meeting one target is meeting the only one: the cohort's met count adds up the bands'
        unbanded = p[~p["risk_band"].isin(BANDS)]
        for w in WINDOWS:
            rest = rel.subset(band_n[NO_BAND], int((unbanded[f"met_{w}"] == 1).sum()), f"{name}.{w}.unbanded_met")
            rel.group(met[(c.targets[0].name, w)], [tables[b][w]["1"] for b in BANDS] + [rest])

    died = rel.subset(eligible, c.died_after, f"{name}.died_after") if c.died_after is not None else None
    detail = {
        "label": COHORT_LABELS[name],
        "targets": {t.name: describe(t) for t in c.targets},
        "flow": {"index_patients_in_cohort": rel.count(index),
                 "excluded_short_follow_up": rel.count(selected["excluded"]),
                 "eligible": rel.count(eligible),
                 "missing_risk_band": rel.count(band_n[NO_BAND]),
                 "with_risk_band": with_band,
                 "died_in_after_window": rel.count(died) if died is not None else None},
        "at_least_one_target_pct": at_least_one,
        "by_target": by_target,
        "mean_over_targets": {key: {w: rel.derived(_mean, *[by_target[t.name][w][key] for t in c.targets], decimals=1)
                                    for w in WINDOWS} for key in ("measured_pct", "met_if_measured_pct")},
        "models": _models(c, band_n, rel),
        "excluding_deaths": _excluding_deaths(c, died, rel) if died is not None else None,
    }
    return bands_out, detail


def _not_configured(name: str, rel: Release) -> tuple[dict, dict]:
    """A cohort the settings leave out: the contract's shape, nothing estimable."""
    why = rel.not_estimable(NOT_CONFIGURED)
    keys = [str(i) for i in range(DEFAULT_N_TARGETS[name] + 1)]
    bands = {b: {"n": why, "prior_pct": dict.fromkeys(keys, why), "after_pct": dict.fromkeys(keys, why)}
             for b in BANDS}
    return bands, {"label": COHORT_LABELS[name], "status": "not_run", "reason": NOT_CONFIGURED}


def publish(raw: TargetsRaw, rel: Release) -> dict:
    """The contract's ``targets`` section (both cohorts, all four bands, keys "0".."T"), plus
    per-band extras (``change_pct``, ``test``) and ``detail`` with cohort-level results (flow, the
    share meeting at least one target, the per-target measured/met split, models, methods). The
    measured/met split is published per cohort, not per band. A band with no eligible patient
    publishes ``n`` 0, its other figures not estimable (nothing is suppressed)."""
    out: dict = {}
    detail: dict = {"method": {"test": TEST_REASON, "model": MODEL_METHOD, "window_days": rel.fact(raw.window_days),
                               "published_rule": PUBLISHED_RULE,
                               "eligible": f"in the cohort at the index referral, first contact + {raw.window_days} "
                                           f"days on or before {raw.extract_end:%Y-%m-%d}",
                               "small_band_warning": rel.fact(raw.small_band_warning)}}
    for name in COHORTS:
        c = raw.cohorts.get(name)
        out[name], detail[name] = _cohort(c, rel) if c is not None else _not_configured(name, rel)
    out["detail"] = detail
    return out

