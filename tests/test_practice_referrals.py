"""Referrals by practice against list size: the analysis by hand on the tiny extract with a
``practices`` table, patient-years over part of a financial year, the funnel limits and the
overdispersion by hand, disclosure where it bites (checked by the release check's own attack), and
the planted under-referrer recovered from synthetic Merton and City of London.

The practices table of tests/fixtures/tiny, against tests/fixtures/tiny/referrals.csv
(extract 2022-04-01..2024-03-31: financial years 2022/23 and 2023/24, each wholly inside):

- F84001 (PCN North) 4,000 then 4,200: 8,200 patient-years; R001, R002, R006 (2022/23) and R011
  (2023/24): 4 referrals, 0.49 per 1,000 a year. Its 2021/22 row is outside the extract.
- F84002 (PCN North) 2022/23 only, 2,000: R003, R007 (2022/23): 2 referrals; R010 (2023/24) has no
  list size for its year.
- F84003 South in 2022/23, North in 2023/24 (counted under its latest PCN, North): 3,000 a year,
  6,000 patient-years; R004, R005, R012: 3 referrals, whose pcn (PCN South) differs from North.
- F84005 (PCN South) 2023/24 only, 1,500: no referrals.
- F84004 has no row: R008, R009 have no list size.

Referrals with a list size 4 + 2 + 3 + 0 = 9 of 12 (R008, R009, R010 without); PCN North 9 over
16,200 patient-years, PCN South 0 over 1,500; the borough 9 / 17,700 x 1,000 = 0.508 a year.
"""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pipeline.analyses import practice_referrals as P
from pipeline.areas import AREAS
from pipeline.config import DisclosureSettings
from pipeline.disclosure import release
from pipeline.extract import Extract
from pipeline.load import load_extract
from pipeline.release_check import differencing, from_results
from pipeline.sections import NotAvailable
from pipeline.synthetic import PLANTED, generate
from pipeline.synthetic.build import new_world
from pipeline.synthetic.practice_lists import planted_low_practice

OFF = DisclosureSettings(enabled=False)
RULES = {"enabled": True, "min_count": 8, "rounding": 5, "min_base": 8, "pct_decimals": 1}


@pytest.fixture(scope="module")
def exact(tiny):
    return release(P.publish, P.compute(tiny), OFF).data


def test_counts_rates_and_data_quality_by_hand(exact):
    d = exact
    assert (d["referrals"], d["referrals_with_list_size"], d["referrals_without_list_size"]) == (12, 9, 3)
    assert d["all_referrals_with_list_size"] is False
    assert d["practices_without_list_size"] == ["F84004"]
    assert d["practices_listed_under_two_pcns"] == ["F84003"]
    assert d["referrals_pcn_differs_from_list"] == 3
    assert d["years"] == ["2022/23", "2023/24"]
    assert (d["n_practices"], d["n_pcns"], d["patient_years"]) == (4, 2, 17700.0)
    assert d["rate_per_1000_per_year"] == 0.51
    north, south = d["by_pcn"]["PCN North"], d["by_pcn"]["PCN South"]
    assert list(north["practices"]) == ["F84001", "F84002", "F84003"] and list(south["practices"]) == ["F84005"]
    assert (north["referrals"], north["patient_years"], north["rate_per_1000_per_year"]) == (9, 16200.0, 0.6)
    assert (south["referrals"], south["patient_years"], south["rate_per_1000_per_year"]) == (0, 1500.0, 0.0)
    f1 = north["practices"]["F84001"]
    assert (f1["referrals"], f1["patient_years"], f1["rate_per_1000_per_year"]) == (4, 8200.0, 0.5)
    assert f1["list_size"] == {"2022/23": 4000, "2023/24": 4200}
    assert north["practices"]["F84002"]["referrals"] == 2 and north["practices"]["F84003"]["referrals"] == 3


def test_patient_years_count_the_share_of_each_year_inside_the_extract():
    pr = pd.DataFrame({"practice_code": ["A00001"] * 3, "pcn": "P", "year": ["2020/21", "2021/22", "2023/24"],
                       "list_size": [1000, 3650, 3660]})
    out = P.patient_years(pr, pd.Timestamp("2021-10-01"), pd.Timestamp("2023-12-31"))
    assert list(out["year"]) == ["2021/22", "2023/24"]  # 2020/21 is outside
    # 2021-10-01..2022-03-31 is 182 of 365 days; 2023-04-01..2023-12-31 is 275 of 366 (a leap year)
    assert out["patient_years"].tolist() == pytest.approx([3650 * 182 / 365, 3660 * 275 / 366])


def test_funnel_limits_are_the_poisson_limits_around_the_published_rate(exact):
    """Spiegelhalter's interpolated exact Poisson limits (computed here from scipy) at the
    practice's patient-years around the borough's published rate (0.51 a year)."""
    f1 = exact["by_pcn"]["PCN North"]["practices"]["F84001"]
    mu = 0.51 * 8200 / 1000
    for level, p in (("95", 0.95), ("99.8", 0.998)):
        def q(prob):
            d = stats.poisson(mu)
            r = d.ppf(prob)
            return r - (d.cdf(r) - prob) / (d.cdf(r) - d.cdf(r - 1))
        lo, hi = max(q((1 - p) / 2), 0) / 8.2, q(1 - (1 - p) / 2) / 8.2
        assert f1["limits"][level] == [round(lo, 1), round(hi, 1)]
    assert f1["position"] == {"95": "within", "99.8": "within"}
    assert f1["ci95"] == [round(stats.chi2.ppf(0.025, 8) / 2 / 8.2, 1), round(stats.chi2.ppf(0.975, 10) / 2 / 8.2, 1)]
    assert exact["funnel"]["overdispersion"] == {"estimated": False, "reason": "needs at least 10 practices (have 4)"}
    assert "limits_overdispersion_adjusted" not in f1


def practices_extract(tiny, counts: dict[str, int], lists: dict[str, int], pcn_of=None) -> Extract:
    """``counts`` referrals in 2022/23 from each practice, with ``lists`` list sizes that year."""
    ref = tiny["referrals"]
    rows = []
    for code, n in counts.items():
        r = ref.iloc[np.zeros(n, dtype=int)].copy()
        r["practice_code"] = code
        r["pcn"] = (pcn_of or {}).get(code, "PCN North")
        rows.append(r)
    refs = pd.concat(rows, ignore_index=True)
    refs["referral_id"] = [f"X{i:05d}" for i in range(len(refs))]
    pr = pd.DataFrame({"practice_code": list(lists), "pcn": [(pcn_of or {}).get(c, "PCN North") for c in lists],
                       "year": "2022/23", "list_size": list(lists.values())})
    cfg = tiny.config
    return Extract(cfg, {"referrals": refs, "practices": pr}, tiny.sha256)


def test_overdispersion_by_hand(tiny):
    """Twelve practices of 5,000 patients: the 10%-winsorised mean squared z-score against the
    borough's rate (Spiegelhalter 2005), and the additive variance when it exceeds chance."""
    counts = [50, 60, 70, 80, 90, 100, 100, 110, 120, 130, 140, 150]
    codes = [f"A{i:05d}" for i in range(12)]
    ex = practices_extract(tiny, dict(zip(codes, counts, strict=True)), dict.fromkeys(codes, 5000))
    raw = P.compute(ex)
    # the extract covers 2022/23 and 2023/24: a list for 2022/23 only is 5,000 patient-years
    target = sum(counts) / (12 * 5000) * 1000
    z = (np.array(counts) / 5 - target) / np.sqrt(target / 5)
    lo, hi = np.quantile(z, [0.1, 0.9])
    phi = float(np.mean(np.clip(z, lo, hi) ** 2))
    assert raw.over["phi"] == pytest.approx(round(phi, 3))
    assert raw.over["detected"] == bool(12 * phi > stats.chi2.ppf(0.95, 11))
    w = np.full(12, 5 / target)
    tau2 = (12 * phi - 11) / (w.sum() - (w ** 2).sum() / w.sum())
    assert raw.over["tau2"] == pytest.approx(tau2)
    pub = release(P.publish, raw, OFF).data
    row = pub["by_pcn"]["PCN North"]["practices"]["A00000"]
    z998 = stats.norm.ppf(0.999)
    rate0 = pub["rate_per_1000_per_year"]
    half = z998 * np.sqrt(rate0 / 5 + pub["funnel"]["overdispersion"]["tau2"])
    assert row["limits_overdispersion_adjusted"]["99.8"] == [round(rate0 - half, 1), round(rate0 + half, 1)]
    assert row["position"]["99.8"] == "below" and row["position_overdispersion_adjusted"]["99.8"] == "within"
    assert P.verdict(row) == "within"  # read against the limits that allow for overdispersion


def test_disclosure_hides_a_small_practice_with_a_neighbour_and_nothing_is_recoverable(tiny):
    counts = {"A00001": 100, "A00002": 2, "B00001": 50, "B00002": 40}
    pcn = {"B00001": "PCN South", "B00002": "PCN South"}
    ex = practices_extract(tiny, counts, dict.fromkeys(counts, 4000), pcn)
    out = release(P.publish, P.compute(ex), DisclosureSettings())
    north = out.data["by_pcn"]["PCN North"]
    small, neighbour = north["practices"]["A00002"], north["practices"]["A00001"]
    assert small["referrals"] is None and neighbour["referrals"] is None  # primary and secondary
    for row in (small, neighbour):
        assert row["rate_per_1000_per_year"] is None and row["position"]["99.8"] is None and row["ci95"] is None
    assert north["referrals"] == 100 and north["rate_per_1000_per_year"] == 12.5
    assert neighbour["patient_years"] == 4000.0  # a fact about the practice
    # the release check's differencing attack, from the catalogue alone, recovers nothing
    rep = from_results({"disclosure_control": RULES, "practice_referrals": json.loads(json.dumps(out.data))})
    assert differencing.attack(rep) == []
    # ... while the same table without the secondary suppression gives the small practice away:
    # 100 (98..102) in the PCN, 100 (98..102) in A00001, so A00002 holds 1 to 4
    leaky = json.loads(json.dumps(out.data))
    leaky["by_pcn"]["PCN North"]["practices"]["A00001"].update(referrals=100, rate_per_1000_per_year=25.0)
    found = differencing.attack(from_results({"disclosure_control": RULES, "practice_referrals": leaky}))
    assert [f.paths[0] for f in found] == ["practice_referrals.by_pcn.PCN North.practices.A00002.referrals"]


def test_no_list_size_inside_the_extract_is_a_reason_not_an_error(tiny):
    pr = pd.DataFrame({"practice_code": ["F84001"], "pcn": ["PCN North"], "year": ["2019/20"], "list_size": [10]})
    ex = Extract(tiny.config, {"referrals": tiny["referrals"], "practices": pr}, tiny.sha256)
    with pytest.raises(NotAvailable, match="no list size for a financial year the extract covers"):
        P.compute(ex)


def test_reading_and_headline_quote_published_figures_only(exact):
    text = P.reading(exact)
    assert "0.51 referrals per 1,000" in text and "F84004" in text
    assert "no practice referred below the 99.8% limit" in text
    assert P.headlines(exact)[0].value == "none"


# ---------------------------------------------------------------------------------- planted
@pytest.fixture(scope="module", params=["merton", "city-of-london"])
def synthetic(request, tmp_path_factory):
    slug = request.param
    ex = load_extract(generate(slug, tmp_path_factory.mktemp(slug) / slug))
    out = release(P.publish, P.compute(ex), DisclosureSettings())
    return slug, out.data


def test_the_planted_under_referrer_is_below_the_99_8_limit(synthetic):
    """One practice per PCN-service area refers at 0.4 of the others' rate (PLANTED); the funnel
    flags it below the 99.8% limit (the overdispersion-adjusted one when practices vary more than
    chance, as planted in Merton), and its published rate is 0.4 of the borough's within 0.15."""
    slug, pub = synthetic
    low = planted_low_practice(new_world(AREAS[slug]).practices)
    assert P.flagged(pub, "below") == [low]
    row = next(r for _, c, r in P.practice_rows(pub) if c == low)
    assert row["position"]["99.8"] == "below"
    ratio = row["rate_per_1000_per_year"] / pub["rate_per_1000_per_year"]
    assert ratio == pytest.approx(PLANTED["practice_lists"]["low_rate_ratio"], abs=0.15)
    assert P.practice_rows(pub)[0][1] == low  # the lowest rate
    if slug == "merton":  # 31 practices: the planted variation between practices is found
        over = pub["funnel"]["overdispersion"]
        assert over["detected"] is True
        cv = np.sqrt(over["tau2"]) / pub["rate_per_1000_per_year"]
        assert cv == pytest.approx(PLANTED["practice_lists"]["rate_cv"], abs=0.07)
        assert row["position_overdispersion_adjusted"]["99.8"] == "below"
