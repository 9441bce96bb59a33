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
# # Other outcome measures before and after
#
# *Logic model: short- and medium-term outcomes.* Beyond ONS4, services record other validated
# instruments: SWEMWBS (mental wellbeing), EQ-5D-5L (health-related quality of life), the Patient
# Activation Measure (knowledge, skills and confidence to manage one's health), the Work and Social
# Adjustment Scale (how much problems get in the way of daily life) and the Well-being Star. Each is
# scored by its own published rules (`docs/methods-outcome-tools.md`). Per referral and score the
# baseline is the earliest assessment and the follow-up the latest, at least 28 days later.
#
# Every figure has passed disclosure control: counts are rounded to the nearest 5, small numbers
# show as `[c]`, and a mean resting on fewer than 8 people is not shown.

# %% tags=["parameters"]
borough = "merton"
processed_dir = None  # default: data_processed/<borough>, built on first use
fragments_dir = None  # default: build/<borough>/fragments
period = None  # a reporting period restricts activity sections only; outcomes use the whole extract

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pipeline import nb
from pipeline.analyses import outcome_tools

sec = nb.section("outcome_tools", borough, processed_dir, fragments_dir, period)
d = sec.data


def ok(name):
    return sec.ok and d[name]["status"] == "ok"


def score_rows(ins, decimals):
    """One row per score of an instrument: pairs, means, change and its interval, p."""
    rows = []
    for s in d[ins]["scores"].values():
        rows.append((s["label"], s["n_pairs"], s["mean_baseline"], s["mean_followup"], s["mean_change"],
                     nb.ci_text(s["ci95"], decimals), nb.p_text(s["p_value"]), s["mean_baseline_not_followed_up"]))
    return pd.DataFrame(rows, columns=["Score", "People assessed twice", "Mean at baseline", "Mean at follow-up",
                                       "Mean change", "95% CI", "p", "Mean at baseline, never followed up"],
                        dtype=object)


def completion(ins):
    x = d[ins]
    return (f"{nb.fmt(x['n_with_baseline'])} referrals had a baseline {x['title']} assessment; "
            f"{nb.fmt(x['n_completers'])} ({nb.fmt(x['completion_pct'], 1, '%')}) were assessed again at least "
            f"{d['min_days_between']} days later.")


def not_run(ins):
    if sec.ok and d[ins]["status"] != "ok":
        display(nb.md(f"Not analysed: {d[ins]['reason']}."))


# %% [markdown]
# ## Completion
# Descriptive. How many referrals had a baseline assessment with each instrument, and how many
# were assessed again. People who are not re-assessed may differ from those who are: the tables
# below compare their mean baseline with that of people followed up.

# %%
if sec.ok:
    rows = [(d[k]["title"], d[k]["n_with_baseline"], d[k]["n_completers"], d[k]["completion_pct"])
            for k in outcome_tools.ANALYSES if d[k]["status"] == "ok"]
    display(nb.table(pd.DataFrame(rows, columns=["Instrument", "Referrals with a baseline", "Assessed again",
                                                 "Completion (%)"], dtype=object), decimals=1))

# %% [markdown]
# ## SWEMWBS: mental wellbeing
# Descriptive (before/after). The 7 items (each 1–5) are summed and converted to the metric score
# (7–35) by the published conversion table; a change of at least 3 metric points is counted as
# meaningful (the upper end of the 1–3 points published as an important individual change).

# %%
not_run("swemwbs")
if ok("swemwbs"):
    display(nb.md(completion("swemwbs")))
    display(nb.table(score_rows("swemwbs", 2), decimals=2))
    pct = d["swemwbs"]["scores"]["metric"]["change_pct"]
    display(nb.table(pd.DataFrame([("Improved by 3+ points", pct["improved"]),
                                   ("Changed by less than 3 points", pct["no_meaningful_change"]),
                                   ("Worsened by 3+ points", pct["worsened"])],
                                  columns=["Change in the metric score", "% of people assessed twice"], dtype=object),
                     decimals=1))

# %% [markdown]
# ## EQ-5D-5L: health-related quality of life
# Descriptive (before/after). Each dimension at level 1 (no problems) to 5 (extreme problems):
# the share of people whose level improved, stayed the same or worsened. The *Paretian*
# classification calls a change *better* when at least one dimension improved and none worsened,
# *worse* the other way round, *mixed* when some did each. The index uses the England EQ-5D-5L
# value set (1 = full health; below 0 = worse than dead); the EQ VAS is the person's own 0–100 rating.

# %%
not_run("eq5d5l")
if ok("eq5d5l"):
    e = d["eq5d5l"]
    display(nb.md(completion("eq5d5l")))
    display(nb.table(score_rows("eq5d5l", 3), decimals={"Mean at baseline": 3, "Mean at follow-up": 3,
                                                         "Mean change": 3, "Mean at baseline, never followed up": 3}))
    labels = dict(outcome_tools.EQ5D_LABELS)
    dims = pd.DataFrame([(labels[k], v["improved"], v["no_meaningful_change"], v["worsened"])
                         for k, v in e["dimensions"].items()],
                        columns=["Dimension", "Better (%)", "Same (%)", "Worse (%)"], dtype=object)
    display(nb.table(dims, decimals=1))
    fig, ax = plt.subplots(figsize=(8, 3.6))
    y = np.arange(len(dims))
    left = np.zeros(len(dims))
    for col, colour, hatch in (("Better (%)", "#2b6a99", ""), ("Same (%)", "#d9d9d9", ".."),
                               ("Worse (%)", "#c0504d", "//")):
        vals = np.array([np.nan if v is None else v for v in dims[col]], dtype=float)
        ax.barh(y, np.nan_to_num(vals), left=left, color=colour, hatch=hatch, edgecolor="white", label=col[:-4])
        left += np.nan_to_num(vals)
    ax.set_yticks(y, dims["Dimension"])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of people assessed twice (withheld shares left blank)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    nb.show(fig, alt="Stacked bars of the share of people whose EQ-5D-5L level got better, stayed the same or got "
                     "worse in each of the five dimensions; worse is hatched as well as coloured.", data=dims)
    par = e["paretian_pct"]
    display(nb.table(pd.DataFrame([(k.replace("_", " ").capitalize(), v) for k, v in par.items()],
                                  columns=["Paretian classification", "% of people assessed twice"], dtype=object),
                     decimals=1))

# %% [markdown]
# ## Patient Activation Measure
# Descriptive (before/after). The PAM score (0–100) places a person at one of four levels of
# activation (level 1 up to 47.0, level 2 47.1–55.1, level 3 55.2–67.0, level 4 from 67.1); moving
# up at least one level is counted as a meaningful improvement. The table counts people by their
# level at baseline (rows) and at follow-up (columns).

# %%
not_run("pam")
if ok("pam"):
    p = d["pam"]
    display(nb.md(completion("pam")))
    display(nb.table(score_rows("pam", 2), decimals=2))
    t = p["level_transitions"]
    grid = pd.DataFrame([[f"Level {r}"] + [t["counts"][r][c] for c in t["followup"]] + [t["baseline"][r]]
                         for r in t["baseline"]] + [["All"] + list(t["followup"].values()) + [p["n_completers"]]],
                        columns=["Baseline \\ follow-up"] + [f"Level {c}" for c in t["followup"]] + ["All"],
                        dtype=object)
    display(nb.table(grid, decimals=0))
    pct = p["scores"]["level"]["change_pct"]
    display(nb.md(f"Moved up at least one level: {nb.fmt(pct['improved'], 1, '%')}; same level: "
                  f"{nb.fmt(pct['no_meaningful_change'], 1, '%')}; moved down: {nb.fmt(pct['worsened'], 1, '%')}."))

# %% [markdown]
# ## Work and Social Adjustment Scale
# Descriptive (before/after). Five items (0–8) summed to 0–40; **lower is better**. Bands as
# published: below 10 (subclinical), 10–20 (significant impairment), above 20 (moderately severe
# or worse). Moving to a less impaired band is counted as a meaningful improvement.

# %%
not_run("wsas")
if ok("wsas"):
    w = d["wsas"]
    display(nb.md(completion("wsas")))
    display(nb.table(score_rows("wsas", 2), decimals=2))
    names = {"below_10": "Below 10", "10_to_20": "10-20", "above_20": "Above 20"}
    t = w["band_transitions"]
    grid = pd.DataFrame([[names[r]] + [t["counts"][r][c] for c in t["followup"]] + [t["baseline"][r]]
                         for r in t["baseline"]] + [["All"] + list(t["followup"].values()) + [w["n_completers"]]],
                        columns=["Baseline \\ follow-up"] + [names[c] for c in t["followup"]] + ["All"], dtype=object)
    display(nb.table(grid, decimals=0))
    pct = w["scores"]["total"]["change_pct"]
    display(nb.md(f"Moved to a less impaired band: {nb.fmt(pct['improved'], 1, '%')}; same band: "
                  f"{nb.fmt(pct['no_meaningful_change'], 1, '%')}; a more impaired band: "
                  f"{nb.fmt(pct['worsened'], 1, '%')}."))

# %% [markdown]
# ## Well-being Star
# Descriptive (before/after). Each of the eight areas is scored 1–10 on the Star's Journey of
# Change; a change of at least 2 points (one stage) is counted as meaningful. The chart shows
# each area's mean change with its 95% confidence interval.

# %%
not_run("wellbeing_star")
if ok("wellbeing_star"):
    s = d["wellbeing_star"]
    display(nb.md(completion("wellbeing_star")))
    display(nb.table(score_rows("wellbeing_star", 2), decimals=2))
    rows = [(v["label"], v["mean_change"], *(v["ci95"] or [None, None]), v["change_pct"]["improved"],
             v["change_pct"]["worsened"]) for v in s["scores"].values()]
    star = pd.DataFrame(rows, columns=["Area", "Mean change", "95% CI low", "95% CI high", "Improved 2+ (%)",
                                       "Worsened 2+ (%)"], dtype=object)
    shown = star.dropna(subset=["Mean change", "95% CI low"])
    if len(shown):
        fig, ax = plt.subplots(figsize=(8, 3.8))
        y = np.arange(len(shown))
        m = shown["Mean change"].astype(float).to_numpy()
        lo, hi = shown["95% CI low"].astype(float).to_numpy(), shown["95% CI high"].astype(float).to_numpy()
        ax.errorbar(m, y, xerr=[m - lo, hi - m], fmt="o", color="#2b6a99", capsize=3)
        ax.axvline(0, color="#444", linewidth=1)
        ax.set_yticks(y, shown["Area"])
        ax.invert_yaxis()
        ax.set_xlabel("Mean change in the area's score (points, 1-10 scale)")
        nb.show(fig, alt="Mean change in each Well-being Star area with its 95% confidence interval; points right "
                         "of the zero line are improvements.", data=star)
    display(nb.table(star, decimals=2))

# %% [markdown]
# ## Reading

# %%
if sec.ok:
    display(nb.md(outcome_tools.reading(d)))
