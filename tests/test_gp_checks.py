"""The GP section's statistical checks: the placebo difference in differences and the joint test of
the pre-referral differences (parallel trends), deaths in the after window, the weighted
negative-binomial check, and what the executive summary leads with."""

import math
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest
from test_gp_appointments import A, bench, hand_extract, make_extract, off

from pipeline.analyses import gp_appointments as G
from pipeline.analyses import poisson_fe as P
from pipeline.analyses.gp_appointments import counter as GC
from pipeline.analyses.gp_appointments import did as GD
from pipeline.analyses.gp_appointments import event_study as GE
from pipeline.analyses.gp_appointments import patients as GP
from pipeline.analyses.gp_appointments import trends as GT
from pipeline.config import DisclosureSettings, load_settings
from pipeline.disclosure import release

OFF = DisclosureSettings(enabled=False)


def thin_referred(ex, first: int, last: int, keep: float, seed: int = 0):
    """The extract with a random share ``keep`` of referred patients' appointments on days
    ``first..last`` relative to their referral kept (a trend planted in the referred group only)."""
    ap = ex["gp_appointments"]
    ref = ex["referrals"][["patient_id", "referral_date"]]
    m = ap.merge(ref, on="patient_id", how="left")
    rel = (m["appointment_date"] - m["referral_date"]).dt.days
    inside = rel.between(first, last).to_numpy()
    drop = inside & (np.random.default_rng(seed).random(len(m)) > keep)
    return replace(ex, tables={**ex.tables, "gp_appointments": ap[~drop].reset_index(drop=True)})


@pytest.fixture(scope="module")
def sim():
    """Referred x1.2 / x1.5 in the two quarters before referral and x0.90 after; no other trend."""
    return bench().simulate_gp_extract(2000, 8000, seed=7)


@pytest.fixture(scope="module")
def sim_raw(sim):
    return G.compute(sim, load_settings())


# ------------------------------------------------------------------------------ parallel trends
def test_placebo_did_is_flat_without_a_pre_trend(sim_raw):
    pl = release(G.publish, sim_raw).data["matched_did"]["parallel_trends"]["placebo_did"]
    assert pl["window_days"] == {"before": [-365, -275], "after": [-274, -183]}
    assert pl["ci95"][0] <= 1.0 <= pl["ci95"][1] and abs(pl["rate_ratio"] - 1) < 0.05


def test_placebo_did_sees_a_planted_pre_trend(sim):
    """Referred patients' GP use 30% lower in the earlier half of the baseline window: the groups
    diverge before referral, and the placebo says so."""
    raw = G.compute(thin_referred(sim, -365, -275, keep=0.7), load_settings())
    pl = release(G.publish, raw).data["matched_did"]["parallel_trends"]["placebo_did"]
    assert pl["ci95"][0] > 1.2


def test_pre_referral_tests(sim_raw):
    """The quarters before the 'before' window and apart from the matching window show no
    difference; every pre-referral quarter includes the planted rise (x1.5, x1.2) and rejects."""
    pt = release(G.publish, sim_raw).data["matched_did"]["parallel_trends"]
    assert pt["pre_referral_test"]["quarters"] == [-8, -3] and pt["pre_referral_test"]["df"] == 2
    assert pt["pre_referral_test"]["p_value"] > 0.01
    assert pt["all_pre_referral_test"]["quarters"] == [-8, -7, -6, -5, -3, -2, -1]
    assert pt["all_pre_referral_test"]["p_value"] < 0.001


def test_pre_referral_test_sees_a_planted_early_difference(sim):
    raw = G.compute(thin_referred(sim, -728, -638, keep=0.7), load_settings())  # quarter -8
    t = release(G.publish, raw).data["matched_did"]["parallel_trends"]["pre_referral_test"]
    assert t["p_value"] < 0.001


def test_joint_pre_referral_model_is_each_group_s_own_event_study(sim_raw, sim):
    """Patient effects make the joint model's likelihood one factor per patient, so each group's
    quarter effects are that group's own (weighted) event study over the same quarters; the joint
    fit adds the covariance between the groups, clustered by matched set."""
    cfg = load_settings().gp_appointments
    units = sim_raw.did.match.units
    start, end = GP.extract_days(sim)
    counter = GC.AppointmentCounter(sim["gp_appointments"])
    joint = sim_raw.did.pre_trends.fit
    for treated, name in ((1, "referred"), (0, "comparison")):
        u = units[units["treated"] == treated].reset_index(drop=True)
        p = GE.event_panel(u, counter, start, end, cfg.window_days, -8, -1)
        others = [q for q in range(-8, 0) if q != -4]
        codes = np.array([others.index(q) if q in others else -1 for q in p["q"]])
        own = P.poisson_fe(p["y"].to_numpy(), P.OneHot(codes, [f"q{q}" for q in others]), p["unit"].to_numpy(),
                           offset=np.log(p["exposure"].to_numpy(dtype=float)),
                           weights=u["weight"].to_numpy()[p["unit"].to_numpy()])
        for q in others:
            assert joint.params[f"{name}:q{q}"] == pytest.approx(own.params[f"q{q}"], abs=1e-8)


def test_clean_quarters_follow_the_windows():
    cfg = load_settings().gp_appointments
    assert GT.clean_quarters(cfg) == [-8, -3]
    wider = cfg.model_copy(update={"match_window_days": (-730, -640)})
    assert GT.clean_quarters(wider) == [-7, -6, -5, -3]


# ------------------------------------------------------------------------------ deaths
def test_deaths_in_the_after_window_are_counted():
    """A (referred 2022-10-01) dies 30 days after referral, inside every after window it counts
    for; B (2023-03-31) dies 200 days after, inside the 9- and 12-month windows only."""
    B = "2023-03-31"
    ex = hand_extract()
    deaths = pd.DataFrame({"patient_id": ["A", "B"], "date_of_death": pd.to_datetime([off(A, 30), off(B, 200)])})
    with_deaths = replace(ex, tables={**ex.tables, "deaths": deaths})
    d = release(G.publish, G.compute(with_deaths, load_settings()), OFF).data
    det = d["variance_detail"]["2022/23"]
    assert d["deaths_recorded"] is True
    # k = 1, 2: A and B counted, A died; k = 3, 4: only B counted, and it died by day 273
    assert [det[k]["died_in_after_window"] for k in ("3m", "6m", "9m", "12m")] == [1, 1, 1, 1]
    assert det["3m"]["n_patients"] == 3 and det["9m"]["n_patients"] == 1
    d0 = release(G.publish, G.compute(ex, load_settings()), OFF).data
    assert d0["deaths_recorded"] is False and d0["variance_detail"]["2022/23"]["3m"]["died_in_after_window"] is None
    # the published method is unchanged by the deaths table
    assert d0["variance_pct"] == d["variance_pct"]


def test_matched_deaths_end_follow_up_and_are_counted():
    """R1 dies 100 days after referral: its after window has 100 days of exposure, and it is
    counted as died; the DiD does not treat days after death as days without appointments."""
    d = "2023-06-01"
    refs = [dict(patient_id="R1", referral_date=d, practice_code="A11111", age=45)]
    comp = [dict(patient_id=c, practice_code="A11111", age=46) for c in ("C1", "C2")]
    ap = [(p, off(d, k)) for p in ("R1", "C1", "C2") for k in (-500, -300, 30)]
    ex = make_extract(refs, ap, comparison=comp, deaths=[("R1", off(d, 100))], start=date(2021, 4, 1))
    raw = G.compute(ex, load_settings())
    assert raw.did.died == {"referred": 1, "comparison": 0}
    m, panel, _ = G.matched_did(ex, load_settings())
    assert panel.set_index(["patient_id", "post"]).loc[("R1", 1), "exposure"] == 100
    out = release(G.publish, raw, OFF).data["matched_did"]
    assert out["died_in_after_window"] == {"referred": 1, "comparison": 0}


# ------------------------------------------------------------------------------ negative binomial
def test_negative_binomial_check_is_weighted_like_the_main_model(sim):
    """The check weighs comparison patients 1/number matched: its estimate is the weighted NB2
    maximum likelihood one (statsmodels' GLM with those frequency weights at the fitted alpha, alpha
    at the maximum of the profile likelihood), not the unweighted fit the old check made."""
    import statsmodels.api as sm

    _, panel, _ = G.matched_did(sim, load_settings())
    nb = GD.fit_did_nb(panel)
    X = np.column_stack([np.ones(len(panel)), panel["treated"], panel["post"], panel["post"] * panel["treated"]])
    y, expo, w = panel["y"].to_numpy(float), panel["exposure"].to_numpy(float), panel["weight"].to_numpy(float)

    def glm(alpha, weights):
        return sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=alpha), exposure=expo,
                      freq_weights=weights).fit()

    at = glm(nb["alpha"], w)
    assert math.exp(at.params[3]) == pytest.approx(nb["estimate"], rel=1e-6)
    assert at.llf >= max(glm(nb["alpha"] * 1.02, w).llf, glm(nb["alpha"] / 1.02, w).llf)
    unweighted = sm.NegativeBinomial(y, X, loglike_method="nb2", exposure=expo).fit(disp=0, method="newton")
    assert abs(math.exp(unweighted.params[3]) - nb["estimate"]) > 1e-3
    # with every weight 1 it is statsmodels' NB2 fit
    nb1 = GD.fit_did_nb(panel.assign(weight=1.0))
    assert nb1["estimate"] == pytest.approx(math.exp(unweighted.params[3]), rel=1e-6)
    assert nb1["alpha"] == pytest.approx(unweighted.params[4], rel=1e-5)


def test_negative_binomial_interval_covers_the_truth(sim_raw):
    nbm = release(G.publish, sim_raw).data["matched_did"]["sensitivity"]["negative_binomial"]
    assert nbm["status"] == "ok" and nbm["ci95"][0] <= 0.90 <= nbm["ci95"][1]
    assert "weighted" in nbm["method"]


# ------------------------------------------------------------------------------ executive summary
def test_summary_leads_with_the_matched_comparison(sim_raw):
    heads = G.headlines(release(G.publish, sim_raw).data)
    assert [h.measure for h in heads][0] == "GP appointments vs matched comparison"
    assert heads[1].measure.endswith("(published method)") and "regression to the mean" in heads[1].reading
    assert heads[1].value.endswith("at 12 months")


def test_summary_without_a_comparison_group_says_so():
    raw = G.compute(bench().simulate_gp_extract(1500, 0, seed=11, comparison=False), load_settings())
    heads = G.headlines(release(G.publish, raw).data)
    assert len(heads) == 1 and "no comparison group" in heads[0].reading
