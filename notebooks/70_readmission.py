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
# # Readmission after a supported hospital stay
#
# *Logic model: outcomes for the wider system.* For people whose hospital discharge (or avoided
# stay) was supported by social prescribing, how many came back to hospital as an emergency, and
# how soon. Definitions follow the data contract (section 2, *Readmission*): the index is each
# patient's first social-prescribing-supported spell; the event is the first emergency admission
# on or after the index discharge date (a same-day return counts, at day 0); death before any
# readmission is a *competing* event; follow-up ends at the end of the extract. "Within 30 days"
# means days 0 to 29 after discharge. Rates are Aalen–Johansen cumulative incidences, which do
# not pretend that people who died could still have been readmitted.
#
# Every figure has passed disclosure control: counts are rounded to the nearest 5, small numbers
# show as `[c]`, and a rate resting on fewer than 8 events is not shown.

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
from pipeline.analyses import readmission

sec = nb.section("readmission", borough, processed_dir, fragments_dir, period)
rd = sec.data
if sec.ok:
    for note in rd["notes"]:
        display(nb.md(f"**Note:** {note}"))


# %% [markdown]
# ## Headline rates
# Descriptive (published method). Cumulative incidence of emergency readmission and of death
# (the competing event) by 14, 30 and 90 days after the index discharge.

# %%
if sec.ok:
    rows = [("People with a supported index stay", rd["n_index"], "", "")]
    for d in readmission.CONTRACT_HORIZONS:
        key = f"{d}d"
        rows.append((f"Readmitted within {d} days (%)", rd["readmission_pct"][key],
                     nb.ci_text(rd["readmission_ci95"][key], 1, "%"), rd["events"]["readmission"][key]))
    if rd["deaths_modelled"]:
        for d in readmission.CONTRACT_HORIZONS:
            key = f"{d}d"
            rows.append((f"Died (before any readmission) within {d} days (%)", rd["death_pct"][key],
                         nb.ci_text(rd["death_ci95"][key], 1, "%"), rd["events"]["death"][key]))
    table = pd.DataFrame(rows, columns=["Measure", "Value", "95% CI", "People (rounded)"], dtype=object)
    display(nb.table(table, decimals=1))
    display(nb.md(f"Variance: {rd['method']['variance']}. Interval: {rd['method']['ci']}. Every figure here is "
                  f"computed from rounded counts: {rd['method']['rounding']}."))

# %% [markdown]
# ## Cumulative incidence over the first 90 days
# Descriptive (published method). Left: readmission and death as competing events, with 95%
# confidence bands; the row under the axis gives the number still followed and event-free
# (rounded; `[c]` = fewer than 8). Right: the naive `1 − Kaplan–Meier` estimate, which treats
# death as if the person could still be readmitted and so overstates the readmission risk.

# %%
shown = sec.ok and any(row["readmission_pct"] is not None for row in rd["curve"].values())
if sec.ok and not shown:
    display(nb.md("Too few readmissions to draw the curves after disclosure control."))
if shown:
    days = [0] + [int(d) for d in rd["curve"]]
    def series(name):
        vals = [0.0] + [rd["curve"][str(d)].get(name) for d in days[1:]]
        return np.array([np.nan if v is None else v for v in vals], dtype=float)
    def band(name):
        lo = [0.0] + [(rd["curve"][str(d)].get(name) or [None, None])[0] for d in days[1:]]
        hi = [0.0] + [(rd["curve"][str(d)].get(name) or [None, None])[1] for d in days[1:]]
        return (np.array([np.nan if v is None else v for v in lo], dtype=float),
                np.array([np.nan if v is None else v for v in hi], dtype=float))

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.3), sharey=True)
    x = np.array(days)
    r = series("readmission_pct")
    lo, hi = band("readmission_ci95")
    ax.plot(x, r, "o-", color="#2b6a99", label="Emergency readmission")
    ax.fill_between(x, lo, hi, color="#2b6a99", alpha=0.2, linewidth=0)
    if rd["deaths_modelled"]:
        dth = series("death_pct")
        dlo, dhi = band("death_ci95")
        ax.plot(x, dth, "s-", color="#7f7f7f", label="Death (competing)")
        ax.fill_between(x, dlo, dhi, color="#7f7f7f", alpha=0.2, linewidth=0)
    ax.set_xlabel("Days since index discharge")
    ax.set_ylabel("Cumulative incidence (%)")
    ax.set_title("Aalen–Johansen cumulative incidence")
    ax.legend(loc="upper left")
    ax.set_xlim(-2, max(days) + 2)
    for d, v in rd["at_risk"].items():  # numbers at risk under the axis, rounded / [c]
        ax.text(int(d), -0.23, nb.fmt(v), transform=ax.get_xaxis_transform(), ha="center", va="top",
                fontsize=8, color="#444")
    ax.text(-0.03, -0.23, "At risk", transform=ax.transAxes, ha="right", va="top", fontsize=8,
            color="#444", fontweight="bold")
    ax2.plot(x, r, "o-", color="#2b6a99", label="Aalen–Johansen (death competing)")
    ax2.plot(x, series("naive_1_minus_km_pct"), "^--", color="#c0504d", label="Naive 1 − KM (death censored)")
    ax2.set_xlabel("Days since index discharge")
    ax2.set_title("Why competing risks matter")
    ax2.legend(loc="upper left")
    fig.tight_layout()
    fig.subplots_adjust(bottom=0.25)
    last = max((int(d) for d, row in rd["curve"].items() if row["readmission_pct"] is not None), default=0)
    nb.show(fig, alt=(f"Cumulative incidence of emergency readmission over the first {last} days after discharge, "
                      f"rising to {nb.fmt(rd['curve'][str(last)]['readmission_pct'], 1)}% by day {last}"
                      + (", with death shown as a competing event" if rd["deaths_modelled"] else "")
                      + "; the naive 1 - Kaplan-Meier curve on the right lies above it because it treats people "
                        "who died as if they could still be readmitted."), layout=False,
            data=readmission.curve_table(rd))

# %% [markdown]
# ## Comparison with the 30-day benchmark
# Comparative (indicative only).

# %%
if sec.ok:
    b = rd["benchmark"]
    if b["value_pct"] is None:
        display(nb.md("No benchmark is configured (`readmission_benchmark_30d_pct` in `extract.yml`)."))
    else:
        table = pd.DataFrame([
            ("This service: readmitted within 30 days (%)", rd["cif_30d_pct"], nb.ci_text(rd["cif_30d_ci95"], 1, "%")),
            (f"Benchmark: emergency readmissions within 30 days (%), from {b['source']}", b["value_pct"], ""),
            ("Difference (percentage points)", b["difference_pct_points"], ""),
        ], columns=["Measure", "Value", "95% CI"], dtype=object)
        display(nb.table(table, decimals=1))
        display(nb.md(f"*Caveat.* {b['caveat']}"))

# %% [markdown]
# ## Who is more likely to be readmitted?
# Comparative/inferential. A cause-specific Cox model for emergency readmission (death censored)
# on what was known at discharge (time zero), from the referral behind the supported stay (the
# latest referral on or before the index discharge): age, practice risk band and deprivation.
# What the referral records later — the service outcome, a health budget spent during support — is
# never adjusted for: it happens after time zero and may itself follow a readmission. Hazard ratios
# above 1 mean a higher readmission rate. Associations, not effects of the service.

# %%
if sec.ok:
    cox = rd["cox"]
    if cox["status"] != "ok":
        display(nb.md(f"The model was not fitted: {cox['reason']}."))
    else:
        labels = readmission.COVARIATE_LABELS
        def label(c):
            if "=" in c:
                var, lvl = c.split("=", 1)
                return f"{var.replace('_', ' ').capitalize()}: {lvl.replace('_', ' ')}"
            return labels.get(c, c)
        rows = [(label(c), v["hr"], nb.ci_text(v["ci95"]), nb.p_text(v["p_value"]),
                 nb.p_text(cox["ph_test_p_value"].get(c))) for c, v in cox["hazard_ratios"].items()]
        table = pd.DataFrame(rows, columns=["Covariate", "Hazard ratio", "95% CI", "p", "PH test p"], dtype=object)
        display(nb.table(table, decimals=2))
        refs = "; ".join(f"{k.replace('_', ' ')}: {v.replace('_', ' ')}" for k, v in cox["reference_levels"].items())
        dropped = "; ".join(f"{k.replace('_', ' ')} ({v})" for k, v in cox["dropped_covariates"].items())
        display(nb.md(
            f"Model on {nb.fmt(cox['n'])} people with {nb.fmt(cox['events'])} readmissions"
            + (f" (ridge penalty {cox['penalizer']})" if cox["penalizer"] else "") + ". "
            + (f"Reference levels: {refs}. " if refs else "")
            + (f"Not included: {dropped}. " if dropped else "")
            + "*PH test p* checks the proportional-hazards assumption (Schoenfeld residuals against "
              "rank of time): a small value means the hazard ratio changes over follow-up and should be "
              "read as an average."))

# %% [markdown]
# ## Reading

# %%
if sec.ok:
    display(nb.md(readmission.reading(rd)))
