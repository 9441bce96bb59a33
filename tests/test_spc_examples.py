"""SPC (pipeline/spc) against published worked examples of the NHS "Making Data Count" XmR method.

Sources:
- MDC: NHS England Making Data Count, "SPC Charts XmR Testing": the checks a locally made XmR chart must
  pass to match the MDC Single Chart Tool v5.0, with their data and each point's colour. Read as stored in
  github.com/NHSDigital/fdp-react-design-system, src/components/DataVisualisation/charts/SPC/SPCChart/
  test-data/SPC-Charts-XmR-Testing.md (the guide) and "Test Data.csv" (its data and colours). The guide
  sets the shift and trend rules to 6 points in all its examples, so these tests pass run_length=6.
- PTD: the NHSRplotthedots R package (github.com/nhs-r-community/NHSRplotthedots, v0.2.x): its test
  snapshots (tests/testthat/_snaps/ptd_spc_standard.md), tests (test-ptd_spc_standard.R) and the
  "Deviations from Excel defaults" vignette (vignettes/deviations.Rmd, the MDC Excel behaviour).

Colours per point: g grey (common cause), b blue (improvement), o orange (concern), p purple (neither).
"""

import pytest

from pipeline.spc import xmr

COLOUR = {"common_cause": "g", "improvement": "b", "concern": "o", "neither": "p"}


def months(values, start=(2023, 1)):
    y, m = start
    out = {}
    for v in values:
        out[f"{y}-{m:02d}"] = v
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def colours(result):
    return "".join(COLOUR[p.signal] for p in result.points)


SPECIAL = [8, 27, 32, 26, 20, 21, 23, 21, 23, 22, 26, 23, 20, 20, 29, 28, 22, 23, 25, 26, 28, 29, 26, 24, 36, 29,
           35, 22, 30, 18]
TWO_SIGMA = [42, 40, 39, 26, 39, 24, 22, 29, 32, 22, 20, 23, 25, 26, 22, 24, 27, 7, 19, 24, 7, 7, 32]
CONFLICT = [43, 41, 37, 36, 31, 23, 15, 13, 15, 18, 23, 27, 31, 36, 27, 19, 17, 27, 15, 22]
STEP = [16, 24, 22, 19, 19, 18, 24, 25, 18, 17, 16, 25, 15, 23, 19, 35, 32, 35, 31, 27, 33, 28, 38, 35, 30, 28,
        29, 27, 24, 23]
ICONS = [16, 20, 22, 18, 21, 18, 26, 28, 24, 26, 19, 18, 25, 32, 43, 28, 22]


def replace(values, **at):
    out = list(values)
    for key, v in at.items():
        out[int(key[1:]) - 1] = v
    return out


# (MDC section, direction, values, colours of the Single Chart Tool)
MDC_CASES = [
    ("Special cause - High is good", "higher", SPECIAL, "o" + "ggg" + "o" * 6 + "g" * 6 + "b" * 6 + "gg" + "bgb" + "ggg"),
    ("Special cause - Low is good", "lower", SPECIAL, "b" + "ggg" + "b" * 6 + "g" * 6 + "o" * 6 + "gg" + "ogo" + "ggg"),
    ("Special cause - Neither", "neither", SPECIAL, "p" + "ggg" + "p" * 6 + "g" * 6 + "p" * 6 + "gg" + "pgp" + "ggg"),
    ("Special cause - single point - ends", "higher", [45, 29, 20, 22, 25, 20, 27, 24, 22, 23, 20, 26, 20, 15, 5],
     "b" + "g" * 13 + "o"),
    ("Special cause - single point - middle", "higher", [29, 32, 35, 45, 43, 23, 18, 20, 16, 7, 28, 26, 22, 19, 20],
     "ggg" + "bb" + "gggg" + "o" + "g" * 5),
    ("Special cause - shift - ends", "higher",
     [31, 35, 34, 29, 29, 32, 26, 26, 32, 35, 30, 18, 31, 25, 27, 22, 18, 25, 25, 17], "b" * 6 + "g" * 7 + "o" * 7),
    ("Special cause - shift - middle", "higher",
     [31, 22, 19, 21, 18, 18, 22, 22, 29, 25, 23, 26, 31, 26, 28, 29, 32, 24, 31, 22], "g" + "o" * 7 + "ggg" + "b" * 6 + "ggg"),
    ("Special cause - trend - no pauses", "higher",
     [11, 14, 18, 20, 22, 23, 18, 21, 17, 23, 26, 20, 16, 25, 23, 22, 19, 16, 15, 12], "b" * 6 + "g" * 7 + "o" * 7),
    ("Special cause - trend - pauses", "higher",
     [23, 30, 28, 25, 25, 20, 18, 24, 16, 13, 14, 18, 18, 24, 26, 29, 19, 20, 28, 16], "g" * 20),
    ("Special cause - two-sigma - 1", "higher", TWO_SIGMA, "bbbgb" + "g" * 15 + "oog"),
    ("Special cause - two-sigma - 2 (beyond the limit does not count)", "higher", replace(TWO_SIGMA, p22=2),
     "bbbgb" + "g" * 15 + "gog"),
    ("Special cause - two-sigma - 3 (all three on one side)", "higher", replace(TWO_SIGMA, p4=24, p20=26),
     "bbb" + "g" * 20),
    # The CSV marks p15 (27) blue, which no rule can give: it is within 2 sigma of the mean (25.8), ends the
    # rise p8-p14 and is one of only 4 points above the mean. The guide's text lists p8-p14 for the trend.
    ("Special cause conflict - High is good", "higher", CONFLICT, "bbbb" + "ooo" + "b" * 7 + "g" * 6),
    ("Special cause conflict - Low is good", "lower", CONFLICT, "b" * 11 + "ooo" + "g" * 6),
    ("Recalculations / Baselines (none set)", "higher", STEP, "o" * 15 + "b" * 13 + "gg"),
    ("Summary icons - assurance - low is good", "lower", STEP, "b" * 15 + "o" * 13 + "gg"),
    ("Summary icons - variation - High is good", "higher", ICONS + [45], "o" * 6 + "g" * 8 + "bggb"),
    ("Summary icons - variation - High is good 2", "higher", ICONS + [25], "o" * 6 + "g" * 8 + "bggg"),
    ("Summary icons - variation - High is good 3", "higher", ICONS + [5], "o" * 6 + "g" * 8 + "bggo"),
    ("Summary icons - variation - Low is good", "lower", ICONS + [45], "b" * 6 + "g" * 8 + "oggo"),
    ("Summary icons - variation - Low is good 3", "lower", ICONS + [5], "b" * 6 + "g" * 8 + "oggb"),
    ("Summary icons - variation - Neither", "neither", ICONS + [45], "p" * 6 + "g" * 8 + "pggp"),
    ("Summary icons - variation - Neither2", "neither", ICONS + [25], "p" * 6 + "g" * 8 + "pggg"),
]


@pytest.mark.parametrize("name,direction,values,expected", MDC_CASES, ids=[c[0] for c in MDC_CASES])
def test_mdc_point_colours(name, direction, values, expected):
    assert len(values) == len(expected)
    assert colours(xmr(months(values), direction=direction, run_length=6)) == expected


@pytest.mark.parametrize("direction,values,icon", [
    ("higher", ICONS + [45], "improvement_high"),
    ("higher", ICONS + [25], "common_cause"),
    ("higher", ICONS + [5], "concern_low"),
    ("lower", ICONS + [45], "concern_high"),
    ("lower", ICONS + [25], "common_cause"),
    ("lower", ICONS + [5], "improvement_low"),
    ("neither", ICONS + [45], "neither_high"),
    ("neither", ICONS + [25], "common_cause"),
    ("neither", ICONS + [5], "neither_low"),
])
def test_mdc_variation_icon_is_the_last_points(direction, values, icon):
    """MDC "Summary icons - variation": the icon is determined by the last point, high or low."""
    assert xmr(months(values), direction=direction, run_length=6).variation == icon


@pytest.mark.parametrize("direction,target,icon", [
    ("higher", 40, "consistent_fail"), ("higher", 30, "hit_and_miss"), ("higher", 10, "consistent_pass"),
    ("lower", 40, "consistent_pass"), ("lower", 30, "hit_and_miss"), ("lower", 10, "consistent_fail"),
    ("neither", 30, None),
])
def test_mdc_assurance_icon(direction, target, icon):
    """MDC "Summary icons - assurance": targets of 40, 30 and 10 against limits 13.3 to 37.0."""
    r = xmr(months(STEP), direction=direction, target=target, run_length=6)
    assert (round(r.limits.lower, 2), round(r.limits.upper, 2)) == (13.33, 37.0)
    assert r.assurance == icon


def test_mdc_process_limits():
    """MDC "Process limits": 15 points, 14 moving ranges of mean 5.43, sigma 4.81, three sigma 14.44,
    mean 23.20, limits 8.76 and 37.64."""
    r = xmr(months([20, 24, 20, 26, 22, 16, 18, 16, 31, 28, 34, 26, 30, 19, 18]))
    lim = r.limits
    assert lim.n_moving_ranges == 14
    assert round(lim.mean_moving_range, 2) == 5.43
    assert round(lim.sigma, 2) == 4.81
    assert round(3 * lim.sigma, 2) == 14.44
    assert (round(lim.lower, 2), round(lim.mean, 2), round(lim.upper, 2)) == (8.76, 23.20, 37.64)
    assert not lim.trial


def test_mdc_baseline():
    """MDC "Baselines": limits from the first 15 points only, extended over the rest: the first 15 become
    common cause and all 15 later points a shift above the baseline mean (improvement)."""
    r = xmr(months(STEP), direction="higher", baseline=("2023-01", "2024-03"), run_length=6)
    assert colours(r) == "g" * 15 + "b" * 15
    assert r.limits.mean == 20.0 and r.limits.n_points == 15
    assert r.limits.baseline == ("2023-01", "2024-03")


RNORM_123 = [-0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774, 1.71506499, 0.46091621, -1.26506123,
             -0.68685285, -0.44566197, 1.22408180, 0.35981383, 0.40077145, 0.11068272, -0.55584113, 1.78691314,
             0.49785048, -1.96661716, 0.70135590, -0.47279141]  # R: set.seed(123); rnorm(20)


def test_ptd_snapshot_limits():
    """PTD _snaps/ptd_spc_standard.md, r1: mean 0.1416238, lpl -3.01138, upl 3.294627, nothing outside."""
    r = xmr(months(RNORM_123))
    assert r.limits.mean == pytest.approx(0.1416238, abs=5e-8)
    assert r.limits.lower == pytest.approx(-3.01138, abs=5e-6)
    assert r.limits.upper == pytest.approx(3.294627, abs=5e-7)
    assert not any("outside_limits" in p.rules for p in r.points)


def test_ptd_snapshot_without_outlier_screening():
    """PTD r3 (screen_outliers = FALSE, the MDC Excel way), y[15] = 10: mean 0.6694159, lpl -4.596625,
    upl 5.935457. PTD's default screening gives -2.383666 and 3.722497 instead: we follow MDC."""
    r = xmr(months(replace(RNORM_123, p15=10)))
    assert r.limits.mean == pytest.approx(0.6694159, abs=5e-8)
    assert r.limits.lower == pytest.approx(-4.596625, abs=5e-7)
    assert r.limits.upper == pytest.approx(5.935457, abs=5e-7)


def test_ptd_deviations_vignette_excel_limits():
    """PTD vignette "Deviations from Excel defaults", the Excel replica: UPL 6.95, mean 1.94, LPL -3.06, and
    four grey points, one blue special cause improvement point, then twelve grey."""
    r = xmr(months([1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]), direction="higher")
    assert (round(r.limits.upper, 2), round(r.limits.mean, 2), round(r.limits.lower, 2)) == (6.95, 1.94, -3.06)
    assert colours(r) == "gggg" + "b" + "g" * 13


def test_ptd_two_of_three_needs_one_side_of_the_mean():
    """PTD test-ptd_spc_standard.R: two points near the limits on opposite sides are common cause."""
    values = replace([1, -1] * 8, p15=5.5, p16=-5.5)
    r = xmr(months(values), direction="higher")
    assert [p.signal for p in r.points[-2:]] == ["common_cause", "common_cause"]
