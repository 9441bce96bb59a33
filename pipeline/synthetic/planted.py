"""The effects planted in every synthetic extract, so tests can check that the analyses recover
them (the same generating model in every area; ``docs/synthetic-data.md`` describes each).

:data:`PLANTED` holds what an analysis should find:

- ``ons4_change``: the expected observed change (follow-up minus baseline, after rounding and
  clipping to 0..10) per ONS4 item; ``ons4_change_latent`` the change before clipping.
- ``gp``: referred patients' GP appointment rate is their own baseline rate, times
  ``pre_referral_multiplier`` in the two quarters before referral (quarter -1 = days -91..-1,
  quarter -2 = days -182..-92: the peak that makes uncontrolled before/after comparisons
  overstate), times ``rate_ratio`` from the day after referral. Comparison patients keep a
  constant rate drawn from the same model given their covariates (but referred patients' rates
  are 15% higher at baseline: matching on prior GP use matters).
- ``targets``: for every clinical target, patient and window independently, the probability that
  it is measured in the window and, if measured, met.
- ``readmission``: exact cumulative incidences of emergency readmission (death competing) and of
  death, from the day-level generating model, for the contract's definitions ("within N days" is
  t <= N - 1).
- ``workforce``: the PCN-quarter slope of A&E attendances and non-elective cost per 100,000
  registered on link-worker FTE per 100,000.
- ``survey``: in the areas with survey answers (:data:`pipeline.synthetic.surveys.SURVEY_AREAS`),
  the patients' answers to "I feel more connected to my community" in each of the two waves
  (a distribution over 1..5) and the share agreeing (4 or 5) it gives: 45% in wave 1, 60% in
  wave 2, a rise of 15 percentage points. Every other question is answered alike in both waves.
- ``practice_lists``: practices' referral rates per registered list vary (``rate_cv``), and one
  practice per PCN-service area refers at ``low_rate_ratio`` of the others' rate (:data:`PRACTICE_LISTS`).
- ``caseload``: RAG ratings at assessment, their drift from red towards green between reviews, and
  safeguarding escalations by rating (:data:`CASELOAD`).

:data:`INSTRUMENT_MODEL` is the generating model of the instruments beyond ONS4
(:mod:`pipeline.synthetic.instruments`) and :func:`instrument_expected` what an analysis should find
of it (the observed changes after rounding, clipping and scoring).
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy.stats import norm

from ..contract import ONS4_ITEMS
from ..instruments import EQ5D5L_ENGLAND, SWEMWBS_METRIC, pam_level

#: ONS4 baseline (mean, SD) per item, the latent change and the follow-up's noise
ONS4_BASELINE = {"life_satisfaction": (4.4, 2.2), "worthwhile": (4.9, 2.2), "happiness": (4.5, 2.4),
                 "anxiety": (6.1, 2.5)}
ONS4_DELTA = {"life_satisfaction": 1.5, "worthwhile": 1.2, "happiness": 1.3, "anxiety": -1.4}
ONS4_NOISE_SD = 1.8

# piecewise-linear CDFs over days since index discharge: (day, cumulative probability); the
# mass between day d and d + 1 falls on day d, so the value at 14 is P(t <= 13) = "within 14 days"
READMIT_CDF = ((0, 0.0), (1, 0.006), (14, 0.041), (30, 0.053), (90, 0.072), (365, 0.13), (1100, 0.22))
DEATH_CDF = ((0, 0.0), (1, 0.0005), (90, 0.031), (365, 0.09), (1100, 0.2))

TARGETS = {"p_measured": {"prior": 0.45, "after": 0.70}, "p_met_if_measured": {"prior": 0.50, "after": 0.60}}
GP = {"rate_ratio": 0.90, "pre_referral_multiplier": {"-1": 1.5, "-2": 1.2}}
#: GP appointments a year at age 50 in the medium risk band, before each person's Gamma(2, 0.5)
#: frailty and e^(0.01 (age - 50)); the risk band's factor; referred patients' level at baseline
#: against comparison patients with the same covariates
GP_BASE_RATE = 6.0
GP_RISK_BAND_RATE = {"very_high": 1.8, "high": 1.3, "medium": 1.0, "low": 0.7}
GP_REFERRED_LEVEL = 1.15
WORKFORCE = {"ae_per_100k_per_fte_per_100k": -60.0, "cost_gbp_per_100k_per_fte_per_100k": -40000.0}
#: the planted survey question: its answers (probabilities of 1..5) in waves 1 and 2
SURVEY_PLANTED = {"group": "patient", "question": "connected_community",
                  "answers": {1: (0.08, 0.17, 0.30, 0.30, 0.15), 2: (0.05, 0.12, 0.23, 0.36, 0.24)}}


def _ons4_expected_change(mu: float, sd: float, delta: float) -> float:
    """E[follow-up - baseline] when baseline = clip(round(N(mu, sd))) and follow-up =
    clip(round(baseline + delta + N(0, noise))), both clipped to 0..10 (computed exactly)."""
    edges = np.arange(-0.5, 11.0, 1.0)
    pb = np.diff(norm.cdf(np.r_[-np.inf, edges[1:-1], np.inf], mu, sd))  # P(baseline = 0..10)
    e = 0.0
    for b in range(11):
        pf = np.diff(norm.cdf(np.r_[-np.inf, edges[1:-1], np.inf], b + delta, ONS4_NOISE_SD))
        e += pb[b] * (float(np.dot(pf, np.arange(11))) - b)
    return round(e, 4)


def _day_pmf(knots: tuple[tuple[int, float], ...], days: int) -> np.ndarray:
    d = np.arange(days + 1, dtype=float)
    cdf = np.interp(d, [k[0] for k in knots], [k[1] for k in knots])
    return np.diff(cdf)  # pmf[d] = P(t = d), d = 0..days-1


def _planted_readmission() -> dict[str, float]:
    f, g = _day_pmf(READMIT_CDF, 400), _day_pmf(DEATH_CDF, 400)
    F = np.r_[0.0, np.cumsum(f)]          # F[d] = P(R < d)
    G = np.r_[0.0, np.cumsum(g)]          # G[d] = P(D < d)
    cif_r = np.cumsum(f * (1 - G[:-1]))  # readmission on day d counts if death is not before d
    cif_d = np.cumsum(g * (1 - F[1:]))   # death on day d counts if no readmission by day d
    return {f"readmission_{n}d": round(float(cif_r[n - 1]), 5) for n in (14, 30, 90)} | {
        "death_90d": round(float(cif_d[89]), 5)}


PLANTED: dict = {
    "ons4_change": {i: float(_ons4_expected_change(*ONS4_BASELINE[i], ONS4_DELTA[i])) for i in ONS4_ITEMS},
    "ons4_change_latent": dict(ONS4_DELTA),
    "gp": GP,
    "targets": TARGETS,
    "readmission": _planted_readmission(),
    "workforce": WORKFORCE,
    "survey": SURVEY_PLANTED | {
        "agree_pct": {w: round(100 * sum(p[3:]), 4) for w, p in SURVEY_PLANTED["answers"].items()},
        "change_pct_points": round(100 * (sum(SURVEY_PLANTED["answers"][2][3:]) - sum(SURVEY_PLANTED["answers"][1][3:])), 4),
    },
}


#: the instruments beyond ONS4: baseline (mean, SD), the planted latent change and the follow-up's
#: noise. SWEMWBS on the metric scale (+2 points, then converted to the nearest raw total and spread
#: over the 7 items); EQ-5D-5L levels drawn at baseline with these probabilities of levels 1..5 per
#: dimension, then one level better with probability 0.30 and worse with 0.10 (clipped to 1..5), the
#: VAS +6; PAM score +4; WSAS a person's severity per item, each item 0.8 lower at follow-up (about
#: -4 on the total); Well-being Star each area +1.5
INSTRUMENT_MODEL: dict = {
    "uptake": 0.7,
    "swemwbs": {"baseline": (19.5, 3.5), "change": 2.0, "noise_sd": 3.0},
    "eq5d5l": {"baseline_levels": (0.30, 0.30, 0.20, 0.15, 0.05), "p_better": 0.30, "p_worse": 0.10,
               "vas_baseline": (55.0, 18.0), "vas_change": 6.0, "vas_noise_sd": 12.0},
    "pam": {"baseline": (52.0, 10.0), "change": 4.0, "noise_sd": 8.0},
    "wsas": {"severity": (4.0, 1.8), "item_noise_sd": 1.2, "item_change": -0.8},
    "wellbeing_star": {"baseline": (4.5, 1.8), "change": 1.5, "noise_sd": 1.5},
}


@cache
def instrument_expected() -> dict[str, float]:
    """The expected observed mean changes of :data:`INSTRUMENT_MODEL` (computed exactly where the
    model allows, else from a fixed-seed simulation of 400,000 people: within 0.01 of exact)."""
    m = INSTRUMENT_MODEL
    out: dict[str, float] = {}
    # EQ-5D-5L: each dimension's expected index decrement change, exactly
    p = np.array(m["eq5d5l"]["baseline_levels"])
    pb, pw = m["eq5d5l"]["p_better"], m["eq5d5l"]["p_worse"]
    change = 0.0
    for dec in EQ5D5L_ENGLAND.values():
        d = np.r_[0.0, dec]
        for lv in range(5):
            down, up = d[max(lv - 1, 0)], d[min(lv + 1, 4)]
            change -= p[lv] * (pb * (down - d[lv]) + pw * (up - d[lv]))
    out["eq5d5l_index"] = round(float(change), 4)
    out["eq5d5l_dimension_better"] = round(float(pb * (1 - p[0])), 4)
    out["eq5d5l_dimension_worse"] = round(float(pw * (1 - p[4])), 4)
    rng = np.random.default_rng(20240401)
    n = 400_000
    raw = np.array(sorted(SWEMWBS_METRIC), dtype=float)
    metric = np.array([SWEMWBS_METRIC[int(r)] for r in raw])
    mid = (metric[1:] + metric[:-1]) / 2
    s = m["swemwbs"]
    b = np.clip(rng.normal(*s["baseline"], n), 7, 35)
    f = np.clip(b + s["change"] + rng.normal(0, s["noise_sd"], n), 7, 35)
    out["swemwbs_metric"] = round(float((metric[np.searchsorted(mid, f)] - metric[np.searchsorted(mid, b)]).mean()), 3)
    v = m["eq5d5l"]
    vb = np.clip(np.round(rng.normal(*v["vas_baseline"], n)), 0, 100)
    out["eq5d5l_vas"] = round(float((np.clip(np.round(vb + v["vas_change"] + rng.normal(0, v["vas_noise_sd"], n)),
                                             0, 100) - vb).mean()), 3)
    q = m["pam"]
    pb_ = np.clip(np.round(rng.normal(*q["baseline"], n), 1), 0, 100)
    pf = np.clip(np.round(pb_ + q["change"] + rng.normal(0, q["noise_sd"], n), 1), 0, 100)
    out["pam_score"] = round(float((pf - pb_).mean()), 3)
    out["pam_level_up_share"] = round(float((pam_level(pf) > pam_level(pb_)).mean()), 4)
    w = m["wsas"]
    sev = rng.normal(*w["severity"], n)
    tb = sum(np.clip(np.round(sev + rng.normal(0, w["item_noise_sd"], n)), 0, 8) for _ in range(5))
    tf = sum(np.clip(np.round(sev + w["item_change"] + rng.normal(0, w["item_noise_sd"], n)), 0, 8) for _ in range(5))
    out["wsas_total"] = round(float((tf - tb).mean()), 3)
    st = m["wellbeing_star"]
    sb = np.clip(np.round(rng.normal(*st["baseline"], n)), 1, 10)
    sf = np.clip(np.round(sb + st["change"] + rng.normal(0, st["noise_sd"], n)), 1, 10)
    out["wellbeing_star_area"] = round(float((sf - sb).mean()), 3)
    return out


#: practices' list sizes (pipeline/synthetic/practice_lists.py): referrals are drawn in proportion
#: to each practice's share of the area's patients, so a practice's referral rate per list is set
#: by its list size: its share divided by a Gamma multiplier (mean 1, coefficient of variation
#: ``rate_cv``: practices vary more than chance), and for the one planted under-referrer (the
#: practice of median share) by ``low_rate_ratio``; lists add up to the registered population
#: and grow by ``list_growth_per_year`` a year
PRACTICE_LISTS = {"low_rate_ratio": 0.4, "rate_cv": 0.15, "list_growth_per_year": 0.005}
#: link workers' RAG ratings (pipeline/synthetic/reviews.py): a case is rated at its first attended
#: contact (``first_rating``), and at each later attended contact with ``review_probability``; the
#: rating moves from one review to the next by ``transition`` (rows: from; a drift from red
#: towards green); a safeguarding concern is escalated at a review with ``escalation_probability``
#: by the rating given there; ``escalation_missing`` of reviews leave it empty
CASELOAD = {
    "first_rating": {"red": 0.15, "amber": 0.30, "green": 0.55},
    "review_probability": 0.7,
    "transition": {"red": {"red": 0.50, "amber": 0.35, "green": 0.15},
                   "amber": {"red": 0.05, "amber": 0.50, "green": 0.45},
                   "green": {"red": 0.01, "amber": 0.06, "green": 0.93}},
    "escalation_probability": {"red": 0.25, "amber": 0.04, "green": 0.0},
    "escalation_missing": 0.03,
}
PLANTED["practice_lists"] = PRACTICE_LISTS
PLANTED["caseload"] = CASELOAD
