"""The release check on saved copies of reports published before the disclosure layer was rebuilt
(tests/fixtures/leaky/): it finds the leaks a reviewer found by hand, and every value it recovers
is the truth, checked against the extract the report was built from (release_truth.py)."""

from pathlib import Path

import pytest
from notebook_runs import TINY
from release_truth import cohort, mismatches, open_results

from pipeline import paths
from pipeline.load import load_extract
from pipeline.periods import parse_period, restrict
from pipeline.release_check import load, run
from pipeline.release_check.findings import BOUNDED_SMALL, EXACT_SMALL
from pipeline.release_check.rules import Rules
from pipeline.synthetic import generate

LEAKY = paths.ROOT / "tests" / "fixtures" / "leaky"


def _extract(tmp_path_factory, area, n_referrals=None, fixture=None):
    """The synthetic extract a saved report was built from; skipped when the generator no longer
    makes it (the saved report then describes other data)."""
    out = generate(area, tmp_path_factory.mktemp(area) / area, n_referrals=n_referrals)
    ex = load_extract(out)
    saved = load(fixture).results
    if Rules().round_count(len(ex["referrals"])) != saved["activity"]["referrals"]:
        pytest.skip(f"the synthetic generator no longer makes the extract behind {fixture.name}")
    return ex


def _finding(verdict, text):
    found = [f for f in verdict.findings if any(text in k for k in f.recovered)]
    assert found, f"no finding recovers {text!r}"
    return found[0]


# ---------------------------------------------------------------------------------- Merton

@pytest.fixture(scope="module")
def merton():
    return run(load(LEAKY / "merton"))


@pytest.fixture(scope="module")
def merton_truth(tmp_path_factory):
    ex = _extract(tmp_path_factory, "merton", fixture=LEAKY / "merton")
    opened = {"": open_results(ex, ("activity", "gp_appointments", "readmission")),
              "2023-24": open_results(restrict(ex, parse_period("2023-24")), ("activity",))}
    return opened, cohort(ex)


def test_merton_weekly_readmissions_are_read_off_the_curve(merton):
    """Reviewer: each 7-day step x n_index is that week's exact number of readmissions
    (4, 3, 7, 2, 1, 3, 2, 1, 1), and 12 by day 7 against a published, rounded 15."""
    f = _finding(merton, "(readmission_pct)")
    assert f.classification == EXACT_SMALL
    steps = [v for k, v in f.recovered.items() if k.startswith("readmissions on days")]
    assert steps == [12, 4, 3, 7, 2, 1, 3, 2, 1, 1]
    assert f.recovered["readmissions by day 14 (published as 15)"] == 16
    assert f.recovered["readmissions by day 90 (published as 35)"] == 36


def test_merton_deaths_are_read_off_their_curve(merton):
    f = _finding(merton, "(death_pct)")
    assert f.recovered["deaths by day 90 (published as 10)"] == 9


def test_merton_gp_variance_gives_its_exact_totals_away(merton):
    """Reviewer: 100 -> 60 at -41.0% fits only 100 and 59."""
    f = _finding(merton, "gp_appointments.variance_detail.2021/22.12m.appointments_after")
    assert f.recovered == {"gp_appointments.variance_detail.2021/22.12m.appointments_after": 59,
                           "gp_appointments.variance_detail.2021/22.12m.appointments_before": 100}
    assert f.file == "results.json, 2023-24/results.json"  # the period report repeats the GP section
    f = _finding(merton, "gp_appointments.variance_detail.2022/23.9m.appointments_after")
    assert f.recovered["gp_appointments.variance_detail.2022/23.9m.appointments_before"] == 19977


def test_merton_period_report_hides_needs_it_cannot_hide(merton):
    hidden = [f for f in merton.findings if f.classification == BOUNDED_SMALL
              and any("2023-24/activity.unmet_needs.by_need_pcn.low-cost exercise classes" in k for k in f.recovered)]
    assert len(hidden) == 4 and all(v == (1, 6) for f in hidden for v in f.recovered.values())


def test_merton_verdict_is_fail(merton):
    assert not merton.attacks_passed and "VERDICT: FAIL" in merton.text()


def test_merton_recovered_values_are_the_truth(merton, merton_truth):
    opened, co = merton_truth
    wrong, checked = mismatches(merton.findings, opened, co)
    assert not wrong
    assert checked >= 25  # the curve steps and totals, the GP pairs, the period's hidden needs


# ---------------------------------------------------------------------------------- tiny

@pytest.fixture(scope="module")
def tiny():
    return run(load(LEAKY / "tiny"))


def test_tiny_months_hidden_under_a_rounded_total_are_each_one_referral(tiny):
    months = [f for f in tiny.findings if any(k.startswith("activity.referrals_by_month.") for k in f.recovered)]
    assert len(months) == 12 and all(list(f.recovered.values()) == [1] for f in months)
    assert {f.classification for f in months} == {EXACT_SMALL}


def test_tiny_completeness_gives_the_table_sizes_away(tiny):
    """Reviewer: data-quality completeness percentages from exact counts."""
    f = _finding(tiny, "data_quality.completeness.referrals.carer (numerator)")
    assert f.recovered == {"data_quality.completeness.referrals.carer (numerator)": 11,
                           "data_quality.completeness.referrals.carer (rest of the base)": 1,
                           "data_quality.tables.referrals.rows": 12}
    f = _finding(tiny, "data_quality.completeness.sp_contacts.contact_type (numerator)")
    assert f.recovered["data_quality.tables.sp_contacts.rows"] == 32


def test_tiny_mean_gives_the_people_seen_away(tiny):
    assert _finding(tiny, "activity.patients_seen").recovered == {"activity.patients_seen": 10}


def test_tiny_recovered_values_are_the_truth(tiny):
    ex = load_extract(TINY)
    wrong, checked = mismatches(tiny.findings, {"": open_results(ex)}, cohort(ex))
    assert not wrong
    assert checked >= 100


# ---------------------------------------------------------------------------------- a very small service

@pytest.fixture(scope="module")
def small():
    return run(load(LEAKY / "small-sutton"))


def test_small_service_gp_variance_gives_a_hidden_count_away(small):
    f = _finding(small, "gp_appointments.variance_detail.2022/23.3m.appointments_after")
    assert f.classification == EXACT_SMALL
    assert f.recovered["gp_appointments.variance_detail.2022/23.3m.appointments_after"] == 7


def test_small_service_means_give_the_pairs_away(small):
    for item in ("anxiety", "happiness", "life_satisfaction", "worthwhile"):
        assert _finding(small, f"wellbeing.ons4.{item}.n_pairs").recovered == {f"wellbeing.ons4.{item}.n_pairs": 10}


def test_small_service_recovered_values_are_the_truth(small, tmp_path_factory):
    ex = _extract(tmp_path_factory, "sutton", n_referrals=30, fixture=LEAKY / "small-sutton")
    wrong, checked = mismatches(small.findings, {"": open_results(ex)}, cohort(ex))
    assert not wrong
    assert checked >= 30


def test_saved_reports_are_what_their_readme_says():
    readme = (LEAKY / "README.md").read_text()
    for folder in ("merton", "tiny", "small-sutton"):
        assert (LEAKY / folder / "results.json").is_file() and f"`{folder}/`" in readme
    assert (LEAKY / "merton" / "2023-24" / "results.json").is_file()
    assert Path(LEAKY / "merton").is_dir()
