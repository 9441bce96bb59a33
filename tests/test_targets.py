"""Clinical targets by risk band: the contract's method on hand-made extracts with hand-computed
answers, the paired test and its multiplicity correction, the ordinal model, disclosure control
through the section's release (every count a cell tied to the counts it is part of), checks
judged on published figures, the executive summary's rows, and recovery of the synthetic
generator's planted measured/met probabilities."""

import json
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from notebook_runs import TINY, run_notebook
from scipy import stats

from pipeline.analyses import poisson_fe as P
from pipeline.analyses import stats as S
from pipeline.analyses import targets as T
from pipeline.analyses.targets import models as M
from pipeline.config import DisclosureSettings, load_settings
from pipeline.contract import TABLES
from pipeline.disclosure import release
from pipeline.extract import Extract, ExtractConfig

END = date(2024, 3, 31)
REF_DEFAULTS = dict(practice_code="A12345", pcn="PCN 1", referral_date="2022-06-01", referral_source="gp",
                    referral_reason="other", age=60, gender="female", ethnicity="white", risk_band="high",
                    diabetes=True, severe_mental_illness=False)
OFF = DisclosureSettings(enabled=False)


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


def make_extract(referrals: list[dict], measurements: list[tuple], end: date = END,
                 deaths: list[tuple] | None = None) -> Extract:
    refs = pd.DataFrame([{**REF_DEFAULTS, **r} for r in referrals])  # explicit None stays missing
    if "referral_id" not in refs:
        refs["referral_id"] = [f"R{i:03d}" for i in range(len(refs))]
    cm = pd.DataFrame(measurements, columns=["patient_id", "measurement_date", "measure", "value"])
    cfg = ExtractConfig(slug="test", borough="Test", ons_code="E09000099", extract_start=date(2022, 4, 1),
                        extract_end=end, registered_population=10000)
    tables = {"referrals": typed("referrals", refs, REF_DEFAULTS), "clinical_measurements": typed("clinical_measurements", cm)}
    if deaths is not None:
        tables["deaths"] = typed("deaths", pd.DataFrame(deaths, columns=["patient_id", "date_of_death"]))
    return Extract(cfg, tables, sha256="0" * 64)


def day(base: str, offset: int) -> pd.Timestamp:
    return pd.Timestamp(base) + pd.Timedelta(days=offset)


FC = "2023-01-10"  # first contact of the hand-made patients


def statuses(raw, cohort="diabetes"):
    return raw.cohorts[cohort].patients.set_index("patient_id")


# ------------------------------------------------------------------------------ windows and rules
def test_windows_latest_measurement_and_contact_day():
    refs = [dict(patient_id=p, referral_date="2023-01-02", first_contact_date=FC) for p in ("P1", "P2", "P3", "P4")]
    m = [
        # P1: the contact day counts in neither window; day -365 is the first day of the prior window,
        # +365 the last of the after window; -366 and +366 are outside
        ("P1", day(FC, 0), "hba1c", 50), ("P1", day(FC, -365), "hba1c", 50), ("P1", day(FC, -366), "hba1c", 70),
        ("P1", day(FC, 365), "hba1c", 70), ("P1", day(FC, 366), "hba1c", 50),
        # P2: the latest measurement decides, an earlier met one does not count
        ("P2", day(FC, -200), "hba1c", 50), ("P2", day(FC, -10), "hba1c", 70),
        ("P2", day(FC, 10), "hba1c", 70), ("P2", day(FC, 300), "hba1c", 58),  # 58 <= 58: met
        # P3: several readings on the latest day: the lowest counts (QOF); cholesterol < 5 is strict
        ("P3", day(FC, -30), "hba1c", 70), ("P3", day(FC, -30), "hba1c", 57), ("P3", day(FC, -30), "hba1c", 65),
        ("P3", day(FC, 30), "total_cholesterol", 5.0), ("P3", day(FC, 30), "total_cholesterol", 5.3),
        # P4: only on the contact day: not measured in either window
        ("P4", day(FC, 0), "hba1c", 40),
    ]
    st = statuses(T.compute(make_extract(refs, m), load_settings()))
    assert st.loc["P1", ["hba1c_prior", "hba1c_after"]].tolist() == ["met", "not_met"]
    assert st.loc["P2", ["hba1c_prior", "hba1c_after"]].tolist() == ["not_met", "met"]
    assert st.loc["P3", "hba1c_prior"] == "met"
    assert st.loc["P3", "cholesterol_after"] == "not_met"  # lowest 5.0 is not < 5
    assert st.loc["P3", "cholesterol_prior"] == "not_measured"
    assert st.loc["P4", ["hba1c_prior", "hba1c_after"]].tolist() == ["not_measured", "not_measured"]


def test_blood_pressure_needs_a_same_day_pair_lowest_of_each():
    refs = [dict(patient_id=p, referral_date="2023-01-02", first_contact_date=FC) for p in ("P1", "P2", "P3")]
    m = [
        # P1 prior: a pair on day -100 (met), a later systolic-only reading (ignored: no pair that day)
        ("P1", day(FC, -100), "systolic_bp", 130), ("P1", day(FC, -100), "diastolic_bp", 75),
        ("P1", day(FC, -20), "systolic_bp", 170),
        # P1 after: latest pair day +50 has two readings of each: the lowest systolic (138) and lowest diastolic
        # (79) count, even from different readings -> met; an earlier failing pair does not count
        ("P1", day(FC, 20), "systolic_bp", 160), ("P1", day(FC, 20), "diastolic_bp", 95),
        ("P1", day(FC, 50), "systolic_bp", 150), ("P1", day(FC, 50), "diastolic_bp", 79),
        ("P1", day(FC, 50), "systolic_bp", 138), ("P1", day(FC, 50), "diastolic_bp", 90),
        # P2: systolic and diastolic on different days only: not measured; boundary 140/80 is met
        ("P2", day(FC, -50), "systolic_bp", 120), ("P2", day(FC, -49), "diastolic_bp", 70),
        ("P2", day(FC, 80), "systolic_bp", 140), ("P2", day(FC, 80), "diastolic_bp", 80),
        # P3: 141/80 and 140/81 fail
        ("P3", day(FC, -5), "systolic_bp", 141), ("P3", day(FC, -5), "diastolic_bp", 80),
        ("P3", day(FC, 5), "systolic_bp", 140), ("P3", day(FC, 5), "diastolic_bp", 81),
    ]
    st = statuses(T.compute(make_extract(refs, m), load_settings()))
    assert st.loc["P1", ["blood_pressure_prior", "blood_pressure_after"]].tolist() == ["met", "met"]
    assert st.loc["P2", ["blood_pressure_prior", "blood_pressure_after"]].tolist() == ["not_measured", "met"]
    assert st.loc["P3", ["blood_pressure_prior", "blood_pressure_after"]].tolist() == ["not_met", "not_met"]


def test_eligibility_index_referral_and_cohort_membership():
    refs = [
        # first contact + 365 = 2024-03-31 = extract_end: eligible; one day later: not
        dict(patient_id="EDGE_IN", first_contact_date="2023-04-01", referral_date="2023-03-20"),
        dict(patient_id="EDGE_OUT", first_contact_date="2023-04-02", referral_date="2023-03-20"),
        # never seen: not eligible
        dict(patient_id="NEVER", first_contact_date=None),
        # two referrals: the earliest has no first contact, so the index is the next one (its band and flags)
        dict(patient_id="TWO", referral_date="2022-05-01", first_contact_date=None, risk_band="low"),
        dict(patient_id="TWO", referral_date="2022-09-01", first_contact_date="2022-09-05", risk_band="medium"),
        dict(patient_id="TWO", referral_date="2023-01-01", first_contact_date="2023-01-05", risk_band="very_high"),
        # register flags: missing = not on the register
        dict(patient_id="NODIAB", first_contact_date=FC, diabetes=False),
        dict(patient_id="UNKNOWN", first_contact_date=FC, diabetes=None),
        dict(patient_id="BOTH", first_contact_date=FC, severe_mental_illness=True, risk_band=None),
    ]
    raw = T.compute(make_extract(refs, []), load_settings())
    d = statuses(raw)
    assert set(d.index) == {"EDGE_IN", "TWO", "BOTH"}
    assert d.loc["TWO", "risk_band"] == "medium"
    assert d.loc["TWO", "first_contact_date"] == pd.Timestamp("2022-09-05")
    assert raw.cohorts["diabetes"].flow == {"index_patients_in_cohort": 4, "excluded_short_follow_up": 1,
                                            "eligible": 3, "missing_risk_band": 1}
    assert set(statuses(raw, "severe_mental_illness").index) == {"BOTH"}


def test_thresholds_and_window_come_from_settings(tmp_path):
    refs = [dict(patient_id="P1", first_contact_date=FC)]
    m = [("P1", day(FC, -10), "hba1c", 55), ("P1", day(FC, 200), "hba1c", 55)]
    ex = make_extract(refs, m)
    assert statuses(T.compute(ex, load_settings())).loc["P1", "hba1c_prior"] == "met"
    (tmp_path / "settings.yml").write_text(
        "targets:\n  window_days: 100\n  cohorts:\n    diabetes:\n"
        "      - {name: hba1c, measure: hba1c, op: '<=', value: 53}\n")
    st = statuses(T.compute(ex, load_settings(tmp_path)))
    assert st.loc["P1", "hba1c_prior"] == "not_met" and st.loc["P1", "hba1c_after"] == "not_measured"
    out = release(T.publish, T.compute(ex, load_settings(tmp_path)), OFF).data
    assert set(out["diabetes"]["high"]["prior_pct"]) == {"0", "1"}  # one configured target
    # a cohort left out of the settings keeps the contract's shape
    assert set(out["severe_mental_illness"]["low"]["prior_pct"]) == {"0", "1", "2", "3", "4"}


def test_unknown_measure_in_settings_is_refused(tmp_path):
    from pipeline.errors import ConfigError

    (tmp_path / "settings.yml").write_text(
        "targets:\n  cohorts:\n    diabetes:\n      - {name: x, measure: hbaic, op: '<=', value: 53}\n")
    with pytest.raises(ConfigError, match="unknown measure"):
        load_settings(tmp_path)


# ------------------------------------------------------------------------------ distribution by hand
def band_extract():
    """High band, 10 diabetes patients. Prior: P0..P5 meet 0 targets, P6..P8 meet 1 (hba1c), P9 meets 3.
    After: P0, P1 meet 0; P2..P5 meet 2 (hba1c, cholesterol); P6..P9 meet 3. Medium band: 1 patient (0 -> 1).
    Very high and low bands: nobody."""
    refs, m = [], []
    for i in range(10):
        p = f"P{i}"
        refs.append(dict(patient_id=p, first_contact_date=FC))
        if 6 <= i <= 8:
            m.append((p, day(FC, -30), "hba1c", 50))
        if i == 9:
            m += [(p, day(FC, -30), "hba1c", 50), (p, day(FC, -30), "total_cholesterol", 4),
                  (p, day(FC, -30), "systolic_bp", 120), (p, day(FC, -30), "diastolic_bp", 70)]
        if 2 <= i:
            m += [(p, day(FC, 30), "hba1c", 50), (p, day(FC, 30), "total_cholesterol", 4)]
        if 6 <= i:
            m += [(p, day(FC, 30), "systolic_bp", 120), (p, day(FC, 30), "diastolic_bp", 70)]
    refs.append(dict(patient_id="M0", first_contact_date=FC, risk_band="medium"))
    m.append(("M0", day(FC, 40), "hba1c", 50))
    return make_extract(refs, m)


def test_distribution_by_hand_and_contract_shape():
    raw = T.compute(band_extract(), load_settings())
    pub = release(T.publish, raw, OFF)
    out = pub.data
    h = out["diabetes"]["high"]
    assert h["n"] == 10
    assert h["prior_pct"] == {"0": 60.0, "1": 30.0, "2": 0.0, "3": 10.0}
    assert h["after_pct"] == {"0": 20.0, "1": 0.0, "2": 40.0, "3": 40.0}
    # change: met more P2..P8 (7), same P0, P1, P9 (3)
    assert h["change_pct"] == {"met_more": 70.0, "same": 30.0, "met_fewer": 0.0}
    for cohort, keys in (("diabetes", {"0", "1", "2", "3"}), ("severe_mental_illness", {"0", "1", "2", "3", "4"})):
        assert set(out[cohort]) == set(T.BANDS)
        for b in T.BANDS:
            assert set(out[cohort][b]["prior_pct"]) == keys and set(out[cohort][b]["after_pct"]) == keys
            assert "n" in out[cohort][b]
    assert out["diabetes"]["low"]["n"] == 0 and out["diabetes"]["low"]["prior_pct"]["0"] is None
    assert "diabetes.low.prior_pct.0" in pub.not_estimable and not pub.suppressed
    # not met vs not measured, over the cohort (11 patients): hba1c prior measured P6..P9 (4), all met
    hb = out["detail"]["diabetes"]["by_target"]["hba1c"]
    assert hb["prior"] == {"n": 11, "measured_pct": pytest.approx(4 / 11 * 100, abs=0.05), "met_pct":
                           pytest.approx(4 / 11 * 100, abs=0.05), "met_if_measured_pct": 100.0}
    assert hb["after"]["measured_pct"] == pytest.approx(9 / 11 * 100, abs=0.05)
    json.dumps(out, allow_nan=False)


def test_paired_test_and_holm_in_publish():
    raw = T.compute(band_extract(), load_settings())
    # high band: prior x after table over categories 0..3
    #   prior 0 -> after 0: P0, P1; prior 0 -> after 2: P2..P5; prior 1 -> after 3: P6..P8; prior 3 -> after 3: P9
    tab = np.zeros((4, 4))
    tab[0, 0], tab[0, 2], tab[1, 3], tab[3, 3] = 2, 4, 3, 1
    expect = S.stuart_maxwell(tab)
    t = raw.cohorts["diabetes"].tests["high"]
    assert (t.statistic, t.df) == (pytest.approx(expect.statistic), expect.df)
    out = release(T.publish, raw, OFF).data
    # the medium band (1 patient, 0 -> 1) is a family member too: Holm over 2 tests
    pm = raw.cohorts["diabetes"].tests["medium"].p_value
    adj = S.holm({"high": t.p_value, "medium": pm})
    assert out["diabetes"]["high"]["test"]["p_holm"] == round(adj["high"], 4)
    assert out["diabetes"]["low"]["test"]["status"] == "empty"


# ------------------------------------------------------------------------------ statistics
def test_stuart_maxwell_by_hand():
    # rows 35, 40, 25; columns 24, 42, 34: d = (11, -2); S = [[19, -13], [-13, 22]], det 249;
    # chi2 = (22*121 - 2*13*22 + 19*4) / 249 = 2166 / 249 on 2 df
    r = S.stuart_maxwell(np.array([[20, 10, 5], [3, 30, 7], [1, 2, 22]]))
    assert r.statistic == pytest.approx(2166 / 249) and r.df == 2
    assert r.p_value == pytest.approx(stats.chi2.sf(2166 / 249, 2))
    # 2 x 2: McNemar without continuity correction, (b - c)^2 / (b + c)
    r2 = S.stuart_maxwell(np.array([[10, 9], [3, 20]]))
    assert r2.statistic == pytest.approx(36 / 12) and r2.df == 1


def test_stuart_maxwell_degenerate_tables():
    assert S.stuart_maxwell(np.zeros((3, 3))).status == "empty"
    assert S.stuart_maxwell(np.array([[5, 0], [0, 0]])).status == "one_category"
    nc = S.stuart_maxwell(np.diag([3, 4, 0]))
    assert nc.status == "no_change" and nc.p_value == 1.0
    # everyone moves 0 -> 1: the 2 x 2 has b = 4, c = 0: chi2 = 4
    mv = S.stuart_maxwell(np.array([[0, 4], [0, 0]]))
    assert mv.statistic == pytest.approx(4.0) and mv.df == 1
    with pytest.raises(ValueError):
        S.stuart_maxwell(np.zeros((2, 3)))


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 with m = 3: 0.03, 0.06, max(0.06, 0.04) = 0.06
    adj = S.holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": None, "e": float("nan")})
    assert adj == {"a": pytest.approx(0.03), "b": pytest.approx(0.06), "c": pytest.approx(0.06), "d": None, "e": None}
    assert S.holm({"a": 0.6, "b": 0.7}) == {"a": 1.0, "b": 1.0}


def simulated_patients(n=600, log_or=0.8, seed=1):
    """Two rows per patient; latent logistic with a shared patient effect; thresholds give 0..3."""
    rng = np.random.default_rng(seed)
    band = rng.choice(list(T.BANDS), n)
    u = rng.normal(0, 1.0, n)
    shift = pd.Series(band).map({"very_high": -0.3, "high": 0.0, "medium": 0.2, "low": 0.0}).to_numpy()
    rows = []
    for after in (0, 1):
        lat = log_or * after + shift + u + rng.logistic(size=n)
        met = np.digitize(lat, [0.0, 1.2, 2.4])
        rows.append(pd.DataFrame({"patient_id": [f"P{i}" for i in range(n)], "risk_band": band,
                                  f"met_{'after' if after else 'prior'}": met}))
    return rows[0].merge(rows[1], on=["patient_id", "risk_band"])


def test_ordinal_model_no_constant_clustered_and_recovers_direction():
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    pts = simulated_patients()
    main, inter, anyt, ref = M.fit_models(pts)
    assert ref == "low" and main.ok and inter.ok and anyt.ok
    assert "const" not in main.params.index and set(main.params.index) == {"after", "band_very_high", "band_high",
                                                                           "band_medium"}
    # same point estimates as a plain OrderedModel fit (only the covariance differs)
    long = M.long_format(pts)
    X = M.band_design(long, list(T.BANDS), "low", False)
    plain = OrderedModel(long["met"].to_numpy(), X, distr="logit").fit(method="bfgs", disp=0, maxiter=1000)
    assert main.params["after"] == pytest.approx(plain.params["after"], rel=1e-3)
    # a within-patient contrast with a shared patient effect: clustering changes the SE
    assert main.se("after") != pytest.approx(plain.bse["after"], rel=0.01)
    # the reported odds ratio is exp(coefficient) with a 95% Wald interval and p from the clustered SE
    est, lo, hi, p = main.ratio("after")
    b, se = main.params["after"], main.se("after")
    z = stats.norm.ppf(0.975)
    assert (est, lo, hi) == pytest.approx((math.exp(b), math.exp(b - z * se), math.exp(b + z * se)), rel=1e-9)
    assert p == pytest.approx(2 * stats.norm.sf(abs(b) / se), rel=1e-9)
    # the marginal (population-averaged) effect is attenuated from the planted 0.8 by the patient
    # effect, towards 0 but not past it: with n = 600 it is clearly positive
    assert 0.2 < b < 0.8, f"log odds ratio {b:.3f}"
    assert lo > 1, f"95% CI {lo:.2f} to {hi:.2f} should exclude 1"
    assert p < 0.001
    chi2, df, pw = inter.wald([k for k in inter.params.index if k.startswith("after_x_")])
    assert df == 3 and 0 <= pw <= 1


def test_ordinal_model_handles_an_empty_category():
    pts = simulated_patients(n=300, seed=2)
    pts.loc[pts["met_prior"] == 2, "met_prior"] = 1
    pts.loc[pts["met_after"] == 2, "met_after"] = 3  # nobody meets exactly 2
    main, *_ = M.fit_models(pts)
    assert main.ok and main.extra["levels"] == [0, 1, 3]


def test_poisson_fe_matches_glm_with_patient_dummies():
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(120), 3)
    x = rng.normal(size=len(g))
    off = np.log(rng.uniform(0.5, 2, len(g)))
    y = rng.poisson(np.exp(rng.normal(0, 1, 120)[g] + 0.4 * x + off))
    fe = P.poisson_fe(y, pd.DataFrame({"x": x}), g, offset=off)
    D = pd.get_dummies(pd.Series(g), dtype=float)
    glm = sm.GLM(y, pd.concat([pd.DataFrame({"x": x}), D], axis=1), family=sm.families.Poisson(), offset=off).fit()
    assert fe.params["x"] == pytest.approx(glm.params["x"], rel=1e-6)
    # weights: a group counted twice == weight 2
    w = np.where(g < 10, 2.0, 1.0)
    dup = g < 10
    fe2 = P.poisson_fe(np.r_[y, y[dup]], pd.DataFrame({"x": np.r_[x, x[dup]]}), np.r_[g, g[dup] + 1000],
                       offset=np.r_[off, off[dup]])
    fe3 = P.poisson_fe(y, pd.DataFrame({"x": x}), g, offset=off, weights=w)
    assert fe3.params["x"] == pytest.approx(fe2.params["x"], rel=1e-8)
    # a column constant within every group is not identified
    z = rng.normal(size=120)[g]
    fe4 = P.poisson_fe(y, pd.DataFrame({"x": x, "z": z}), g, offset=off)
    assert fe4.dropped == ["z"] and fe4.params["x"] == pytest.approx(fe.params["x"])


# ------------------------------------------------------------------------------ disclosure and flags
def test_disclosure_small_bands_and_group_suppression():
    refs = [dict(patient_id=f"H{i}", first_contact_date=FC) for i in range(40)]
    refs += [dict(patient_id=f"V{i}", first_contact_date=FC, risk_band="very_high") for i in range(3)]
    refs += [dict(patient_id=f"N{i}", first_contact_date=FC, risk_band=None) for i in range(20)]
    m = [(f"H{i}", day(FC, 20), "hba1c", 50) for i in range(30)]
    pub = release(T.publish, T.compute(make_extract(refs, m), load_settings()))
    out = pub.data
    vh = out["diabetes"]["very_high"]
    assert vh["n"] is None and all(v is None for v in vh["prior_pct"].values())
    assert "diabetes.very_high.n" in pub.suppressed
    # the 3 very-high patients cannot be recovered from the eligible total: another size is withheld too
    sizes = [out["diabetes"][b]["n"] for b in ("very_high", "high")] + \
        [out["detail"]["diabetes"]["flow"]["missing_risk_band"]]
    assert sum(v is None for v in sizes) >= 2
    assert out["diabetes"]["high"]["after_pct"]["1"] == 75.0  # 30 / 40, from rounded counts
    assert out["diabetes"]["high"]["after_pct"]["0"] == 25.0
    json.dumps(out, allow_nan=False)


def test_a_band_size_withheld_to_protect_another_withholds_its_percentages():
    """Very high 3, high 12, low 40: the 3 are withheld and, so that the eligible total does not give
    them away, the next smallest band (high, 12) too. Its percentages rest on its size: they are
    withheld with it (they were published over a rounded base of 10, which gave the size back)."""
    refs = [dict(patient_id=f"V{i}", first_contact_date=FC, risk_band="very_high") for i in range(3)]
    refs += [dict(patient_id=f"H{i}", first_contact_date=FC) for i in range(12)]
    refs += [dict(patient_id=f"L{i}", first_contact_date=FC, risk_band="low") for i in range(40)]
    m = [(f"H{i}", day(FC, 20), "hba1c", 50) for i in range(6)]
    pub = release(T.publish, T.compute(make_extract(refs, m), load_settings()))
    high = pub.data["diabetes"]["high"]
    assert high["n"] is None and "diabetes.high.n" in pub.suppressed
    for key in ("prior_pct", "after_pct", "change_pct"):
        assert all(v is None for v in high[key].values()), key
    assert pub.data["diabetes"]["low"]["n"] == 40 and pub.data["detail"]["diabetes"]["flow"]["eligible"] == 55


def test_a_measured_share_whose_complement_is_small_is_withheld():
    """40 eligible, 37 with an HbA1c before first contact: the 3 not measured are withheld, so the
    measured share (which with the eligible count gives them back) is withheld too, and with it the
    share met among those measured."""
    refs = [dict(patient_id=f"P{i}", first_contact_date=FC) for i in range(40)]
    m = [(f"P{i}", day(FC, -20), "hba1c", 50 if i < 20 else 70) for i in range(37)]
    pub = release(T.publish, T.compute(make_extract(refs, m), load_settings()))
    hb = pub.data["detail"]["diabetes"]["by_target"]["hba1c"]["prior"]
    assert hb["n"] == 40
    assert hb["measured_pct"] is None and hb["met_if_measured_pct"] is None
    assert "detail.diabetes.by_target.hba1c.prior.measured_pct" in pub.suppressed
    assert release(T.publish, T.compute(make_extract(refs, m), load_settings()), OFF).data[
        "detail"]["diabetes"]["by_target"]["hba1c"]["prior"]["measured_pct"] == 92.5


def test_small_random_extracts_publish_without_error_or_small_counts():
    """Sparse, small extracts (bands with a handful of patients, whole tables in one cell) through the
    release: nothing raises (a chain of equal counts as separate cells could stop the layer's
    protection step; a model whose numerical variance is negative could stop the odds ratio's SE),
    the result is JSON, and the independent scanner finds no small count."""
    from scan import small_counts_in_json

    rng = np.random.default_rng(7)
    measures = (("hba1c", 50, 70), ("total_cholesterol", 4, 6), ("bmi", 25, 35), ("smoking_status", 0, 1),
                ("alcohol_units_week", 5, 30))
    for _ in range(12):
        n = int(rng.integers(3, 60))
        band = rng.choice(["very_high", "high", "medium", "low", None], n, p=rng.dirichlet(np.ones(5) * 0.7))
        smi = rng.random(n) < rng.random()
        refs = [dict(patient_id=f"P{i}", first_contact_date=FC, risk_band=band[i], diabetes=bool(not smi[i]),
                     severe_mental_illness=bool(smi[i])) for i in range(n)]
        m, pm = [], rng.random()
        for i in range(n):
            for sign in (-1, 1):
                m += [(f"P{i}", day(FC, sign * int(rng.integers(1, 300))), name, good if rng.random() < 0.5 else bad)
                      for name, good, bad in measures if rng.random() < pm]
        out = release(T.publish, T.compute(make_extract(refs, m), load_settings())).data
        json.dumps(out, allow_nan=False)
        assert small_counts_in_json({"targets": out}) == []


def test_an_odds_ratio_with_a_negative_numerical_variance_has_no_interval():
    """A cluster sandwich can come out with a (numerically) negative variance on a tiny sample: the
    odds ratio's interval and p-value are then not estimable, not a crash (math domain error)."""
    fit = S.FitResult("m", pd.Series({"after": 0.5}), pd.DataFrame([[-1e-9]], index=["after"], columns=["after"]))
    est, lo, hi, p = fit.ratio("after")
    assert est == pytest.approx(math.exp(0.5)) and all(math.isnan(x) for x in (lo, hi, p))


def test_checks_raised_automatically_from_published_figures():
    out = release(T.publish, T.compute(band_extract(), load_settings()), OFF).data
    codes = {(f["code"], f.get("window"), f.get("band")) for f in T.flags(out, "diabetes")}
    assert ("small_band", None, "high") in codes and ("small_band", None, "medium") in codes
    assert ("empty_band", None, "low") in codes
    assert not any(c[0] == "no_patient_met_all_targets" for c in codes)  # P9 met all 3 in both windows
    smi = {f["code"] for f in T.flags(out, "severe_mental_illness")}
    assert "no_patient_met_all_targets" not in smi  # nobody eligible: nothing to flag
    refs = [dict(patient_id=f"P{i}", first_contact_date=FC) for i in range(40)]
    m = [(f"P{i}", day(FC, 20), "hba1c", 50) for i in range(40)]
    out2 = release(T.publish, T.compute(make_extract(refs, m), load_settings()), OFF).data
    f2 = {(f["code"], f.get("window")) for f in T.flags(out2, "diabetes")}
    assert ("no_patient_met_all_targets", "prior") in f2 and ("no_patient_met_all_targets", "after") in f2
    assert ("measurement_rise", None) in f2
    text = T.reading(out2)
    assert "No patient in any risk band met all 3 targets" in text and "no comparison group" in text


def test_small_band_check_is_judged_on_the_published_size():
    """28 patients in the high band are published as 30. A check judged on the exact size ("fewer than
    30") would tell a reader the band holds 28 or 29, narrowing the rounding; judged on the published
    size it is not raised. A band whose size is withheld is raised as too small to publish."""
    refs = [dict(patient_id=f"H{i}", first_contact_date=FC) for i in range(28)]
    refs += [dict(patient_id=f"L{i}", first_contact_date=FC, risk_band="low") for i in range(40)]
    refs += [dict(patient_id=f"V{i}", first_contact_date=FC, risk_band="very_high") for i in range(3)]
    refs += [dict(patient_id=f"N{i}", first_contact_date=FC, risk_band=None) for i in range(10)]  # hidden with V
    out = release(T.publish, T.compute(make_extract(refs, []), load_settings())).data
    assert out["diabetes"]["high"]["n"] == 30
    small = {f["band"]: f["message"] for f in T.flags(out, "diabetes") if f["code"] == "small_band"}
    assert "high" not in small
    assert "too small to publish" in small["very_high"]


def test_tiny_fixture_by_hand():
    """tests/fixtures/tiny: diabetes P001 (high; first contact 2022-04-19): prior 2021-11-02 hba1c 64,
    cholesterol 5.4, BP 148/86 -> 0 met; after 2022-11-14 56, 4.8, 136/78 -> 3 met. P005 (high) and P006
    (very high) have no measurements -> 0 / 0. P010 (first contact 2023-12-04) is not eligible.
    SMI P002 (very high; 2022-05-10): prior smoker, BMI 31.2, alcohol 20 -> 0; after non-smoker, BMI 29.4 -> 2.
    P009 (first contact 2023-09-12) is not eligible."""
    from pipeline.load import load_extract

    ex = load_extract(TINY)
    out = release(T.publish, T.compute(ex, load_settings()), OFF).data
    d = out["diabetes"]
    assert d["high"]["n"] == 2 and d["high"]["prior_pct"] == {"0": 100.0, "1": 0.0, "2": 0.0, "3": 0.0}
    assert d["high"]["after_pct"] == {"0": 50.0, "1": 0.0, "2": 0.0, "3": 50.0}
    assert d["very_high"]["n"] == 1 and d["very_high"]["after_pct"]["0"] == 100.0
    assert d["high"]["test"]["statistic"] == 1.0 and d["high"]["test"]["p_value"] == round(stats.chi2.sf(1, 1), 4)
    s = out["severe_mental_illness"]["very_high"]
    assert s["n"] == 1 and s["prior_pct"]["0"] == 100.0 and s["after_pct"]["2"] == 100.0
    assert out["detail"]["diabetes"]["flow"]["excluded_short_follow_up"] == 1
    sm = out["detail"]["severe_mental_illness"]["by_target"]
    assert sm["smoking"]["after"]["met_pct"] == 100.0 and sm["blood_pressure"]["after"]["measured_pct"] == 0.0
    json.dumps(out, allow_nan=False)


def test_summary_reads_the_published_section():
    out = release(T.publish, T.compute(band_extract(), load_settings()), OFF).data
    heads = T.headlines(out)
    h = [x for x in heads if "diabetes" in x.measure]
    # 11 eligible: at least one target before P6..P9 (4), after P2..P9 and M0 (9)
    assert out["detail"]["diabetes"]["at_least_one_target_pct"] == {"prior": 36.4, "after": 81.8}
    assert h and h[0].value == "36% → 82%"


def test_share_meeting_a_target_is_a_published_figure_withheld_with_its_bands():
    """The executive summary used to weight the bands' published percentages by their published sizes
    itself, skipping any band whose figures were withheld (so a 'cohort' figure could describe one band
    of four). The section now publishes it, derived from every band's published size and share meeting
    none, and withholds it when one of them is withheld."""
    refs = [dict(patient_id=f"H{i}", first_contact_date=FC) for i in range(40)]
    refs += [dict(patient_id=f"L{i}", first_contact_date=FC, risk_band="low") for i in range(20)]
    m = [(f"H{i}", day(FC, 20), "hba1c", 50) for i in range(20)] + [(f"L{i}", day(FC, 20), "hba1c", 50)
                                                                      for i in range(17)]
    out = release(T.publish, T.compute(make_extract(refs, m), load_settings())).data
    d = out["detail"]["diabetes"]
    # high: 20 of 40 met one after; low: 17 of 20 (3 met none: withheld, and so the low band's share)
    assert out["diabetes"]["low"]["after_pct"]["0"] is None
    assert d["at_least_one_target_pct"] == {"prior": 0.0, "after": None}
    assert not [x for x in T.headlines(out) if "diabetes" in x.measure]
    m += [(f"L{i}", day(FC, 20), "hba1c", 50) for i in range(17, 20)]  # now all 20 met one: none is 0
    out = release(T.publish, T.compute(make_extract(refs, m), load_settings())).data
    d = out["detail"]["diabetes"]
    assert d["at_least_one_target_pct"] == {"prior": 0.0, "after": 66.7} and d["flow"]["with_risk_band"] == 60
    h = [x for x in T.headlines(out) if "diabetes" in x.measure]
    assert h[0].value == "0% → 67%" and "60 people with a risk band" in h[0].reading


# ------------------------------------------------------------------------------ statistical review
def test_reading_warns_of_regression_to_the_mean():
    out = release(T.publish, T.compute(band_extract(), load_settings()), OFF).data
    text = T.reading(out)
    assert "regression to the mean" in text and "referred when their numbers are bad" in text


def _non_proportional(pts, seed):
    """Move the 'after' distribution to the extremes: more meet none and more meet all, so the period's
    odds ratio is below 1 at the first cut-point and well above it at the last."""
    rng = np.random.default_rng(seed)
    pts = pts.copy()
    pts.loc[(pts["met_after"] == 2) & (rng.random(len(pts)) < 0.6), "met_after"] = 3
    pts.loc[(pts["met_after"] == 1) & (rng.random(len(pts)) < 0.5), "met_after"] = 0
    return pts


def test_proportional_odds_check_tells_proportional_from_not():
    from pipeline.analyses.targets.proportional_odds import brant_check

    def check(pts):
        long = M.long_format(pts)
        return brant_check(long["met"].to_numpy(), M.band_design(long, list(T.BANDS), "low", False),
                           long["patient_id"].to_numpy())

    ok = check(simulated_patients(n=600, seed=0))  # latent logistic with a common shift: proportional odds
    assert ok.status == "ok" and ok.cuts == [1, 2, 3]
    assert ok.period_test[1] == 2 and ok.period_test[2] > 0.05 and ok.overall[1] == 8 and ok.overall[2] > 0.05
    bad = check(_non_proportional(simulated_patients(n=600, seed=0), 0))
    assert bad.period_test[2] < 0.001
    assert bad.period[1][0] < bad.period[2][0] < bad.period[3][0]
    # one outcome level fewer than three: nothing to compare
    pts = simulated_patients(n=200, seed=1)
    pts[["met_prior", "met_after"]] = pts[["met_prior", "met_after"]].clip(upper=1)
    assert check(pts).status == "not_estimable"


def test_proportional_odds_first_cut_point_is_the_at_least_one_target_logit():
    """At the first cut-point the check's logit is the model of 'at least one target met': the same
    odds ratio as statsmodels' cluster-robust GLM, and an interval equal to its but for statsmodels'
    extra small-sample factor."""
    from pipeline.analyses.targets.proportional_odds import brant_check

    long = M.long_format(simulated_patients(n=600, seed=3))
    X = M.band_design(long, list(T.BANDS), "low", False)
    check = brant_check(long["met"].to_numpy(), X, long["patient_id"].to_numpy())
    ref = S.logit_cluster((long["met"].to_numpy() > 0).astype(float), X, long["patient_id"].to_numpy())
    est, lo, hi, p = ref.ratio("after")
    assert check.period[1][0] == pytest.approx(est, rel=1e-6)
    assert check.period[1][1] == pytest.approx(lo, rel=2e-3) and check.period[1][2] == pytest.approx(hi, rel=2e-3)


def test_proportional_odds_check_is_published_and_read():
    pts = _non_proportional(simulated_patients(n=600, seed=0), 0)
    refs = [dict(patient_id=r.patient_id, first_contact_date=FC, risk_band=r.risk_band) for r in pts.itertuples()]
    names = ("hba1c", "total_cholesterol", "blood_pressure")
    m = []
    for r in pts.itertuples():
        for sign, k in ((-1, r.met_prior), (1, r.met_after)):
            for name in names[:k]:
                d = day(FC, sign * 30)
                m += ([(r.patient_id, d, "systolic_bp", 120), (r.patient_id, d, "diastolic_bp", 70)]
                      if name == "blood_pressure" else [(r.patient_id, d, name, 4 if name != "hba1c" else 50)])
    out = release(T.publish, T.compute(make_extract(refs, m), load_settings())).data
    po = out["detail"]["diabetes"]["models"]["proportional_odds"]
    assert po["status"] == "ok" and set(po["period_odds_ratio_by_cut"]) == {"1", "2", "3"}
    assert po["period"]["df"] == 2 and po["period"]["p_value"] < 0.001 and po["overall"]["df"] == 8
    text = T.reading(out)
    assert "Proportional-odds check" in text and "They differ" in text


def _deaths_extract(n_died=10, extra_deaths=()):
    """40 high-band diabetes patients; P0..P19 meet the HbA1c target before first contact, the others
    are measured and do not; P0..P29 are measured after and meet it; P30.. are not measured after,
    and the first n_died of them died on day 100 after first contact."""
    refs = [dict(patient_id=f"P{i}", first_contact_date=FC) for i in range(40)]
    m = [(f"P{i}", day(FC, -30), "hba1c", 50 if i < 20 else 70) for i in range(40)]
    m += [(f"P{i}", day(FC, 30), "hba1c", 50) for i in range(30)]
    deaths = [(f"P{30 + i}", day(FC, 100)) for i in range(n_died)] + list(extra_deaths)
    return make_extract(refs, m, deaths=deaths)


def test_deaths_in_the_after_window_are_counted_and_left_out_in_a_sensitivity_analysis():
    # P0 died before first contact (inconsistent: not counted), P1 after the window; P2 on the contact day counts
    ex = _deaths_extract(6, [("P0", day(FC, -5)), ("P1", day(FC, 366)), ("P2", day(FC, 0))])
    raw = T.compute(ex, load_settings())
    c = raw.cohorts["diabetes"]
    assert c.died_after == 7 and c.patients.set_index("patient_id").loc["P2", "died_after"]
    out = release(T.publish, raw, OFF).data
    d = out["detail"]["diabetes"]
    assert d["flow"]["died_in_after_window"] == 7
    # the contract's figures keep the published method: death changes nothing in them
    without = release(T.publish, T.compute(_deaths_extract(0), load_settings()), OFF).data
    assert out["diabetes"] == without["diabetes"]
    # the sensitivity analysis is the main model without the 7
    ref = M.fit_main(c.patients[~c.patients["died_after"]]).ratio("after")
    assert d["excluding_deaths"]["period"]["odds_ratio"] == round(ref[0], 3)
    assert d["excluding_deaths"]["period"]["odds_ratio"] != d["models"]["period"]["odds_ratio"]
    text = T.prose.deaths_text(d)
    assert "7 eligible patients died" in text and "Without them the common odds ratio" in text


def test_few_deaths_withhold_the_count_and_the_sensitivity_analysis():
    pub = release(T.publish, T.compute(_deaths_extract(3), load_settings()))
    d = pub.data["detail"]["diabetes"]
    assert d["flow"]["died_in_after_window"] is None
    assert d["excluding_deaths"]["period"]["odds_ratio"] is None
    assert "detail.diabetes.excluding_deaths.period.odds_ratio" in pub.suppressed
    assert "not shown" in T.prose.deaths_text(d)


def test_without_a_deaths_table_deaths_are_not_counted_and_it_says_so():
    out = release(T.publish, T.compute(band_extract(), load_settings()), OFF).data
    d = out["detail"]["diabetes"]
    assert d["flow"]["died_in_after_window"] is None and d["excluding_deaths"] is None
    assert "no deaths table" in T.prose.deaths_text(d)


# ------------------------------------------------------------------------------ synthetic areas
def _synthetic_extract(slug, tmp_path):
    synthetic = pytest.importorskip("pipeline.synthetic")
    from pipeline.load import load_extract

    synthetic.generate(slug, tmp_path / slug)
    raw_dir = next(p.parent for p in sorted(tmp_path.rglob("extract.yml")))
    return synthetic, load_extract(raw_dir)


def test_synthetic_merton_recovers_planted_measured_and_met(tmp_path):
    synthetic, ex = _synthetic_extract("merton", tmp_path)
    planted = synthetic.PLANTED["targets"]
    raw = T.compute(ex, load_settings())
    out = release(T.publish, raw).data
    json.dumps(out, allow_nan=False)
    for w in T.WINDOWS:
        for bp in (False, True):
            n = measured = met = 0
            for c in raw.cohorts.values():
                for t in c.targets:
                    if (t.kind == "blood_pressure") != bp:
                        continue
                    s = c.patients[f"{t.name}_{w}"]
                    n, measured, met = n + len(s), measured + int((s != "not_measured").sum()), met + int((s == "met").sum())
            pm, pmet = planted["p_measured"][w], planted["p_met_if_measured"][w]
            se_m = math.sqrt(pm * (1 - pm) / n)
            se_met = math.sqrt(pmet * (1 - pmet) / measured)
            assert abs(measured / n - pm) <= 4 * se_m, (w, bp, measured / n)
            # blood pressure: the contract's QOF rule (lowest systolic and lowest diastolic of the day) can combine
            # two failing same-day readings into a met pair, which the generator does not allow for (~2 points)
            slack = 0.04 if bp else 0.0
            assert abs(met / measured - pmet) <= 4 * se_met + slack, (w, bp, met / measured)
    # the published cohort-level split shows the same
    d = out["detail"]["diabetes"]["by_target"]["hba1c"]
    assert d["after"]["measured_pct"] - d["prior"]["measured_pct"] > 10
    flags = {f["code"] for c in T.COHORTS for f in T.flags(out, c)}
    assert "measurement_rise" in flags


def test_synthetic_city_of_london_publishes_the_contract_shape(tmp_path):
    _, ex = _synthetic_extract("city-of-london", tmp_path)
    out = release(T.publish, T.compute(ex, load_settings())).data
    for cohort, k in (("diabetes", 4), ("severe_mental_illness", 5)):
        assert set(out[cohort]) == set(T.BANDS)
        assert all(len(out[cohort][b]["prior_pct"]) == k for b in T.BANDS)
    assert isinstance(T.reading(out), str)
    json.dumps(out, allow_nan=False)


def test_published_section_passes_the_independent_scanner(tmp_path):
    from scan import small_counts_in_json

    _, ex = _synthetic_extract("city-of-london", tmp_path)
    out = release(T.publish, T.compute(ex, load_settings())).data
    assert small_counts_in_json({"targets": out}) == []


def test_nothing_suppressed_when_disclosure_control_is_off():
    """The e2e golden test builds tiny with disclosure control off and expects ``suppressed == []``:
    a share of nobody is not estimable, not suppressed."""
    from pipeline.load import load_extract

    pub = release(T.publish, T.compute(load_extract(TINY), load_settings()), OFF)
    assert pub.suppressed == []
    assert "detail.severe_mental_illness.by_target.alcohol.after.met_if_measured_pct" in pub.not_estimable


# ------------------------------------------------------------------------------ the notebook
def test_notebook_not_run_without_measurements_and_ok_on_tiny(tmp_path):
    from dataclasses import replace

    from pipeline.load import load_extract

    tiny = load_extract(TINY)
    thin = replace(tiny, tables={k: v for k, v in tiny.tables.items() if k != "clinical_measurements"})
    frag, text = run_notebook("50_targets", thin, tmp_path / "thin", section="targets")
    assert frag["section"] == "targets" and frag["status"] == "not_run"
    assert "clinical_measurements" in frag["reason"] and "not available" in text
    frag, text = run_notebook("50_targets", tiny, tmp_path / "full", enabled=False, section="targets")
    assert frag["status"] == "ok" and frag["data"]["diabetes"]["high"]["after_pct"]["3"] == 50.0
    assert "Stuart" in text and "no comparison group" in text and "Traceback" not in text


def _ordinal_data(n=600, seed=3):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"after": rng.integers(0, 2, n).astype(float), "age": rng.normal(0, 1, n)})
    y = np.clip(np.round(0.8 * X["after"] + 0.3 * X["age"] + rng.logistic(0, 1, n)), 0, 3).astype(int)
    return y, X, np.repeat(np.arange(n // 2), 2)


def test_ordinal_fit_is_statsmodels_own_fit_with_exact_derivatives():
    """The cdf shortcut (scipy.special.expit instead of scipy.stats.logistic.cdf) is the same
    function; the analytic scores are statsmodels' numerical ones, to the numerical ones'
    precision, at arbitrary parameters (three categories, so an inner threshold's exp increment
    is differentiated too); and the fit gives statsmodels' own estimates, and its clustered
    covariance to the five figures its numerical Hessian carries."""
    import warnings

    from statsmodels.miscmodels.ordinal_model import OrderedModel
    from statsmodels.tools.numdiff import approx_fprime

    y, X, groups = _ordinal_data()
    x = np.r_[-np.inf, np.inf, np.nan, np.random.default_rng(0).normal(0, 8, 1000)]
    model = S._logit_ordered_model()
    assert np.array_equal(model.cdf(None, x), stats.logistic.cdf(x), equal_nan=True)

    endog = pd.Series(pd.Categorical(np.searchsorted(np.unique(y), y), ordered=True))
    mine, theirs = model(endog, X, distr="logit"), OrderedModel(endog, X, distr="logit")
    assert mine.k_levels == 4
    for params in ([0.5, -0.2, -0.3, 0.1, 0.4], [-1.0, 0.7, 0.8, -1.5, 0.2]):
        exact = mine.score_obs(np.array(params))
        numeric = approx_fprime(np.array(params), theirs.loglikeobs, centered=True)
        np.testing.assert_allclose(exact, numeric, atol=1e-7)
        np.testing.assert_allclose(mine.score(np.array(params)), theirs.score(np.array(params)), rtol=1e-6)

    fit = S.ordinal_logit_cluster(y, X, groups)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = theirs.fit(method="bfgs", disp=0, maxiter=1000, gtol=S.ORDINAL_GTOL, cov_type="cluster",
                         cov_kwds={"groups": groups})
    assert fit.status == "ok"
    np.testing.assert_allclose(fit.params.to_numpy(), ref.params[["after", "age"]].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(fit.cov.to_numpy(), ref.cov_params().loc[["after", "age"], ["after", "age"]].to_numpy(),
                               rtol=1e-4)


def test_ordinal_fit_is_converged_well_below_the_published_precision():
    """The estimates are the maximum-likelihood ones to about 1e-7 (Newton's method run to its end
    is the reference), so a published odds ratio or interval (three decimals) does not move with
    the machine's floating point. BFGS at scipy's default gtol is 4.5e-5 away on these data."""
    import warnings

    from statsmodels.miscmodels.ordinal_model import OrderedModel

    y, X, groups = _ordinal_data()
    endog = pd.Series(pd.Categorical(np.searchsorted(np.unique(y), y), ordered=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        newton = OrderedModel(endog, X, distr="logit").fit(method="newton", disp=0, maxiter=100, tol=1e-12)
    assert newton.mle_retvals["converged"]
    fit = S.ordinal_logit_cluster(y, X, groups)
    assert fit.status == "ok"
    np.testing.assert_allclose(fit.params.to_numpy(), newton.params[["after", "age"]].to_numpy(), rtol=1e-6)


def test_ordinal_fit_stopped_by_precision_loss_counts_as_converged_at_the_default_tolerance(monkeypatch):
    """Asked for more than floating point allows, BFGS stops with 'precision loss'; the
    fit is then accepted when its gradient meets scipy's default tolerance, and refused when not."""
    y, X, groups = _ordinal_data()
    monkeypatch.setattr(S, "ORDINAL_GTOL", 1e-14)
    assert S.ordinal_logit_cluster(y, X, groups).status == "ok"
    monkeypatch.setattr(S, "ORDINAL_GTOL_DEFAULT", 1e-16)
    fit = S.ordinal_logit_cluster(y, X, groups)
    assert fit.status == "not_converged" and not fit.converged
