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
# # Caseload RAG ratings and safeguarding escalations
#
# *Logic model: activities and outputs.* Link workers rate each open case red, amber or green at
# assessment and at each review, as the voluntary-sector guidance for social prescribing asks
# (Family Action's *how to guide*, 2018): **green**, no identified safeguarding concern; **amber**,
# some concern, monitored closely in case it needs escalating; **red**, significant concern, social
# services involved. The guide asks services to monitor the RAG-rated caseload over time and the
# cases escalated. This section shows the open caseload by rating at the end of each month, how
# ratings move between reviews, and the safeguarding escalations.
#
# All figures are **descriptive** and cover the whole extract (a period report repeats them). Counts
# have passed disclosure control (rounded to 5, small numbers `[c]`); shares are computed from the
# rounded counts.

# %% tags=["parameters"]
borough = "merton"
processed_dir = None  # default: data_processed/<borough>, built on first use
fragments_dir = None  # default: build/<borough>/fragments
period = None  # this section covers the whole extract (a period report repeats it unchanged)

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pipeline import nb
from pipeline.analyses import caseload_rag

sec = nb.section("caseload_rag", borough, processed_dir, fragments_dir, period)
cr = sec.data
LABEL = {"red": "Red", "amber": "Amber", "green": "Green"}
STYLE = {"red": ("#c0504d", "xx"), "amber": ("#f2b134", ".."), "green": ("#4f9a5a", "")}  # colour and hatching
if sec.ok:
    pc = cr["period_covered"]
    display(nb.md(f"From **{pc['start']} to {pc['end']}**: {nb.fmt(cr['reviews'])} ratings of "
                  f"{nb.fmt(cr['cases_reviewed'])} cases."))

# %% [markdown]
# ## The rated caseload month by month
# Descriptive. Open cases at the end of each month that had been rated by then, by their latest
# rating: counts (bars, each rating with its own hatching) and the share rated red (line).

# %%
if sec.ok:
    cm = cr["caseload_by_month"]
    months = list(cm["counts"])
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    x = np.arange(len(months))
    bottom = np.zeros(len(months))
    for r in caseload_rag.RATINGS[::-1]:
        v = np.array([cm["counts"][m][r] if cm["counts"][m][r] is not None else np.nan for m in months], dtype=float)
        colour, hatch = STYLE[r]
        ax.bar(x, np.nan_to_num(v), bottom=bottom, color=colour, hatch=hatch, edgecolor="#333333", linewidth=0.3,
               label=LABEL[r])
        bottom += np.nan_to_num(v)
    ax.set_ylabel("Open rated cases")
    ax.set_title("Open cases by latest RAG rating at the end of each month")
    ax.legend(fontsize=8, loc="upper left")
    red = [cm["pct"][m]["red"] for m in months]
    ax2.plot(x, [np.nan if v is None else v for v in red], "o-", color=STYLE["red"][0], markersize=3,
             label="% rated red")
    amber = [cm["pct"][m]["amber"] for m in months]
    ax2.plot(x, [np.nan if v is None else v for v in amber], "s--", color="#8a6d1d", markersize=3,
             label="% rated amber")
    ax2.set_ylabel("% of open rated cases")
    ax2.set_ylim(bottom=0)
    ax2.legend(fontsize=8, loc="upper left")
    step = max(1, len(months) // 12)
    ax2.set_xticks(x[::step])
    ax2.set_xticklabels(months[::step], rotation=45, ha="right", fontsize=8)
    data = pd.DataFrame([(m, cm["open_rated_cases"][m], *(cm["counts"][m][r] for r in caseload_rag.RATINGS),
                          *(cm["pct"][m][r] for r in caseload_rag.RATINGS)) for m in months],
                        columns=["Month", "Open rated cases", "Red", "Amber", "Green", "% red", "% amber", "% green"])
    last = months[-1]
    nb.show(fig, alt=(f"Open cases by latest RAG rating at each month's end, {months[0]} to {last}: at the end of "
                      f"{last}, {nb.fmt(cm['open_rated_cases'][last])} open rated cases, {nb.fmt(cm['pct'][last]['red'], 1)}% "
                      f"red and {nb.fmt(cm['pct'][last]['amber'], 1)}% amber."), data=data)
    display(nb.table(data, decimals=1))

# %% [markdown]
# ## Movement between consecutive reviews
# Descriptive. Every pair of a case's consecutive reviews, from the earlier rating (rows) to the
# later one (columns), with both totals; the shares are of the row (where ratings at one review
# went at the next). A case reviewed often counts once per pair.


# %%
def two_way(t):
    rows = [(f"From {LABEL[a].lower()}", *(t["counts"][a][b] for b in caseload_rag.RATINGS), t["from_total"][a],
             *(t["row_pct"][a][b] for b in caseload_rag.RATINGS)) for a in caseload_rag.RATINGS]
    rows.append(("Total", *(t["to_total"][b] for b in caseload_rag.RATINGS), t["total"], None, None, None))
    return pd.DataFrame(rows, columns=["", "To red", "To amber", "To green", "Total", "% to red", "% to amber",
                                       "% to green"], dtype=object)


if sec.ok:
    display(nb.table(two_way(cr["transitions"]), decimals=1))

# %% [markdown]
# ## First rating against latest rating
# Descriptive, uncontrolled. Each case with at least two reviews: its first rating (rows) against its
# latest (columns). *Improved* means a better latest rating (red to amber or green, amber to green).

# %%
if sec.ok:
    fl = cr["first_to_latest"]
    display(nb.table(two_way(fl), decimals=1))
    summary = pd.DataFrame([
        ("Improved", fl["direction"]["improved"], fl["direction_pct"]["improved"]),
        ("Unchanged", fl["direction"]["unchanged"], fl["direction_pct"]["unchanged"]),
        ("Worsened", fl["direction"]["worsened"], fl["direction_pct"]["worsened"]),
        ("First rated red, latest amber or green", fl["first_red_left_red"], fl["first_red_left_red_pct"]),
        ("Rated cases reviewed again (the base of this table)", fl["cases_reviewed_again"],
         fl["cases_reviewed_again_pct"]),
    ], columns=["Cases", "Number", "%"], dtype=object)
    display(nb.table(summary, decimals=1))
    fig, ax = plt.subplots(figsize=(8, 3.2))
    y = np.arange(len(caseload_rag.RATINGS))
    left = np.zeros(len(y))
    for b in caseload_rag.RATINGS:
        v = np.array([fl["row_pct"][a][b] if fl["row_pct"][a][b] is not None else np.nan
                      for a in caseload_rag.RATINGS], dtype=float)
        colour, hatch = STYLE[b]
        ax.barh(y, np.nan_to_num(v), left=left, color=colour, hatch=hatch, edgecolor="#333333", linewidth=0.3,
                label=f"latest {LABEL[b].lower()}")
        for i, val in enumerate(v):
            if val >= 8:
                ax.text(left[i] + val / 2, i, f"{val:.0f}%", ha="center", va="center", fontsize=8,
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
        left += np.nan_to_num(v)
    ax.set_yticks(y)
    ax.set_yticklabels([f"first {LABEL[a].lower()}" for a in caseload_rag.RATINGS])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of cases with that first rating")
    ax.set_title("Latest rating by first rating")
    ax.legend(fontsize=8, loc="lower right", ncol=3)
    data = pd.DataFrame([(f"first {a}", *(fl["row_pct"][a][b] for b in caseload_rag.RATINGS))
                         for a in caseload_rag.RATINGS], columns=["", "% latest red", "% latest amber", "% latest green"])
    nb.show(fig, alt=(f"Latest rating by first rating: of cases first rated red, {nb.fmt(fl['row_pct']['red']['green'], 1)}% "
                      f"were green and {nb.fmt(fl['row_pct']['red']['amber'], 1)}% amber at their latest review; of "
                      f"those first rated amber, {nb.fmt(fl['row_pct']['amber']['green'], 1)}% were green."), data=data)

# %% [markdown]
# ## Safeguarding escalations
# Descriptive. Reviews at which a safeguarding concern was escalated (a safeguarding alert or a
# referral to social services), by the rating given at the review and by month.

# %%
if sec.ok:
    esc = cr["escalations"]
    if esc["status"] != "ok":
        display(nb.md(f"{esc['reason'][0].upper()}{esc['reason'][1:]}."))
    else:
        rows = [(LABEL[r], cr["reviews_by_rating"][r], esc["by_rating_at_review"][r], esc["pct_of_reviews_at_rating"][r])
                for r in caseload_rag.RATINGS]
        rows.append(("All reviews", cr["reviews"], esc["escalations"], None))
        display(nb.table(pd.DataFrame(rows, columns=["Rating at the review", "Reviews", "Escalations",
                                                     "% of reviews escalated"], dtype=object), decimals=1))
        display(nb.md(f"Cases with at least one escalation: {nb.fmt(esc['cases_escalated'])} "
                      f"({nb.fmt(esc['cases_escalated_pct'], 1)}% of rated cases). Reviews with no value recorded for "
                      f"escalation: {nb.fmt(esc['reviews_with_no_value'])}."))
        months = list(esc["by_month"])
        vals = [esc["by_month"][m] for m in months]
        fig, ax = plt.subplots(figsize=(11, 3.2))
        x = np.arange(len(months))
        ax.bar(x, [0 if v is None else v for v in vals], color="#7f3f98")
        for i, v in enumerate(vals):
            if v is None:
                ax.text(i, 0, "[c]", ha="center", va="bottom", fontsize=7, rotation=90)
        step = max(1, len(months) // 12)
        ax.set_xticks(x[::step])
        ax.set_xticklabels(months[::step], rotation=45, ha="right", fontsize=8)
        ax.set_ylabel("Escalations")
        ax.set_title("Safeguarding escalations by month ([c]: withheld)")
        nb.show(fig, alt=(f"Safeguarding escalations by month, {months[0]} to {months[-1]}, "
                          f"{nb.fmt(esc['escalations'])} in all; months with few escalations are withheld."),
                data=pd.DataFrame({"Month": months, "Escalations": vals}))

# %% [markdown]
# ## Reading

# %%
if sec.ok:
    display(nb.md(caseload_rag.reading(cr)))
