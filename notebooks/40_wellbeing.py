# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Personal wellbeing (ONS4)
#
# *Logic model: outcomes for people.* The four ONS personal wellbeing questions, each scored
# 0–10: life satisfaction, feeling that things are worthwhile, happiness yesterday and anxiety
# yesterday. Definitions follow the data contract (section 2, *ONS4 pairs*): for each referral
# and question the first score is the baseline and the last the follow-up, counted only when
# they are at least 28 days apart (the default; `wellbeing.min_days_between`); change =
# follow-up − baseline. For anxiety a *fall* is an improvement.
#
# Every figure has passed disclosure control: counts are rounded to the nearest 5, small numbers
# show as `[c]`, percentages come from the rounded counts, a mean or percentage resting on fewer
# than 8 people is not shown, and a mean carries no more decimals than its number of people can
# hide.

# %% tags=["parameters"]
borough = "merton"
processed_dir = None  # default: data_processed/<borough>, built on first use
fragments_dir = None  # default: build/<borough>/fragments
period = None  # a reporting period restricts activity sections only; this outcome section uses the whole extract

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pipeline import nb
from pipeline.analyses import wellbeing

sec = nb.section("wellbeing", borough, processed_dir, fragments_dir, period)
wb = sec.data
ITEMS = wellbeing.ITEMS
LABELS = wellbeing.ITEM_LABELS
shown = sec.ok and any(wb["ons4"][i]["mean_change"] is not None for i in ITEMS)
if sec.ok:
    display(nb.md(f"Pairs here are at least {wb['min_days_between']} days apart."))

# %% [markdown]
# ## Scores before and after
# Descriptive (published method). Mean scores of people with a valid pair, at baseline and at
# follow-up, and the mean change with its 95% confidence interval.

# %%
if sec.ok:
    rows = []
    for item in ITEMS:
        o, d = wb["ons4"][item], wb["ons4_detail"][item]
        rows.append((LABELS[item], d["direction"], o["n_pairs"], o["mean_baseline"], o["mean_followup"],
                     o["mean_change"], nb.ci_text(o["ci95"], signed=True), d["completion_pct"]))
    table = pd.DataFrame(rows, columns=["Question", "Better is", "Pairs", "Baseline mean", "Follow-up mean",
                                        "Mean change", "95% CI of change", "% of baselines followed up"],
                         dtype=object)
    display(nb.table(table, decimals={"Baseline mean": 2, "Follow-up mean": 2, "Mean change": 2,
                                      "% of baselines followed up": 1}))

# %%
if sec.ok and not shown:
    display(nb.md("Too few pairs to show a chart after disclosure control."))
if shown:
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
    y = np.arange(len(ITEMS))[::-1]
    for yi, item in zip(y, ITEMS, strict=True):
        o, d = wb["ons4"][item], wb["ons4_detail"][item]
        for val, ci, colour, marker, off, lab in (
                (o["mean_baseline"], d["mean_baseline_ci95"], "#7b8794", "o", 0.12, "Baseline"),
                (o["mean_followup"], d["mean_followup_ci95"], "#2b6a99", "s", -0.12, "Follow-up")):
            if val is None:
                continue
            err = None if ci is None else [[val - ci[0]], [ci[1] - val]]
            ax.errorbar(val, yi + off, xerr=err, fmt=marker, color=colour, capsize=3,
                        label=lab if item == ITEMS[0] else None)
        if o["mean_change"] is not None and o["ci95"] is not None:
            c, ci = o["mean_change"], o["ci95"]
            ax2.errorbar(c, yi, xerr=[[c - ci[0]], [ci[1] - c]], fmt="D", color="#2b6a99", capsize=3)
            ax2.annotate(f"{c:+.2f}", (c, yi), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
    ax.set_yticks(y, [LABELS[i] for i in ITEMS])
    ax.set_xlim(0, 10)
    ax.set_xlabel("Mean score (0–10) with 95% CI")
    ax.set_title("Baseline (circles) and follow-up (squares)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize=8)
    ax2.axvline(0, color="#444", linewidth=0.8)
    ax2.set_yticks(y, [LABELS[i] for i in ITEMS])
    ax2.set_xlabel("Mean change (follow-up − baseline) with 95% CI")
    ax2.set_title("Change (anxiety: below 0 is better)")
    moves = [f"{LABELS[i].lower()} {nb.fmt(wb['ons4'][i]['mean_baseline'], 2)} to "
             f"{nb.fmt(wb['ons4'][i]['mean_followup'], 2)}" for i in ITEMS if wb["ons4"][i]["mean_change"] is not None]
    def ends(interval):
        return (None, None) if interval is None else tuple(interval)

    drawn = pd.DataFrame([(LABELS[i], wb["ons4"][i]["mean_baseline"], *ends(wb["ons4_detail"][i]["mean_baseline_ci95"]),
                           wb["ons4"][i]["mean_followup"], *ends(wb["ons4_detail"][i]["mean_followup_ci95"]),
                           wb["ons4"][i]["mean_change"], *ends(wb["ons4"][i]["ci95"])) for i in ITEMS],
                         columns=["Question", "Baseline mean", "Baseline 95% CI from", "Baseline 95% CI to",
                                  "Follow-up mean", "Follow-up 95% CI from", "Follow-up 95% CI to", "Mean change",
                                  "Change 95% CI from", "Change 95% CI to"], dtype=object)
    nb.show(fig, alt="Mean ONS4 scores at baseline and at follow-up with 95% confidence intervals, and the mean "
                     "change: " + "; ".join(moves) + ". For anxiety a fall is an improvement.", data=drawn)

# %% [markdown]
# ## Moving between the ONS thresholds
# Descriptive (published method). The share of people in each ONS band at baseline and at
# follow-up (life satisfaction, worthwhile, happiness: low 0–4, medium 5–6, high 7–8, very high
# 9–10; anxiety: very low 0–1, low 2–3, medium 4–5, high 6–10), and how many of those who
# started in the worst band (low, or high anxiety) had left it at follow-up.
#
# *Regression to the mean.* "% who left it" is the figure most exposed to it: those people were
# picked out by one low score, and a score that low is partly a bad day or a bad week, so many
# would score higher at a second measurement with no help at all. It describes movement, and
# overstates improvement; it is not the share the service lifted out of the worst band.

# %%
HATCHES = ("", "//", "..", "xx")  # each band has its own pattern as well as its colour
if shown:
    fig, axes = plt.subplots(1, len(ITEMS), figsize=(12, 3.4), sharey=True)
    for ax, item in zip(axes, ITEMS, strict=True):
        d = wb["ons4_detail"][item]
        names = [n for n, _, _ in wellbeing.bands(item)]
        colours = plt.cm.RdYlGn(np.linspace(0.1, 0.9, len(names)))
        if item == "anxiety":
            colours = colours[::-1]
        for xi, key in enumerate(("baseline_band_pct", "followup_band_pct")):
            bottom = 0.0
            for name, colour, hatch in zip(names, colours, HATCHES, strict=True):
                v = d[key][name]
                h = 0.0 if v is None else v
                ax.bar(xi, h, bottom=bottom, color=colour, edgecolor="white", hatch=hatch,
                       label=name.replace("_", " ") if xi == 0 else None)
                if v is not None and v >= 8:
                    ax.text(xi, bottom + h / 2, f"{v:.0f}%", ha="center", va="center", fontsize=8)
                bottom += h
        ax.set_xticks([0, 1], ["Baseline", "Follow-up"])
        ax.set_title(LABELS[item], fontsize=10)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    axes[0].set_ylabel("% of people with a pair")
    worst = [f"{LABELS[i].lower()} {nb.fmt(wb['ons4_detail'][i]['baseline_band_pct'][wellbeing.worst_band(i)], 1)}% "
             f"to {nb.fmt(wb['ons4_detail'][i]['followup_band_pct'][wellbeing.worst_band(i)], 1)}%" for i in ITEMS]
    drawn = pd.DataFrame([(LABELS[i], b.replace("_", " "), wb["ons4_detail"][i]["baseline_band_pct"][b],
                           wb["ons4_detail"][i]["followup_band_pct"][b])
                          for i in ITEMS for b, _, _ in wellbeing.bands(i)],
                         columns=["Question", "Band", "% at baseline", "% at follow-up"], dtype=object)
    nb.show(fig, alt="The share of people in each ONS band at baseline and at follow-up, for each question; the "
                     "share in the worst band (low, or high anxiety) went from " + "; ".join(worst) + ".", data=drawn)
if sec.ok:
    rows = []
    for item in ITEMS:
        d = wb["ons4_detail"][item]
        rows.append((LABELS[item], d["worst_band"].replace("_", " "), d["n_started_in_worst_band"],
                     d["moved_out_of_worst_band_pct"], d["change_pct"]["improved"],
                     d["change_pct"]["no_change"], d["change_pct"]["worsened"]))
    display(nb.table(pd.DataFrame(rows, columns=[
        "Question", "Worst band", "Started there", "% who left it", "% improved", "% no change", "% worse"],
        dtype=object)))

# %% [markdown]
# ## Tests of change
# Comparative/inferential. Paired t-test (the published `p_value`) and Wilcoxon signed-rank test
# (zero changes dropped) of the change. The effect size is *d_av*: the mean change divided by the
# average of the baseline and follow-up SDs, so it is on the scale of the scores' own spread, as a
# difference between groups would be. Cohen's *dz* (mean change / SD of the change, in
# `results.json`) reads larger whenever the two scores are correlated and is not comparable with
# the familiar 0.2 / 0.5 / 0.8 benchmarks, which were set for differences between groups; we give
# no size labels, and these are uncontrolled changes in any case.

# %%
if sec.ok:
    rows = []
    for item in ITEMS:
        o, d = wb["ons4"][item], wb["ons4_detail"][item]
        rows.append((LABELS[item], o["mean_change"], d["sd_change"], d["effect_size_d_av"], nb.p_text(o["p_value"]),
                     nb.p_text(d["wilcoxon_p_value"]), d["median_days_between"]))
    display(nb.table(pd.DataFrame(rows, columns=["Question", "Mean change", "SD of change", "Effect size (d_av)",
                                                 "Paired t p", "Wilcoxon p", "Median days apart"], dtype=object),
                     decimals={"Mean change": 2, "SD of change": 2, "Effect size (d_av)": 2,
                               "Median days apart": 0}))

# %% [markdown]
# ## Who was followed up?
# Comparative. Referrals with at least one ONS4 score, split by whether they have a valid
# follow-up pair for at least one question. A standardised difference beyond ±0.1 is a notable
# imbalance: if completers started better or differ in age or deprivation, the average change
# may not describe everyone referred.

# %%
ROW_LABELS = {"age": "Age (mean)", "female_pct": "Female (%)", "imd_decile": "IMD decile (mean, 1 = most deprived)",
              "imd_most_deprived_fifth_pct": "Most deprived fifth, IMD 1–2 (%)"}
if sec.ok:
    c = wb["completion"]
    display(nb.md(f"{nb.fmt(c['n_completers'])} of {nb.fmt(c['n_with_baseline'])} referrals with a baseline "
                  f"({nb.fmt(c['completion_pct'], 1)}%) had a valid follow-up."))
    rows = []
    for name, r in c["comparison"].items():
        lab = ROW_LABELS.get(name) or "Baseline " + LABELS[name.removeprefix("baseline_")].lower() + " (mean)"
        rows.append((lab, r["completers"], r["non_completers"], r["std_diff"]))
    display(nb.table(pd.DataFrame(rows, columns=["Characteristic", "Followed up", "Not followed up",
                                                 "Standardised difference"], dtype=object),
                     decimals={"Followed up": 1, "Not followed up": 1, "Standardised difference": 2}))

# %% [markdown]
# ## Reading

# %%
if sec.ok:
    display(nb.md(wellbeing.reading(wb)))
