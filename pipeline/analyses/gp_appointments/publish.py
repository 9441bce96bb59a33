"""The ``gp_appointments`` section's published figures, every one made by the section's
:class:`~pipeline.disclosure.Release` (nothing here rounds or suppresses).

How each kind of figure is kept from giving away more than it should:

- **Counts** of patients are cells tied by the sums a reader can form: a subset of people is a part
  of the set it comes from (the patients counted for 6 months are some of those counted for 3;
  matched referred patients some of the eligible ones; eligible and excluded patients add up to
  the index patients), so a small difference between two published counts is hidden.
- **The % variance** is computed from the *rounded* before and after totals published beside it,
  and its interval is centred on that published ratio (only the standard error comes from the
  patient-level data), so neither can be back-solved to the exact totals.
- **Appointments per patient** (event study, matched comparison) are means of whole numbers over
  person-quarters or person-windows: the layer gives them no more decimals than that base can
  hide, so they cannot pin down the exact totals or numbers of people behind them; yearly rates
  are derived from those published means.
- **Balance**: shares from rounded counts (the comparison's weighted share from rounded counts by
  matched-set size), means of whole numbers by the layer's rule, and standardised differences
  derived from the published shares and means.
"""

from __future__ import annotations

import math

from ...disclosure import Release
from ...disclosure.cells import Cell
from ...disclosure.figures import Figure
from ..stats import Z95, FitResult
from .analysis import GPRaw
from .balance import Mean, Share
from .did import DID_METHOD, GROUPS, PERIODS, DidRaw
from .event_study import EVENT_METHOD, EventStudyRaw
from .prose import CAUSAL_READING, NO_COMPARISON_READING
from .trends import PLACEBO_METHOD, PRE_TREND_METHOD, placebo_windows
from .variance import quarter_label

DAYS_A_YEAR = 365


def _finite(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _ratio(rel: Release, fit: FitResult | None, name: str, base: int, est_key: str = "rate_ratio") -> dict:
    est = lo = hi = p = float("nan")
    reason = None
    if fit is not None and fit.ok:
        est, lo, hi, p = fit.ratio(name)
    else:
        reason = "the model could not be fitted" if fit is None else fit.reason
    return {est_key: rel.estimate(_finite(est), base, decimals=3, reason=reason),
            "ci95": rel.interval(_finite(lo), _finite(hi), base, decimals=3, reason=reason),
            "p_value": rel.estimate(_finite(p), base, decimals=4, reason=reason)}


def mean_per(rel: Release, appointments: float, exposure_days: float, days: int) -> Figure:
    """Appointments per ``days`` of exposure: a mean of whole numbers over person-``days`` windows
    (its base, for the decimals it may carry and whether it may be published at all)."""
    if exposure_days <= 0:
        return rel.not_estimable("no days of follow-up")
    return rel.mean(appointments / exposure_days * days, base=int(exposure_days // days), decimals=2)


# ---------------------------------------------------------------------------------- published method
def _variance(raw: GPRaw, rel: Release, n_index: Cell) -> tuple[dict, dict]:
    variance: dict = {}
    detail: dict = {}
    table = raw.variance.sort_values(["cohort", "k"])
    first = table.groupby("cohort", sort=True).head(1)  # the shortest window: the most patients
    # the patients counted for a cohort's shortest window are some of the index patients, and
    # each longer window's patients are some of the shorter one's
    above = rel.split(n_index, {r.cohort: int(r.n) for r in first.itertuples()}, "variance_n")
    for cohort, grp in table.groupby("cohort", sort=True):
        variance[cohort], detail[cohort] = {}, {}
        n_prev = above[cohort]
        for r in grp.itertuples():
            lab = quarter_label(int(r.k))
            n = rel.subset(n_prev, int(r.n), f"variance_n[{cohort},{lab}]")
            n_prev = n
            before, after = rel.count(int(r.before)), rel.count(int(r.after))
            if r.n == 0:
                why = "no patient has both windows inside the extract"
                pct, ci = rel.not_estimable(why), rel.not_estimable(why)
            else:
                pct = rel.derived(lambda b, a: (a - b) / b * 100 if b else None, before, after, base=n,
                                  decimals=1, reason="no appointments before")
                se = rel.estimate(_finite(float(r.se_log)), base=n, decimals=6,
                                  reason="no interval without appointments both before and after")
                ci = rel.derived(_log_interval, before, after, se, decimals=1,
                                 reason="no interval without appointments both before and after")
            variance[cohort][lab] = pct
            detail[cohort][lab] = {"n_patients": rel.count(n), "variance_pct_ci95": ci,
                                   "appointments_before": before, "appointments_after": after,
                                   "died_in_after_window": (rel.count(rel.subset(n, int(r.died), "died"))
                                                            if raw.deaths_known else None)}
    return variance, detail


def _log_interval(before: int, after: int, se: float) -> list[float] | None:
    """The 95% CI of the % variance: log-symmetric around the ratio of the published (rounded)
    totals, so its geometric centre is that published ratio, not the exact one."""
    if not before or not after:
        return None
    r = after / before
    return [(r * math.exp(-Z95 * se) - 1) * 100, (r * math.exp(Z95 * se) - 1) * 100]


# ---------------------------------------------------------------------------------- event study
def _event(ev: EventStudyRaw, rel: Release, window_days: int, population: Cell) -> dict:
    """An event study's figures; ``population``: the people it was run on (its patients with any
    follow-up in the quarters are some of them)."""
    ok = ev.fit is not None and ev.fit.ok
    out: dict = {"status": "ok" if ok else "not_estimable"}
    if not ok:
        out["reason"] = "no patient has follow-up in the reference quarter" if ev.fit is None else ev.fit.reason
    n_all = rel.subset(population, ev.n_patients, "event_n")
    out["n_patients"] = rel.count(n_all)
    n_ref = int(ev.panel_summary.loc[ev.reference, "n"]) if ev.reference in ev.panel_summary.index else 0
    quarters = {}
    for q, row in ev.panel_summary.iterrows():
        n = rel.subset(n_all, int(row["n"]), f"event_n[{q}]")
        entry = {"n_patients": rel.count(n),
                 "appointments_per_patient": mean_per(rel, float(row["y"]), float(row["exposure"]), window_days)}
        if not row["n"]:
            nobody = rel.not_estimable("no patient has follow-up in this quarter")
            entry.update(rate_ratio=nobody, ci95=nobody, p_value=nobody)
        elif q == ev.reference:
            entry.update(rate_ratio=rel.fact(1.0), ci95=None, p_value=None)
        else:
            entry.update(_ratio(rel, ev.fit, f"q{q}", min(int(row["n"]), n_ref)))
        if q == ev.reference:
            entry["reference"] = True
        quarters[str(int(q))] = entry
    out["quarters"] = quarters
    return out


# ---------------------------------------------------------------------------------- matched comparison
def _rates(d: DidRaw, rel: Release) -> dict:
    """Appointments a year by group and window (weighted comparison), from the published means per
    window, and the crude ratio of ratios from those."""
    days = {"before": d.before[1] - d.before[0] + 1, "after": d.after[1] - d.after[0] + 1}
    out: dict = {}
    for _, grp in GROUPS:
        out[grp] = {}
        for _, period in PERIODS:
            s = d.rates[(grp, period)]
            per_window = mean_per(rel, s.appointments, s.exposure_days, days[period])
            out[grp][period] = rel.derived(lambda m, k=days[period]: m * DAYS_A_YEAR / k, per_window, decimals=2)
    out["crude_ratio_of_ratios"] = rel.derived(
        lambda ra, rb, ca, cb: (ra / rb) / (ca / cb) if rb and cb and ca else None,
        out["referred"]["after"], out["referred"]["before"], out["comparison"]["after"], out["comparison"]["before"],
        decimals=3, reason="a group with no appointments in a window")
    return out


def _std_diff(a: float, b: float, sd: float) -> float | None:
    if sd and math.isfinite(sd):
        return (a - b) / sd
    return 0.0 if a == b else None


def _shares(balance: dict[str, Share | Mean], rel: Release, n_t: Cell) -> dict[str, Figure]:
    """The referred patients' share with each characteristic (% of those with it recorded), from
    rounded counts. The categories of one characteristic (the risk bands) are one breakdown of
    the people with it recorded, so a small band cannot be worked out from the others."""
    out: dict[str, Figure] = {}
    families: dict[str, dict[str, Cell]] = {}
    for name, s in balance.items():
        if not isinstance(s, Share):
            continue
        key = s.family or name
        if key not in families:
            known = rel.subset(n_t, s.referred_known, f"balance_known[{key}]")
            members = {k: b.referred_yes for k, b in balance.items() if isinstance(b, Share) and (b.family or k) == key}
            families[key] = {"known": known, **rel.split(known, members, f"balance[{key}]")}
        out[name] = rel.pct(families[key][name], families[key]["known"])
    return out


def _comparison_share(s: Share, referred: Figure, rel: Release, n_c: Cell) -> Figure:
    """The matched comparison patients' weighted share (each of ``j`` patients matched to one
    referred patient weighs 1/j): sum over set sizes of rounded counts / j, over the same for the
    people with it recorded."""
    if s.matched_exactly:  # the weighted share is the referred share, by construction
        return rel.derived(lambda p: p, referred)
    known = rel.split(n_c, s.comparison_known, "balance_known_c")
    sizes = sorted(known)
    yes = [rel.split(known[j], {"yes": s.comparison_yes[j]})["yes"] for j in sizes]

    def weighted(*v: int) -> float | None:
        num = sum(y / j for y, j in zip(v[:len(sizes)], sizes, strict=True))
        den = sum(k / j for k, j in zip(v[len(sizes):], sizes, strict=True))
        return 100 * num / den if den else None

    return rel.derived(weighted, *[rel.count(c) for c in yes], *[rel.count(known[j]) for j in sizes], decimals=1,
                       reason="no matched comparison patient has it recorded")


def _share_sd(a: float, b: float) -> float:
    pa, pb = a / 100, b / 100
    return math.sqrt((pa * (1 - pa) + pb * (1 - pb)) / 2)


def _balance(balance: dict[str, Share | Mean], rel: Release, n_t: Cell, n_c: Cell) -> dict:
    shares = _shares(balance, rel, n_t)
    out = {}
    for name, b in balance.items():
        if isinstance(b, Share):
            referred = shares[name]
            comparison = _comparison_share(b, referred, rel, n_c)
            std = rel.derived(lambda x, y: _std_diff(x / 100, y / 100, _share_sd(x, y)), referred, comparison,
                              decimals=2)
            out[name] = {"kind": "pct", "referred": referred, "comparison": comparison, "std_diff": std}
        else:
            out[name] = _mean(b, rel)
    return out


def _mean(m: Mean, rel: Release) -> dict:
    referred = rel.mean(_finite(m.referred), base=m.referred_n, decimals=2)
    comparison = rel.mean(_finite(m.comparison), base=int(m.comparison_weight), decimals=2)
    sd = math.sqrt((m.referred_var + m.comparison_var) / 2) if m.referred_n > 1 and m.comparison_n > 1 else math.nan
    sd_fig = rel.estimate(_finite(sd), base=min(m.referred_n, int(m.comparison_weight)), decimals=6)
    return {"kind": "mean", "referred": referred, "comparison": comparison,
            "std_diff": rel.derived(_std_diff, referred, comparison, sd_fig, decimals=2)}


def _matching(raw: GPRaw, rel: Release, n_index: Cell) -> tuple[dict, Cell, Cell]:
    m = raw.did.match
    cfg = raw.settings
    # eligible and excluded referred patients are all the index patients
    parts = rel.split(n_index, {"eligible": m.n_referred_eligible, **m.referral_exclusions}, "eligibility")
    n_t = rel.subset(parts["eligible"], m.n_referred_matched, "n_referred_matched")
    pool = rel.cell(m.n_comparison_pool, "n_comparison_pool")
    n_c = rel.subset(pool, m.n_comparison_matched, "n_comparison_matched")
    out = {
        "on": "same practice, age band, gender, risk band; alive at the index date; GP appointments in the matching "
              "window in the same band; without replacement; comparison patients take the referred patient's index date",
        "bins": {"age_band_lower_edges": rel.fact(list(cfg.match_age_bands)),
                 "matching_window_appointments_lower_edges": rel.fact(list(cfg.match_baseline_use_bins))},
        "ratio": f"1:{cfg.matches_per_patient} (up to)",
        "n_referred_eligible": rel.count(parts["eligible"]),
        "n_referred_matched": rel.count(n_t),
        "matched_pct": rel.pct(n_t, parts["eligible"]),
        "n_comparison_pool": rel.count(pool),
        "n_comparison_matched": rel.count(n_c),
        "excluded": {**{k: rel.count(parts[k]) for k in m.referral_exclusions},
                     **{k: rel.count(v) for k, v in m.pool_exclusions.items()}},
    }
    return out, n_t, n_c


def _did(raw: GPRaw, rel: Release, n_index: Cell) -> dict:
    if raw.did is None:
        return {"status": "not_run", "reason": raw.did_reason, "rate_ratio": None, "ci95": None}
    d = raw.did
    m = d.match
    base = min(m.n_referred_matched, m.n_comparison_matched)
    ok = d.fit is not None and d.fit.ok
    out: dict = {"status": "ok" if ok else "not_estimable"}
    if not ok:
        out["reason"] = "the model could not be fitted" if d.fit is None else d.fit.reason
    out.update(_ratio(rel, d.fit, "post_x_referred", base))
    out["change_pct"] = rel.derived(lambda r: (r - 1) * 100, out["rate_ratio"], decimals=1)
    out["method"] = DID_METHOD
    out["window_days"] = {"before": rel.fact(list(d.before)), "after": rel.fact(list(d.after)),
                          "matching": rel.fact(list(raw.settings.match_window_days))}
    out["why_this_before_window"] = (
        f"'Before' is days {-d.before[0]} to {-d.before[1]} before the index referral: referred patients' GP use "
        "rises in the six months before referral, so a 'before' that includes those months would credit the "
        "service with the fall back to normal.")
    out["matching"], n_t, n_c = _matching(raw, rel, n_index)
    out["appointments_per_year"] = _rates(d, rel)
    out["balance"] = _balance(d.balance, rel, n_t, n_c)
    nb = d.nb
    nb_reason = nb.get("reason")
    out["sensitivity"] = {
        "negative_binomial": {
            "method": nb["method"], "status": nb["status"],
            "rate_ratio": rel.estimate(_finite(nb["estimate"]), base, decimals=3, reason=nb_reason),
            "ci95": rel.interval(_finite(nb["lo"]), _finite(nb["hi"]), base, decimals=3, reason=nb_reason),
            "p_value": rel.estimate(_finite(nb["p"]), base, decimals=4, reason=nb_reason),
            "alpha": rel.estimate(_finite(nb["alpha"]), base, decimals=3, reason=nb_reason)},
        "before_includes_peak": {
            "window_days": {"before": rel.fact([d.before[0], -1]), "after": rel.fact(list(d.after))},
            "note": "biased: 'before' includes the pre-referral rise in GP use; shown only to measure that bias",
            **_ratio(rel, d.peak, "post_x_referred", base),
        },
    }
    out["event_study_comparison"] = (_event(d.event_comparison, rel, raw.settings.window_days, n_c)
                                     if d.event_comparison is not None else None)
    out["parallel_trends"] = _parallel_trends(d, rel, base)
    out["died_in_after_window"] = ({"referred": rel.count(rel.subset(n_t, d.died["referred"], "died_t")),
                                    "comparison": rel.count(rel.subset(n_c, d.died["comparison"], "died_c"))}
                                   if d.died is not None else None)
    return out


def _parallel_trends(d: DidRaw, rel: Release, base: int) -> dict:
    early, late = placebo_windows(d.before)
    out: dict = {"placebo_did": {"method": PLACEBO_METHOD,
                                 "window_days": {"before": rel.fact(list(early)), "after": rel.fact(list(late))},
                                 **_ratio(rel, d.placebo, "post_x_referred", base)},
                 "pre_referral_test_method": PRE_TREND_METHOD}
    pt = d.pre_trends
    tests = {"pre_referral_test": pt.clean if pt else None, "all_pre_referral_test": pt.all_pre_referral if pt else None}
    for key, test in tests.items():
        if test is None:
            why = rel.not_estimable("the pre-referral model could not be fitted or has no quarter to test")
            out[key] = {"quarters": None, "chi2": why, "df": None, "p_value": why}
        else:
            out[key] = {"quarters": rel.fact(list(test.quarters)), "chi2": rel.estimate(test.chi2, base, decimals=2),
                        "df": rel.fact(test.df), "p_value": rel.estimate(test.p, base, decimals=4)}
    return out


# ---------------------------------------------------------------------------------- the section
def publish(raw: GPRaw, rel: Release) -> dict:
    """The contract's ``gp_appointments`` section (``variance_pct``), plus extra keys."""
    cfg = raw.settings
    n_index = rel.cell(raw.n_index_patients, "n_index_patients")
    variance, detail = _variance(raw, rel, n_index)
    return {
        "variance_pct": variance,
        # ------------------------------------------------------------- extra keys
        "variance_detail": detail,
        "n_index_patients": rel.count(n_index),
        "deaths_recorded": raw.deaths_known,
        "method": {
            "variance": "per financial-year cohort of the index (earliest) referral: (total appointments after - total "
                        "before) / total before x 100, a ratio of sums over patients, computed from the published "
                        f"(rounded) totals; windows referral date + 1 .. + {cfg.window_days}k days vs - "
                        f"{cfg.window_days}k .. - 1 day (referral day in neither); a patient counts for k only when "
                        "both windows lie inside the extract; a patient who died in the after window counts with the "
                        "appointments they had before they died, as in the published method (how many: "
                        "variance_detail.<cohort>.<window>.died_in_after_window, when the extract has a deaths table)",
            "variance_pct_ci95": "beyond the published method: delta-method 95% CI of the log ratio of sums with "
                                 "patient-level influence terms (allows for differences between patients), centred "
                                 "on the published ratio of the rounded totals",
            "event_study": EVENT_METHOD,
            "matched_did": DID_METHOD,
            "deaths": "the event study and the matched comparison count each patient's days alive inside the extract "
                      "as exposure, so a patient who died is not counted as having no appointments after death "
                      "(matched_did.died_in_after_window says how many died in the after window); the published "
                      "% variance keeps the published method's windows",
        },
        "event_study": {"method": EVENT_METHOD, "reference_quarter": rel.fact(raw.event.reference),
                        "quarter_days": rel.fact(cfg.window_days),
                        "quarter_definition": f"quarter -1 = days -{cfg.window_days}..-1, quarter +1 = days "
                                              f"+1..+{cfg.window_days} from the index referral (the referral day in "
                                              "neither)",
                        **_event(raw.event, rel, cfg.window_days, n_index)},
        "matched_did": _did(raw, rel, n_index),
        "causal_leaning": "matched_did" if raw.did is not None else None,
        "reading": CAUSAL_READING if raw.did is not None else NO_COMPARISON_READING,
    }

