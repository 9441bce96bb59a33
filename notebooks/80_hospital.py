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
# # Hospital services and the link-worker workforce
#
# *Logic model: outputs and outcomes for the wider system.* Two parts, following the Norfolk &
# Waveney evaluation of social prescribing in secondary care:
#
# 1. **Hospital-based social prescribing**: what the service recorded for each hospital referral
#    (admission avoided or discharge expedited), the bed days it estimates it saved, the one-off
#    personal health budgets it spent, and a notional cost benefit of those bed days.
# 2. **Link-worker workforce and hospital use**: the published PCN-quarter regression of A&E
#    attendances and non-elective in-patient cost on link-worker FTE (appendix 3), reproduced as
#    published, with a better-specified alternative beside it.
#
# Readmission after a supported stay is a separate section (*Readmission*). Every figure has
# passed disclosure control: counts are rounded to the nearest 5, small numbers show as `[c]`,
# and no minimum or maximum of individual values is shown.

# %% tags=["parameters"]
borough = "norfolk-and-waveney"
processed_dir = None  # default: data_processed/<borough>, built on first use
fragments_dir = None  # default: build/<borough>/fragments
period = None  # reporting period; this section always uses the whole extract

# %%
import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pipeline import nb
from pipeline.analyses import hospital, workforce
from pipeline.disclosure import fmt

ctx = nb.setup(borough, processed_dir, fragments_dir, period)
if ctx.period is not None:
    display(nb.md(f"*This section covers the whole extract, not only {ctx.period_text}: bed-day estimates "
                  "and the quarterly workforce panel are not restricted to the reporting period.*"))

h_reason = hospital.availability(ctx.extract)
if h_reason:
    ctx.not_run(hospital.SECTION, reason=h_reason)
    display(nb.md(f"**Hospital services: not available.** {h_reason[0].upper() + h_reason[1:]}."))
    hs = None
else:
    h_raw = hospital.compute(ctx.extract, ctx.settings)
    hs = hospital.publish(h_raw, ctx.sdc.scoped(hospital.SECTION))
    ctx.save_section(hospital.SECTION, hs)
    for note in hs["notes"]:
        display(nb.md(f"**Note:** {note}"))

OUT = hospital.OUTCOME_LABELS


def money(v, decimals=0):
    if v is None:
        return fmt(v)
    return ("−" if v < 0 else "") + f"£{abs(v):,.{decimals}f}"


def section(title, text=""):
    """A sub-heading and its description, shown only when the part ran."""
    display(nb.md(f"### {title}\n\n{text}"))


# %% [markdown]
# ## 1. Hospital-based social prescribing

# %%
if hs:
    section("What the service recorded for each referral",
            "Descriptive (published method, Table 3). The outcome the service recorded for each hospital "
            "referral (admission avoided or discharge expedited), as a percentage of all hospital "
            "referrals.")
    so = hs["service_outcome"]
    rows = [(OUT[o], so["counts"][o], so["pct"][o]) for o in so["counts"]]
    rows.append(("All hospital referrals", hs["n_referrals"], "100.0"))
    df = pd.DataFrame(rows, columns=["Service outcome", "Referrals", "%"], dtype=object)
    display(nb.table(df, decimals={"Referrals": 0, "%": 1}))
    display(nb.md(f"About {fmt(hs['n_referrals'])} hospital referrals for {fmt(hs['n_patients'])} people."))

# %%
PCT_ROWS = [("p10", "10th percentile"), ("p25", "25th percentile"), ("median", "Median"),
            ("p75", "75th percentile"), ("p90", "90th percentile")]
if hs:
    section("Bed days saved",
            "Descriptive (published method, Table 7), **the service's own estimate** per referral. The "
            "published table also gives the range (minimum and maximum). " + hs["method"]["range"])
    bd = hs["bed_days_saved"]
    rows = [("Referrals with an estimate", bd["n"]), ("Mean", bd["mean"]), ("Standard deviation", bd["sd"]),
            ("Total", bd["total"])] + [(label, bd[k]) for k, label in PCT_ROWS]
    display(nb.table(pd.DataFrame(rows, columns=["Bed days saved", "Value"], dtype=object), decimals=1))
    by = bd["by_outcome"]
    rows = [(OUT[g], d["n"], d["mean"], d["sd"], d["total"]) for g, d in by.items()]
    display(nb.md("**By service outcome**"))
    display(nb.table(pd.DataFrame(rows, columns=["Service outcome", "Referrals", "Mean", "SD", "Total"], dtype=object),
                     decimals={"Referrals": 0, "Mean": 1, "SD": 1, "Total": 1}))

# %%
if hs and any(d["mean"] is not None for d in hs["bed_days_saved"]["by_outcome"].values()):
    by = hs["bed_days_saved"]["by_outcome"]
    groups = list(by)
    means = [by[g]["mean"] for g in groups]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    y = np.arange(len(groups))
    ax.barh(y, [m if m is not None else 0 for m in means], color="#2b6a99")
    for i, g in enumerate(groups):
        label = (f"{means[i]:.1f} days (n≈{fmt(by[g]['n'])})" if means[i] is not None else "[c]")
        ax.text((means[i] or 0) + 0.1, i, label, va="center", fontsize=9)
    ax.set_yticks(y, [OUT[g] for g in groups])
    ax.invert_yaxis()
    ax.set_xlabel("Mean bed days saved per referral (service estimate)")
    ax.set_title("Estimated bed days saved, by service outcome")
    ax.set_xlim(0, max([m for m in means if m is not None] or [1]) * 1.5)
    nb.show(fig)

# %%
if hs:
    section("One-off personal health budgets",
            "Descriptive (published method, Table 4). A referral *received* a budget when an amount above"
            " £0 was spent; an empty amount counts as no budget. Amounts are among recipients.")
    hb = hs["health_budget"]
    rows = [("Referrals", fmt(hb["referrals"])),
            ("Received a budget", f"{fmt(hb['recipients'])} ({fmt(hb['recipients_pct'], 1)}%)"),
            ("Mean amount", money(hb["mean_gbp"], 2)), ("Standard deviation", money(hb["sd_gbp"], 2)),
            ("Total spent", money(hb["total_gbp"]))]
    rows += [(label.replace("percentile", "percentile amount").replace("Median", "Median amount"),
              money(hb[f"{k}_gbp"], 2)) for k, label in PCT_ROWS]
    display(nb.table(pd.DataFrame(rows, columns=["One-off personal health budget", "Value"], dtype=object)))
    rows = [(OUT[g], d["referrals"], d["recipients"], d["recipients_pct"], money(d["mean_gbp"], 2))
            for g, d in hb["by_outcome"].items()]
    display(nb.md("**By service outcome**"))
    display(nb.table(pd.DataFrame(rows, columns=["Service outcome", "Referrals", "Received a budget",
                                                 "% receiving", "Mean amount (recipients)"], dtype=object),
                     decimals={"Referrals": 0, "Received a budget": 0, "% receiving": 1}))

# %%
if hs and hs["health_budget"]["recipients"]:
    hb = hs["health_budget"]
    keys = list(hb["bins"])
    vals = [hb["bins"][k] for k in keys]
    fig, ax = plt.subplots(figsize=(8, 3.2))
    x = np.arange(len(keys))
    ax.bar(x, [v if v is not None else 0 for v in vals], color="#5b9bd5")
    top = max([v for v in vals if v is not None] or [1])
    for i, v in enumerate(vals):
        ax.text(i, (v or 0) + top * 0.02, fmt(v), ha="center", va="bottom", fontsize=9)
    ax.set_xticks(x, [hb["bin_labels"][k] for k in keys], rotation=20, ha="right")
    ax.set_ylabel("Recipients (rounded to 5)")
    ax.set_ylim(0, top * 1.2)
    ax.set_title("Amount of one-off personal health budget")
    nb.show(fig)

# %%
if hs:
    section("Estimated cost benefit of the bed days saved",
            "Descriptive, **notional** (published method, Table 7): each referral's estimated bed days "
            "saved × the bed-day tariff (`hospital.bed_day_tariff_gbp` in the settings). *Net of budget* "
            "subtracts the personal health budget spent on that referral.")
    cb = hs["cost_benefit"]
    rows = [("Bed-day tariff", money(cb["bed_day_tariff_gbp"])),
            ("Referrals with an estimate", fmt(cb["n"])),
            ("Mean cost benefit per referral", money(cb["mean_gbp"])),
            ("Standard deviation", money(cb["sd_gbp"])),
            ("Total cost benefit", money(cb["total_gbp"])),
            ("Median (25th to 75th percentile)",
             f"{money(cb['median_gbp'])} ({money(cb['p25_gbp'])} to {money(cb['p75_gbp'])})"),
            ("Mean net of budget spent", money(cb["net_of_budget"]["mean_gbp"])),
            ("Total net of budget spent", money(cb["net_of_budget"]["total_gbp"]))]
    display(nb.table(pd.DataFrame(rows, columns=["Cost benefit (notional)", "Value"], dtype=object)))
    rows = [(OUT[g], d["n"], money(d["mean_gbp"]), money(d["total_gbp"])) for g, d in cb["by_outcome"].items()]
    display(nb.table(pd.DataFrame(rows, columns=["Service outcome", "Referrals", "Mean", "Total"], dtype=object),
                     decimals={"Referrals": 0}))
    display(nb.md(f"*Caveat.* {cb['caveat']}"))

# %% [markdown]
# ## 2. Link-worker workforce and hospital use (PCN-quarter regression)
# Comparative/associational. Each row is one Primary Care Network in one quarter: A&E
# attendances and non-elective in-patient cost per 100,000 registered patients, and
# social prescribing link-worker FTE per 100,000. These are aggregate figures, not people; no
# single PCN-quarter figure is shown.

# %%
w_reason = workforce.availability(ctx.extract, ctx.settings)
wr = None
if not w_reason:
    try:
        w_raw = workforce.compute(ctx.extract, ctx.settings)
    except workforce.NotAvailable as e:
        w_reason = str(e)
if w_reason:
    ctx.not_run(workforce.SECTION, reason=w_reason)
    display(nb.md(f"**Workforce regression: not available.** {w_reason[0].upper() + w_reason[1:]}."))
else:
    wr = workforce.publish(w_raw, ctx.sdc.scoped(workforce.SECTION))
    ctx.save_section(workforce.SECTION, wr)
    pn = wr["panel"]
    display(nb.md(
        f"The panel has {pn['n_pcns']} PCNs over {pn['n_quarters']} quarters ({pn['n_pcn_quarters']} "
        f"PCN-quarters), quarters starting {pn['first_quarter_start']} to {pn['last_quarter_start']}; "
        f"years: {', '.join(pn['years'])} ({pn['year_definition']} years)."))
    for note in wr["notes"]:
        display(nb.md(f"**Note:** {note}"))

# %%
if wr:
    section("The panel over time",
            "Descriptive. Totals and rates over all PCNs in each quarter.")
    bq = wr["by_quarter"]
    rows = [(v["label"].replace(" ", "\u00a0"), v["quarter"], v["year"], v["pcns"], v["registered_population"], v["ae_attendances"],
             v["ae_per_100k"], v["nonelective_cost_per_100k_gbp"], v["splw_fte_per_100k"]) for v in bq.values()]
    display(nb.table(pd.DataFrame(rows, dtype=object, columns=[
        "Quarter", "Dummy", "Year", "PCNs", "Registered population", "A&E attendances",
        "A&E per 100,000", "Non-elective cost per 100,000 (£)", "Link-worker FTE per 100,000"]),
        decimals={"PCNs": 0, "Registered population": 0, "A&E attendances": 0, "A&E per 100,000": 1,
                  "Non-elective cost per 100,000 (£)": 0, "Link-worker FTE per 100,000": 2}))
    x = pd.to_datetime(list(bq))
    fig, ax = plt.subplots(figsize=(9, 3.5))
    ae = [np.nan if v["ae_per_100k"] is None else v["ae_per_100k"] for v in bq.values()]
    ax.plot(x, ae, "o-", color="#2b6a99", label="A&E attendances per 100,000")
    ax.set_ylabel("A&E attendances per 100,000")
    ax2 = ax.twinx()
    fte = [np.nan if v["splw_fte_per_100k"] is None else v["splw_fte_per_100k"] for v in bq.values()]
    ax2.plot(x, fte, "s--", color="#f28e2b", label="Link-worker FTE per 100,000")
    ax2.set_ylabel("Link-worker FTE per 100,000")
    ax2.grid(False)
    lines = ax.get_lines() + ax2.get_lines()
    ax.legend(lines, [ln.get_label() for ln in lines], loc="upper left", fontsize=9)
    ax.set_title("A&E attendances and link-worker FTE, all PCNs")
    nb.show(fig)


# %%
def coef_table(m):
    rows = [("" if r["row"] == 0 else r["row"], r["term"], r["coefficient"], r["std_error"], r["t_value"],
             r["p_text"], r["significance"], "–" if r["row"] == 0 else r["p_holm"]) for r in m["coefficients"]]
    return pd.DataFrame(rows, dtype=object, columns=["Row", "Term", "Coefficient", "Std. error", "t value",
                                                     "Pr(>|t|)", "Signif.", "Holm p"])


if wr:
    section("The published specification (Tables 8 and 9)",
            "Associational. OLS on scaled variables (mean 0, SD 1): the outcome rate per 100,000 on the "
            "PCN mean of that outcome (\"mean replacement\"), link-worker FTE per 100,000 (`SPs`), year and"
            " quarter dummies (December omitted), and the interactions of `SPs` with each. Coefficients "
            "are in standard-deviation units. *Signif.* uses R's codes; *Holm p* adjusts for the tests of"
            " all non-intercept terms in the two models (22 when every quarter is present).")
    for m in wr["seed_models"].values():
        display(nb.md(f"**{m['outcome']}** (dependent: {m['dependent']})"))
        display(nb.table(coef_table(m), decimals={"Row": 0, "Coefficient": 5, "Std. error": 5, "t value": 3,
                                                  "Holm p": 4}))
        display(nb.md(
            f"Significance codes: `{wr['significance_codes']}`. Adjusted R²: {fmt(m['adj_r2'], 3)}; "
            f"F-statistic {fmt(m['f_statistic'], 2)} on {m['f_df'][0]} and {m['f_df'][1]} DF, p-value "
            f"{m['f_p_text']}. Adjusted R² without the PCN term: {fmt(m['adj_r2_without_pcn_term'], 3)}; "
            f"with a leave-one-out PCN mean: {fmt(m['adj_r2_leave_one_out_pcn_mean'], 3)}."))

# %%
if wr:
    fig, axes = plt.subplots(1, len(wr["seed_models"]), figsize=(11, 4.2), sharey=True)
    for ax, (name, m) in zip(np.atleast_1d(axes), wr["seed_models"].items(), strict=True):
        rows = [r for r in m["coefficients"] if r["row"] > 0 and r["coefficient"] is not None]
        y = np.arange(len(rows))
        est = np.array([r["coefficient"] for r in rows])
        lo = np.array([r["ci95"][0] for r in rows])
        hi = np.array([r["ci95"][1] for r in rows])
        colours = ["#c0504d" if r["term"].startswith("SPs") or r["term"].endswith(":SPs") else "#2b6a99" for r in rows]
        for i, c in enumerate(colours):
            ax.errorbar(est[i], y[i], xerr=[[est[i] - lo[i]], [hi[i] - est[i]]], fmt="o", color=c, capsize=3)
        ax.axvline(0, color="#444", lw=0.8)
        ax.set_yticks(y, [r["term"].replace(f"PCN_{name}", "PCN mean") for r in rows])
        ax.set_title(m["outcome"])
        ax.set_xlabel("Coefficient (SD units) with 95% CI")
    np.atleast_1d(axes)[0].invert_yaxis()
    fig.suptitle("Published specification: terms involving link-worker FTE in red")
    nb.show(fig)

# %%
if wr:
    section("A better-specified alternative",
            "Associational, but closer to a like-for-like comparison. Each PCN is compared with itself "
            "over time (PCN fixed effects) against what happened to all PCNs in the same quarter (quarter"
            " fixed effects, which absorb the year trend, seasons and the pandemic); standard errors "
            "allow for repeated quarters of the same PCN (clustered by PCN). Rates are left unscaled, so "
            "the estimate reads directly: the change in the outcome per 100,000 population for one extra "
            "link-worker FTE per 100,000.")
    rows = []
    for name, a in wr["alternative"].items():
        if a["status"] != "ok":
            rows.append((workforce.OUTCOMES[name][1], "not estimable", "", "", "", ""))
            continue
        dec = 2 if name == "attendances" else 0
        ci = "[c]" if a["ci95"] is None else f"{a['ci95'][0]:,.{dec}f} to {a['ci95'][1]:,.{dec}f}"
        rows.append((a["outcome"], fmt(a["estimate"], dec), ci, a["p_text"], fmt(a["mean_rate_per_100k"], dec),
                     fmt(a["within_pcn_sd_fte_per_100k"], 2)))
    display(nb.table(pd.DataFrame(rows, dtype=object, columns=[
        "Outcome (per 100,000)", "Change per extra FTE per 100,000", "95% CI", "p",
        "Average rate per 100,000", "Typical within-PCN change in FTE per 100,000 (SD)"])))
    for name, a in wr["alternative"].items():
        if a["status"] != "ok":
            display(nb.md(f"{workforce.OUTCOMES[name][1]}: {a['reason']}."))
    first = next((a for a in wr["alternative"].values() if a["status"] == "ok"), None)
    if first:
        display(nb.md(f"{first['n_pcns']} PCNs, {first['n_pcn_quarters']} PCN-quarters; t-based intervals "
                      f"with {first['df']} degrees of freedom (PCNs − 1)."))

# %%
if wr:
    section("How to read the regression")
    display(nb.md("\n".join(f"- {c}" for c in wr["caveats"])))
    display(nb.md("**Notes on the published tables.**\n\n" + "\n".join(f"- {c}" for c in wr["seed_notes"])))

# %% [markdown]
# ## Reading

# %%
parts = []
if hs:
    so, bd, hb, cb = hs["service_outcome"], hs["bed_days_saved"], hs["health_budget"], hs["cost_benefit"]
    if hs["n_referrals"] is None or bd["mean"] is None:
        parts.append("Too few hospital referrals have an outcome, bed-day estimate or budget recorded in this "
                     "extract to publish figures about them without risking identifying people.")
    else:
        txt = f"The hospital social prescribing service recorded about {fmt(hs['n_referrals'])} referrals. "
        pe, pa = so["pct"]["discharge_expedited"], so["pct"]["admission_avoided"]
        if pe is not None and pa is not None:
            txt += (f"For {fmt(pe, 0)}% the service recorded that it helped to expedite a discharge, and for "
                    f"{fmt(pa, 0)}% that it helped to avoid an admission. ")
        txt += (f"By the service's own estimate it saved {fmt(bd['mean'], 1)} bed days per referral on average "
                f"({fmt(bd['total'], 0)} in total); valued at {money(cb['bed_day_tariff_gbp'])} a bed day that is "
                f"a notional {money(cb['total_gbp'])}. ")
        if hb["recipients_pct"] is not None and hb["mean_gbp"] is not None:
            txt += (f"About {fmt(hb['recipients_pct'], 0)}% of referrals received a one-off personal health "
                    f"budget, averaging {money(hb['mean_gbp'])} per recipient. ")
        parts.append(txt + "These bed days are the service's estimate, not a measured fall in bed use, and the "
                     "money is a notional value, not cash released.")
    rd_path = ctx.fragments_dir / "readmission.json"
    if rd_path.exists():
        rd = json.loads(rd_path.read_text())
        if rd.get("status") == "ok" and rd["data"].get("cif_30d_pct") is not None:
            parts.append(f"The readmission section reports that {fmt(rd['data']['cif_30d_pct'], 1)}% of people "
                         "with a supported stay were readmitted as an emergency within 30 days.")
if wr:
    sm = wr["seed_models"]
    def coef_of(name, term):
        return next((r for r in sm[name]["coefficients"] if r["term"] == term), None)
    sy = coef_of("attendances", "SPs:Year")
    a = wr["alternative"].get("attendances", {})
    seed_txt = ""
    if sy and sy["coefficient"] is not None:
        seed_txt = (f"Re-running the published PCN-quarter model gives an SPs:Year interaction of "
                    f"{sy['coefficient']:+.3f} SD for A&E attendances (p = {sy['p_text']}; "
                    f"{fmt(sy['p_holm'], 3)} after Holm adjustment for the {wr['n_tests']} tests). ")
    alt_txt = ""
    if a.get("status") == "ok" and a["estimate"] is not None and a["ci95"] is not None:
        lo, hi = a["ci95"]
        direction = ("fewer" if hi < 0 else "more" if lo > 0 else None)
        alt_txt = (f"Comparing each PCN with itself over time, one extra link-worker FTE per 100,000 went with "
                   f"{a['estimate']:+,.1f} A&E attendances per 100,000 a quarter (95% CI {lo:,.1f} to {hi:,.1f}); "
                   + (f"the interval does not include zero, suggesting {direction} attendances, " if direction else
                      "the interval includes zero (no change), ")
                   + "but this is still an association between PCN totals, not an effect on patients. ")
    c = wr["alternative"].get("cost", {})
    if alt_txt and c.get("status") == "ok" and c["ci95"] is not None:
        alt_txt += (f"For non-elective in-patient cost the same comparison gives {money(c['estimate'])} per 100,000 "
                    f"per extra FTE per 100,000 (95% CI {money(c['ci95'][0])} to {money(c['ci95'][1])}). ")
    parts.append(seed_txt + alt_txt +
                 "The published model's high R² reflects steady differences between PCNs, captured by a predictor "
                 "built from the outcome itself, and link-worker numbers were not allocated at random, so these "
                 "figures cannot show that link workers reduce hospital use.")
elif w_reason:
    parts.append(f"The link-worker workforce regression could not be run: {w_reason}.")
if not parts:
    parts.append("Neither part of this section could run on this extract (see the reasons above).")
display(nb.md("\n\n".join(parts)))
