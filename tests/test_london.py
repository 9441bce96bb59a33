"""The London-wide comparison (pipeline/london.py): funnel limits, flags, skips and the page,
built from hand-made results.json files only."""

import json
import math
import re

import numpy as np
import pytest
from scipy import stats

from pipeline import london

BOROUGHS = ["barnet", "bexley", "brent", "bromley", "camden", "croydon", "ealing", "enfield", "hackney",
            "harrow", "lambeth", "merton", "sutton", "wandsworth"]


def fake_results(slug, i, *, dna_pct=30.0, booked=2000, referrals=1500, pop=200_000, years=3.0,
                 change=0.8, n_pairs=400, sd=2.0, cif=12.0, n_index=None, gp=None, synthetic=True,
                 sdc=True):
    half = stats.t.ppf(0.975, n_pairs - 1) * sd / math.sqrt(n_pairs)
    ons4 = {item: {"n_pairs": n_pairs, "mean_baseline": 5.0, "mean_followup": 5.0 + change,
                   "mean_change": change, "ci95": [change - half, change + half], "p_value": 0.01}
            for item in ("life_satisfaction", "worthwhile", "happiness", "anxiety")}
    res = {
        "contract_version": 1, "borough": slug,
        "extract": {"start": "2021-04-01", "end": "2024-03-31", "sha256": f"{i:064d}"},
        "code_version": "test", "suppressed": [],
        "activity": {"referrals": referrals, "patients": referrals, "patients_seen": referrals,
                     "contacts_booked": booked, "contacts_attended": booked,
                     "dna_or_cancelled_pct": dna_pct, "mean_attended_contacts_per_patient_seen": 3.0,
                     "median_days_referral_to_first_contact": 10.0, "referrals_by_month": {},
                     "referral_rates": {"registered_population": pop, "years": years}},
        "wellbeing": {"ons4": ons4},
        "targets": {"status": "not_run", "reason": "no clinical_measurements table"},
        "gp_appointments": gp or {"status": "not_run", "reason": "no gp_appointments table"},
        "readmission": ({"status": "not_run", "reason": "no hospital_spells table"} if n_index is None else
                        {"n_index": n_index, "cif_30d_pct": cif, "cif_30d_ci95": None}),
        "synthetic": synthetic,
        "disclosure_control": {"enabled": sdc, "min_count": 8, "rounding": 5, "min_base": 8, "pct_decimals": 1},
    }
    return res


def write(reports, res):
    d = reports / res["borough"]
    d.mkdir(parents=True, exist_ok=True)
    (d / "results.json").write_text(json.dumps(res))


@pytest.fixture
def reports(tmp_path):
    rng = np.random.default_rng(1)
    rep = tmp_path / "reports"
    for i, slug in enumerate(BOROUGHS):
        booked = int(rng.integers(800, 4000) // 5 * 5)
        p = 0.30 + rng.normal(0, 0.004)
        dna = round(round(p * booked / 5) * 5 / booked * 100, 1)
        gp = {"variance_pct": {"2022/23": {"3m": -5.0, "6m": -6.0, "9m": -7.0, "12m": -10.0 + rng.normal(0, 1)}},
              "variance_detail": {"2022/23": {"12m": {"n_patients": 300, "appointments_before": 3000,
                                             "appointments_after": 2700}}}}
        write(rep, fake_results(slug, i, dna_pct=dna, booked=booked, referrals=int(rng.integers(200, 400) * 5),
                                n_index=300 if i % 2 else None, cif=12.0, gp=gp))
    # an outlier on missed appointments
    write(rep, fake_results("newham", 90, dna_pct=45.0, booked=3000))
    # a borough whose ONS4 and DNA figures are suppressed
    small = fake_results("city-of-london", 91, referrals=None, booked=None, dna_pct=None)
    for item in small["wellbeing"]["ons4"].values():
        item.update({"n_pairs": None, "mean_change": None, "ci95": None})
    write(rep, small)
    # left out: not in London; disclosure control off; a period report below a borough
    write(rep, fake_results("norfolk-and-waveney", 92))
    write(rep, fake_results("hounslow", 93, sdc=False))
    (rep / "merton" / "2023-24").mkdir()
    (rep / "merton" / "2023-24" / "results.json").write_text(json.dumps(fake_results("merton", 94)))
    return rep


# --------------------------------------------------------------------------- the maths

def test_binomial_limits_are_exact_and_approach_the_normal():
    lo, hi = london.binomial_limits(0.3, [100, 4000, 20000], 0.95)
    # interpolated exact limits bracket about 95% of the binomial distribution
    k = 100
    assert stats.binom.cdf(math.ceil(hi[0] * k), k, 0.3) >= 0.975 - 0.02
    assert stats.binom.cdf(math.floor(lo[0] * k), k, 0.3) <= 0.025 + 0.02
    for n, a, b in zip([4000, 20000], lo[1:], hi[1:], strict=True):
        half = 1.96 * math.sqrt(0.3 * 0.7 / n)
        assert a == pytest.approx(0.3 - half, abs=0.002) and b == pytest.approx(0.3 + half, abs=0.002)
    lo998, hi998 = london.binomial_limits(0.3, [100], 0.998)
    assert lo998[0] < lo[0] < 0.3 < hi[0] < hi998[0]


def test_poisson_limits_match_the_normal_for_large_counts():
    lo, hi = london.poisson_limits(5.0, [2000.0], 0.95)  # 10,000 expected events
    half = 1.96 * math.sqrt(5.0 / 2000)
    assert lo[0] == pytest.approx(5.0 - half, rel=1e-3) and hi[0] == pytest.approx(5.0 + half, rel=1e-3)


def test_intervals():
    lo, hi = london.wilson_interval(0.5, 100)
    assert lo == pytest.approx(0.404, abs=1e-3) and hi == pytest.approx(0.596, abs=1e-3)
    lo, hi = london.poisson_interval(10, 1.0)
    assert lo == pytest.approx(4.795, abs=1e-3) and hi == pytest.approx(18.39, abs=1e-2)


def test_overdispersion_needs_enough_boroughs_and_detects_spread():
    assert london.overdispersion(np.zeros(5), np.ones(5))["estimated"] is False
    calm = london.overdispersion(np.random.default_rng(0).normal(0, 1, 30), np.ones(30))
    wild = london.overdispersion(np.random.default_rng(0).normal(0, 4, 30), np.ones(30))
    assert not calm["detected"] and wild["detected"] and wild["tau2"] > 0


def test_display_names():
    assert london.display_name("kingston-upon-thames") == "Kingston upon Thames"
    assert london.display_name("city-of-london") == "City of London"
    assert len(london.LONDON_BOROUGHS) == 33


def test_london_list_matches_the_built_in_areas():
    areas = pytest.importorskip("pipeline.areas")
    assert set(london.LONDON_BOROUGHS) == set(areas.AREAS) - {"norfolk-and-waveney"}


# --------------------------------------------------------------------------- the comparison

def test_reading_results_keeps_london_boroughs_with_disclosure_control(reports):
    found, excluded, hashes = london.read_all(reports)
    assert "newham" in found and "merton" in found and set(found) == set(hashes)
    assert "not a London borough" in excluded["norfolk-and-waveney"]
    assert "disclosure control switched off" in excluded["hounslow"]
    assert "2023-24" not in found
    found_all, excluded_all, _ = london.read_all(reports, all_areas=True)
    assert "norfolk-and-waveney" in found_all and "norfolk-and-waveney" not in excluded_all


def test_outlier_is_flagged_and_suppressed_figures_skipped(reports):
    found, _, _ = london.read_all(reports)
    comps = {c.indicator.key: c for c in (london.compare(i, found) for i in london.indicators(found))}
    dna = comps["dna_or_cancelled"]
    newham = next(r for r in dna.rows if r.point.borough == "newham")
    assert newham.flag == "above_99.8" and newham.rank == 1
    assert "suppressed" in dna.skipped["city-of-london"]
    assert not any(r.flag.endswith("99.8") for r in dna.rows if r.point.borough != "newham")
    assert dna.target == pytest.approx(30.0, abs=2.0)
    # ranks: a permutation, with intervals around them
    ranks = sorted(r.rank for r in dna.rows)
    assert ranks == list(range(1, len(dna.rows) + 1))
    assert all(r.rank_ci95[0] <= r.rank <= r.rank_ci95[1] for r in dna.rows)
    # readmission only where the section ran; not_run is a skip with its reason
    readm = comps["readmission_30d"]
    assert len(readm.rows) == 7 and "not run" in readm.skipped["barnet"]
    # ONS4 means: the pooled SD is recovered from the published CIs
    ons = comps["ons4_life_satisfaction"]
    assert ons.pooled_sd == pytest.approx(2.0, rel=1e-6) and ons.target == pytest.approx(0.8)
    assert "city-of-london" in ons.skipped
    # GP variance: a ratio, from before/after totals
    gp = comps["gp_variance"]
    assert gp.indicator.kind == "ratio" and len(gp.rows) == len(BOROUGHS)
    assert 0.85 < gp.target < 0.95
    assert "not run" in gp.skipped["newham"]


def test_gp_variance_without_precision_is_skipped_with_a_note():
    res = fake_results("merton", 1, gp={"variance_pct": {"2022/23": {"3m": 1.0, "6m": 1.0, "9m": 1.0, "12m": -8.0}}})
    got = london.gp_ratio("2022/23")(res, "merton")
    assert isinstance(got, str) and "95% CI" in got
    res["gp_appointments"]["detail"] = {"2022/23": {"12m": {"variance_pct_ci95": [-12.0, -4.0]}}}
    pt = london.gp_ratio("2022/23")(res, "merton")
    assert pt.value == pytest.approx(0.92) and pt.ci95 == pytest.approx((0.88, 0.96))


def test_the_mean_funnel_uses_the_pooled_sd():
    ind = next(i for i in london.indicators({}) if i.key == "ons4_anxiety")
    lo, hi = london.limits_at(ind, 0.5, [100.0], 0.95, pooled_sd=2.0)
    assert hi[0] - 0.5 == pytest.approx(1.96 * 0.2, rel=1e-3)


# --------------------------------------------------------------------------- the page

def test_build_writes_a_self_contained_page(reports):
    res = london.build(reports)
    out = reports / "london"
    page = (out / "index.html").read_text()
    saved = json.loads((out / "results.json").read_text())
    assert saved["boroughs"] == res["boroughs"] and "newham" in saved["boroughs"]
    assert set(saved["indicators"]) == {"referral_rate", "dna_or_cancelled", "ons4_life_satisfaction",
                                        "ons4_worthwhile", "ons4_happiness", "ons4_anxiety",
                                        "readmission_30d", "gp_variance"}
    dna = saved["indicators"]["dna_or_cancelled"]
    assert dna["boroughs"][0]["borough"] == "newham" and dna["boroughs"][0]["flag"] == "above_99.8"
    assert saved["provenance"]["inputs"]["merton"]["results_sha256"]
    # self-contained: every image is embedded, nothing points off the machine
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    imgs = re.findall(r'<img src="([^"]+)"', page)
    assert len(imgs) == 8 and all(i.startswith("data:image/png;base64,") for i in imgs)
    assert sorted(p.name for p in (out / "figures").iterdir())[0].endswith(".png")
    # every table-of-contents link resolves
    ids = set(re.findall(r'id="([^"]+)"', page))
    assert all(h in ids for h in re.findall(r'href="#([^"]+)"', page))
    # a cautious reading for the flagged borough; skipped boroughs named with the reason
    assert "Newham: 45.0%" in page and "by chance alone" in page and "not a verdict" in page
    assert "City of London" in page and "suppressed" in page
    assert "SYNTHETIC DATA" in page
    # referral rates vary far more than chance: overdispersion limits, and most boroughs read as usual
    rr = saved["indicators"]["referral_rate"]
    assert rr["overdispersion"]["detected"] is True and rr["overdispersion"]["tau2"] > 0
    assert any(b["flag"] != "within" and b["flag_overdispersion_adjusted"] == "within" for b in rr["boroughs"])
    assert "so not unusual for London" in page
    assert "Norfolk and Waveney" in page and "not a London borough" in page


def test_build_refuses_when_there_is_nothing_to_compare(tmp_path):
    (tmp_path / "reports").mkdir()
    with pytest.raises(london.LondonError, match="no borough results"):
        london.build(tmp_path / "reports")


def test_no_small_counts_reach_the_page(reports):
    """Only published (disclosure-controlled) figures appear: no derived numerators."""
    london.build(reports)
    saved = json.loads((reports / "london" / "results.json").read_text())
    for ind in saved["indicators"].values():
        for row in ind["boroughs"]:
            assert set(row) == {"rank", "rank_ci95", "borough", "value", "ci95", "n", "n_is", "z", "flag",
                                "flag_overdispersion_adjusted"}


def test_cli_london(reports, monkeypatch, capsys):
    from pipeline import cli

    monkeypatch.setattr(london.paths, "REPORTS", reports)
    monkeypatch.setattr(london.paths, "BUILD", reports.parent / "build")  # no borough's build: none re-rendered
    assert cli.main(["london"]) == 0
    assert (reports / "london" / "index.html").exists()
    assert "[london] published" in capsys.readouterr().err
    # a borough built by an older set of notebooks keeps its report as it is, and says so
    slug = next(p.name for p in sorted(reports.iterdir()) if (p / "results.json").exists() and p.name != "london")
    stale = reports.parent / "build" / slug / "notebooks"
    stale.mkdir(parents=True)
    (stale / cli.STAMP).touch()
    assert cli.main(["london"]) == 0
    assert f"[{slug}] left without the London markers" in capsys.readouterr().err
    empty = reports.parent / "empty"
    empty.mkdir()
    monkeypatch.setattr(london.paths, "REPORTS", empty)
    assert cli.main(["london"]) == 2
    assert "no borough results" in capsys.readouterr().err


# --------------------------------------------------------------------------- what is compared

def build_logged(reports):
    lines = []
    res = london.build(reports, log=lines.append)
    return res, "\n".join(lines), (reports / "london" / "index.html").read_text()


def test_one_borough_says_what_was_compared_and_how_to_get_the_rest(tmp_path):
    rep = tmp_path / "reports"
    write(rep, fake_results("merton", 1))
    res, out, page = build_logged(rep)
    assert res["boroughs"] == ["merton"] and res["synthetic"] is True
    assert "[london] comparing 1 borough: Merton (synthetic data)." in out
    assert "32 London boroughs have no report here yet: to compare them all, run make data" in out
    assert "then make reports, then make london" in out
    header = page[page.index('<header class="title">'):page.index("</header>")]
    assert "Comparing 1 borough: Merton (synthetic data)." in header and "make data" in header
    assert "make reports, then make london" in header
    assert "SYNTHETIC DATA" in page


def test_real_and_synthetic_boroughs_are_never_mixed(tmp_path):
    rep = tmp_path / "reports"
    for i, slug in enumerate(("barnet", "camden")):
        write(rep, fake_results(slug, i, synthetic=False))
    for i, slug in enumerate(("merton", "sutton")):
        write(rep, fake_results(slug, 10 + i, dna_pct=45.0))
    res, out, page = build_logged(rep)
    assert res["boroughs"] == ["barnet", "camden"] and res["synthetic"] is False
    assert all("synthetic data" in res["excluded"][s] for s in ("merton", "sutton"))
    assert set(res["comparators"]) == {"barnet", "camden"}
    for ind in res["indicators"].values():
        assert {b["borough"] for b in ind["boroughs"]} | set(ind["skipped"]) <= {"barnet", "camden"}
    assert "[london] comparing 2 boroughs (2 left out): Barnet, Camden." in out
    assert "Left out 2 boroughs built on synthetic data (Merton, Sutton): a comparison never mixes" in out
    header = page[page.index('<header class="title">'):page.index("</header>")]
    assert "Left out 2 boroughs built on synthetic data (Merton, Sutton)" in header
    assert "SYNTHETIC DATA" not in page and "make data" not in page


def test_all_synthetic_boroughs_are_compared_and_stamped(tmp_path):
    rep = tmp_path / "reports"
    for i, slug in enumerate(("barnet", "camden", "merton")):
        write(rep, fake_results(slug, i))
    res, out, page = build_logged(rep)
    assert res["boroughs"] == ["barnet", "camden", "merton"] and res["synthetic"] is True
    assert "comparing 3 boroughs: Barnet, Camden, Merton (synthetic data)." in out
    assert '<div class="banner">SYNTHETIC DATA' in page


def test_comparators_give_each_borough_its_position(reports):
    res = london.build(reports)
    comp = res["comparators"]
    assert set(comp) == set(res["boroughs"])
    newham = comp["newham"]["dna_or_cancelled"]
    assert newham["value"] == 45.0 and newham["london_value"] == res["indicators"]["dna_or_cancelled"]["london_value"]
    assert newham["position"] == {"95": "above", "99.8": "above"} and newham["unit"] == "%"
    lo95, hi95 = newham["limits"]["95"]
    lo998, hi998 = newham["limits"]["99.8"]
    assert lo998 < lo95 < newham["london_value"] < hi95 < hi998 < newham["value"]
    # a borough whose figure is suppressed: no value, no position, the reason
    city = comp["city-of-london"]["dna_or_cancelled"]
    assert city["value"] is None and city["position"] is None and "suppressed" in city["reason"]
    # positions agree with the table's flags, level by level
    for key, ind in res["indicators"].items():
        for row in ind["boroughs"]:
            pos = comp[row["borough"]][key]["position"]
            flag = row["flag"]
            expect_998 = flag.split("_")[0] if flag.endswith("99.8") else "within"
            expect_95 = flag.split("_")[0] if flag != "within" else "within"
            assert pos == {"95": expect_95, "99.8": expect_998}, (key, row["borough"])
            adjusted = comp[row["borough"]][key]["position_overdispersion_adjusted"]
            assert (adjusted is None) == (row["flag_overdispersion_adjusted"] is None)
