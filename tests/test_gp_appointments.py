"""GP appointments: the published % variance on hand-made extracts with hand-computed answers,
the event-study panel, matching, the difference-in-differences model, disclosure control, and
recovery of the synthetic generator's planted effects."""

import importlib.util
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from notebook_runs import TINY, run_notebook

from pipeline import nb
from pipeline.analyses import gp_appointments as G
from pipeline.analyses.gp_appointments import counter as GC
from pipeline.analyses.gp_appointments import event_study as GE
from pipeline.analyses.gp_appointments import patients as GP
from pipeline.analyses.gp_appointments import variance as GV
from pipeline.analyses.inputs import financial_year
from pipeline.config import DisclosureSettings, load_settings
from pipeline.contract import TABLES
from pipeline.disclosure import release
from pipeline.extract import Extract, ExtractConfig

OFF = DisclosureSettings(enabled=False)
REF_DEFAULTS = dict(practice_code="A12345", pcn="PCN 1", referral_source="gp", referral_reason="other", age=60,
                    gender="female", ethnicity="white", risk_band="high")


def typed(name: str, rows: list[dict], defaults: dict | None = None) -> pd.DataFrame:
    df = pd.DataFrame([{**(defaults or {}), **r} for r in rows])
    out = {}
    for col in TABLES[name].columns:
        if col.name in df:
            s = df[col.name]
            out[col.name] = pd.to_datetime(s) if col.type == "date" else s.astype(col.dtype)
        else:
            out[col.name] = pd.Series([None] * len(df), dtype=col.dtype)
    return pd.DataFrame(out)


def make_extract(referrals, appointments, comparison=None, deaths=None, start=date(2022, 4, 1),
                 end=date(2024, 3, 31)) -> Extract:
    refs = [dict(r) for r in referrals]
    for i, r in enumerate(refs):
        r.setdefault("referral_id", f"R{i:03d}")
    tables = {"referrals": typed("referrals", refs, REF_DEFAULTS),
              "gp_appointments": typed("gp_appointments", [dict(patient_id=p, appointment_date=d)
                                                           for p, d in appointments])}
    if comparison is not None:
        tables["comparison_patients"] = typed("comparison_patients", comparison,
                                              {k: REF_DEFAULTS[k] for k in ("practice_code", "age", "gender",
                                                                            "risk_band")})
    if deaths is not None:
        tables["deaths"] = typed("deaths", [dict(patient_id=p, date_of_death=d) for p, d in deaths])
    cfg = ExtractConfig(slug="test", borough="Test", ons_code="E09000099", extract_start=start, extract_end=end,
                        registered_population=10000)
    return Extract(cfg, tables, sha256="0" * 64)


def published(raw, rules=None):
    """The section as published (default disclosure rules unless given)."""
    return release(G.publish, raw, rules)


def off(d: str, days: int) -> str:
    return (pd.Timestamp(d) + pd.Timedelta(days=days)).strftime("%Y-%m-%d")


def bench():
    path = Path(__file__).resolve().parent.parent / "bench" / "coverage.py"
    spec = importlib.util.spec_from_file_location("bench_coverage", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------------------ published method by hand
A, B, C, D, E, F, GG = "2022-10-01", "2023-03-31", "2023-04-01", "2022-08-01", "2023-06-01", "2022-05-01", "2024-01-15"


def hand_extract():
    """Extract 2022-04-01 .. 2024-03-31.

    A (2022-10-01, FY 2022/23): appointments on the referral day (in neither window), days -1, -91, -92,
      -182, -183 and +1, +91, +92, +182, +183. k = 1: before 2 (-1, -91), after 2 (+1, +91); k = 2: before 4,
      after 4 (-183 is outside the window); k = 3: the before window starts 2022-01-01, before the extract: out.
    B (2023-03-31, last day of FY 2022/23): days -10, -50, +5; both windows inside for k = 1..4 (k = 4 before
      window starts 2022-04-01 = extract_start): before 2, after 1.
    C (2023-04-01, first day of FY 2023/24): day -1, and two appointments on day +1; k = 1..4: before 1, after 2.
    D: referrals 2022-08-01 and 2023-01-01; the index is the earliest. Appointments 2022-07-20 (before, k = 1) and
      2022-12-31 (day +152: outside the 91-day after window); k = 2 before window starts 2022-01-31: out.
    E (2023-06-01, FY 2023/24): no appointments; in for k = 1..3 (k = 4 after window ends 2024-05-30: out).
    F (2022-05-01): the k = 1 before window starts 2022-01-30: never counts.
    G (2024-01-15): the k = 1 after window ends 2024-04-15: never counts.

    FY 2022/23: k=1 n 3 (A, B, D): before 2 + 2 + 1 = 5, after 2 + 1 + 0 = 3 -> -40%; k=2 n 2 (A, B): 6 -> 5,
    -16.67%; k=3 and k=4 n 1 (B): 2 -> 1, -50%.
    FY 2023/24: k=1..3 n 2 (C, E): 1 -> 2, +100%; k=4 n 1 (C): +100%."""
    refs = [dict(patient_id="A", referral_date=A), dict(patient_id="B", referral_date=B),
            dict(patient_id="C", referral_date=C), dict(patient_id="D", referral_date=D),
            dict(patient_id="D", referral_date="2023-01-01"), dict(patient_id="E", referral_date=E),
            dict(patient_id="F", referral_date=F), dict(patient_id="G", referral_date=GG)]
    ap = [("A", off(A, k)) for k in (0, -1, -91, -92, -182, -183, 1, 91, 92, 182, 183)]
    ap += [("B", off(B, k)) for k in (-10, -50, 5)]
    ap += [("C", off(C, -1)), ("C", off(C, 1)), ("C", off(C, 1))]
    ap += [("D", "2022-07-20"), ("D", "2022-12-31"), ("F", off(F, 1)), ("G", off(GG, -5))]
    return make_extract(refs, ap)


def test_variance_by_hand():
    raw = G.compute(hand_extract(), load_settings())
    t = raw.variance.set_index(["cohort", "k"])
    assert t.loc[("2022/23", 1), ["n", "before", "after"]].tolist() == [3, 5, 3]
    assert t.loc[("2022/23", 2), ["n", "before", "after"]].tolist() == [2, 6, 5]
    assert t.loc[("2022/23", 3), ["n", "before", "after"]].tolist() == [1, 2, 1]
    assert t.loc[("2022/23", 4), ["n", "before", "after"]].tolist() == [1, 2, 1]
    assert t.loc[("2023/24", 1), ["n", "before", "after"]].tolist() == [2, 1, 2]
    assert t.loc[("2023/24", 4), ["n", "before", "after"]].tolist() == [1, 1, 2]
    out = published(raw, OFF).data
    assert out["variance_pct"] == {"2022/23": {"3m": -40.0, "6m": -16.7, "9m": -50.0, "12m": -50.0},
                                   "2023/24": {"3m": 100.0, "6m": 100.0, "9m": 100.0, "12m": 100.0}}
    # CI (extra key): influence a_i/A - b_i/B = 2/3 - 2/5, 1/3 - 2/5, 0 - 1/5; sum of squares 0.115556 x 3/2
    # = 0.173333; half-width 1.959964 x sqrt(0.173333) = 0.81599; 0.6 x exp(-/+ 0.81599) -> -73.5% .. +35.7%
    assert out["variance_detail"]["2022/23"]["3m"] == {"n_patients": 3, "appointments_before": 5,
                                                       "appointments_after": 3, "variance_pct_ci95": [-73.5, 35.7],
                                                       "died_in_after_window": None}  # no deaths table
    json.dumps(out, allow_nan=False)


def test_variance_is_a_ratio_of_sums_not_a_mean_of_ratios():
    raw = G.compute(hand_extract(), load_settings())
    p = raw.per_patient[(raw.per_patient["k"] == 1) & raw.per_patient["inside"] & (raw.per_patient["cohort"] == "2022/23")]
    mean_of_ratios = ((p["after"] - p["before"]) / p["before"] * 100).mean()  # A 0%, B -50%, D -100%
    assert mean_of_ratios == pytest.approx(-50.0)
    assert raw.variance.set_index(["cohort", "k"]).loc[("2022/23", 1), "variance_pct"] == pytest.approx(-40.0)
    assert "ratio of sums" in GV.__doc__


def test_variance_ci_covers_the_true_ratio():
    """Overdispersed patients (gamma rates), after = 0.8 x before in expectation: the delta-method CI of
    the ratio of sums covers -20% in about 95% of 400 replicates of 150 patients."""
    rng = np.random.default_rng(4)
    hits = 0
    for _ in range(400):
        lam = rng.gamma(1.5, 2.0, 150)
        pp = pd.DataFrame({"patient_id": np.arange(150), "cohort": "2022/23", "k": 1, "inside": True,
                           "before": rng.poisson(lam), "after": rng.poisson(0.8 * lam)})
        r = GV.variance_table(pp).iloc[0]
        hits += r["ci_lo"] <= -20 <= r["ci_hi"]
    assert 0.92 <= hits / 400 <= 0.98


def test_financial_year_boundaries():
    fy = financial_year(pd.Series(pd.to_datetime(["2022-03-31", "2022-04-01", "2023-03-31", "2023-04-01",
                                                    "2099-12-31"])))
    assert fy.tolist() == ["2021/22", "2022/23", "2022/23", "2023/24", "2099/00"]


def test_no_appointments_before_is_not_estimable_not_suppressed():
    ex = make_extract([dict(patient_id="A", referral_date=A)], [("A", off(A, 10))])
    pub = published(G.compute(ex, load_settings()), OFF)
    assert pub.data["variance_pct"]["2022/23"]["3m"] is None
    assert "variance_pct.2022/23.3m" in pub.not_estimable and pub.suppressed == []


def test_disclosure_small_cohorts_suppressed():
    pub = published(G.compute(hand_extract(), load_settings()))
    out = pub.data
    assert all(v is None for c in out["variance_pct"].values() for v in c.values())
    assert "variance_pct.2022/23.3m" in pub.suppressed
    assert out["matched_did"]["status"] == "not_run" and "comparison_patients" in out["matched_did"]["reason"]
    assert out["matched_did"]["rate_ratio"] is None and out["matched_did"]["ci95"] is None
    json.dumps(out, allow_nan=False)


def test_tiny_fixture_by_hand():
    """tests/fixtures/tiny: k = 1 needs referral dates 2022-07-01 .. 2023-12-31. 2022/23: P004 (0/0),
    P005 (2022-08-01 before, 2022-12-05 after), P006 (0/0) -> 1 vs 1 = 0%. 2023/24: P007 (2023-03-01 before,
    2023-06-20 after), P008, P009, P010 (0/0) -> 0%. k = 2: 2022/23 only P006, no appointments -> not
    estimable; 2023/24 P007..P009 -> 0%. k = 3: 2022/23 P006 -> not estimable; 2023/24 P007, P008 -> 0%.
    k = 4 needs referral dates 2023-03-31 .. 2023-04-02: nobody."""
    from pipeline.load import load_extract

    ex = load_extract(TINY)
    out = published(G.compute(ex, load_settings()), OFF).data
    assert out["variance_pct"] == {"2022/23": {"3m": 0.0, "6m": None, "9m": None, "12m": None},
                                   "2023/24": {"3m": 0.0, "6m": 0.0, "9m": 0.0, "12m": None}}
    assert out["variance_detail"]["2023/24"]["3m"]["n_patients"] == 4
    assert out["variance_detail"]["2023/24"]["12m"]["n_patients"] == 0
    json.dumps(out, allow_nan=False)


# ------------------------------------------------------------------------------ event study
def test_event_panel_quarters_exposure_and_death():
    """Referral 2023-01-01; extract from 2022-04-01; death 100 days after referral."""
    d = "2023-01-01"
    ex = make_extract([dict(patient_id="P", referral_date=d)],
                      [("P", off(d, k)) for k in (0, -1, -91, -92, -182, -183, 1, 91, 92, 100, 101)],
                      deaths=[("P", off(d, 100))])
    s = load_settings().gp_appointments
    start, end = GP.extract_days(ex)
    units = pd.DataFrame({"patient_id": ["P"], "index_day": GC.day_numbers([d]),
                          "end_day": np.minimum(GP.death_days(ex, ["P"]), end)})
    p = GE.event_panel(units, GC.AppointmentCounter(ex["gp_appointments"]), start, end, 91, -8, 4).set_index("q")
    assert p.loc[-1, "y"] == 2 and p.loc[-2, "y"] == 2 and p.loc[-3, "y"] == 1  # -1, -91 | -92, -182 | -183
    assert p.loc[1, "y"] == 2 and p.loc[2, "y"] == 2  # +1, +91 | +92, +100 (death day counts; +101 does not)
    assert p.loc[-1, "exposure"] == 91 and p.loc[2, "exposure"] == 9  # days +92..+100
    # quarter -4 (days -364..-274) starts before the extract: 2022-04-01 .. 2022-04-02 = 2 days
    assert p.loc[-4, "exposure"] == 2
    assert 3 not in p.index and -5 not in p.index  # no exposure at all
    assert s.reference_quarter == -4


def test_event_study_recovers_a_planted_peak():
    ex = bench().simulate_gp_extract(1500, 0, seed=11, comparison=False)
    raw = G.compute(ex, load_settings())
    out = published(raw).data
    q = out["event_study"]["quarters"]
    assert q["-4"]["rate_ratio"] == 1.0 and q["-4"]["reference"]
    for k, truth in (("-1", 1.5), ("-2", 1.2), ("-3", 1.0), ("1", 0.9), ("4", 0.9)):
        lo, hi = q[k]["ci95"]
        assert lo - 0.02 <= truth <= hi + 0.02, (k, q[k])
    assert q["-1"]["rate_ratio"] > q["-3"]["rate_ratio"]
    assert out["matched_did"]["status"] == "not_run"


# ------------------------------------------------------------------------------ matching
def matching_extract():
    """Extract 2021-04-01 .. 2024-03-31. R1 referred 2023-06-01 (practice A11111, age 45, female, high).
    Matching window days -547..-366 = 2021-12-01 .. 2022-05-31: R1 has 2 appointments there. Comparison pool:
    C_OK1 (2 there), C_OK2 (1 there: same band? bins 0,1,2,3,5,8 -> 1 and 2 differ: not matched), C_OK3 (2),
    C_PRAC (other practice), C_AGE (age 55: other band), C_DEAD (died 2023-05-01), C_REF (also referred),
    C_MALE. R2 referred 2022-06-01: its matching window starts 2020-11-30, before the extract: not eligible."""
    d = "2023-06-01"
    refs = [dict(patient_id="R1", referral_date=d, practice_code="A11111", age=45),
            dict(patient_id="R2", referral_date="2022-06-01"),
            dict(patient_id="C_REF", referral_date="2023-01-01")]
    two = [off(d, -500), off(d, -400)]
    ap = [("R1", t) for t in two] + [("C_OK1", t) for t in two] + [("C_OK3", t) for t in two]
    ap += [("C_OK2", two[0])] + [(c, t) for c in ("C_PRAC", "C_AGE", "C_DEAD", "C_REF", "C_MALE") for t in two]
    ap += [("R1", off(d, -300)), ("R1", off(d, 30)), ("C_OK1", off(d, 40))]
    comp = [dict(patient_id=c, practice_code="A11111", age=48) for c in ("C_OK1", "C_OK2", "C_OK3", "C_DEAD", "C_REF")]
    comp += [dict(patient_id="C_PRAC", practice_code="B22222", age=45), dict(patient_id="C_AGE", practice_code="A11111",
                                                                             age=55),
             dict(patient_id="C_MALE", practice_code="A11111", age=45, gender="male")]
    return make_extract(refs, ap, comparison=comp, deaths=[("C_DEAD", "2023-05-01")], start=date(2021, 4, 1))


def test_matching_rules():
    ex = matching_extract()
    s = load_settings()
    m, panel, fit = G.matched_did(ex, s)
    u = m.units.set_index("patient_id")
    assert set(u.index) == {"R1", "C_OK1", "C_OK3"}
    assert u.loc["C_OK1", "set_id"] == "R1" and u.loc["C_OK1", "index_day"] == u.loc["R1", "index_day"]
    assert u.loc["C_OK1", "weight"] == 0.5 and u.loc["R1", "weight"] == 1.0
    # eligible: R1 and C_REF (a referred patient too, with no comparison patient like it); R2 lacks history
    assert m.n_referred_eligible == 2 and m.n_referred_matched == 1 and m.n_comparison_matched == 2
    assert m.excluded["history_before_extract_start"] == 1
    assert m.excluded["comparison_patients_also_referred"] == 1
    # one match per patient: the nearest count, then the nearest age (both tie here), then a seeded draw
    s1 = s.model_copy(update={"gp_appointments": s.gp_appointments.model_copy(update={"matches_per_patient": 1})})
    m1, _, _ = G.matched_did(ex, s1)
    assert len(m1.units) == 2 and m1.units["patient_id"].iloc[1] in {"C_OK1", "C_OK3"}
    assert G.matched_did(ex, s1)[0].units.equals(m1.units)  # deterministic
    # the DiD panel: R1 before window (days -365..-183) has 1 appointment (-300), after 1 (+30)
    p = panel.set_index(["patient_id", "post"])
    assert p.loc[("R1", 0), "y"] == 1 and p.loc[("R1", 1), "y"] == 1 and p.loc[("C_OK1", 1), "y"] == 1
    # the after window is cut at extract_end: 2023-06-02 .. 2024-03-31 = 304 days (2024 is a leap year)
    assert p.loc[("R1", 0), "exposure"] == 183 and p.loc[("R1", 1), "exposure"] == 304


def test_matching_without_replacement_and_unmatched():
    """Two referred patients, one suitable comparison: it is used once."""
    d1, d2 = "2023-06-01", "2023-07-01"
    refs = [dict(patient_id="R1", referral_date=d1), dict(patient_id="R2", referral_date=d2)]
    comp = [dict(patient_id="C1")]
    ex = make_extract(refs, [("R1", off(d1, 10))], comparison=comp, start=date(2021, 4, 1))
    m, _, _ = G.matched_did(ex, load_settings())
    assert m.n_referred_eligible == 2 and m.n_referred_matched == 1 and m.n_comparison_matched == 1


def test_config_windows_are_validated(tmp_path):
    from pipeline.errors import ConfigError

    for text in ("gp_appointments:\n  baseline_window_days: [-100, 10]\n",
                 "gp_appointments:\n  reference_quarter: 0\n",
                 "gp_appointments:\n  match_baseline_use_bins: [1, 2]\n"):
        (tmp_path / "settings.yml").write_text(text)
        with pytest.raises(ConfigError):
            load_settings(tmp_path)


# ------------------------------------------------------------------------------ models
def test_did_recovers_the_rate_ratio_and_the_peak_bias():
    """Simulated: referred patients 15% higher at baseline, x1.2 / x1.5 in the two quarters before referral,
    x0.90 after; comparison patients constant."""
    ex = bench().simulate_gp_extract(2000, 8000, seed=7)
    raw = G.compute(ex, load_settings())
    out = published(raw).data
    did = out["matched_did"]
    assert did["status"] == "ok" and did["ci95"][0] <= 0.90 <= did["ci95"][1]
    nbm = did["sensitivity"]["negative_binomial"]
    assert nbm["status"] == "ok" and nbm["ci95"][0] <= 0.90 <= nbm["ci95"][1] and nbm["alpha"] > 0
    # 'before' including the rise: the ratio is pulled down towards 0.9 / ((183 + 91*1.2 + 91*1.5) / 365) = 0.77
    peak = did["sensitivity"]["before_includes_peak"]
    assert peak["ci95"][1] < 0.85
    # the comparison group's event study is flat around its borrowed index date
    cq = did["event_study_comparison"]["quarters"]
    assert all(cq[k]["ci95"][0] - 0.05 <= 1.0 <= cq[k]["ci95"][1] + 0.05 for k in ("-1", "1"))
    assert did["balance"]["female"]["std_diff"] == pytest.approx(0, abs=0.05)
    assert out["causal_leaning"] == "matched_did"
    text = G.reading(out)
    assert "leans most towards cause" in text and "regression to the mean" in text
    json.dumps(out, allow_nan=False)


def test_summary_reads_the_gp_keys():
    ex = bench().simulate_gp_extract(1500, 6000, seed=8)
    out = published(G.compute(ex, load_settings())).data
    heads = {h.measure: h for h in G.SECTION.headlines(out)}
    assert "GP appointments vs matched comparison" in heads
    assert heads["GP appointments vs matched comparison"].value == f"rate ratio {out['matched_did']['rate_ratio']:.2f}"
    assert any(k.startswith("GP appointments, ") for k in heads)


def test_did_ci_coverage_small_run():
    """A quick version of bench/coverage.py's check (the full run, 400 replicates, is recorded in
    docs/methods-targets-gp.md): with 40 replicates at least 34 intervals should cover 0.90."""
    b = bench()
    r = b.gp_did_coverage(reps=40, n_referred=600, n_pool=3000, seed=99)
    assert r["reps"] == 40 and r["coverage"] >= 34 / 40, r
    assert 0.85 < r["mean_estimate"] < 0.95


# ------------------------------------------------------------------------------ synthetic areas
def _synthetic(slug, tmp_path):
    synthetic = pytest.importorskip("pipeline.synthetic")
    from pipeline.load import load_extract

    synthetic.generate(slug, tmp_path / slug)
    raw_dir = next(p.parent for p in sorted(tmp_path.rglob("extract.yml")))
    return synthetic, load_extract(raw_dir)


def test_synthetic_merton_recovers_planted_effects(tmp_path):
    synthetic, ex = _synthetic("merton", tmp_path)
    planted = synthetic.PLANTED["gp"]
    out = published(G.compute(ex, load_settings())).data
    did = out["matched_did"]
    assert did["status"] == "ok"
    assert did["ci95"][0] <= planted["rate_ratio"] <= did["ci95"][1], did
    q = out["event_study"]["quarters"]
    assert q["-1"]["rate_ratio"] > q["-3"]["rate_ratio"]
    m1 = planted["pre_referral_multiplier"]["-1"]
    assert q["-1"]["ci95"][0] - 0.02 <= m1 <= q["-1"]["ci95"][1] + 0.02
    for k in ("1", "2", "3", "4"):
        assert abs(q[k]["rate_ratio"] - planted["rate_ratio"]) < 0.05, (k, q[k])
    # the published method overstates the fall (it starts from the peak)
    assert out["variance_pct"]["2022/23"]["3m"] < -20
    assert set(out["variance_pct"]["2022/23"]) == {"3m", "6m", "9m", "12m"}
    json.dumps(out, allow_nan=False)


def test_synthetic_city_of_london_runs_and_covers(tmp_path):
    synthetic, ex = _synthetic("city-of-london", tmp_path)
    out = published(G.compute(ex, load_settings())).data
    did = out["matched_did"]
    if did["ci95"] is not None:
        assert did["ci95"][0] <= synthetic.PLANTED["gp"]["rate_ratio"] <= did["ci95"][1]
    assert isinstance(G.reading(out), str)
    json.dumps(out, allow_nan=False)


@pytest.mark.slow
def test_did_ci_coverage_full():
    """bench/coverage.py's GP check at 300 replicates (SE of the coverage 1.26 points; tolerance 3.5)."""
    r = bench().gp_did_coverage(reps=300)
    assert abs(r["coverage"] - 0.95) <= 0.035, r


def test_published_section_passes_the_independent_scanner(tmp_path):
    from scan import small_counts_in_json

    _, ex = _synthetic("city-of-london", tmp_path)
    out = published(G.compute(ex, load_settings())).data
    assert small_counts_in_json({"gp_appointments": out}) == []
    ex2 = bench().simulate_gp_extract(300, 1200, seed=5)
    out2 = published(G.compute(ex2, load_settings())).data
    assert small_counts_in_json({"gp_appointments": out2}) == []


def test_nothing_suppressed_when_disclosure_control_is_off():
    from pipeline.load import load_extract

    pub = published(G.compute(load_extract(TINY), load_settings()), OFF)
    assert pub.suppressed == []


# ------------------------------------------------------------------------------ the notebook
def test_notebook_not_run_without_appointments_and_ok_on_tiny(tmp_path):
    from dataclasses import replace

    from pipeline.load import load_extract

    tiny = load_extract(TINY)
    thin = replace(tiny, tables={k: v for k, v in tiny.tables.items() if k != "gp_appointments"})
    frag, text = run_notebook("60_gp_appointments", thin, tmp_path / "thin", section="gp_appointments")
    assert frag["section"] == "gp_appointments" and frag["status"] == "not_run"
    assert "gp_appointments" in frag["reason"] and "not available" in text
    frag, text = run_notebook("60_gp_appointments", tiny, tmp_path / "full", enabled=False, section="gp_appointments")
    assert frag["status"] == "ok" and frag["data"]["variance_pct"]["2022/23"]["3m"] == 0.0
    assert frag["data"]["matched_did"]["status"] == "not_run"
    assert "Which estimate to quote" in text and "Traceback" not in text


# ------------------------------------------------------------------------------ the charts' numbers
def test_variance_chart_table_holds_the_published_variance():
    from pipeline import paths
    from pipeline.load import load_extract

    ex = load_extract(paths.ROOT / "tests" / "fixtures" / "tiny")
    out = published(G.compute(ex, load_settings()), OFF).data
    t = G.variance_chart_table(out)
    assert list(t.columns) == ["Financial year of referral", "Window before and after referral",
                               "% change in GP appointments (after vs before)"]
    assert t.values.tolist() == [[c, f"{k[:-1]} months", v] for c in sorted(out["variance_pct"])
                                 for k, v in out["variance_pct"][c].items()]
    lines = nb.csv_text(t).splitlines()
    assert lines[1:3] == ["2022/23,3 months,0.0", "2022/23,6 months,[c]"]  # 6m not estimable: withheld


EVENT = {"reference_quarter": -4, "quarters": {
    "-4": {"n_patients": 40, "rate_ratio": 1.0, "ci95": None, "reference": True},
    "-1": {"n_patients": 40, "rate_ratio": 1.52, "ci95": [1.21, 1.9]},
    "1": {"n_patients": 35, "rate_ratio": None, "ci95": None}}}


def test_event_study_table_holds_both_groups_and_leaves_the_reference_interval_empty():
    comp = {"quarters": {"-4": {"rate_ratio": 1.0, "ci95": None, "reference": True},
                         "-1": {"rate_ratio": 0.98, "ci95": [0.8, 1.2]}}}
    t = G.event_study_table({"event_study": EVENT, "matched_did": {"event_study_comparison": comp}})
    assert list(t.columns) == ["Group", "Quarter relative to referral", "Rate ratio of GP appointments (vs quarter -4)",
                               "95% CI low", "95% CI high"]
    assert nb.csv_text(t).splitlines()[1:] == [
        "Referred patients,-4,1.0,,", "Referred patients,-1,1.52,1.21,1.9", "Referred patients,1,[c],[c],[c]",
        "Matched comparison patients,-4,1.0,,", "Matched comparison patients,-1,0.98,0.8,1.2"]
    alone = G.event_study_table({"event_study": EVENT, "matched_did": {"status": "not_run"}})
    assert set(alone["Group"]) == {"Referred patients"}
