"""The PCN-quarter workforce regression (Norfolk & Waveney appendix 3) and its fixed-effects
alternative: preparation checked by hand, planted coefficients recovered, disclosure, not-run."""

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from pipeline import nb
from pipeline.analyses import workforce
from pipeline.analyses import workforce_models as wm
from pipeline.analyses.stats import holm
from pipeline.config import DisclosureSettings, load_settings
from pipeline.disclosure import release
from pipeline.extract import Extract, ExtractConfig
from pipeline.sections import NotAvailable


def extract(panel):
    cfg = ExtractConfig(slug="t", borough="T", ons_code="E09000099", extract_start=date(2020, 4, 1),
                        extract_end=date(2023, 3, 31), registered_population=100000)
    return Extract(cfg, {"pcn_quarterly": panel}, sha256="0" * 64)


def quarters(n=8, start="2022-01-01"):
    return pd.date_range(start, periods=n, freq="QS-JAN")


def hand_panel():
    """2 PCNs x 8 quarters, population 100,000 so a rate per 100,000 equals the count.
    A&E: PCN A 1..8, PCN B 3..10."""
    q = quarters()
    rows = []
    for pcn, ae in (("A", range(1, 9)), ("B", range(3, 11))):
        for i, (qs, a) in enumerate(zip(q, ae, strict=True)):
            rows.append(dict(pcn=pcn, quarter_start=qs, registered_population=100000,
                             splw_fte=1.0 + 0.5 * i + (pcn == "B"), ae_attendances=float(a),
                             nonelective_cost_gbp=1000.0 * a + 37 * i * i))
    return pd.DataFrame(rows)


def test_scaling_and_mean_replacement_by_hand():
    df = wm.prepare(hand_panel())
    # 16 rates with mean 5.5; squared deviations sum to 100, so SD (n - 1) = sqrt(100 / 15)
    sd = np.sqrt(100 / 15)
    a1 = df[(df["pcn"] == "A") & (df["quarter_start"] == "2022-01-01")].iloc[0]
    assert a1["attendances_rate"] == 1.0
    assert a1["Attendances"] == pytest.approx((1 - 5.5) / sd) == pytest.approx(-1.742842, abs=1e-6)
    # PCN means 4.5 (A) and 6.5 (B): deviations of +-1 on all 16 rows, SD sqrt(16 / 15)
    assert a1["PCN_attendances"] == pytest.approx(-np.sqrt(15 / 16))
    assert df.loc[df["pcn"] == "B", "PCN_attendances"].unique() == pytest.approx([np.sqrt(15 / 16)])
    # leave-one-out PCN mean: A's first row (1) -> mean of 2..8 = 5; generally (PCN sum - own) / 7
    loo = np.array([(36 - x) / 7 for x in range(1, 9)] + [(52 - x) / 7 for x in range(3, 11)])
    assert loo[0] == 5
    assert df["PCN_attendances_loo"].to_numpy() == pytest.approx((loo - loo.mean()) / loo.std(ddof=1))
    for col in ("Attendances", "Cost", "SPs", "Year", "PCN_attendances", "PCN_cost"):
        assert df[col].mean() == pytest.approx(0, abs=1e-12)
        assert df[col].std(ddof=1) == pytest.approx(1)


def test_rates_per_100000():
    p = hand_panel()
    p.loc[0, ["registered_population", "ae_attendances", "splw_fte", "nonelective_cost_gbp"]] = [50000, 3.0, 1.5, 2500.0]
    df = wm.prepare(p)
    r = df.iloc[0]
    assert (r["attendances_rate"], r["sp_rate"], r["cost_rate"]) == (6.0, 3.0, 5000.0)


def test_quarter_dummies_and_year():
    qs = pd.Series(pd.to_datetime(["2022-01-01", "2022-04-01", "2022-07-01", "2022-10-01", "2023-01-01"]))
    assert list(wm.quarter_name(qs)) == ["Q_Mar", "Q_Jun", "Q_Sept", "Q_Dec", "Q_Mar"]
    assert list(wm.year_of(qs, "financial")) == [2021, 2022, 2022, 2022, 2022]
    assert list(wm.year_of(qs, "calendar")) == [2022, 2022, 2022, 2022, 2023]
    assert wm.year_label(2020) == "2020/21"
    df = wm.prepare(hand_panel())
    assert df.loc[df["quarter"] == "Q_Dec", list(wm.DUMMIES)].sum().sum() == 0  # reference
    assert (df[list(wm.DUMMIES)].sum(axis=1) <= 1).all()


def covariate_panel(n_pcn=6, n_q=12, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_pcn):
        pop = float(rng.integers(20000, 80000))
        for j, qs in enumerate(quarters(n_q, "2020-04-01")):
            rows.append(dict(pcn=f"PCN{i}", quarter_start=qs, registered_population=pop,
                             splw_fte=max(0.0, rng.uniform(0, 2) + 0.1 * j), ae_attendances=1.0,
                             nonelective_cost_gbp=1.0))
    return pd.DataFrame(rows)


def test_published_specification_recovers_planted_coefficients_exactly():
    """y = a + b * (PCN mean of y) + sum(beta * X), noise-free, with X the scaled regressors and
    interactions. Solving for the PCN means makes the equation exact, so the scaled model must
    return b * sd(P) / sd(y) for the PCN term and beta / sd(y) for the others."""
    panel = covariate_panel()
    base = wm.prepare(panel)
    a, b = 500.0, 0.6
    beta = {"SPs": -30.0, "Year": 80.0, "Q_Mar": 40.0, "Q_Jun": -25.0, "Q_Sept": 10.0,
            "SPs:Year": -15.0, "SPs:Q_Mar": 5.0, "SPs:Q_Jun": -7.0, "SPs:Q_Sept": 3.0}

    def col(term):
        parts = term.split(":")
        return np.prod([base[p].to_numpy() for p in parts], axis=0)

    xb = sum(v * col(t) for t, v in beta.items())
    mean_xb = pd.Series(xb).groupby(base["pcn"]).transform("mean").to_numpy()
    pcn_mean = (a + mean_xb) / (1 - b)
    y = a + b * pcn_mean + xb
    panel = base[["pcn", "quarter_start", "registered_population", "splw_fte", "nonelective_cost_gbp"]].copy()
    panel["ae_attendances"] = y * panel["registered_population"] / wm.PER
    df = wm.prepare(panel)
    assert df["attendances_rate"].to_numpy() == pytest.approx(y)
    fit = wm.fit_seed(df, "attendances")
    s_y, s_p = np.std(y, ddof=1), np.std(pcn_mean, ddof=1)
    c = fit.coefs["coef"]
    assert c["PCN_attendances"] == pytest.approx(b * s_p / s_y, abs=1e-8)
    assert c["PCN_attendances:SPs"] == pytest.approx(0, abs=1e-8)
    for term, v in beta.items():
        assert c[term] == pytest.approx(v / s_y, abs=1e-8), term
    assert c["Intercept"] == pytest.approx((a + b * pcn_mean.mean() - y.mean()) / s_y, abs=1e-8)
    assert list(fit.coefs.index) == ["Intercept", *wm.seed_terms("attendances")]


def sim_panel(n_pcn=17, n_q=12, beta=-20.0, noise=20.0, seed=1):
    rng = np.random.default_rng(seed)
    season = {1: 0, 4: 80, 7: -50, 10: 120}
    rows = []
    for i in range(n_pcn):
        pop = int(rng.integers(30000, 90000))
        level = rng.normal(3000, 400)
        fte0 = rng.uniform(0, 2)
        for j, qs in enumerate(quarters(n_q, "2020-04-01")):
            fte = max(0.0, fte0 + 0.15 * j + rng.normal(0, 0.4))
            rate = level + 40 * j + season[qs.month] + beta * fte / pop * 1e5 + rng.normal(0, noise)
            rows.append(dict(pcn=f"PCN {i:02d}", quarter_start=qs, registered_population=pop, splw_fte=fte,
                             ae_attendances=rate * pop / 1e5, nonelective_cost_gbp=rate * 300 * pop / 1e5))
    return pd.DataFrame(rows)


def test_fixed_effects_alternative_recovers_planted_coefficient():
    df = wm.prepare(sim_panel(n_pcn=30, beta=-20.0))
    fe = wm.fit_fixed_effects(df, "attendances")
    assert fe.coef == pytest.approx(-20.0, abs=1.5)
    assert fe.lo < -20.0 < fe.hi
    assert fe.df == 29 and fe.n_pcns == 30 and fe.nobs == 360
    cost = wm.fit_fixed_effects(df, "cost")
    assert cost.coef == pytest.approx(-20.0 * 300, rel=0.08)


def test_fixed_effects_not_estimable_without_within_pcn_change():
    p = sim_panel(n_pcn=5, n_q=8)
    p["splw_fte"] = p["registered_population"] / 1e5 * 2  # 2 FTE per 100,000 everywhere, always
    p.loc[p["pcn"] == "PCN 00", "splw_fte"] *= 1.5  # differs between PCNs, never within one
    df = wm.prepare(p)
    assert isinstance(wm.fit_fixed_effects(df, "attendances"), str)


def test_seed_design_degrees_of_freedom():
    """17 PCNs x 12 quarters as in the seed: F on 11 and 192 df."""
    raw = workforce.compute(extract(sim_panel()), load_settings())
    out = release(workforce.publish, raw, DisclosureSettings()).data
    m = out["seed_models"]["attendances"]
    assert m["f_df"] == [11, 192] and m["n"] == 204
    assert [r["term"] for r in m["coefficients"]][:2] == ["(Intercept)", "PCN_attendances"]
    assert [r["row"] for r in m["coefficients"]] == list(range(12))
    assert out["panel"]["years"] == ["2020/21", "2021/22", "2022/23"]
    assert out["n_tests"] == 22
    assert out["alternative"]["attendances"]["status"] == "ok"
    assert out["by_quarter"]["2020-04-01"]["label"] == "Apr–Jun 2020"
    assert out["by_quarter"]["2020-04-01"]["quarter"] == "Q_Jun"


def test_significance_codes_holm_and_p_text():
    assert [wm.stars(p) for p in (0.0005, 0.0025, 0.03, 0.07, 0.2)] == ["***", "**", "*", ".", ""]
    assert holm({"a": 0.01, "b": 0.04, "c": 0.03}) == pytest.approx({"a": 0.03, "b": 0.06, "c": 0.06})
    assert wm.r_p_text(1e-20) == "<2e-16"
    assert wm.r_p_text(4.88e-10) == "4.88e-10"
    assert wm.r_p_text(0.650121) == "0.6501"


def test_disclosure_small_quarter_totals_and_no_pcn_quarter_cells():
    p = sim_panel(n_pcn=3, n_q=8, seed=4)
    first = p["quarter_start"] == p["quarter_start"].min()
    p.loc[first, "ae_attendances"] = [1.0, 2.0, 2.0]  # a quarter total of 5: must not be shown
    raw = workforce.compute(extract(p), load_settings())
    pub = release(workforce.publish, raw, DisclosureSettings())
    out = pub.data
    q0 = out["by_quarter"][p["quarter_start"].min().strftime("%Y-%m-%d")]
    assert q0["ae_attendances"] is None and q0["ae_per_100k"] is None
    assert f"by_quarter.{p['quarter_start'].min():%Y-%m-%d}.ae_attendances" in pub.suppressed
    other = out["by_quarter"][p["quarter_start"].max().strftime("%Y-%m-%d")]
    assert other["ae_attendances"] % 5 == 0  # rounded
    text = json.dumps(out)
    assert "PCN 00" not in text  # no PCN is named, so no PCN-quarter cell can be read off
    # coefficients are published (aggregate data, not people)
    assert all(r["coefficient"] is not None for r in out["seed_models"]["attendances"]["coefficients"])


def test_a_quarter_rate_comes_from_the_rounded_total():
    """The old section divided the exact A&E total by the registered population: 7144.7 per 100,000
    of 215,000 gave back 15,361 attendances where the count showed 15,360. The rate is now the
    rounded count over the population, so it back-solves only to the rounded count."""
    raw = workforce.compute(extract(sim_panel()), load_settings())
    out = release(workforce.publish, raw, DisclosureSettings()).data
    for key, q in out["by_quarter"].items():
        exact = raw.panel.loc[raw.panel["period"] == key, "ae_attendances"].sum()
        assert q["ae_attendances"] % 5 == 0
        assert q["ae_per_100k"] == round(q["ae_attendances"] / q["registered_population"] * wm.PER, 1)
        back = q["ae_per_100k"] * q["registered_population"] / wm.PER
        assert abs(back - q["ae_attendances"]) < abs(back - exact) or q["ae_attendances"] == round(exact)


def test_not_run_reasons():
    s = load_settings()
    assert "no `pcn_quarterly`" in wm.availability(Extract(extract(hand_panel()).config, {}, "0"), s)
    one = hand_panel()
    one = one[one["pcn"] == "A"]
    assert "1 PCN(s)" in wm.availability(extract(one), s)
    short = hand_panel()
    short = short[short["quarter_start"] < "2023-01-01"]  # 4 quarters
    assert "4 quarter(s)" in wm.availability(extract(short), s)
    dup = pd.concat([hand_panel(), hand_panel().iloc[[0]]])
    assert "more than one row" in wm.availability(extract(dup), s)
    assert wm.availability(extract(hand_panel()), s) is None
    with pytest.raises(NotAvailable):
        workforce.compute(extract(short), s)


def test_tiny_fixture_has_too_few_quarters():
    from pathlib import Path

    p = pd.read_csv(Path(__file__).parent / "fixtures" / "tiny" / "pcn_quarterly.csv", parse_dates=["quarter_start"])
    reason = wm.availability(extract(p), load_settings())
    assert reason and "2 PCN(s) and 4 quarter(s)" in reason


# ------------------------------------------------------------------ the wild cluster bootstrap (few PCNs)
def fe_design(n_pcn, seed=3):
    import statsmodels.formula.api as smf

    df = wm.prepare(sim_panel(n_pcn=n_pcn, n_q=12, seed=seed, beta=-20, noise=60))
    res = smf.ols("attendances_rate ~ sp_rate + C(pcn) + C(period)", data=df).fit()
    return df, res


def test_wild_bootstrap_agrees_with_wildboottest():
    """The same p-value as the ``wildboottest`` package (0.3.2) given the same weights: Rademacher
    with every combination (the package enumerates when 2^G < B), and Webb weights drawn as the
    package draws them from its seed."""
    import itertools

    import statsmodels.api as sm
    from wildboottest.wildboottest import wildboottest

    from pipeline.analyses.wildboot import WildCluster

    df, res = fe_design(6)
    X, y, j = res.model.exog, res.model.endog, res.model.exog_names.index("sp_rate")
    codes = pd.factorize(df["pcn"])[0]
    model = sm.OLS(y, pd.DataFrame(X, columns=res.model.exog_names))
    rademacher = np.array(list(itertools.product([-1, 1], repeat=6))).T
    t, p = WildCluster(X, y, codes, j, weights=rademacher).test(0.0)
    with pytest.warns(UserWarning, match="full_enumeration"):
        ref = wildboottest(model, B=99999, cluster=codes, param="sp_rate", weights_type="rademacher", seed=1,
                           show=False)
    assert t == pytest.approx(float(ref["statistic"].iloc[0])) and p == float(ref["p-value"].iloc[0])
    webb = np.random.default_rng(7).choice(np.concatenate([-np.sqrt(np.array([3, 2, 1]) / 2),
                                                           np.sqrt(np.array([1, 2, 3]) / 2)]), size=6 * 999)
    _, p = WildCluster(X, y, codes, j, weights=webb.reshape(6, 999)).test(0.0)
    ref = wildboottest(model, B=999, cluster=codes, param="sp_rate", weights_type="webb", seed=7, show=False)
    assert p == float(ref["p-value"].iloc[0])
    assert t == pytest.approx(res.params["sp_rate"] / res.get_robustcov_results("cluster", groups=codes).bse[j])


def test_wild_interval_inverts_the_test_and_is_deterministic():
    from pipeline.analyses.wildboot import WildCluster, wild_cluster_bootstrap

    df, res = fe_design(6)
    X, y, j = res.model.exog, res.model.endog, res.model.exog_names.index("sp_rate")
    groups = df["pcn"].to_numpy()
    r = wild_cluster_bootstrap(X, y, groups, j)
    assert r.enumerated and r.draws == 6 ** 6 and r.clusters == 6
    assert r.lo < res.params["sp_rate"] < r.hi
    wb = WildCluster(X, y, groups, j)
    step, b = 1e-3 * wb.cr1_se(), res.params["sp_rate"]
    assert wb.test(r.lo - step)[1] <= 0.05 and wb.test(r.hi + step)[1] <= 0.05  # just outside: rejected
    assert min(wb.test(x)[1] for x in ((r.lo + b) / 2, b, (b + r.hi) / 2)) > 0.05  # inside: not
    assert wild_cluster_bootstrap(X, y, groups, j) == r  # full enumeration: no randomness at all
    df8, res8 = fe_design(8)
    args = (res8.model.exog, res8.model.endog, df8["pcn"].to_numpy(), res8.model.exog_names.index("sp_rate"))
    r8 = wild_cluster_bootstrap(*args)
    assert not r8.enumerated and r8.draws == 9_999 and wild_cluster_bootstrap(*args) == r8  # seeded


def test_with_few_pcns_the_bootstrap_is_the_published_inference():
    """Six PCNs: the published p-value and interval are the wild cluster bootstrap's (the old section
    published the CR1 p, 0.023 for Merton's cost coefficient where the bootstrap gives 0.18); CR1
    is kept as a secondary line."""
    raw = workforce.compute(extract(sim_panel(n_pcn=6, n_q=12, seed=3, beta=-20, noise=60)), load_settings())
    out = release(workforce.publish, raw, DisclosureSettings()).data
    a, fe = out["alternative"]["attendances"], raw.fe["attendances"]
    assert fe.wild is not None and a["bootstrap"]["full_enumeration"] is True
    assert a["p_value"] == round(fe.wild.p, 4) != round(fe.p, 4)
    assert a["ci95"] == [round(fe.wild.lo, 2), round(fe.wild.hi, 2)]
    assert a["cr1"]["p_value"] == pytest.approx(fe.p, abs=1e-6) and a["cr1"]["df"] == 5
    assert "wild cluster bootstrap" in a["inference"] and "wild cluster bootstrap" in workforce.reading(out)
    many = workforce.compute(extract(sim_panel(n_pcn=30)), load_settings())
    alt = release(workforce.publish, many, DisclosureSettings()).data["alternative"]["attendances"]
    assert alt["bootstrap"] is None and alt["p_value"] == alt["cr1"]["p_value"]


def test_coefficient_table_holds_every_published_term_but_the_intercept():
    raw = workforce.compute(extract(sim_panel()), load_settings())
    out = release(workforce.publish, raw, DisclosureSettings()).data
    t = workforce.coefficient_table(out)
    assert list(t.columns) == ["Outcome", "Term", "Coefficient (SD units)", "95% CI low", "95% CI high"]
    expected = [[m["outcome"], r["term"], r["coefficient"], *r["ci95"]]
                for m in out["seed_models"].values() for r in m["coefficients"] if r["row"] > 0]
    assert t.values.tolist() == expected and len(expected) == 22
    assert "(Intercept)" not in set(t["Term"])
    hidden = json.loads(json.dumps(out))
    row = hidden["seed_models"]["attendances"]["coefficients"][1]
    row["coefficient"], row["ci95"] = None, None  # as the layer publishes a withheld estimate
    line = nb.csv_text(workforce.coefficient_table(hidden)).splitlines()[1]
    assert line.endswith("PCN_attendances,[c],[c],[c]")
