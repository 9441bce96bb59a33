"""Aalen–Johansen and Kaplan–Meier against hand computations (arithmetic written out) and,
where lifelines is right (no event at t = 0, no ties between causes), against lifelines."""

import math
import warnings

import numpy as np
import pytest

from pipeline.survival import aalen_johansen, kaplan_meier

Z = 1.959963984540054


# Six people: t = 0 (readmitted), 2 (readmitted), 2 (died), 2 (censored), 5 (died), 7 (censored).
# A cause-1 event at t = 0, a tie between causes at t = 2, and a censoring at t = 2 too.
T1 = [0, 2, 2, 2, 5, 7]
E1 = [1, 1, 2, 0, 2, 0]


@pytest.fixture
def fit1():
    return aalen_johansen(T1, E1)


def test_hand_example_risk_table(fit1):
    tab = fit1.table
    assert list(tab.index) == [0, 2, 5, 7]
    # at risk = T >= t: 6 at 0; 5 at 2 (the censored person at 2 is still at risk: events first)
    assert list(tab["n_risk"]) == [6, 5, 2, 1]
    assert list(tab["d_1"]) == [1, 1, 0, 0]
    assert list(tab["d_2"]) == [0, 1, 1, 0]
    assert list(tab["n_censored"]) == [0, 1, 0, 1]


def test_hand_example_cumulative_incidence(fit1):
    # S(0) = 1 - 1/6 = 5/6;  S(2) = 5/6 * (1 - 2/5) = 1/2;  S(5) = 1/2 * (1 - 1/2) = 1/4
    assert fit1.surv(0) == pytest.approx(5 / 6)
    assert fit1.surv(2) == pytest.approx(1 / 2)
    assert fit1.surv(5) == pytest.approx(1 / 4)
    # F1(0) = S(0-) * 1/6 = 1/6 (the t = 0 event counts; lifelines 0.30 would give 0)
    assert fit1.cif(1, 0) == pytest.approx(1 / 6)
    # F1(2) = 1/6 + S(0) * 1/5 = 1/6 + 1/6 = 1/3 ; F2(2) = S(0) * 1/5 = 1/6
    assert fit1.cif(1, 2) == pytest.approx(1 / 3)
    assert fit1.cif(2, 2) == pytest.approx(1 / 6)
    # F2(5) = 1/6 + S(2) * 1/2 = 1/6 + 1/4 = 5/12 ; F1 unchanged
    assert fit1.cif(2, 5) == pytest.approx(5 / 12)
    assert fit1.cif(1, 6.5) == pytest.approx(1 / 3)
    # before the first time nothing has happened; step function between times
    assert fit1.cif(1, -1) == 0.0
    assert fit1.cif(1, 1.99) == pytest.approx(1 / 6)
    # F1 + F2 + S = 1
    assert fit1.cif(1, 5) + fit1.cif(2, 5) + fit1.surv(5) == pytest.approx(1.0)


def test_hand_example_delta_variance(fit1):
    # Var F1(0) = S(0-)^2 d1 (n - d1) / n^3 = 1 * 1 * 5 / 216
    assert fit1.variance(1, 0) == pytest.approx(5 / 216)
    # Var F1(2):
    #   first:  (F1(2) - F1(0))^2 * d/(n(n-d)) at 0 = (1/6)^2 * 1/30 = 1/1080  (the t=2 term is 0)
    #   second: 5/216 + (5/6)^2 * 1 * 4 / 125 = 5/216 + 1/45
    #   third:  -2 * (1/6) * 1 * 1/36 = -2/216
    #   total = 1/1080 + 3/216 + 1/45 = (1 + 15 + 24)/1080 = 1/27
    assert fit1.variance(1, 2) == pytest.approx(1 / 27)
    # Var F2(5):
    #   first:  (5/12)^2 * 1/30 + (1/4)^2 * 2/15 = 25/4320 + 1/120
    #   second: (5/6)^2 * 4/125 + (1/2)^2 * 1/8 = 1/45 + 1/32
    #   third:  -2 * (1/4) * (5/6) * 1/25 = -1/60
    #   total = (25 + 36 + 96 + 135 - 72)/4320 = 220/4320 = 11/216
    assert fit1.variance(2, 5) == pytest.approx(11 / 216)


def test_hand_example_confidence_interval(fit1):
    f, se = 1 / 3, math.sqrt(1 / 27)
    g = math.log(-math.log(1 - f))
    se_g = se / ((1 - f) * -math.log(1 - f))
    lo, hi = fit1.ci(1, 2)
    assert lo == pytest.approx(1 - math.exp(-math.exp(g - Z * se_g)))
    assert hi == pytest.approx(1 - math.exp(-math.exp(g + Z * se_g)))
    assert 0 < lo < f < hi < 1


def test_numbers_at_risk_and_cumulative_events(fit1):
    assert [fit1.at_risk(t) for t in (0, 1, 2, 3, 5, 7, 8)] == [6, 5, 5, 2, 2, 1, 0]
    assert [fit1.events(1, t) for t in (-1, 0, 2, 9)] == [0, 1, 2, 2]
    assert [fit1.events(2, t) for t in (0, 2, 5)] == [0, 1, 2]


def test_events_come_before_censoring_at_the_same_time():
    # one readmission and three censorings all at day 2: the censored are at risk at day 2,
    # so F1(2) = 1/4 (processing censoring first would give 1/1)
    fit = aalen_johansen([2, 2, 2, 2], [1, 0, 0, 0])
    assert fit.cif(1, 2) == pytest.approx(0.25)
    km = kaplan_meier([2, 2, 2, 2], [1, 0, 0, 0])
    assert km.surv(2) == pytest.approx(0.75)


def test_all_censored():
    fit = aalen_johansen([1, 2, 3], [0, 0, 0], causes=(1, 2))
    assert fit.cif(1, 10) == 0.0 and fit.cif(2, 10) == 0.0
    assert fit.variance(1, 10) == 0.0
    assert all(math.isnan(x) for x in fit.ci(1, 10))  # no interval around an estimate of 0
    assert fit.at_risk(2) == 2
    assert fit.events(1, 10) == 0
    assert kaplan_meier([1, 2, 3], [0, 0, 0]).surv(5) == 1.0


def test_no_censoring_reduces_to_binomial():
    # 5 people, no censoring: F1 is a plain proportion and the delta variance is F(1-F)/n.
    # t = 1: events {1 (cause 1 at 0), 1 (cause 1 at 1)} -> F1(1) = 2/5, Var = (2/5)(3/5)/5 = 6/125
    fit = aalen_johansen([0, 1, 1, 2, 3], [1, 2, 1, 2, 1])
    assert fit.cif(1, 1) == pytest.approx(2 / 5)
    assert fit.variance(1, 1) == pytest.approx(6 / 125)
    assert fit.cif(1, 3) == pytest.approx(3 / 5)
    assert fit.variance(1, 3) == pytest.approx(6 / 125)
    assert fit.cif(2, 3) == pytest.approx(2 / 5)


def test_naive_one_minus_km_overstates_with_competing_deaths():
    # t: 1 died, 1 died, 3 readmitted, 4 readmitted, 6 censored
    # AJ: S(1) = 3/5; F1(3) = 3/5 * 1/3 = 1/5; S(3) = 2/5; F1(4) = 1/5 + 2/5 * 1/2 = 2/5
    # naive KM (deaths censored): S(3) = 1 - 1/3 = 2/3; S(4) = 2/3 * 1/2 = 1/3 -> 1 - KM = 2/3
    t, e = [1, 1, 3, 4, 6], [2, 2, 1, 1, 0]
    fit = aalen_johansen(t, e)
    km = kaplan_meier(t, np.array(e) == 1)
    assert fit.cif(1, 4) == pytest.approx(2 / 5)
    assert km.cdf(4) == pytest.approx(2 / 3)
    assert km.cdf(4) > fit.cif(1, 4)


def test_single_cause_equals_one_minus_km_with_greenwood():
    rng = np.random.default_rng(7)
    t = rng.integers(0, 30, 80)
    e = rng.integers(0, 2, 80)
    fit = aalen_johansen(t, e, causes=(1,))
    km = kaplan_meier(t, e)
    for s in range(0, 31):
        assert fit.cif(1, s) == pytest.approx(1 - km.surv(s))
        assert fit.variance(1, s) == pytest.approx(km.variance(s), abs=1e-12)
        if 0 < fit.cif(1, s) < 1:
            lo, hi = km.cdf_ci(s)
            assert fit.ci(1, s) == pytest.approx((lo, hi))
    # Greenwood by hand for the first time with an event: S^2 * d / (n (n - d))
    first = km.table[km.table["d"] > 0].iloc[0]
    n, d = first["n_risk"], first["d"]
    assert first["var"] == pytest.approx((1 - d / n) ** 2 * d / (n * (n - d)))


def test_matches_lifelines_without_t0_events_or_ties():
    from lifelines import AalenJohansenFitter, KaplanMeierFitter

    rng = np.random.default_rng(11)
    n = 120
    t = np.round(rng.exponential(30, n), 4) + 0.5  # continuous: no ties, no t = 0
    e = rng.choice([0, 1, 2], n, p=[0.3, 0.4, 0.3])
    fit = aalen_johansen(t, e)
    for cause in (1, 2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lf = AalenJohansenFitter(calculate_variance=True).fit(t, e, event_of_interest=cause)
        ours = fit.table
        theirs_f = lf.cumulative_density_.iloc[:, 0].reindex(ours.index).to_numpy()
        theirs_v = lf.variance_.reindex(ours.index).to_numpy()
        np.testing.assert_allclose(ours[f"cif_{cause}"].to_numpy(), theirs_f, atol=1e-12)
        ok = ~np.isnan(theirs_v)  # lifelines gives NaN where n = d (we take that term as 0)
        np.testing.assert_allclose(ours[f"var_{cause}"].to_numpy()[ok], theirs_v[ok], atol=1e-12)
    km = kaplan_meier(t, e == 1)
    lkm = KaplanMeierFitter().fit(t, e == 1)
    np.testing.assert_allclose(km.table["surv"].to_numpy(),
                               lkm.survival_function_.iloc[:, 0].reindex(km.table.index).to_numpy(), atol=1e-12)
    np.testing.assert_allclose(km.table["lo"].to_numpy(),
                               lkm.confidence_interval_.iloc[:, 0].reindex(km.table.index).to_numpy(), atol=1e-9)


def test_lifelines_pitfall_documented():
    """Why we do not use lifelines: it zeroes the cumulative incidence at the first time."""
    from lifelines import AalenJohansenFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lf = AalenJohansenFitter(calculate_variance=False).fit([0, 0, 1, 5], [1, 1, 0, 0], event_of_interest=1)
    assert lf.cumulative_density_.iloc[0, 0] == 0.0          # lifelines: events at t = 0 dropped
    assert aalen_johansen([0, 0, 1, 5], [1, 1, 0, 0]).cif(1, 0) == pytest.approx(0.5)  # ours: 2/4


def test_input_validation():
    with pytest.raises(ValueError):
        aalen_johansen([1, -1], [1, 0])
    with pytest.raises(ValueError):
        aalen_johansen([1, np.nan], [1, 0])
    with pytest.raises(ValueError):
        aalen_johansen([1, 2], [1, 3], causes=(1, 2))
    with pytest.raises(KeyError):
        aalen_johansen([1, 2], [1, 0]).cif(2, 1)


def test_empty_input():
    fit = aalen_johansen([], [], causes=(1, 2))
    assert fit.n == 0 and fit.cif(1, 10) == 0.0 and fit.at_risk(0) == 0


def test_vectorised_on_a_large_extract():
    import time

    rng = np.random.default_rng(0)
    n = 1_000_000
    t = rng.integers(0, 400, n)
    e = rng.choice([0, 1, 2], n)
    t0 = time.perf_counter()
    fit = aalen_johansen(t, e)
    assert time.perf_counter() - t0 < 5
    assert 0 < fit.cif(1, 29) < 1
