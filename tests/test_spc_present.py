"""SPC presentation (pipeline/spc): icons, the summary table rows, alt text and the matplotlib chart."""

import subprocess
import sys
import xml.etree.ElementTree as ET

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from pipeline.spc import alt_text, draw, icon_label, icon_meaning, icon_svg, summary_rows, xmr  # noqa: E402
from pipeline.spc.icons import ICONS  # noqa: E402
from pipeline.spc.model import ASSURANCE_ICONS, VARIATION_ICONS  # noqa: E402
from pipeline.spc.palette import GREY, POINT_STYLES, TARGET, WHITE, contrast  # noqa: E402
from tests.test_spc import FLAT, base  # noqa: E402
from tests.test_spc_examples import months  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def ax():
    fig, ax = plt.subplots(figsize=(9, 4.8))
    yield ax
    plt.close(fig)


def test_every_icon_kind_has_an_icon():
    assert set(ICONS) == set(VARIATION_ICONS) | set(ASSURANCE_ICONS)
    assert len({(i.colour, i.glyph) for i in ICONS.values()}) == len(ICONS)  # no two look alike
    assert len({i.label for i in ICONS.values()}) == len(ICONS)


@pytest.mark.parametrize("kind", sorted(ICONS))
@pytest.mark.parametrize("trial", [False, True])
def test_icon_svg_is_labelled_for_readers(kind, trial):
    svg = ET.fromstring(icon_svg(kind, trial=trial))
    meaning = icon_meaning(kind, trial=trial)
    assert svg.get("role") == "img" and svg.get("aria-label") == meaning
    assert svg.find(f"{SVG}title").text == meaning
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert texts == [ICONS[kind].glyph, icon_label(kind, trial=trial)]  # the glyph, then the label beside it
    assert ("trial" in texts[1]) is trial and ("trial" in meaning) is trial
    assert (svg.find(f"{SVG}circle").get("stroke-dasharray") is not None) is trial


def test_icon_svg_escapes_and_rejects_unknown_kinds():
    assert "&" not in icon_svg("hit_and_miss").replace("&amp;", "")
    with pytest.raises(ValueError, match="unknown SPC icon 'amber'"):
        icon_svg("amber")


def test_colours_meet_wcag_contrast():
    """Marks 3:1 against white (SC 1.4.11); white icon glyphs 4.5:1 on their fill (SC 1.4.3). MDC's own
    blue #00B0F0 and grey #A6A6A6 do not, hence the darker shades."""
    for colour in [s.colour for s in POINT_STYLES.values()] + [GREY, TARGET]:
        assert contrast(colour) >= 3, colour
    for icon in ICONS.values():
        assert contrast(WHITE, icon.colour) >= 4.5, icon
    assert contrast("#00B0F0") < 3 and contrast("#A6A6A6") < 3


def test_every_point_class_has_its_own_shape_and_words():
    styles = list(POINT_STYLES.values())
    assert len({s.marker for s in styles}) == len({s.shape for s in styles}) == len({s.label for s in styles}) == 4


def test_summary_rows():
    results = {
        "Referrals": base([10.5] * 7, direction="higher", target=6),
        "Waits": xmr(months(FLAT[:10]), direction="lower"),
        "Calls": xmr(months([5, None])),
    }
    ref, waits, calls = summary_rows(results)
    assert [r["measure"] for r in (ref, waits, calls)] == ["Referrals", "Waits", "Calls"]
    assert (ref["latest_month"], ref["latest_month_name"], ref["latest_value"]) == ("2025-03", "March 2025", 10.5)
    assert (ref["mean"], round(ref["lower_limit"], 2), round(ref["upper_limit"], 2)) == (10, 7.34, 12.66)
    assert (ref["variation"], ref["variation_label"]) == ("improvement_high", "Improvement (high)")
    assert (ref["assurance"], ref["assurance_label"]) == ("consistent_pass", "Target consistently met")
    assert ref["variation_svg"].startswith("<svg") and not ref["trial"] and ref["note"] == ""
    assert waits["trial"] and waits["variation_label"] == "Common cause, trial limits"
    assert waits["assurance"] is None and waits["assurance_label"] == "No target set"
    assert waits["note"] == "Trial limits: 10 months, 15 needed for stable limits."
    assert calls["variation"] is None and calls["variation_svg"] == "" and calls["months_suppressed"] == 1
    assert calls["note"] == "No process limits: 1 month with a value; XmR limits need at least 2."
    neither = summary_rows({"x": xmr(months(FLAT), target=3)})[0]
    assert neither["assurance_label"] == "No assurance: neither direction is better"


def test_alt_text_common_cause():
    assert alt_text(xmr(months(FLAT)), "Referrals per month") == (
        "Referrals per month, January 2023 to August 2024: common cause variation around a mean of 10; "
        "no month outside the limits.")


def test_alt_text_shift_and_assurance():
    r = base([10.5] * 7, direction="higher", target=13)
    assert alt_text(r, "Referrals per month") == (
        "Referrals per month, January 2023 to March 2025: special cause improvement around a mean of 10: "
        "7 months in a row above the mean from September 2024. The target of 13 is above the upper process "
        "limit (12.7), so it will be missed every month unless the process changes.")


@pytest.mark.parametrize("tail,direction,why", [
    ([13], "lower", "special cause concern around a mean of 10: September 2024 (13) is beyond the upper "
                    "process limit of 12.7"),
    ([12] + [round(9.1 + 0.3 * i, 1) for i in range(7)], "higher",
     "special cause improvement around a mean of 10: 7 months in a row rising from October 2024"),
    ([8.1, 9.9, 8.1], "neither", "special cause variation (neither direction is better) around a mean of 10: "
                                 "2 of the 3 months to November 2024 are close to the lower process limit"),
])
def test_alt_text_names_the_rule(tail, direction, why):
    assert why in alt_text(base(tail, direction=direction), "X")


def test_alt_text_caveats():
    r = xmr(months(FLAT[:8] + [None] + FLAT[9:12]), direction="higher", target=10)
    assert alt_text(r, "Waits").endswith(
        "The target of 10 lies between the process limits (7.07 to 12.9), so it will be hit and missed; the "
        "limits are trial limits, from 11 months (15 are needed for stable limits); 1 month suppressed and not "
        "plotted (September 2023).")
    assert alt_text(xmr(months([None, 4])), "Calls") == (
        "Calls, January 2023 to February 2023: no process limits, 1 month with a value; XmR limits need at "
        "least 2. 1 month suppressed and not plotted (January 2023).")


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def all_texts(ax):
    return [t.get_text() for t in ax.figure.findobj(matplotlib.text.Text)]


def test_draw_mdc_style(ax):
    r = base([10.5] * 6 + [13, None, 7], direction="higher", target=6)
    assert draw(ax, r, title="Referrals per month", unit="Referrals") is ax
    legend = legend_texts(ax)
    assert legend == ["Mean, 10", "Process limits, 7.34 and 12.7", "Target, 6",
                      "Common cause (small circle)", "Special cause: improvement (square)",
                      "Special cause: concern (diamond)", "Month suppressed, not plotted (cross on the axis)"]
    lines = {tuple(line.get_ydata()): line for line in ax.get_lines()}
    assert lines[(10, 10)].get_linestyle() == "-"
    assert lines[(r.limits.upper, r.limits.upper)].get_linestyle() == "--"
    assert lines[(6, 6)].get_linestyle() == "-."
    markers = {line.get_marker(): list(line.get_ydata()) for line in ax.get_lines() if line.get_marker() != "None"}
    assert markers["s"] == [10.5] * 6 + [13] and markers["D"] == [7]  # shapes as well as colours
    texts = all_texts(ax)
    assert "Variation: Concern (low)" in texts and "Assurance: Target consistently met" in texts
    assert "Referrals per month" in texts and ax.get_ylabel() == "Referrals"


def test_draw_says_trial(ax):
    draw(ax, xmr(months(FLAT[:10]), direction="neither"))
    assert legend_texts(ax)[1] == "Trial process limits, 7.44 and 12.8 (10 months; 15 needed)"
    assert " Trial limits" in all_texts(ax) and "Variation: Common cause, trial limits" in all_texts(ax)


def test_draw_without_limits(ax):
    draw(ax, xmr(months([5, None, None]), target=3))
    assert "No process limits: 1 month with a value; XmR limits need at least 2" in all_texts(ax)
    assert legend_texts(ax) == ["Target, 3", "Value (no limits, so not assessed) (small circle)",
                                "Month suppressed, not plotted (cross on the axis)"]


def test_chart_end_to_end(tmp_path):
    """A monthly series with a suppressed month, through the public API, to a PNG and its alt text, in a
    fresh interpreter (matplotlib is only imported when ``draw`` is first used)."""
    script = f"""
import sys
import pipeline.spc as spc
assert "matplotlib" not in sys.modules
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
series = {{f"{{2021 + (i + 3) // 12}}-{{(i + 3) % 12 + 1:02d}}": v for i, v in enumerate(
    [120, 118, 125, 131, 117, 122, None, 119, 124, 121, 130, 127, 135, 138, 136, 140, 139, 142, 144, 141])}}
r = spc.xmr(series, direction="higher", target=100)
fig, ax = plt.subplots(figsize=(9, 4.8))
spc.draw(ax, r, title="Referrals per month", unit="Referrals")
fig.savefig(r"{tmp_path / 'chart.png'}", dpi=80, bbox_inches="tight")
print(spc.alt_text(r, "Referrals per month"))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    png = (tmp_path / "chart.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert out.startswith("Referrals per month, April 2021 to November 2022: special cause improvement")
    assert "1 month suppressed and not plotted (October 2021)" in out


def test_alt_text_repeats_the_mean_as_published():
    """Norfolk's missed-appointment chart: a mean of 18.4523... is published as 18.45, so the words
    say 18.4 (18.45 read to 3 figures), never 18.5, a figure results.json does not hold."""
    values = [18.4523 + (0.5 if i % 2 else -0.5) for i in range(20)]
    values[-1] = 18.4523 * 20 - sum(values[:-1])
    r = xmr(months(values))
    assert abs(r.limits.mean - 18.4523) < 1e-9
    assert "around a mean of 18.4;" in alt_text(r, "Missed (%)")
