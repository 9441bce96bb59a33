"""GP appointments through the disclosure layer: what a reader could work out from the published
section, figure by figure (each test failed on the section as it was before the layer)."""

import math
from datetime import date

import pandas as pd
import pytest
from test_gp_appointments import bench, hand_extract, make_extract, off

from pipeline import sections
from pipeline.analyses import gp_appointments as G
from pipeline.analyses.gp_appointments import variance as GV
from pipeline.config import DisclosureSettings, load_settings
from pipeline.disclosure import Rules, release

RULES = Rules(DisclosureSettings())


def r5(n: int) -> int:
    return RULES.round_count(n)


def decimals(v: float) -> int:
    """The decimals a published number carries (0.25 -> 2, 1.5 -> 1, 2.0 -> 0)."""
    for d in range(6):
        if abs(v - round(v, d)) < 1e-9:
            return d
    return 6


def test_the_section_is_declared():
    s = sections.get("gp_appointments")
    assert s is G.SECTION and s.contract and s.order == 60 and s.notebook == "60_gp_appointments"
    assert s.required == ("referrals", "gp_appointments") and "comparison_patients" in s.optional


# ------------------------------------------------------------------------------ the % variance
def crafted(before: list[int], after: list[int], n_index: int = 100):
    """A raw result whose 2022/23 cohort has these patients' before and after counts for k = 1."""
    raw = G.compute(hand_extract(), load_settings())
    pp = pd.DataFrame({"patient_id": [f"P{i}" for i in range(len(before))], "cohort": "2022/23", "k": 1,
                       "inside": True, "before": before, "after": after})
    raw.variance = GV.variance_table(pp)
    raw.n_index_patients = n_index
    return raw


def test_variance_back_solves_only_to_the_rounded_totals():
    """9 patients, 100 appointments before and 59 after: the exact -41.0% fits only 100 and 59 of the
    totals a reader sees as 100 and 60; the published figure is -40.0%, from 100 and 60."""
    raw = crafted([12] * 5 + [10] * 4, [7] * 5 + [6] * 4)
    assert raw.variance.loc[0, "variance_pct"] == pytest.approx(-41.0)
    d = release(G.publish, raw).data
    det = d["variance_detail"]["2022/23"]["3m"]
    assert (det["n_patients"], det["appointments_before"], det["appointments_after"]) == (10, 100, 60)
    assert d["variance_pct"]["2022/23"]["3m"] == -40.0
    assert det["appointments_before"] * (1 + d["variance_pct"]["2022/23"]["3m"] / 100) == pytest.approx(60)


def test_variance_interval_is_centred_on_the_published_ratio():
    """A log-symmetric interval's geometric centre is its ratio: it must give back 60/100, not 59/100."""
    raw = crafted([12] * 5 + [10] * 4, [7] * 5 + [6] * 4)
    lo, hi = release(G.publish, raw).data["variance_detail"]["2022/23"]["3m"]["variance_pct_ci95"]
    centre = math.sqrt((1 + lo / 100) * (1 + hi / 100))
    assert centre == pytest.approx(0.60, abs=0.0015) and abs(centre - 0.59) > 0.005
    # the width still comes from the patient-level standard error
    se = float(raw.variance.loc[0, "se_log"])
    assert math.log((1 + hi / 100) / (1 + lo / 100)) / 2 == pytest.approx(1.959964 * se, abs=0.002)


def test_variance_resting_on_few_patients_is_withheld_whatever_the_appointments():
    """7 patients with 100 appointments before: the totals are not small, the people are."""
    raw = crafted([15] * 6 + [10], [10] * 7)
    pub = release(G.publish, raw)
    assert pub.data["variance_pct"]["2022/23"]["3m"] is None
    assert pub.data["variance_detail"]["2022/23"]["3m"]["variance_pct_ci95"] is None
    assert "variance_pct.2022/23.3m" in pub.suppressed


def test_a_window_missing_a_few_patients_of_the_shorter_one_is_hidden():
    """20 patients of 2023/24 count for 3 months, 17 of them for 6 and 9 months: 20 - 17 = 3
    patients (referred in November 2023) would be a small count by subtraction."""
    refs = [dict(patient_id=f"A{i}", referral_date="2023-06-01") for i in range(17)]
    refs += [dict(patient_id=f"B{i}", referral_date="2023-11-01") for i in range(3)]
    ap = [(r["patient_id"], off(r["referral_date"], k)) for r in refs for k in (-30, -20, 10)]
    raw = G.compute(make_extract(refs, ap), load_settings())
    t = raw.variance.set_index(["cohort", "k"])["n"]
    assert (t[("2023/24", 1)], t[("2023/24", 2)], t[("2023/24", 3)]) == (20, 17, 17)
    det = release(G.publish, raw).data["variance_detail"]["2023/24"]
    assert det["3m"]["n_patients"] == 20
    assert det["6m"]["n_patients"] is None and det["9m"]["n_patients"] is None


# ------------------------------------------------------------------------------ event study
def test_a_quarter_missing_a_few_patients_is_hidden():
    """3 of 33 patients were referred on the extract's first day, so they have no quarter before
    referral: the quarters' counts (30) would give them away against the total (33)."""
    refs = [dict(patient_id=f"A{i}", referral_date="2023-06-01") for i in range(30)]
    refs += [dict(patient_id=f"B{i}", referral_date="2022-04-01") for i in range(3)]
    ap = [(r["patient_id"], off(r["referral_date"], k)) for r in refs for k in (-30, 10, 100)]
    raw = G.compute(make_extract(refs, ap), load_settings())
    assert raw.event.n_patients == 33 and raw.event.panel_summary.loc[-1, "n"] == 30
    es = release(G.publish, raw).data["event_study"]
    assert es["n_patients"] == 35 and es["quarters"]["1"]["n_patients"] == 35
    assert es["quarters"]["-1"]["n_patients"] is None


def test_appointments_per_patient_carry_no_more_decimals_than_their_base():
    """Appointments per patient-quarter are means of whole numbers: with fewer than about 100
    person-quarters behind one, 2 decimals would pin down the exact number of patients."""
    raw = G.compute(bench().simulate_gp_extract(150, 0, seed=4, comparison=False), load_settings())
    q = release(G.publish, raw).data["event_study"]["quarters"]
    few = 0
    for k, row in raw.event.panel_summary.iterrows():
        base = int(row["exposure"] // 91)
        v = q[str(k)]["appointments_per_patient"]
        if not RULES.base_ok(base):
            assert v is None
            continue
        assert decimals(v) <= RULES.mean_decimals(base, 2), (k, v, base)
        few += RULES.mean_decimals(base, 2) < 2
    assert few >= 2  # quarters with fewer than about 100 person-quarters: 2 decimals before


# ------------------------------------------------------------------------------ matched comparison
@pytest.fixture(scope="module")
def small_match():
    return G.compute(bench().simulate_gp_extract(300, 1500, seed=5), load_settings())


def test_rates_a_year_come_from_means_per_window_with_the_base_s_decimals(small_match):
    raw = small_match
    d = release(G.publish, raw).data["matched_did"]
    days = {"before": 183, "after": 365}
    coarse = 0
    for grp in ("referred", "comparison"):
        for period in ("before", "after"):
            s = raw.did.rates[(grp, period)]
            base = int(s.exposure_days // days[period])
            allowed = RULES.mean_decimals(base, 2)
            per_window = d["appointments_per_year"][grp][period] * days[period] / 365
            assert abs(per_window - round(per_window, allowed)) < 0.003, (grp, period, per_window, allowed)
            coarse += allowed < 2
    assert coarse >= 1


def test_balance_shares_are_computed_from_rounded_counts(small_match):
    raw = small_match
    bal = release(G.publish, raw).data["matched_did"]["balance"]
    differs = 0
    for name, b in raw.did.balance.items():
        if b.kind != "pct":
            continue
        want = round(100 * r5(b.referred_yes) / r5(b.referred_known), 1)
        assert bal[name]["referred"] == want, name
        differs += round(100 * b.referred_yes / b.referred_known, 1) != want
        if b.matched_exactly:
            assert bal[name]["comparison"] == want
        else:
            num = sum(r5(b.comparison_yes[j]) / j for j in b.comparison_known)
            den = sum(r5(b.comparison_known[j]) / j for j in b.comparison_known)
            assert bal[name]["comparison"] == round(100 * num / den, 1)
    assert differs >= 1  # the exact shares would have been published otherwise


def test_balance_means_carry_no_more_decimals_than_their_base(small_match):
    raw = small_match
    bal = release(G.publish, raw).data["matched_did"]["balance"]
    coarse = 0
    for name, b in raw.did.balance.items():
        if b.kind != "mean" or bal[name]["referred"] is None:
            continue
        for v, base in ((bal[name]["referred"], b.referred_n), (bal[name]["comparison"], int(b.comparison_weight))):
            assert decimals(v) <= RULES.mean_decimals(base, 2), (name, v, base)
            coarse += RULES.mean_decimals(base, 2) < 2
    assert coarse >= 1


def test_standardised_differences_are_derived_from_the_published_figures(small_match):
    bal = release(G.publish, small_match).data["matched_did"]["balance"]
    for name, b in bal.items():
        if b["kind"] == "pct" and b["std_diff"] is not None:
            pa, pb = b["referred"] / 100, b["comparison"] / 100
            sd = math.sqrt((pa * (1 - pa) + pb * (1 - pb)) / 2)
            assert b["std_diff"] == (round((pa - pb) / sd, 2) if sd else 0.0), name


def test_the_index_patients_breakdown_is_protected():
    """Index patients = eligible + no history + too little follow-up: 3 with too little follow-up
    are hidden, and so is one more part, or 53 - 30 - 20 would give them back."""
    refs = [dict(patient_id=f"E{i}", referral_date="2023-03-01") for i in range(30)]
    refs += [dict(patient_id=f"H{i}", referral_date="2021-10-01") for i in range(20)]
    refs += [dict(patient_id=f"T{i}", referral_date="2024-02-01") for i in range(3)]
    comp = [dict(patient_id=f"C{i}") for i in range(60)]
    ap = [(p, off("2023-03-01", k)) for p in [r["patient_id"] for r in refs] + [c["patient_id"] for c in comp]
          for k in (-300, 30, 200)]
    ex = make_extract(refs, ap, comparison=comp, start=date(2021, 4, 1))
    raw = G.compute(ex, load_settings())
    m = raw.did.match
    assert (m.n_referred_eligible, m.excluded["history_before_extract_start"], m.excluded["too_little_follow_up"]) \
        == (30, 20, 3)
    d = release(G.publish, raw).data
    mm = d["matched_did"]["matching"]
    shown = [d["n_index_patients"], mm["n_referred_eligible"], mm["excluded"]["history_before_extract_start"],
             mm["excluded"]["too_little_follow_up"]]
    assert shown[3] is None and sum(v is None for v in shown) >= 2

