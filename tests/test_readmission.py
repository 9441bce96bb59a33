"""Readmission: the contract's definitions on hand-made patients, hand-computed rates,
disclosure control, the benchmark, and the cause-specific Cox model."""

import json
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from notebook_runs import TINY

from pipeline import nb
from pipeline.analyses import readmission as R
from pipeline.config import DisclosureSettings, load_settings
from pipeline.contract import TABLES
from pipeline.disclosure import release
from pipeline.extract import Extract, ExtractConfig

OFF = DisclosureSettings(enabled=False)

END = pd.Timestamp("2024-03-31")
DEFAULTS = {"referrals": dict(practice_code="A12345", pcn="PCN 1", referral_source="gp",
                              referral_reason="other", age=70, gender="female", ethnicity="white")}


def typed(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """A contract-typed table: every contract column, in order, with the loader's dtypes."""
    out = {}
    for col in TABLES[name].columns:
        if col.name in df:
            s = df[col.name]
            out[col.name] = pd.to_datetime(s) if col.type == "date" else s.astype(col.dtype)
        elif col.name in DEFAULTS.get(name, {}):
            out[col.name] = pd.Series([DEFAULTS[name][col.name]] * len(df), dtype=col.dtype)
        else:
            out[col.name] = pd.Series([None] * len(df), dtype=col.dtype)
    return pd.DataFrame(out)


def make_extract(spells, deaths=None, referrals=None, benchmark=None, end=END):
    spells = pd.DataFrame(spells, columns=["patient_id", "admission_date", "discharge_date",
                                           "admission_method", "sp_index"])
    if referrals is None:
        pids = sorted(spells["patient_id"].unique())
        referrals = pd.DataFrame({"referral_id": [f"R{p}" for p in pids], "patient_id": pids,
                                  "referral_date": pd.Timestamp("2022-05-01")})
    tables = {"referrals": typed("referrals", pd.DataFrame(referrals)),
              "hospital_spells": typed("hospital_spells", spells)}
    if deaths is not None:
        tables["deaths"] = typed("deaths", pd.DataFrame(deaths, columns=["patient_id", "date_of_death"]))
    cfg = ExtractConfig(slug="test", borough="Test", ons_code="E09000099", extract_start=date(2022, 4, 1),
                        extract_end=end.date(), registered_population=10000,
                        readmission_benchmark_30d_pct=benchmark)
    return Extract(cfg, tables, sha256="0" * 64)


def sp(pid, adm, dis, method="emergency", index=False):
    return (pid, adm, dis, method, index)


# ------------------------------------------------------------------------------ definitions
EDGE_SPELLS = [
    # A: same-day readmission -> t = 0
    sp("A", "2023-01-05", "2023-01-10", index=True), sp("A", "2023-01-10", "2023-01-12"),
    # B: readmission and death on the same day -> the readmission counts (t = 14)
    sp("B", "2023-01-20", "2023-02-01", index=True), sp("B", "2023-02-15", "2023-02-15"),
    # C: death after extract_end -> ignored, censored at extract_end (Mar 1 -> Mar 31 = 30 days)
    sp("C", "2024-02-25", "2024-03-01", index=True),
    # D: readmission after extract_end -> ignored, censored (Feb 1 -> Mar 31 2024 = 29 + 30 = 59 days)
    sp("D", "2024-01-25", "2024-02-01", index=True), sp("D", "2024-04-02", "2024-04-05"),
    # E: the index spell is elective (sp_index true) -> still the index; emergency 10 days later
    sp("E", "2023-05-08", "2023-05-10", method="elective", index=True), sp("E", "2023-05-20", "2023-05-22"),
    # F: a second sp_index spell, emergency, 19 days after -> an event (other than the index)
    sp("F", "2023-05-25", "2023-06-01", index=True), sp("F", "2023-06-20", "2023-06-25", index=True),
    # G: emergency spell admitted before the index discharge -> not an event; died 30 days after
    sp("G", "2023-07-01", "2023-07-10", index=True), sp("G", "2023-07-05", "2023-07-08"),
    # H: elective and 'other' spells after the index are not events -> censored
    sp("H", "2023-07-28", "2023-08-01", index=True), sp("H", "2023-08-05", "2023-08-06", method="elective"),
    sp("H", "2023-08-06", "2023-08-07", method="other"),
    # I: two sp_index spells; the index is the earlier *discharge* (listed second); the other is an event
    sp("I", "2023-09-15", "2023-09-20", index=True), sp("I", "2023-08-28", "2023-09-01", index=True),
    # J: death before the index discharge -> inconsistent, excluded
    sp("J", "2023-10-01", "2023-10-10", index=True),
    # K: only sp_index spell discharged after extract_end -> no index
    sp("K", "2024-03-30", "2024-04-03", index=True),
    # L: readmitted on the last day of the extract -> counts (t = 10)
    sp("L", "2024-03-18", "2024-03-21", index=True), sp("L", "2024-03-31", "2024-04-02"),
    # M: readmitted, then died -> readmission (t = 4)
    sp("M", "2023-10-25", "2023-11-01", index=True), sp("M", "2023-11-05", "2023-11-07"),
    # N: died, then an (inconsistent) later admission -> death (t = 2)
    sp("N", "2023-11-25", "2023-12-01", index=True), sp("N", "2023-12-10", "2023-12-11"),
    # O: never an sp_index spell -> not in the cohort
    sp("O", "2023-01-01", "2023-01-02"), sp("O", "2023-01-05", "2023-01-06"),
]
EDGE_DEATHS = [("B", "2023-02-15"), ("C", "2024-04-05"), ("G", "2023-08-09"), ("J", "2023-10-05"),
               ("M", "2023-11-20"), ("N", "2023-12-03")]
EXPECTED = {  # patient: (time, status)
    "A": (0, 1), "B": (14, 1), "C": (30, 0), "D": (59, 0), "E": (10, 1), "F": (19, 1), "G": (30, 2),
    "H": ((END - pd.Timestamp("2023-08-01")).days, 0), "I": (14, 1), "L": (10, 1), "M": (4, 1), "N": (2, 2),
}


def test_edge_cases_follow_the_contract():
    ex = make_extract(EDGE_SPELLS, EDGE_DEATHS)
    co, excl = R.build_cohort(ex["hospital_spells"], ex["deaths"], END)
    got = {r.patient_id: (int(r.time), int(r.status)) for r in co.itertuples()}
    assert got == EXPECTED
    assert excl == {"index_discharged_after_extract_end": 1, "death_before_index_discharge": 1}
    assert co.set_index("patient_id").loc["I", "index_discharge"] == pd.Timestamp("2023-09-01")
    assert co.set_index("patient_id").loc["E", "index_method"] == "elective"


def test_without_deaths_table_death_is_not_modelled():
    ex = make_extract(EDGE_SPELLS)  # no deaths table
    raw = R.compute(ex, load_settings())
    got = {r.patient_id: (int(r.time), int(r.status)) for r in raw.cohort.itertuples()}
    # G and N are now censored at extract_end; J is no longer excluded (its death is unknown)
    assert got["G"] == ((END - pd.Timestamp("2023-07-10")).days, 0)
    # N's later emergency spell is now the event
    assert got["N"] == ((pd.Timestamp("2023-12-10") - pd.Timestamp("2023-12-01")).days, 1)
    assert "J" in got and "death_before_index_discharge" not in raw.exclusions
    assert raw.deaths_modelled is False and raw.fit.causes == (1,)
    out = release(R.publish, raw, OFF).data
    assert out["death_90d_pct"] is None
    assert out["deaths_modelled"] is False
    assert "death" not in out["events"]
    assert any("not modelled" in n for n in out["notes"])
    # with one cause the Aalen-Johansen estimate is 1 - KM
    assert out["cif_90d_pct"] == out["naive_1_minus_km_pct"]["90d"]


# ------------------------------------------------------------------------------ hand-computed rates
def cohort_extract(groups, benchmark=None):
    """groups: list of (count, t, kind) with kind 'readmit' | 'death' | 'censor' (censored at END).
    Every index discharge is 2023-01-01, so censoring at END is t = 454 days."""
    spells, deaths, i = [], [], 0
    disc = pd.Timestamp("2023-01-01")
    for count, t, kind in groups:
        for _ in range(count):
            pid = f"P{i:04d}"
            i += 1
            spells.append(sp(pid, "2022-12-28", disc, index=True))
            if kind == "readmit":
                day = disc + pd.Timedelta(days=t)
                spells.append(sp(pid, day, day + pd.Timedelta(days=2)))
            elif kind == "death":
                deaths.append((pid, disc + pd.Timedelta(days=t)))
    return make_extract(spells, deaths, benchmark=benchmark)


HAND = [(4, 0, "readmit"), (2, 29, "readmit"), (1, 30, "readmit"), (2, 10, "death"), (1, 89, "death"),
        (10, None, "censor")]


def test_rates_by_hand_without_disclosure():
    # 20 people, nobody censored before day 454, so the Aalen-Johansen CIF is a plain proportion:
    # within 14 days (t <= 13): 4/20 = 20%; within 30 days (t <= 29): 4 + 2 = 6/20 = 30%
    # (the readmission at t = 30 is day 31, outside); within 90 days: 7/20 = 35%; deaths by t <= 89: 3/20
    raw = R.compute(cohort_extract(HAND), load_settings())
    out = release(R.publish, raw, OFF).data
    assert out["n_index"] == 20
    assert out["cif_14d_pct"] == 20.0
    assert out["cif_30d_pct"] == 30.0
    assert out["cif_90d_pct"] == 35.0
    assert out["death_90d_pct"] == 15.0
    assert out["benchmark_30d_pct"] == 12.6  # project default
    # 30-day CI: binomial variance 0.3 * 0.7 / 20 = 0.0105 on the cloglog scale
    se = math.sqrt(0.3 * 0.7 / 20)  # F = 0.3
    g, se_g = math.log(-math.log(0.7)), se / (0.7 * -math.log(0.7))
    z = 1.959963984540054
    lo, hi = (1 - math.exp(-math.exp(g - z * se_g))) * 100, (1 - math.exp(-math.exp(g + z * se_g))) * 100
    assert out["cif_30d_ci95"] == [round(lo, 1), round(hi, 1)]
    # the naive 1 - KM at 90 days: deaths at t = 10 censored; KM over readmissions:
    # t=0: 4/20 -> S = 16/20; t=29: 2/16 -> S = 14/20 (deaths at 10 leave 14 at risk: 2/14) ...
    # S(29) = 16/20 * (1 - 2/14) = 0.6857; S(30) = 0.6857 * (1 - 1/12) = 0.6286 -> 37.1% > 35%
    assert out["naive_1_minus_km_pct"]["90d"] == 37.1
    assert out["events"] == {"readmission": {"14d": 4, "30d": 6, "90d": 7}, "death": {"14d": 2, "30d": 2, "90d": 3}}
    assert out["at_risk"]["0"] == 20 and out["at_risk"]["30"] == 20 - 6 - 2
    json.dumps(out, allow_nan=False)


def test_contract_keys_and_shape():
    raw = R.compute(cohort_extract(HAND), load_settings())
    out = release(R.publish, raw).data
    for k in ("n_index", "cif_14d_pct", "cif_30d_pct", "cif_30d_ci95", "cif_90d_pct", "death_90d_pct",
              "benchmark_30d_pct"):
        assert k in out
    json.dumps(out, allow_nan=False)


def test_rates_resting_on_few_events_are_suppressed():
    raw = R.compute(cohort_extract(HAND), load_settings())
    pub = release(R.publish, raw)
    out = pub.data
    assert out["n_index"] == 20
    # 4, 6, 7 readmissions and 3 deaths: all fewer than 8 events
    for k in ("cif_14d_pct", "cif_30d_pct", "cif_30d_ci95", "cif_90d_pct", "death_90d_pct"):
        assert out[k] is None
        assert k in pub.suppressed


def test_n_index_6_suppresses_everything():
    groups = [(3, 0, "readmit"), (1, 5, "death"), (2, None, "censor")]
    raw = R.compute(cohort_extract(groups), load_settings())
    assert raw.n_index == 6
    pub = release(R.publish, raw)
    out = pub.data
    for k in ("n_index", "cif_14d_pct", "cif_30d_pct", "cif_30d_ci95", "cif_90d_pct", "death_90d_pct"):
        assert out[k] is None
        assert k in pub.suppressed
    assert out["cox"]["status"] == "not_run"
    assert all(v is None for v in out["at_risk"].values())
    flat = json.dumps(out)
    assert "NaN" not in flat


def test_larger_cohort_publishes_from_rounded_counts_and_consistently():
    groups = [(12, 0, "readmit"), (10, 20, "readmit"), (9, 60, "readmit"), (10, 15, "death"),
              (59, None, "censor")]
    raw = R.compute(cohort_extract(groups), load_settings())
    out = release(R.publish, raw).data
    assert out["n_index"] == 100
    # cumulative counts rounded up to steps of 10, less 5: readmissions 12 -> 15, 22 -> 25, 31 -> 35; deaths
    # 10 -> 5. By hand on those counts: t=0: 15/100 (S = 0.85); t=15: 5 deaths of 85 (S = 0.80, F2 = 0.05);
    # t=20: 10 of 80 -> F1 = 0.15 + 0.80 x 10/80 = 0.25; t=60: 10 of 70 -> F1 = 0.25 + 0.70 x 10/70 = 0.35
    assert out["cif_14d_pct"] == 15.0 and out["cif_30d_pct"] == 25.0 and out["cif_90d_pct"] == 35.0
    assert out["death_90d_pct"] == 5.0
    lo, hi = out["cif_30d_ci95"]
    assert lo < 25.0 < hi
    assert out["events"]["readmission"] == {"14d": 15, "30d": 25, "90d": 35}
    assert out["curve"]["30"]["readmission_pct"] == out["cif_30d_pct"]  # one curve behind every figure
    # every step of the curve times the (rounded) numbers at risk is a whole step of events
    assert out["at_risk"]["30"] == 100 - 25 - 5
    assert out["naive_1_minus_km_pct"]["90d"] > out["cif_90d_pct"]


def test_benchmark_from_extract_overrides_default():
    raw = R.compute(cohort_extract(HAND, benchmark=11.0), load_settings())
    out = release(R.publish, raw, OFF).data
    assert out["benchmark_30d_pct"] == 11.0
    assert out["benchmark"]["source"] == "extract.yml"
    assert out["benchmark"]["difference_pct_points"] == pytest.approx(30.0 - 11.0)
    assert "case mix" in out["benchmark"]["caveat"]
    s = load_settings().model_copy(update={"readmission": load_settings().readmission.model_copy(
        update={"benchmark_30d_pct": None})})
    raw = R.compute(cohort_extract(HAND), s)
    assert release(R.publish, raw).data["benchmark_30d_pct"] is None


def test_curve_and_at_risk_use_within_n_days():
    raw = R.compute(cohort_extract(HAND), load_settings())
    out = release(R.publish, raw, OFF).data
    assert out["curve"]["30"]["readmission_pct"] == out["cif_30d_pct"]
    assert out["curve"]["7"]["readmission_pct"] == 20.0   # the t = 0 readmissions
    assert list(out["at_risk"]) == ["0", "14", "30", "60", "90"]


def test_curve_table_holds_the_published_curve_and_at_risk_row():
    raw = R.compute(cohort_extract(HAND), load_settings())
    out = release(R.publish, raw, OFF).data
    t = R.curve_table(out).set_index("Days after index discharge")
    days = sorted({int(d) for d in out["curve"]} | {int(d) for d in out["at_risk"]})
    assert list(t.index) == days and 0 in days and 60 in days and 7 in days
    for d, point in out["curve"].items():
        row = t.loc[int(d)]
        assert row["Readmission: cumulative incidence (%)"] == point["readmission_pct"]
        assert [row["Readmission: 95% CI low (%)"], row["Readmission: 95% CI high (%)"]] == point["readmission_ci95"]
        assert row["Death before readmission: cumulative incidence (%)"] == point["death_pct"]
        assert row["Naive 1 - Kaplan-Meier (%)"] == point["naive_1_minus_km_pct"]
    assert t.loc[30, "Readmission: cumulative incidence (%)"] == 30.0
    assert t.loc[30, "People at risk (rounded)"] == 12
    assert t.loc[7, "People at risk (rounded)"] == ""  # no at-risk figure is published for day 7
    assert t.loc[60, "Readmission: cumulative incidence (%)"] == ""  # nor a curve point for day 60


def test_curve_table_keeps_withheld_figures_withheld():
    raw = R.compute(cohort_extract(HAND), load_settings())
    out = release(R.publish, raw).data  # fewer than 8 events: the rates are withheld
    assert out["curve"]["30"]["readmission_pct"] is None
    t = R.curve_table(out)
    row = t[t["Days after index discharge"] == 30].iloc[0]
    assert row["Readmission: cumulative incidence (%)"] is None and row["Readmission: 95% CI low (%)"] is None
    line = next(x for x in nb.csv_text(t).splitlines() if x.startswith("30,"))
    assert line.startswith("30,[c],[c],[c],")
    without_deaths = dict(out, deaths_modelled=False)
    assert not any(c.startswith("Death") for c in R.curve_table(without_deaths).columns)


# ------------------------------------------------------------------------------ Cox model
def simulate(n=600, seed=1, hr_very_high=2.0, base_rate=0.004, death_rate=0.001, imd=True):
    """Exponential readmission hazard doubled in the very-high risk band; covariates on the referral made
    during the index stay (two days before discharge)."""
    rng = np.random.default_rng(seed)
    band = rng.choice(["high", "medium", "very_high"], n, p=[0.5, 0.25, 0.25])
    age = rng.integers(50, 95, n)
    lam = base_rate * np.where(band == "very_high", hr_very_high, 1.0)
    tr = np.floor(rng.exponential(1 / lam))
    td = np.floor(rng.exponential(1 / death_rate, n))
    disc = pd.Timestamp("2022-06-01") + pd.to_timedelta(rng.integers(0, 600, n), "D")
    spells, deaths = [], []
    for i in range(n):
        pid = f"S{i:05d}"
        spells.append(sp(pid, disc[i] - pd.Timedelta(days=3), disc[i], index=True))
        if tr[i] <= td[i]:
            spells.append(sp(pid, disc[i] + pd.Timedelta(days=tr[i]), disc[i] + pd.Timedelta(days=tr[i] + 2)))
        else:
            deaths.append((pid, disc[i] + pd.Timedelta(days=td[i])))
    refs = pd.DataFrame({"referral_id": [f"R{i:05d}" for i in range(n)],
                         "patient_id": [f"S{i:05d}" for i in range(n)],
                         "referral_date": disc - pd.Timedelta(days=2),
                         "age": age, "imd_decile": rng.integers(1, 11, n) if imd else [None] * n,
                         "risk_band": band,
                         "health_budget_gbp": rng.gamma(2, 60, n),
                         "service_outcome": rng.choice(["admission_avoided", "discharge_expedited"], n)})
    return make_extract(spells, deaths, referrals=refs)


def test_cox_recovers_a_planted_hazard_ratio():
    raw = R.compute(simulate(), load_settings())
    assert raw.cox.status == "ok"
    hr = raw.cox.coefs.loc["risk_band=very_high"]
    assert hr["lo"] < 2.0 < hr["hi"] and hr["lo"] > 1.0
    assert raw.cox.coefs.loc["age_per_10y", "lo"] < 1.0 < raw.cox.coefs.loc["age_per_10y", "hi"]
    out = release(R.publish, raw).data
    cox = out["cox"]
    assert cox["status"] == "ok" and set(cox["hazard_ratios"]) == set(cox["ph_test_p_value"])
    assert {"age_per_10y", "imd_quintile"} <= set(cox["hazard_ratios"])
    assert any(k.startswith("risk_band=") for k in cox["hazard_ratios"])
    assert all(0 <= p <= 1 for p in cox["ph_test_p_value"].values() if p is not None)
    json.dumps(out, allow_nan=False)


def test_cox_covariates_come_from_the_referral_behind_the_index_stay():
    """Not the patient's earliest referral (one 600 days before, in another risk band), and nothing
    recorded after time zero (a health budget spent during support, the service outcome)."""
    ex = simulate(n=200, seed=5)
    refs = ex["referrals"]
    early = refs.copy()
    early["referral_id"] = "E" + early["referral_id"].str[1:]
    early["referral_date"] = early["referral_date"] - pd.Timedelta(days=600)
    early["risk_band"] = "low"
    early["age"] = early["age"] - 2
    later = refs.iloc[:20].copy()  # a referral after discharge: not known at time zero
    later["referral_id"] = "L" + later["referral_id"].str[1:]
    later["referral_date"] = later["referral_date"] + pd.Timedelta(days=30)
    later["risk_band"] = "low"
    ex.tables["referrals"] = pd.concat([early, refs, later], ignore_index=True)
    co, _ = R.build_cohort(ex["hospital_spells"], ex["deaths"], ex.config.end)
    cov = R.covariates(co, ex["referrals"])
    assert list(cov.columns) == ["age_per_10y", "imd_quintile", "risk_band"]  # no budget, no outcome
    assert "low" not in set(cov["risk_band"])
    by_patient = dict(zip(refs["patient_id"], refs["age"], strict=True))
    assert np.allclose(cov["age_per_10y"].to_numpy() * 10, co["patient_id"].map(by_patient).to_numpy())
    # a patient whose only referral comes after discharge has no covariates (left out of the model)
    only_later = R.index_referral(co.assign(index_discharge=co["index_discharge"] - pd.Timedelta(days=3)),
                                  ex["referrals"][ex["referrals"]["referral_id"].str.startswith("L")])
    assert len(only_later) == 0


def test_cox_drops_all_missing_covariates_and_needs_events():
    raw = R.compute(simulate(n=300, imd=False), load_settings())
    assert raw.cox.status == "ok"
    assert "imd_quintile" in raw.cox.dropped and "imd_quintile" not in raw.cox.coefs.index
    few = R.compute(cohort_extract(HAND), load_settings())
    assert few.cox.status == "not_run" and "at least" in few.cox.reason


def test_cif_close_to_planted_rate_on_simulated_extract():
    # readmission hazard 0.004/day (x2 with budget, 45%), death 0.001/day: the truth by 30 days is
    # sum over groups of w * lam/(lam + mu) * (1 - exp(-30 (lam + mu))) for whole-day times
    raw = R.compute(simulate(n=2000, seed=5), load_settings())
    mu = 0.001
    truth = 0
    for w, lam in ((0.45, 0.008), (0.55, 0.004)):
        truth += w * lam / (lam + mu) * (1 - math.exp(-30 * (lam + mu)))
    lo, hi = raw.fit.ci(1, 29)
    assert lo < truth < hi


def test_ph_test_on_a_sample_for_large_cohorts(monkeypatch):
    from pipeline.analyses import cox as C

    monkeypatch.setattr(C, "PH_TEST_MAX_N", 150)
    raw = R.compute(simulate(n=300, seed=3), load_settings())
    assert raw.cox.status == "ok" and raw.cox.ph_n == 150 and len(raw.cox.ph) > 0
    assert "sample of 150" in release(R.publish, raw).data["cox"]["ph_test"]


def test_no_index_patients():
    ex = make_extract([sp("A", "2023-01-01", "2023-01-02")], [("A", "2023-05-01")])
    out = release(R.publish, R.compute(ex, load_settings())).data
    assert out["n_index"] == 0 and out["cif_30d_pct"] is None and out["cox"]["status"] == "not_run"
    json.dumps(out, allow_nan=False)


# ------------------------------------------------------------------------------ the tiny fixture
def test_tiny_fixture_by_hand():
    """tests/fixtures/tiny: P005's index spell ends 2022-09-20 and an emergency readmission starts
    2022-10-15 (t = 25); P004's elective spell and C001 (never referred, no sp_index) are not index
    spells; P010 died but had no index. So 1 index patient, readmitted within 30 (not 14) days."""
    from pipeline.load import load_extract

    ex = load_extract(TINY)
    raw = R.compute(ex, load_settings())
    assert raw.cohort[["patient_id", "time", "status"]].values.tolist() == [["P005", 25, 1]]
    out = release(R.publish, raw, OFF).data
    assert out["n_index"] == 1
    assert (out["cif_14d_pct"], out["cif_30d_pct"], out["cif_90d_pct"], out["death_90d_pct"]) == (0.0, 100.0, 100.0, 0.0)
    assert out["cif_30d_ci95"] == [100.0, 100.0]
    assert out["benchmark_30d_pct"] == 12.6 and out["benchmark"]["source"] == "extract.yml"
    # no event yet: the interval is one-sided, [0, 1 - 0.025^(1/n)] with n = 1 still followed
    assert out["readmission_ci95"]["14d"] == [0.0, 97.5]
    json.dumps(out, allow_nan=False)


# ------------------------------------------------------------------------------ synthetic areas
def _find_probability(obj, words):
    """A number in (0, 1) under a key containing every one of ``words``, anywhere in PLANTED."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (int, float)) and all(w in str(k).lower() for w in words) and 0 < v < 1:
                return float(v)
        for v in obj.values():
            found = _find_probability(v, words)
            if found is not None:
                return found
    return None


@pytest.mark.parametrize("slug", ["norfolk-and-waveney", "city-of-london"])
def test_synthetic_area_cif_near_planted_rate(slug, tmp_path):
    synthetic = pytest.importorskip("pipeline.synthetic")
    from pipeline.load import load_extract

    synthetic.generate(slug, tmp_path / slug)
    raw_dir = next(p.parent for p in sorted(tmp_path.rglob("extract.yml")))
    ex = load_extract(raw_dir)
    if "hospital_spells" not in ex.tables:
        pytest.skip(f"the synthetic {slug} extract has no hospital_spells")
    raw = R.compute(ex, load_settings())
    out = release(R.publish, raw).data
    json.dumps(out, allow_nan=False)
    planted = getattr(synthetic, "PLANTED", {})
    planted = planted.get(slug, planted) if isinstance(planted, dict) else {}
    p30 = _find_probability(planted, ("readmi", "30"))
    if p30 is None or raw.fit is None or raw.n_index < 50:
        pytest.skip("no planted 30-day readmission probability, or too few index patients")
    lo, hi = raw.fit.ci(1, 29)
    assert lo - 0.03 <= p30 <= hi + 0.03, (p30, lo, hi)


def test_cox_with_an_infinite_interval_publishes_not_estimable_not_infinity():
    """Separation (no readmissions in one risk band) gives lifelines an infinite upper limit;
    results.json must stay valid JSON (found building synthetic Harrow)."""
    coefs = pd.DataFrame([
        {"covariate": "risk_band=medium", "hr": 1e-9, "lo": 0.0, "hi": math.inf, "p": 0.99, "kind": "binary",
         "n_with": 40, "events_with": 0, "n_without": 200, "events_without": 30},
        {"covariate": "age_per_10y", "hr": 1.2, "lo": 0.9, "hi": 1.6, "p": 0.2, "kind": "continuous",
         "n_with": 240, "events_with": 30, "n_without": 240, "events_without": 30},
    ]).set_index("covariate")
    cox = R.CoxRaw("ok", n=240, events=30, coefs=coefs)
    raw = R.compute(cohort_extract(HAND), load_settings())
    raw.cox = cox
    pub = release(R.publish, raw)
    out = pub.data["cox"]
    json.dumps(out, allow_nan=False)
    assert out["hazard_ratios"]["risk_band=medium"]["hr"] is None
    assert "not_estimable" in out["hazard_ratios"]["risk_band=medium"]
    assert "cox.hazard_ratios.risk_band=medium.hr" in pub.not_estimable
    assert out["hazard_ratios"]["age_per_10y"]["hr"] == 1.2
    assert not any("risk_band=medium" in p for p in pub.suppressed)
