"""Hospital-based social prescribing: service outcome, bed days saved, personal health budgets and
the notional cost benefit, on small hand-made referrals with hand-computed values."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from pipeline.analyses import hospital
from pipeline.config import DisclosureSettings, load_settings
from pipeline.disclosure import release
from pipeline.extract import Extract, ExtractConfig
from pipeline.sections import NotAvailable

OFF = DisclosureSettings(enabled=False)
ON = DisclosureSettings()


def publish(raw, rules=OFF):
    return release(hospital.publish, raw, rules)


def settings(tariff=100.0):
    s = load_settings()
    return s.model_copy(update={"hospital": s.hospital.model_copy(update={"bed_day_tariff_gbp": tariff})})


def extract(outcome, bed_days, budget, patients=None):
    n = len(outcome)
    ref = pd.DataFrame({
        "referral_id": [f"R{i:03d}" for i in range(n)],
        "patient_id": patients or [f"P{i:03d}" for i in range(n)],
        "service_outcome": pd.Series(outcome, dtype="object"),
        "bed_days_saved": pd.Series(bed_days, dtype="float64"),
        "health_budget_gbp": pd.Series(budget, dtype="float64"),
    })
    cfg = ExtractConfig(slug="t", borough="T", ons_code="E09000099", extract_start=date(2022, 4, 1),
                        extract_end=date(2024, 3, 31), registered_population=10000)
    return Extract(cfg, {"referrals": ref}, sha256="0" * 64)


# 10 referrals, 10 people. Outcomes: admission avoided x3, discharge expedited x6, not recorded x1.
OUTCOME = ["admission_avoided"] * 3 + ["discharge_expedited"] * 6 + [None]
BED_DAYS = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
BUDGET = [0, 100, np.nan, 0, 50, 200, 0, 0, 1200, np.nan]


def test_exact_values_without_disclosure_control():
    raw = hospital.compute(extract(OUTCOME, BED_DAYS, BUDGET), settings(tariff=100))
    out = publish(raw).data
    assert out["n_referrals"] == 10 and out["n_patients"] == 10
    so = out["service_outcome"]
    assert so["counts"] == {"admission_avoided": 3, "discharge_expedited": 6, "other": 0, "not_recorded": 1}
    assert so["pct"] == {"admission_avoided": 30.0, "discharge_expedited": 60.0, "other": 0.0, "not_recorded": 10.0}

    bd = out["bed_days_saved"]
    assert bd["n"] == 10 and bd["mean"] == 6.5 and bd["total"] == 65.0
    assert bd["sd"] == round(float(np.std(BED_DAYS, ddof=1)), 1) == 3.0
    # numpy linear interpolation on 2..11: position q * 9
    assert (bd["p10"], bd["p25"], bd["median"], bd["p75"], bd["p90"]) == (2.9, 4.2, 6.5, 8.8, 10.1)
    assert "min" not in bd and "max" not in bd
    by = bd["by_outcome"]
    assert by["admission_avoided"] == {"n": 3, "mean": 3.0, "sd": 1.0, "total": 9.0}
    assert by["discharge_expedited"]["mean"] == 7.5 and by["discharge_expedited"]["total"] == 45.0
    assert by["not_recorded"]["total"] == 11.0 and "other" not in by
    assert by["not_recorded"]["sd"] is None  # one value: not estimable

    hb = out["health_budget"]
    # recipients: 100, 50, 200, 1200 (0 and empty are "no budget")
    assert hb["recipients"] == 4 and hb["referrals"] == 10 and hb["recipients_pct"] == 40.0
    assert hb["amount_not_recorded"] == 2
    assert hb["mean_gbp"] == 387.5 and hb["total_gbp"] == 1550.0
    assert hb["sd_gbp"] == round(float(np.sqrt(891875 / 3)), 2)
    assert hb["bins"] == {"0-50": 0, "50-100": 1, "100-250": 2, "250-500": 0, "500-1000": 0, "1000+": 1}
    assert hb["by_outcome"]["admission_avoided"]["recipients"] == 1
    assert hb["by_outcome"]["discharge_expedited"]["recipients_pct"] == 50.0  # 50, 200, 1200 of 6

    cb = out["cost_benefit"]
    assert cb["bed_day_tariff_gbp"] == 100.0
    assert cb["mean_gbp"] == 650.0 and cb["total_gbp"] == 6500.0
    assert cb["net_of_budget"]["budget_mean_gbp"] == 155.0  # 1550 over the 10 referrals with an estimate
    assert cb["net_of_budget"]["total_gbp"] == 6500.0 - 1550.0 and cb["net_of_budget"]["mean_gbp"] == 495.0
    assert cb["by_outcome"]["admission_avoided"]["total_gbp"] == 900.0
    assert "own estimate" in cb["caveat"] and "not cash released" in cb["caveat"]


def big_frame():
    """53 people: 20 admission avoided, 30 discharge expedited, 3 other."""
    rng = np.random.default_rng(0)
    outcome = ["admission_avoided"] * 20 + ["discharge_expedited"] * 30 + ["other"] * 3
    bed = list(rng.uniform(1, 15, len(outcome)))  # no ties: percentile support is the tail size
    budget = [150.0 if i % 2 else 0.0 for i in range(len(outcome))]
    return outcome, bed, budget


def test_small_groups_suppressed_with_secondary_suppression():
    outcome, bed, budget = big_frame()
    out = publish(hospital.compute(extract(outcome, bed, budget), settings()), ON)
    pub = out.data
    by = pub["bed_days_saved"]["by_outcome"]
    # "other" (3 referrals) is hidden; so is the next smallest group, else it could be recovered by subtraction
    assert all(v is None for v in by["other"].values())
    assert all(v is None for v in by["admission_avoided"].values())
    assert by["discharge_expedited"]["n"] == 30 and by["discharge_expedited"]["mean"] is not None
    assert {"bed_days_saved.by_outcome.other.total", "bed_days_saved.by_outcome.admission_avoided.mean",
            "cost_benefit.by_outcome.admission_avoided.total_gbp"} <= set(out.suppressed)
    # counts rounded to 5; the small "other" count suppressed, with a secondary cell
    assert pub["n_referrals"] == 55
    assert pub["service_outcome"]["counts"]["other"] is None
    assert pub["service_outcome"]["counts"]["discharge_expedited"] == 30
    # overall figures rest on 53 people: published; P10/P90 need 8 people in each tail (53 * 0.1 < 8)
    bd = pub["bed_days_saved"]
    assert bd["mean"] is not None and bd["total"] is not None
    assert bd["p10"] is None and bd["p90"] is None
    assert bd["p25"] is not None and bd["median"] is not None and bd["p75"] is not None
    assert "bed_days_saved.p10" in out.suppressed
    # every suppressed path points at a None in the output
    for path in out.suppressed:
        node = pub
        for part in path.split("."):
            node = node[part]
        assert node is None, path


def test_statistics_rest_on_people_not_referrals():
    # 10 referrals but only 4 people: no mean may be published
    outcome = ["discharge_expedited"] * 10
    patients = [f"P{i % 4}" for i in range(10)]
    out = publish(hospital.compute(extract(outcome, [3.0] * 10, [0.0] * 10, patients), settings()), ON).data
    assert out["n_referrals"] == 10
    assert out["bed_days_saved"]["mean"] is None and out["bed_days_saved"]["total"] is None
    assert out["cost_benefit"]["mean_gbp"] is None


def leaky_frame():
    """80 referrals of 80 people: 15 avoided an admission, 65 expedited a discharge; whole bed days,
    budgets in whole pounds for every other referral."""
    rng = np.random.default_rng(3)
    outcome = ["admission_avoided"] * 15 + ["discharge_expedited"] * 65
    bed = list(rng.integers(1, 15, len(outcome)).astype(float))
    budget = [float(rng.integers(20, 400)) if i % 2 else 0.0 for i in range(len(outcome))]
    return outcome, bed, budget


def test_a_total_and_a_mean_cannot_be_divided_to_give_the_exact_count():
    """The old section published each group's exact total beside its mean (555 bed days, mean 6.1:
    555 / 6.1 = 91 exact referrals where the count showed 90). Now the total is the published mean x
    the published count, so total / mean is the rounded count, never the exact one."""
    outcome, bed, budget = leaky_frame()
    raw = hospital.compute(extract(outcome, bed, budget), settings(tariff=865))
    pub = publish(raw, ON).data
    for fig in [pub["bed_days_saved"], pub["bed_days_saved"]["by_outcome"]["admission_avoided"]]:
        assert fig["n"] % 5 == 0 and fig["total"] == round(fig["mean"] * fig["n"])
    hb = pub["health_budget"]
    assert hb["total_gbp"] == round(hb["mean_gbp"] * hb["recipients"])  # 40 recipients: exact, not back-solved
    assert hb["total_gbp"] != sum(budget)  # the exact total is not published
    aa = hb["by_outcome"]["admission_avoided"]  # 7 recipients: the count, and with it the mean and total, hidden
    assert aa["recipients"] is None and aa["mean_gbp"] is None and aa["total_gbp"] is None


def test_the_cost_benefit_is_the_published_bed_days_times_the_tariff():
    """An exact mean cost (to £1) is the bed-day mean to a thousandth of a day; the published cost is
    the published bed-day figure x tariff, so it shows nothing the bed-day figures do not."""
    outcome, bed, budget = leaky_frame()
    raw = hospital.compute(extract(outcome, bed, budget), settings(tariff=865))
    pub = publish(raw, ON).data
    bd, cb = pub["bed_days_saved"], pub["cost_benefit"]
    for k in ("mean", "sd", "total", "median"):
        assert cb[f"{k}_gbp"] == round(bd[k] * 865), k
    exact = float(np.mean(bed)) * 865
    assert cb["mean_gbp"] != round(exact)  # the exact mean cost is not published
    net = cb["net_of_budget"]
    assert net["mean_gbp"] == round(cb["mean_gbp"] - net["budget_mean_gbp"])


def test_a_group_hidden_in_the_outcome_table_is_hidden_in_every_table():
    """"other" has 3 referrals: its count is hidden in Table 3, and so are its bed days, budgets and
    costs, and the next smallest outcome's, in every table (one cell per quantity)."""
    outcome, bed, budget = big_frame()
    pub = publish(hospital.compute(extract(outcome, bed, budget), settings()), ON).data
    assert pub["service_outcome"]["counts"]["admission_avoided"] is None
    for table in (pub["bed_days_saved"]["by_outcome"], pub["cost_benefit"]["by_outcome"],
                  pub["health_budget"]["by_outcome"]):
        for g in ("other", "admission_avoided"):
            assert all(v is None for v in table[g].values()), (g, table[g])


def test_percentile_support_counts_people_on_each_side():
    v = np.array([1.0, 1, 1, 2, 3, 3, 9])
    p = np.array(["a", "b", "c", "d", "e", "f", "g"])
    assert hospital.percentile_support(v, p, 1.0) == 3  # 3 at or below, 7 at or above
    assert hospital.percentile_support(v, p, 3.0) == 3  # 6 at or below, 3 at or above


def test_not_run_when_nothing_recorded():
    e = extract([None] * 3, [np.nan] * 3, [np.nan] * 3)
    reason = hospital.availability(e)
    assert reason and "service_outcome" in reason
    with pytest.raises(NotAvailable):
        hospital.compute(e, settings())


def test_not_run_without_referrals_table():
    e = extract([None], [np.nan], [np.nan])
    e.tables.pop("referrals")
    assert "referrals" in hospital.availability(e)


def test_runs_on_one_column_only():
    e = extract([None, None], [np.nan, np.nan], [0.0, 80.0])  # budgets only
    out = publish(hospital.compute(e, settings())).data
    assert out["n_referrals"] == 2 and out["health_budget"]["recipients"] == 1
    assert out["bed_days_saved"]["n"] == 0 and out["bed_days_saved"]["mean"] is None
    assert out["cost_benefit"]["total_gbp"] is None
    assert out["service_outcome"]["counts"]["not_recorded"] == 2


def test_community_referrals_are_outside_the_section():
    e = extract(["admission_avoided", None, None], [4.0, np.nan, np.nan], [np.nan, np.nan, np.nan])
    out = publish(hospital.compute(e, settings())).data
    assert out["n_referrals"] == 1


def test_budget_bins_follow_settings():
    assert [k for k, *_ in hospital.bin_labels([0, 100, 500])] == ["0-100", "100-500", "500+"]
    labels = [lab for _, lab, *_ in hospital.bin_labels([0, 100, 500])]
    assert labels == ["under £100", "£100 to under £500", "£500 and over"]


def test_headline_and_reading_quote_published_figures():
    outcome, bed, budget = leaky_frame()
    pub = publish(hospital.compute(extract(outcome, bed, budget), settings(tariff=865)), ON).data
    (h,) = hospital.headlines(pub)
    bd, cb = pub["bed_days_saved"], pub["cost_benefit"]
    assert h.value == f"{bd['mean']:.1f} per referral"
    assert f"about {bd['total']:,.0f} in total" in h.reading and f"£{cb['total_gbp']:,.0f}" in h.reading
    assert f"£{cb['total_gbp']:,.0f}" in hospital.reading(pub)
    assert hospital.headlines({**pub, "bed_days_saved": {**bd, "mean": None}}) == []
