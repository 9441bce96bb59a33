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
from pipeline.formatting import money

if period is not None:
    display(nb.md(f"*This section covers the whole extract, not only the period {period}: bed-day estimates "
                  "and the quarterly workforce panel are not restricted to the reporting period.*"))

OUT = hospital.OUTCOME_LABELS


def section(title, text=""):
    """A sub-heading and its description, shown only when the part ran."""
    display(nb.md(f"### {title}\n\n{text}"))


# %% [markdown]
# ## 1. Hospital-based social prescribing

# %%
hsec = nb.section("hospital", borough, processed_dir, fragments_dir, period)
hs = hsec.data
if hsec.ok:
    for note in hs["notes"]:
        display(nb.md(f"**Note:** {note}"))

# %%
if hsec.ok:
    section("What the service recorded for each referral",
            "Descriptive (published method, Table 3). The outcome the service recorded for each hospital "
            "referral (admission avoided or discharge expedited), as a percentage of all hospital "
            "referrals (computed from the rounded counts).")
    so = hs["service_outcome"]
    rows = [(OUT[o], so["counts"][o], so["pct"][o]) for o in so["counts"]]
    rows.append(("All hospital referrals", hs["n_referrals"], ""))
    df = pd.DataFrame(rows, columns=["Service outcome", "Referrals", "%"], dtype=object)
    display(nb.table(df, decimals={"Referrals": 0, "%": 1}))
    display(nb.md(f"About {nb.fmt(hs['n_referrals'])} hospital referrals for {nb.fmt(hs['n_patients'])} people."))

# %%
PCT_ROWS = [("p10", "10th percentile"), ("p25", "25th percentile"), ("median", "Median"),
            ("p75", "75th percentile"), ("p90", "90th percentile")]
if hsec.ok:
    section("Bed days saved",
            "Descriptive (published method, Table 7), **the service's own estimate** per referral. The "
            "published table also gives the range (minimum and maximum). " + hs["method"]["range"] + " The total "
            "is the mean times the rounded number of referrals.")
    bd = hs["bed_days_saved"]
    rows = [("Referrals with an estimate", bd["n"]), ("Mean", bd["mean"]), ("Standard deviation", bd["sd"]),
            ("Total (mean × referrals)", bd["total"])] + [(label, bd[k]) for k, label in PCT_ROWS]
    display(nb.table(pd.DataFrame(rows, columns=["Bed days saved", "Value"], dtype=object), decimals=1))
    by = bd["by_outcome"]
    rows = [(OUT[g], d["n"], d["mean"], d["sd"], d["total"]) for g, d in by.items()]
    display(nb.md("**By service outcome**"))
    display(nb.table(pd.DataFrame(rows, columns=["Service outcome", "Referrals", "Mean", "SD", "Total"], dtype=object),
                     decimals={"Referrals": 0, "Mean": 1, "SD": 1, "Total": 0}))

# %%
if hsec.ok and any(d["mean"] is not None for d in hs["bed_days_saved"]["by_outcome"].values()):
    by = hs["bed_days_saved"]["by_outcome"]
    groups = list(by)
    means = [by[g]["mean"] for g in groups]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    y = np.arange(len(groups))
    ax.barh(y, [m if m is not None else 0 for m in means], color="#2b6a99")
    for i, g in enumerate(groups):
        label = f"{nb.fmt(means[i], 1)} days (n≈{nb.fmt(by[g]['n'])})" if means[i] is not None else "[c]"
        ax.text((means[i] or 0) + 0.1, i, label, va="center", fontsize=9)
    ax.set_yticks(y, [OUT[g] for g in groups])
    ax.invert_yaxis()
    ax.set_xlabel("Mean bed days saved per referral (service estimate)")
    ax.set_title("Estimated bed days saved, by service outcome")
    ax.set_xlim(0, max([m for m in means if m is not None] or [1]) * 1.5)
    nb.show(fig, alt="Mean bed days saved per referral by service outcome, by the service's own estimate: "
                     + "; ".join(f"{OUT[g].lower()} {nb.fmt(m, 1)} days" for g, m in zip(groups, means, strict=True))
                     + ".",
            data=pd.DataFrame([(OUT[g], by[g]["n"], by[g]["mean"]) for g in groups], dtype=object,
                              columns=["Service outcome", "Referrals with an estimate (rounded)",
                                       "Mean bed days saved per referral"]))

# %%
if hsec.ok:
    section("One-off personal health budgets",
            "Descriptive (published method, Table 4). A referral *received* a budget when an amount above"
            " £0 was spent; an empty amount counts as no budget. Amounts are among recipients; the total is the "
            "mean times the rounded number of recipients.")
    hb = hs["health_budget"]
    rows = [("Referrals", nb.fmt(hb["referrals"])),
            ("Received a budget", f"{nb.fmt(hb['recipients'])} ({nb.fmt(hb['recipients_pct'], 1)}%)"),
            ("Mean amount", money(hb["mean_gbp"], 2)), ("Standard deviation", money(hb["sd_gbp"], 2)),
            ("Total spent (mean × recipients)", money(hb["total_gbp"]))]
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
if hsec.ok and hs["health_budget"]["recipients"]:
    hb = hs["health_budget"]
    keys = list(hb["bins"])
    vals = [hb["bins"][k] for k in keys]
    fig, ax = plt.subplots(figsize=(8, 3.2))
    x = np.arange(len(keys))
    ax.bar(x, [v if v is not None else 0 for v in vals], color="#5b9bd5")
    top = max([v for v in vals if v is not None] or [1])
    for i, v in enumerate(vals):
        ax.text(i, (v or 0) + top * 0.02, nb.fmt(v), ha="center", va="bottom", fontsize=9)
    ax.set_xticks(x, [hb["bin_labels"][k] for k in keys], rotation=20, ha="right")
    ax.set_ylabel("Recipients (rounded to 5)")
    ax.set_ylim(0, top * 1.2)
    ax.set_title("Amount of one-off personal health budget")
    nb.show(fig, alt="Recipients of a one-off personal health budget by amount (rounded to 5, [c] withheld): "
                     + "; ".join(f"{hb['bin_labels'][k]} {nb.fmt(v)}" for k, v in zip(keys, vals, strict=True)) + ".",
            data=pd.DataFrame([(hb["bin_labels"][k], v) for k, v in zip(keys, vals, strict=True)], dtype=object,
                              columns=["Amount of budget", "Recipients (rounded to 5)"]))

# %%
if hsec.ok:
    section("Estimated cost benefit of the bed days saved",
            "Descriptive, **notional** (published method, Table 7): the published bed-day figures × the bed-day "
            "tariff (`hospital.bed_day_tariff_gbp` in the settings). *Net of budget* subtracts the mean personal "
            "health budget spent per referral with an estimate.")
    cb = hs["cost_benefit"]
    rows = [("Bed-day tariff", money(cb["bed_day_tariff_gbp"])),
            ("Referrals with an estimate", nb.fmt(cb["n"])),
            ("Mean cost benefit per referral", money(cb["mean_gbp"])),
            ("Standard deviation", money(cb["sd_gbp"])),
            ("Total cost benefit", money(cb["total_gbp"])),
            ("Median (25th to 75th percentile)",
             f"{money(cb['median_gbp'])} ({money(cb['p25_gbp'])} to {money(cb['p75_gbp'])})"),
            ("Mean budget spent per referral", money(cb["net_of_budget"]["budget_mean_gbp"], 2)),
            ("Mean net of budget spent", money(cb["net_of_budget"]["mean_gbp"])),
            ("Total net of budget spent", money(cb["net_of_budget"]["total_gbp"]))]
    display(nb.table(pd.DataFrame(rows, columns=["Cost benefit (notional)", "Value"], dtype=object)))
    rows = [(OUT[g], d["n"], money(d["mean_gbp"]), money(d["total_gbp"])) for g, d in cb["by_outcome"].items()]
    display(nb.table(pd.DataFrame(rows, columns=["Service outcome", "Referrals", "Mean", "Total"], dtype=object),
                     decimals={"Referrals": 0}))
    display(nb.md(f"*Caveat.* {cb['caveat']}"))

# %%
if hsec.ok:
    text = hospital.reading(hs)
    rd_path = hsec.ctx.fragments_dir / "readmission.json"  # the readmission section's published part, if built
    rd = json.loads(rd_path.read_text()) if rd_path.exists() else {}
    if rd.get("status") == "ok" and rd["data"]["cif_30d_pct"] is not None:
        text += (f" The readmission section reports that {nb.fmt(rd['data']['cif_30d_pct'], 1)}% of people with a "
                 "supported stay were readmitted as an emergency within 30 days.")
    display(nb.md(f"**Reading.** {text}"))

# %% [markdown]
# ## 2. Link-worker workforce and hospital use (PCN-quarter regression)
# Comparative/associational. Each row is one Primary Care Network in one quarter: A&E
# attendances and non-elective in-patient cost per 100,000 registered patients, and
# social prescribing link-worker FTE per 100,000. These are aggregate figures, not people; no
# single PCN-quarter figure is shown.

# %%
wsec = nb.section("workforce_regression", borough, processed_dir, fragments_dir, period)
wr = wsec.data
if wsec.ok:
    pn = wr["panel"]
    display(nb.md(
        f"The panel has {pn['n_pcns']} PCNs over {pn['n_quarters']} quarters ({pn['n_pcn_quarters']} "
        f"PCN-quarters), quarters starting {pn['first_quarter_start']} to {pn['last_quarter_start']}; "
        f"years: {', '.join(pn['years'])} ({pn['year_definition']} years)."))
    for note in wr["notes"]:
        display(nb.md(f"**Note:** {note}"))

# %%
if wsec.ok:
    section("The panel over time",
            "Descriptive. Totals and rates over all PCNs in each quarter (rates from the rounded totals).")
    bq = wr["by_quarter"]
    rows = [(v["label"].replace(" ", "\u00a0"), v["quarter"], v["year"], v["pcns"], v["registered_population"],
             v["ae_attendances"], v["ae_per_100k"], v["nonelective_cost_per_100k_gbp"], v["splw_fte_per_100k"])
            for v in bq.values()]
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
    first, last = list(bq.values())[0], list(bq.values())[-1]
    nb.show(fig, alt=(f"A&E attendances per 100,000 (circles, solid line) and link-worker FTE per 100,000 (squares, "
                      f"dashed line) over all PCNs by quarter: from {nb.fmt(first['ae_per_100k'], 1)} and "
                      f"{nb.fmt(first['splw_fte_per_100k'], 2)} in {first['label']} to {nb.fmt(last['ae_per_100k'], 1)} "
                      f"and {nb.fmt(last['splw_fte_per_100k'], 2)} in {last['label']}."),
            data=pd.DataFrame([(v["label"], v["ae_per_100k"], v["splw_fte_per_100k"]) for v in bq.values()], dtype=object,
                              columns=["Quarter", "A&E attendances per 100,000", "Link-worker FTE per 100,000"]))


# %%
def coef_table(m):
    rows = [("" if r["row"] == 0 else r["row"], r["term"], r["coefficient"], r["std_error"], r["t_value"],
             nb.fmt(r["p_text"]), nb.fmt(r["significance"]), "–" if r["row"] == 0 else r["p_holm"])
            for r in m["coefficients"]]
    return pd.DataFrame(rows, dtype=object, columns=["Row", "Term", "Coefficient", "Std. error", "t value",
                                                     "Pr(>|t|)", "Signif.", "Holm p"])


if wsec.ok:
    section("The published specification (Tables 8 and 9)",
            "Associational. OLS on scaled variables (mean 0, SD 1): the outcome rate per 100,000 on the "
            "PCN mean of that outcome (\"mean replacement\"), link-worker FTE per 100,000 (`SPs`), year and"
            " quarter dummies (December omitted), and the interactions of `SPs` with each. Coefficients "
            "are in standard-deviation units. *Signif.* uses R's codes; *Holm p* adjusts for the tests of"
            f" all non-intercept terms in the two models ({wr['n_tests']} here).")
    for m in wr["seed_models"].values():
        display(nb.md(f"**{m['outcome']}** (dependent: {m['dependent']})"))
        display(nb.table(coef_table(m), decimals={"Row": 0, "Coefficient": 5, "Std. error": 5, "t value": 3,
                                                  "Holm p": 4}))
        display(nb.md(
            f"Significance codes: `{wr['significance_codes']}`. Adjusted R²: {nb.fmt(m['adj_r2'], 3)}; "
            f"F-statistic {nb.fmt(m['f_statistic'], 2)} on {m['f_df'][0]} and {m['f_df'][1]} DF, p-value "
            f"{nb.fmt(m['f_p_text'])}. Adjusted R² without the PCN term: {nb.fmt(m['adj_r2_without_pcn_term'], 3)}; "
            f"with a leave-one-out PCN mean: {nb.fmt(m['adj_r2_leave_one_out_pcn_mean'], 3)}."))

# %%
if wsec.ok:
    fig, axes = plt.subplots(1, len(wr["seed_models"]), figsize=(11, 4.2), sharey=True)
    for ax, (name, m) in zip(np.atleast_1d(axes), wr["seed_models"].items(), strict=True):
        rows = [r for r in m["coefficients"] if r["row"] > 0 and r["coefficient"] is not None]
        y = np.arange(len(rows))
        for i, r in enumerate(rows):  # terms with link-worker FTE: red squares; the others: blue circles
            sp = "SPs" in r["term"].split(":")
            ax.errorbar(r["coefficient"], y[i], xerr=[[r["coefficient"] - r["ci95"][0]], [r["ci95"][1] - r["coefficient"]]],
                        fmt="s" if sp else "o", color="#c0504d" if sp else "#2b6a99", capsize=3)
        ax.axvline(0, color="#444", lw=0.8)
        ax.set_yticks(y, [("▪ " if "SPs" in r["term"].split(":") else "") + r["term"].replace(f"PCN_{name}", "PCN mean")
                          for r in rows])
        ax.set_title(m["outcome"])
        ax.set_xlabel("Coefficient (SD units) with 95% CI")
    np.atleast_1d(axes)[0].invert_yaxis()
    fig.suptitle("Published specification: terms involving link-worker FTE as red squares (▪ in the labels)")
    sig = {name: [r["term"] for r in m["coefficients"] if r["row"] > 0 and r["ci95"] is not None
                  and (r["ci95"][0] > 0 or r["ci95"][1] < 0)] for name, m in wr["seed_models"].items()}
    nb.show(fig, alt="Coefficients of the published specification with 95% intervals, one panel per outcome; "
                     + "; ".join(f"for {wr['seed_models'][n]['outcome']} the intervals of "
                                 f"{', '.join(t) if t else 'no term'} exclude zero" for n, t in sig.items()) + ".",
            data=workforce.coefficient_table(wr))

# %%
if wsec.ok:
    section("A better-specified alternative",
            "Associational, but closer to a like-for-like comparison. Each PCN is compared with itself "
            "over time (PCN fixed effects) against what happened to all PCNs in the same quarter (quarter"
            " fixed effects, which absorb the year trend, seasons and the pandemic). Rates are left unscaled, so "
            "the estimate reads directly: the change in the outcome per 100,000 population for one extra "
            "link-worker FTE per 100,000. Repeated quarters of the same PCN are not independent: with few PCNs "
            "the interval and p-value come from a wild cluster bootstrap over PCNs; the conventional "
            "cluster-robust (CR1) p-value is shown beside it only for comparison.")
    rows = []
    for name, a in wr["alternative"].items():
        if a["status"] != "ok":
            rows.append((workforce.OUTCOMES[name][1], "not estimable", "", "", "", "", ""))
            continue
        dec = 2 if name == "attendances" else 0
        ci = nb.ci_text(a["ci95"], dec) if name == "attendances" else (
            f"{money(a['ci95'][0])} to {money(a['ci95'][1])}" if a["ci95"] else nb.fmt(None))
        rows.append((a["outcome"], nb.fmt(a["estimate"], dec), ci, nb.fmt(a["p_text"]),
                     nb.fmt(a["cr1"]["p_text"]), nb.fmt(a["mean_rate_per_100k"], dec),
                     nb.fmt(a["within_pcn_sd_fte_per_100k"], 2)))
    display(nb.table(pd.DataFrame(rows, dtype=object, columns=[
        "Outcome (per 100,000)", "Change per extra FTE per 100,000", "95% CI", "p", "CR1 p (for comparison)",
        "Average rate per 100,000", "Typical within-PCN change in FTE per 100,000 (SD)"])))
    for name, a in wr["alternative"].items():
        if a["status"] != "ok":
            display(nb.md(f"{workforce.OUTCOMES[name][1]}: {a['reason']}."))
    first = next((a for a in wr["alternative"].values() if a["status"] == "ok"), None)
    if first:
        how = f"{first['n_pcns']} PCNs, {first['n_pcn_quarters']} PCN-quarters; inference: {first['inference']}."
        if first["bootstrap"]:
            b = first["bootstrap"]
            how += (f" {b['method'][0].upper()}{b['method'][1:]}; "
                    + (f"all {nb.fmt(b['draws'])} combinations of the weights" if b["full_enumeration"]
                       else f"{nb.fmt(b['draws'])} draws from a generator seeded {b['seed']}") + ".")
        display(nb.md(how))

# %%
if wsec.ok:
    section("How to read the regression")
    display(nb.md("\n".join(f"- {c}" for c in wr["caveats"])))
    display(nb.md("**Notes on the published tables.**\n\n" + "\n".join(f"- {c}" for c in wr["seed_notes"])))
    display(nb.md(f"**Reading.** {workforce.reading(wr)}"))
