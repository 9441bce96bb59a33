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
# # Inputs: link workers, caseloads and budgets
#
# *Logic model: inputs.* The resources behind the service: social prescribing link-worker (SPLW)
# whole-time equivalents by Primary Care Network (from `pcn_quarterly`), the caseload they carry
# against the national guidance of **200–250 different people a year for a full-time link
# worker** (NHS England narrative pack, 2025), and one-off personal health budgets where the
# extract records them. All figures are **descriptive**. Counts of people have passed disclosure
# control (rounded to 5, small numbers `[c]`); workforce figures describe staff, not patients.

# %% tags=["parameters"]
borough = "merton"
processed_dir = None  # default: data_processed/<borough>, built on first use
fragments_dir = None  # default: build/<borough>/fragments
period = None  # e.g. "2023-24", "2023-Q2", "2023-07": restricts the activity sections

# %%
import matplotlib.pyplot as plt
import pandas as pd

from pipeline import nb
from pipeline.analyses import inputs

sec = nb.section("inputs", borough, processed_dir, fragments_dir, period)
inp = sec.data
if sec.ok:
    pc = inp["period_covered"]
    display(nb.md(f"Caseloads cover **{pc['start']} to {pc['end']}**; the workforce chart shows every quarter the "
                  "extract gives."))

# %% [markdown]
# ## Link-worker FTE over time
# Descriptive. Whole-time-equivalent link workers in each PCN by quarter, as `pcn_quarterly`
# gives them, and the total per 100,000 registered patients.

# %%
MARKERS = "osD^v<>ph*"
if sec.ok:
    q = inp["quarters"]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [3, 2]})
    dates = pd.to_datetime(q)
    for i, (pcn, series) in enumerate(inp["fte_by_pcn_quarter"].items()):  # a marker per PCN, not only a colour
        ax.plot(pd.to_datetime(list(series)), list(series.values()), marker=MARKERS[i % len(MARKERS)], markersize=4,
                label=pcn)
    pc = inp["period_covered"]
    if period is not None:
        ax.axvspan(pd.Timestamp(pc["start"]), pd.Timestamp(pc["end"]), color="#f2b134", alpha=0.2,
                   label=f"period {period}")
    ax.set_ylabel("Link-worker FTE")
    ax.set_title("Link-worker FTE by PCN")
    if len(inp["fte_by_pcn_quarter"]) <= 12:
        ax.legend(fontsize=7, ncol=2, loc="upper left")
    per = [inp["fte_per_100k_registered_by_quarter"][k] for k in q]
    ax2.plot(dates, [float("nan") if v is None else v for v in per], color="#2b6a99", marker="o", markersize=3)
    ax2.set_ylabel("FTE per 100,000 registered")
    ax2.set_title("All PCNs given")
    ax2.set_ylim(bottom=0)
    fig.autofmt_xdate()
    tot = inp["fte_total_by_quarter"]
    nb.show(fig, alt=(f"Link-worker FTE by PCN and per 100,000 registered patients, quarter by quarter from {q[0]} to "
                      f"{q[-1]}: {nb.fmt(tot[q[0]], 2)} FTE in all PCNs in the first quarter and {nb.fmt(tot[q[-1]], 2)} "
                      f"in the last ({nb.fmt(per[0], 2)} and {nb.fmt(per[-1], 2)} per 100,000)."),
            data=inputs.fte_table(inp))

# %% [markdown]
# ## Caseload per FTE against the guidance
# Descriptive. People per full-time-equivalent link worker per year: FTE-years add up each
# PCN-quarter's FTE for the days it overlaps the period; people are those referred in the
# PCN-quarters `pcn_quarterly` covers, counted once per PCN and financial year. *Seen* means at
# least one attended appointment: the guidance counts people seen. The band is shaded. Rates are
# the rounded counts per FTE-year.

# %%
if sec.ok:
    c = inp["caseload"]
    lo, hi = c["guidance_per_fte_year"]
    band = f"Against {lo}–{hi}"
    rows = [("All PCNs", c["fte_years"], c["people_referred"], c["referred_per_fte_year"], c["people_seen"],
             c["seen_per_fte_year"], nb.fmt(c["seen_vs_guidance"]))]
    rows += [(p, r["fte_years"], r["people_referred"], r["referred_per_fte_year"], r["people_seen"],
              r["seen_per_fte_year"], nb.fmt(r["seen_vs_guidance"])) for p, r in c["by_pcn"].items()]
    display(nb.table(pd.DataFrame(rows, columns=["PCN", "FTE-years", "People referred", "Referred per FTE-year",
                                                 "People seen", "Seen per FTE-year", band],
                                  dtype=object), decimals={"FTE-years": 2, "Referred per FTE-year": 1,
                                                           "Seen per FTE-year": 1}))
    shown = {p: r["seen_per_fte_year"] for p, r in c["by_pcn"].items() if r["seen_per_fte_year"] is not None}
    if shown:
        fig, ax = plt.subplots(figsize=(8, 0.45 * len(shown) + 1.4))
        names = list(shown)[::-1]
        ax.barh(names, [shown[n] for n in names], color="#2b6a99")
        for i, n in enumerate(names):  # the value and its verdict as text, not only the bar against the band
            ax.text(shown[n], i, f" {nb.fmt(shown[n], 0)} ({c['by_pcn'][n]['seen_vs_guidance']})", va="center",
                    fontsize=8)
        ax.axvspan(lo, hi, color="#f2b134", alpha=0.3, label=f"guidance {lo}–{hi}")
        ax.set_xlim(0, max(max(shown.values()), hi) * 1.3)
        ax.set_xlabel("People seen per FTE-year")
        ax.set_title("Caseload by PCN against the guidance")
        ax.legend(fontsize=8, loc="lower right")
        verdicts = [c["by_pcn"][n]["seen_vs_guidance"] for n in shown]
        nb.show(fig, alt=(f"People seen per full-time-equivalent link worker a year in each of {len(shown)} PCNs, "
                          f"against the guidance band of {lo}–{hi}: {verdicts.count('below')} below, "
                          f"{verdicts.count('within')} within and {verdicts.count('above')} above; all PCNs together "
                          f"{nb.fmt(c['seen_per_fte_year'], 0)}."), data=inputs.caseload_table(inp))
    if c["by_financial_year"]:
        rows = [(y, r["fte_years"], r["people_referred"], r["referred_per_fte_year"], r["people_seen"],
                 r["seen_per_fte_year"]) for y, r in c["by_financial_year"].items()]
        display(nb.md("**By financial year** (all PCNs)"))
        display(nb.table(pd.DataFrame(rows, columns=["Financial year", "FTE-years", "People referred",
                                                     "Referred per FTE-year", "People seen", "Seen per FTE-year"],
                                      dtype=object), decimals={"FTE-years": 2, "Referred per FTE-year": 1,
                                                               "Seen per FTE-year": 1}))

# %% [markdown]
# ## Personal health budgets

# %%
if sec.ok:
    display(nb.md(f"{inp['budget']['reason'][0].upper()}{inp['budget']['reason'][1:]}."))

# %% [markdown]
# ## Reading

# %%
if sec.ok:
    display(nb.md(inputs.reading(inp)))
