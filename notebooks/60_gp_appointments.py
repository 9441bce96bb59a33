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
# # GP appointments before and after referral
#
# *Logic model: outcomes for the wider system.* Whether people used their GP practice less after
# being referred to social prescribing. Three views, from the simplest to the most careful:
#
# 1. **The published method** (the Merton evaluation's "% activity variance", data contract
#    section 2, *GP appointment variance*): for each referred patient's first referral,
#    appointments in the 3, 6, 9 and 12 months after the referral date against the same length
#    of time before it (the referral day in neither), by financial year of referral. A patient
#    counts only when both windows lie inside the extract. The % variance is (total after −
#    total before) ÷ total before × 100 over the cohort's patients (a ratio of sums).
#    **Descriptive.**
# 2. **An event study**: appointments per patient in each quarter from two years before to one
#    year after referral, as rate ratios against a quarter well before referral. It shows what
#    the published method hides: GP use *rises* in the months before a referral, so a fall
#    afterwards is partly a return to normal (regression to the mean). **Descriptive/comparative.**
# 3. **A matched comparison** (difference in differences), when the extract has
#    `comparison_patients`: referred patients against similar patients at the same practices
#    who were not referred, from a baseline window *before the pre-referral rise* (6 to 12 months
#    before referral) to the year after. **The causal-leaning estimate**, with the caveats below.
#
# Every figure has passed disclosure control: counts are rounded to the nearest 5, small numbers
# show as `[c]`, and a figure resting on fewer than 8 people is not shown.

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
from pipeline.analyses import gp_appointments as gp

sec = nb.section("gp_appointments", borough, processed_dir, fragments_dir, period)
ga = sec.data
months = gp.window_label


# %% [markdown]
# ## % activity variance by financial-year cohort (published method)
# Descriptive. A negative figure means fewer GP appointments after referral than before. Patients
# referred early in the extract have no full "before" window, and those referred late no full
# "after" window, so each column counts a different set of patients (shown below the table).
# Each % is computed from the rounded totals shown last.

# %%
if sec.ok:
    var, det = ga["variance_pct"], ga["variance_detail"]
    cohorts = sorted(var)
    ks = list(next(iter(var.values()), {}))
    cols = ["Cohort"] + [months(k) for k in ks]
    rows = [[c] + [var[c][k] for k in ks] for c in cohorts]
    display(nb.table(pd.DataFrame(rows, columns=cols, dtype=object), decimals=1))
    rows = [[c] + [det[c][k]["n_patients"] for k in ks] for c in cohorts]
    display(nb.md("Patients counted in each column:"))
    display(nb.table(pd.DataFrame(rows, columns=cols, dtype=object)))
    rows = [[c] + [nb.ci_text(det[c][k]["variance_pct_ci95"], 1, "%", signed=True) for k in ks] for c in cohorts]
    display(nb.md("95% confidence intervals (beyond the published method; they allow for differences between "
                  "patients, not for regression to the mean):"))
    display(nb.table(pd.DataFrame(rows, columns=cols, dtype=object)))
    rows = [[c] + [f"{nb.fmt(det[c][k]['appointments_before'])} → {nb.fmt(det[c][k]['appointments_after'])}"
                   for k in ks] for c in cohorts]
    display(nb.md("Total appointments before → after:"))
    display(nb.table(pd.DataFrame(rows, columns=cols, dtype=object)))
    if ga["deaths_recorded"]:
        rows = [[c] + [det[c][k]["died_in_after_window"] for k in ks] for c in cohorts]
        display(nb.md("Patients who died in the after window (the published method counts them with the appointments "
                      "they had before they died, which lowers the after totals a little):"))
        display(nb.table(pd.DataFrame(rows, columns=cols, dtype=object)))
    else:
        display(nb.md("This extract has no `deaths` table, so patients who died after referral cannot be told apart: "
                      "they count with no appointments after their death, which lowers the after totals."))

# %%
shown = sec.ok and any(v is not None for c in ga["variance_pct"].values() for v in c.values())
if sec.ok and not shown:
    display(nb.md("Too few patients to chart the % variance after disclosure control."))
if shown:
    var = ga["variance_pct"]
    cohorts = sorted(var)
    ks = list(next(iter(var.values())))
    fig, ax = plt.subplots(figsize=(8.5, 4))
    width = 0.8 / max(len(cohorts), 1)
    colours = plt.cm.viridis(np.linspace(0.15, 0.85, len(cohorts)))
    hatches = ["", "//", "..", "xx", "\\\\", "++"]
    for i, (c, colour) in enumerate(zip(cohorts, colours, strict=True)):
        vals = [var[c][k] for k in ks]
        x = np.arange(len(ks)) + (i - (len(cohorts) - 1) / 2) * width
        bars = ax.bar(x, [0 if v is None else v for v in vals], width=width, color=colour, label=c,
                      hatch=hatches[i % len(hatches)], edgecolor="white")
        for b, v in zip(bars, vals, strict=True):
            down = v is None or v < 0
            ax.annotate("[c]" if v is None else f"{v:.0f}%", (b.get_x() + b.get_width() / 2, b.get_height()),
                        ha="center", va="top" if down else "bottom", fontsize=7,
                        xytext=(0, -2 if down else 2), textcoords="offset points")
    ax.axhline(0, color="#444", linewidth=0.8)
    ax.set_xticks(np.arange(len(ks)), [f"{months(k)} (Q{i + 1})" for i, k in enumerate(ks)])
    ax.set_ylabel("% activity variance (after vs before)")
    ax.set_title("GP appointments % activity variance by quarter, by referral cohort")
    ax.legend(title="Financial year (bar pattern)", fontsize=8)
    said = [f"{c}: " + ", ".join(f"{nb.fmt(var[c][k], 1, '%')} at {months(k)}" for k in ks) for c in cohorts]
    nb.show(fig, alt="Bar chart of the % change in GP appointments after referral against before, by financial "
                     "year of referral and window (published method, [c] where withheld): " + "; ".join(said) + ".",
            data=gp.variance_chart_table(ga))

# %% [markdown]
# ## GP use quarter by quarter around referral (event study)
# Comparative. Appointments per patient in each quarter (91 days) before and after the referral
# date, as a rate ratio against the reference quarter, from a Poisson model with one effect per
# patient (each patient is compared with themselves), the days each patient was inside the
# extract as exposure, and standard errors that allow for repeated quarters of the same patient
# and for overdispersion. The matched comparison patients (when there are any) are shown with
# the index date of the referred patient they were matched to: their line should be flat.
# Appointments per patient carry no more decimals than the number of patients behind them allows.

# %%
if sec.ok:
    es = ga["event_study"]
    comp = ga["matched_did"].get("event_study_comparison")
    qs = list(es["quarters"])
    def interval(e):
        return "(reference)" if e.get("reference") else nb.ci_text(e.get("ci95"))

    rows = []
    for q in qs:
        e = es["quarters"][q]
        row = [q, e["n_patients"], nb.fmt(e["appointments_per_patient"]), e["rate_ratio"], interval(e)]
        if comp:
            c = comp["quarters"].get(q, {})
            row += [nb.fmt(c.get("appointments_per_patient")), c.get("rate_ratio"), interval(c)]
        rows.append(row)
    cols = ["Quarter", "Referred patients", "Appointments per patient", "Rate ratio", "95% CI"]
    if comp:
        cols += ["Comparison: appointments per patient", "Comparison: rate ratio", "Comparison: 95% CI"]
    display(nb.md(f"Reference quarter: {es['reference_quarter']}. {es['quarter_definition']}."))
    display(nb.table(pd.DataFrame(rows, columns=cols, dtype=object),
                     decimals={"Rate ratio": 2, "Comparison: rate ratio": 2}))
    pts = [(int(q), e["rate_ratio"], e["ci95"]) for q, e in es["quarters"].items() if e["rate_ratio"] is not None]
    if pts:
        fig, ax = plt.subplots(figsize=(8.5, 4))
        for series, colour, label, off, style in ((es, "#2b6a99", "Referred patients", -0.08, "o-"),
                                                  (comp, "#7f7f7f", "Matched comparison patients", 0.08, "s--")):
            if not series:
                continue
            xs, ys, lo, hi = [], [], [], []
            for q, e in series["quarters"].items():
                if e.get("rate_ratio") is None:
                    continue
                xs.append(int(q) + off)
                ys.append(e["rate_ratio"])
                ci = e.get("ci95") or [e["rate_ratio"], e["rate_ratio"]]
                lo.append(e["rate_ratio"] - ci[0])
                hi.append(ci[1] - e["rate_ratio"])
            ax.errorbar(xs, ys, yerr=[lo, hi], fmt=style, color=colour, capsize=3, label=label)
        ax.axhline(1, color="#444", linewidth=0.8)
        ax.axvline(0, color="#c0392b", linewidth=1, linestyle=":")
        ax.text(0.1, ax.get_ylim()[1], " referral", color="#c0392b", va="top", fontsize=8)
        ax.set_xlabel("Quarter relative to referral (−1 = the 3 months before)")
        ax.set_ylabel(f"Rate ratio vs quarter {es['reference_quarter']}")
        ax.set_title("GP appointments around referral")
        ax.legend(fontsize=8)

        def rr(series, q):
            return nb.fmt((series or {}).get("quarters", {}).get(q, {}).get("rate_ratio"))

        alt = (f"Rate ratios of GP appointments in each quarter around referral against quarter "
               f"{es['reference_quarter']}: for referred patients {rr(es, '-2')} two quarters before referral, "
               f"{rr(es, '-1')} in the quarter before and {rr(es, '1')} in the quarter after")
        if comp:
            alt += (f"; for matched comparison patients {rr(comp, '-1')} in the quarter before and {rr(comp, '1')} "
                    "in the quarter after")
        nb.show(fig, alt=alt + ".", data=gp.event_study_table(ga))

# %% [markdown]
# ## Matched comparison: difference in differences
# Comparative, **causal-leaning**. Each referred patient is matched with up to three patients
# registered at the same practice who were never referred, of the same age band, gender and
# risk band, alive on the referral date, with similar GP use in an earlier window (days 547 to
# 366 before referral, kept apart from the "before" window below so that matching cannot create
# its own regression to the mean). Comparison patients take the referral date of the patient
# they are matched to. **Before** is days 365 to 183 before referral — clear of the rise in the
# six months before referral; **after** is the year after referral (shorter at the end of the
# extract or at death, allowed for by exposure). The rate ratio compares the change in referred
# patients with the change in their matches: below 1 means fewer appointments than the comparison
# suggests there would have been. Model: Poisson with one effect per patient and standard errors
# clustered by matched set; a negative-binomial model is a check.

# %%
did = ga["matched_did"] if sec.ok else None
if did is not None and did["status"] == "not_run":
    display(nb.md(f"The matched comparison was not run: {did['reason']}."))
elif did is not None:
    m = did["matching"]
    display(nb.md(
        f"{nb.fmt(m['n_referred_eligible'])} referred patients had the history and follow-up needed; "
        f"{nb.fmt(m['n_referred_matched'])} ({nb.fmt(m['matched_pct'], 1)}%) were matched to "
        f"{nb.fmt(m['n_comparison_matched'])} of {nb.fmt(m['n_comparison_pool'])} comparison patients."))
    r = did["appointments_per_year"]
    display(nb.table(pd.DataFrame([
        ("Referred", r["referred"]["before"], r["referred"]["after"]),
        ("Matched comparison (weighted)", r["comparison"]["before"], r["comparison"]["after"])],
        columns=["Group", "Appointments a year, before (days −365 to −183)", "Appointments a year, after (year after)"],
        dtype=object), decimals=2))
    s = did["sensitivity"]
    nbm, pk = s["negative_binomial"], s["before_includes_peak"]
    display(nb.table(pd.DataFrame([
        ("Difference in differences (main)", did["rate_ratio"], nb.ci_text(did["ci95"], 3), nb.p_text(did["p_value"])),
        ("Check: negative binomial model", nbm["rate_ratio"], nb.ci_text(nbm["ci95"], 3), nb.p_text(nbm["p_value"])),
        ("Biased on purpose: 'before' = days −365 to −1 (includes the pre-referral rise)", pk["rate_ratio"],
         nb.ci_text(pk["ci95"], 3), nb.p_text(pk["p_value"]))],
        columns=["Estimate", "Rate ratio", "95% CI", "p"], dtype=object), decimals={"Rate ratio": 3}))
    died = did["died_in_after_window"]
    display(nb.md(
        "Follow-up ends at death: a patient who died in the year after referral counts for the days they were alive"
        + (f" ({nb.fmt(died['referred'])} referred and {nb.fmt(died['comparison'])} comparison patients died in that "
           "year)." if died else "; this extract has no `deaths` table, so deaths are not known.")
        + " The negative-binomial check weights comparison patients like the main model (1/number matched)."))
    if did.get("reason"):
        display(nb.md(f"*Note:* {did['reason']}."))

# %% [markdown]
# ### Did the two groups move together before referral?
# The matched comparison assumes that, without referral, referred patients' GP use would have
# changed in the same proportion as their matches' (parallel trends). Two checks: a *placebo*
# difference in differences inside the baseline window (its earlier half against its later half,
# with no referral in between: a rate ratio near 1 supports the assumption), and a joint test of
# the quarter-by-quarter differences between the groups before referral.

# %%
if did is not None and did["status"] != "not_run":
    pt = did["parallel_trends"]
    pl, t, al = pt["placebo_did"], pt["pre_referral_test"], pt["all_pre_referral_test"]

    def quarters(test):
        return ", ".join(str(q) for q in test["quarters"]) if test["quarters"] else "[c]"

    display(nb.table(pd.DataFrame([
        (f"Placebo DiD: days {-pl['window_days']['before'][0]} to {-pl['window_days']['before'][1]} against "
         f"{-pl['window_days']['after'][0]} to {-pl['window_days']['after'][1]} before referral",
         f"rate ratio {nb.fmt(pl['rate_ratio'])} (95% CI {nb.ci_text(pl['ci95'], 3)})", nb.p_text(pl["p_value"])),
        (f"Joint test, quarters {quarters(t)} (before the 'before' window ends, outside the matching window)",
         f"chi² {nb.fmt(t['chi2'])} on {nb.fmt(t['df'])} df", nb.p_text(t["p_value"])),
        (f"Joint test, every quarter before referral ({quarters(al)})",
         f"chi² {nb.fmt(al['chi2'])} on {nb.fmt(al['df'])} df", nb.p_text(al["p_value"]))],
        columns=["Check", "Result", "p"], dtype=object)))
    display(nb.md(gp.trends_reading(did)))

# %% [markdown]
# ### How alike are the two groups?
# A standardised difference beyond ±0.1 is a notable imbalance. Referred patients may use the
# GP more even in the "before" window; the model compares each patient with themselves, so a
# difference in *level* does not bias the ratio, but a difference in *trend* would. Gender and
# risk band are matched exactly, so the comparison's weighted shares equal the referred ones.

# %%
BAL_LABELS = {"age": "Age (mean)", "female": "Female (%)", "risk_very_high": "Very high risk (%)",
              "risk_high": "High risk (%)", "risk_medium": "Medium risk (%)", "risk_low": "Low risk (%)",
              "diabetes": "Diabetes register (%)", "severe_mental_illness": "SMI register (%)",
              "imd_decile": "IMD decile (mean)", "matching_window_appointments": "Appointments in the matching window (mean)",
              "before_window_appointments": "Appointments in the 'before' window (mean)"}
if did is not None and did["status"] != "not_run":
    rows = [(BAL_LABELS.get(k, k), nb.fmt(v["referred"]), nb.fmt(v["comparison"]), v["std_diff"])
            for k, v in did["balance"].items()]
    display(nb.table(pd.DataFrame(rows, columns=["Characteristic", "Referred", "Matched comparison",
                                                 "Standardised difference"], dtype=object),
                     decimals={"Standardised difference": 2}))

# %% [markdown]
# ## Reading

# %%
if sec.ok:
    display(nb.md(gp.reading(ga)))
    display(nb.md(f"*Which estimate to quote:* {ga['reading']}"))
