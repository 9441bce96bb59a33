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
# # Clinical targets by risk band
#
# *Logic model: outcomes for people (medium term).* For people on the diabetes or severe mental
# illness (SMI) register, how many of their routine clinical targets were met in the 12 months
# before and the 12 months after their first social prescribing contact, by the practice's risk
# band, as in the Merton evaluation. Definitions follow the data contract (section 2, *Clinical
# targets by risk band*): diabetes targets are HbA1c ≤ 58 mmol/mol, total cholesterol < 5 mmol/L
# and blood pressure ≤ 140/80 (a same-day pair); SMI targets are not smoking, BMI < 30, alcohol
# ≤ 14 units a week and the same blood pressure target (configurable in `config/defaults.yml`,
# `targets`). A target is met when the *latest* measurement in the window meets it (several
# readings that day: the lowest counts); **no measurement counts as not met**. People count when
# their first contact was at least 12 months before the end of the extract. The contact day is
# in neither window.
#
# The published tables are **descriptive**; the tests and the model below are
# **comparative/inferential** but still uncontrolled (no comparison group). Every figure has
# passed disclosure control: counts are rounded to the nearest 5, small numbers show as `[c]`
# (and so do the counts a reader could work one out from), percentages come from the rounded
# counts, and a percentage resting on fewer than 8 people is not shown.

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
from pipeline.analyses import targets

sec = nb.section("targets", borough, processed_dir, fragments_dir, period)
tg = sec.data
COHORTS = [c for c in targets.COHORTS if sec.ok and targets.ran(tg, c)]
LABELS = targets.COHORT_LABELS

# %% [markdown]
# ## Checks on these tables
# Raised automatically from the published figures: a cohort where no patient in any risk band
# met every target (the Merton evaluation found this and questioned its logic), risk bands too
# small to read, patients with no risk band, and targets measured much more often after first
# contact than before.

# %%
if sec.ok:
    lines = [f"- **{LABELS[c]}:** {f['message']}" for c in COHORTS for f in targets.flags(tg, c)]
    display(nb.md("\n".join(lines) if lines else "No checks raised."))

# %% [markdown]
# ## Targets met before and after first contact (published method)
# Descriptive. Per risk band, the % of eligible patients meeting 0, 1, 2, … of their targets in
# the 12 months before and the 12 months after first contact. Rows may not add to 100 after
# rounding and suppression.
#
# *Regression to the mean.* People are often referred when their numbers are bad, and a reading
# taken at a bad moment tends to be followed by a better one with no help at all: part of any
# rise in targets met after first contact would have happened anyway. With no comparison group
# these tables cannot say how much.

# %%
if sec.ok:
    for c in COHORTS:
        det = tg["detail"][c]
        flow, al = det["flow"], det["at_least_one_target_pct"]
        display(nb.md(f"### {LABELS[c]}\n\n{nb.fmt(flow['eligible'])} eligible patients "
                      f"({nb.fmt(flow['excluded_short_follow_up'])} more on the register were first seen less than 12 "
                      f"months before the end of the extract; {nb.fmt(flow['missing_risk_band'])} eligible patients "
                      "have no risk band). Targets: " + "; ".join(det["targets"].values()) + ". "
                      f"Meeting at least one target: {nb.fmt(al['prior'], 1)}% before, {nb.fmt(al['after'], 1)}% "
                      f"after first contact (of the {nb.fmt(flow['with_risk_band'])} with a risk band)."))
        for w, title in (("prior", "12 months **before** first contact"), ("after", "12 months **after** first contact")):
            display(nb.md(f"Targets met within {title}"))
            display(nb.table(targets.band_table(tg, c, w), decimals=1))

# %%
if COHORTS:
    fig, axes = plt.subplots(len(COHORTS), len(targets.BANDS), figsize=(12, 2.9 * len(COHORTS)), squeeze=False,
                             sharey=True)
    for row, c in zip(axes, COHORTS, strict=True):
        for ax, b in zip(row, targets.BANDS, strict=True):
            keys = list(tg[c][b]["prior_pct"])
            x = np.arange(len(keys))
            for off, w, colour, hatch, lab in ((-0.2, "prior", "#9aa5b1", "", "12 months before"),
                                               (0.2, "after", "#2b6a99", "//", "12 months after")):
                vals = [tg[c][b][f"{w}_pct"][k] for k in keys]
                ax.bar(x + off, [0 if v is None else v for v in vals], width=0.4, color=colour, hatch=hatch,
                       edgecolor="white", label=lab)
                for xi, v in zip(x, vals, strict=True):
                    if v is None:
                        ax.text(xi + off, 1, "[c]", ha="center", va="bottom", fontsize=6, rotation=90)
            ax.set_xticks(x, keys)
            ax.set_title(f"{LABELS[c]}: {targets.BAND_LABELS[b][4:].lower()} (n = {nb.fmt(tg[c][b]['n'])})",
                         fontsize=8)
            ax.set_ylim(0, 100)
        row[0].set_ylabel("% of eligible patients")
    for ax in axes[-1]:
        ax.set_xlabel("Targets met")
    axes[0][0].legend(fontsize=7)
    said = [f"{LABELS[c].lower()} {nb.fmt(tg['detail'][c]['at_least_one_target_pct']['prior'], 1)}% to "
            f"{nb.fmt(tg['detail'][c]['at_least_one_target_pct']['after'], 1)}%" for c in COHORTS]
    drawn = pd.DataFrame([(LABELS[c], targets.BAND_LABELS[b], f"{k} target{'' if k == '1' else 's'}",
                           tg[c][b]["prior_pct"][k], tg[c][b]["after_pct"][k])
                          for c in COHORTS for b in targets.BANDS for k in tg[c][b]["prior_pct"]],
                         columns=["Cohort", "Risk band", "Targets met", "% before", "% after"], dtype=object)
    nb.show(fig, alt="Per cohort and risk band, the share of eligible patients meeting 0, 1, 2 and more targets in "
                     "the 12 months before (plain bars) and after (hatched bars) first contact; the share meeting at "
                     "least one target went from " + "; ".join(said) + ".", data=drawn)

# %% [markdown]
# ## Not met, or not measured?
# Descriptive. The published method counts a target with no measurement in the window as *not
# met*. Splitting the two shows how much of any change is more testing rather than better
# control: "% measured" is the share of eligible patients with a qualifying measurement, and
# "% met if measured" the share of those meeting the target.

# %%
if sec.ok:
    for c in COHORTS:
        bt = tg["detail"][c]["by_target"]
        rows = []
        for v in bt.values():
            rows.append((v["target"], v["prior"]["measured_pct"], v["after"]["measured_pct"],
                         v["prior"]["met_if_measured_pct"], v["after"]["met_if_measured_pct"],
                         v["prior"]["met_pct"], v["after"]["met_pct"]))
        display(nb.md(f"### {LABELS[c]}"))
        display(nb.table(pd.DataFrame(rows, columns=[
            "Target", "% measured before", "% measured after", "% met if measured, before",
            "% met if measured, after", "% met (published rule), before", "% met (published rule), after"],
            dtype=object), decimals=1))
if COHORTS:
    fig, axes = plt.subplots(1, len(COHORTS), figsize=(6 * len(COHORTS), 3.6), squeeze=False)
    for ax, c in zip(axes[0], COHORTS, strict=True):
        bt = tg["detail"][c]["by_target"]
        names = list(bt)
        x = np.arange(len(names))
        for off, key, w, colour, hatch, lab in (
                (-0.3, "measured_pct", "prior", "#c6d4e1", "", "Measured, before"),
                (-0.1, "measured_pct", "after", "#6f94b8", "//", "Measured, after"),
                (0.1, "met_if_measured_pct", "prior", "#f3d3a3", "..", "Met if measured, before"),
                (0.3, "met_if_measured_pct", "after", "#d98c1f", "xx", "Met if measured, after")):
            vals = [bt[n][w][key] for n in names]
            ax.bar(x + off, [0 if v is None else v for v in vals], width=0.2, color=colour, hatch=hatch,
                   edgecolor="white", label=lab)
        ax.set_xticks(x, [n.replace("_", " ") for n in names], fontsize=8)
        ax.set_ylim(0, 100)
        ax.set_ylabel("%")
        ax.set_title(LABELS[c])
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False)
    said = []
    for c in COHORTS:
        m = tg["detail"][c]["mean_over_targets"]
        said.append(f"{LABELS[c].lower()}: measured {nb.fmt(m['measured_pct']['prior'], 1)}% before and "
                    f"{nb.fmt(m['measured_pct']['after'], 1)}% after, met if measured "
                    f"{nb.fmt(m['met_if_measured_pct']['prior'], 1)}% and {nb.fmt(m['met_if_measured_pct']['after'], 1)}%")
    drawn = pd.DataFrame([(LABELS[c], v["target"], v["prior"]["measured_pct"], v["after"]["measured_pct"],
                           v["prior"]["met_if_measured_pct"], v["after"]["met_if_measured_pct"])
                          for c in COHORTS for v in tg["detail"][c]["by_target"].values()],
                         columns=["Cohort", "Target", "% measured before", "% measured after",
                                  "% met if measured, before", "% met if measured, after"], dtype=object)
    nb.show(fig, alt="Per target, the share of eligible patients measured and the share of those measured meeting the "
                     "target, before and after first contact; on average over the targets, " + "; ".join(said) + ".",
            data=drawn)

# %% [markdown]
# ## Did the distribution shift? Paired tests by risk band
# Comparative/inferential. Each patient is counted twice (before and after), so the test must
# be paired. The **Stuart–Maxwell test** of marginal homogeneity compares the two published
# distributions of the same patients directly; it was chosen over the Wilcoxon signed-rank test
# because the outcome is a short ordinal scale (0 to 3 or 4 targets) with many ties, which the
# Wilcoxon test partly discards. Holm's correction allows for testing four risk bands per cohort.
# The direction is shown by the share of patients who met more, the same or fewer targets.

# %%
if sec.ok:
    for c in COHORTS:
        rows = []
        for b in targets.BANDS:
            e = tg[c][b]
            t = e["test"]
            stat = nb.fmt(t["statistic"], 2) + ("" if t["statistic"] is None else f" on {t['df']} df")
            rows.append((targets.BAND_LABELS[b], e["n"], e["change_pct"]["met_more"], e["change_pct"]["same"],
                         e["change_pct"]["met_fewer"], stat, nb.p_text(t["p_value"]), nb.p_text(t["p_holm"])))
        display(nb.md(f"### {LABELS[c]}"))
        display(nb.table(pd.DataFrame(rows, columns=[
            "Risk band", "Patients", "% met more", "% same", "% met fewer", "Stuart–Maxwell χ²", "p", "p (Holm)"],
            dtype=object), decimals={"% met more": 1, "% same": 1, "% met fewer": 1}))

# %% [markdown]
# ## One model across risk bands
# Comparative/inferential. A proportional-odds (ordinal logistic) model of the number of targets
# met, on period (after vs before) and risk band, with two rows per patient and standard errors
# clustered by patient. An odds ratio above 1 means more targets met after first contact. The
# interaction model gives an odds ratio per band, and a Wald test asks whether the change
# differs between bands. A logistic model of "at least one target met" is a robustness check.

# %%
if sec.ok:
    for c in COHORTS:
        m = tg["detail"][c]["models"]
        display(nb.md(f"### {LABELS[c]}"))
        if m["status"] != "ok":
            display(nb.md(f"The model was not fitted: {m.get('reason') or m['status']}."))
            continue
        rows = [("All bands (common odds ratio)", m["period"]["odds_ratio"], nb.ci_text(m["period"]["ci95"]),
                 nb.p_text(m["period"]["p_value"]))]
        for b in targets.BANDS:
            r = m["period_by_band"][b]
            rows.append((targets.BAND_LABELS[b], r["odds_ratio"], nb.ci_text(r["ci95"]), nb.p_text(r["p_value"])))
        a = m["any_target_logit"]
        rows.append(("At least one target met (logistic)", a["odds_ratio"], nb.ci_text(a["ci95"]),
                     nb.p_text(a["p_value"])))
        display(nb.table(pd.DataFrame(rows, columns=["After vs before", "Odds ratio", "95% CI", "p"], dtype=object),
                         decimals={"Odds ratio": 2}))
        w = m["interaction_wald"]
        display(nb.md(f"Does the change differ between risk bands? Wald χ² = {nb.fmt(w['chi2'], 2)} on "
                      f"{nb.fmt(w['df'])} df, p = {nb.p_text(w['p_value'])}. Reference band for the band odds "
                      f"ratios: {(m['reference_band'] or '').replace('_', ' ')}."))

# %% [markdown]
# ## Is one odds ratio enough? Checking the proportional-odds assumption
# Comparative/inferential. The model above gives one odds ratio for "after vs before" that is
# assumed to hold at every cut-point of the outcome: meeting at least 1 target rather than none,
# at least 2 rather than fewer, and so on. The check (a Brant-type test) fits one logistic model
# per cut-point, each with its own constant, on the same period and band terms, and tests whether
# their odds ratios are equal, with standard errors clustered by patient. A small p-value for the
# period says the change after first contact differs between the lower and the higher
# cut-points, so the common odds ratio is an average rather than a description of each.

# %%
if sec.ok:
    for c in COHORTS:
        m = tg["detail"][c]["models"]
        po = m["proportional_odds"]
        display(nb.md(f"### {LABELS[c]}"))
        if po["period_odds_ratio_by_cut"]:
            rows = [(f"At least {k} target{'s' if k != '1' else ''} met", v["odds_ratio"], nb.ci_text(v["ci95"]),
                     nb.p_text(v["p_value"])) for k, v in po["period_odds_ratio_by_cut"].items()]
            rows.append(("Proportional-odds model (common)", m["period"]["odds_ratio"], nb.ci_text(m["period"]["ci95"]),
                         nb.p_text(m["period"]["p_value"])))
            display(nb.table(pd.DataFrame(rows, columns=["After vs before, cut-point", "Odds ratio", "95% CI", "p"],
                                          dtype=object), decimals={"Odds ratio": 2}))
        display(nb.md(targets.prose.proportional_odds_text(m)))

# %% [markdown]
# ## Patients who died after first contact
# A patient who dies within the 12 months after first contact has less time, or none, to be
# measured, and the published method counts every target not measured as not met. We keep that
# rule for every figure above: the contract's tables must be comparable with the Merton
# evaluation's, and leaving these patients out of them would change what the tables count. The
# patients who died are counted instead (from the optional `deaths` table), and the common odds
# ratio is estimated again without them, so a reader can see how much their missing measurements
# move the result. With fewer than 8 deaths that second estimate is not shown: the difference
# between the two would be about those few people.

# %%
if sec.ok:
    for c in COHORTS:
        display(nb.md(f"**{LABELS[c]}.** " + targets.prose.deaths_text(tg["detail"][c])))

# %% [markdown]
# ## Reading

# %%
if sec.ok:
    display(nb.md(targets.reading(tg)))
