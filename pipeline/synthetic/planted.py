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
- ``practice_lists``: practices' referral rates per registered list vary (``rate_cv``), and one
  practice per PCN-service area refers at ``low_rate_ratio`` of the others' rate (:data:`PRACTICE_LISTS`).
- ``caseload``: RAG ratings at assessment, their drift from red towards green between reviews, and
  safeguarding escalations by rating (:data:`CASELOAD`).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from ..contract import ONS4_ITEMS

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
}

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
