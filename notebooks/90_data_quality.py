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
# # Data quality and what it means for the findings
#
# How complete and consistent the extract is, and — for each gap — how it limits the analyses
# above. This section always covers the **whole extract**, even in a period report. The NEL
# dashboard shows completeness; here completeness is also shown where it matters (appointment
# length among *attended* appointments, not all of them), by year of referral (is recording
# getting better?), and alongside checks of dates and record order that the data contract allows
# but an evaluator needs to know about. A table's rows are records about people, so a share of a
# column filled in (the share of referrals with no ethnicity recorded) is computed from rounded
# counts like any other percentage, and is withheld (`[c]`) when the number filled in or left
# empty is small; counts of records with a problem are rounded to 5, small numbers `[c]`.

# %% tags=["parameters"]
borough = "merton"
processed_dir = None  # default: data_processed/<borough>, built on first use
fragments_dir = None  # default: build/<borough>/fragments
period = None  # e.g. "2023-24", "2023-Q2", "2023-07": this section always uses the whole extract

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from pipeline import nb
from pipeline.analyses import data_quality

sec = nb.section("data_quality", borough, processed_dir, fragments_dir, period)
dq = sec.data
ran = sec.ok
if ran:
    display(nb.md(f"Extract period {dq['extract_period']['start']} to {dq['extract_period']['end']}."))

# %% [markdown]
# ## Tables provided

# %%
if ran:
    rows = [(t, "yes" if v["present"] else "no", v["rows"] if v["present"] else "–") for t, v in dq["tables"].items()]
    display(nb.table(pd.DataFrame(rows, columns=["Table", "Provided", "Rows (rounded to 5; PCN-quarters exact)"],
                                  dtype=object)))

# %% [markdown]
# ## Completeness of every column
# % of rows with a value, by table and column. Required columns are always complete (the data
# contract refuses an extract otherwise); optional columns may be partly or wholly empty. A share
# resting on a small number of rows filled in or left empty is marked `[c]`.

# %%
if ran:
    comp = dq["completeness"]
    cmap = plt.get_cmap("RdYlGn")
    width = max(len(cols) for cols in comp.values())
    cell, row_h, label_h = 0.52, 0.42, 1.05
    fig = plt.figure(figsize=(2.0 + cell * width + 0.3, len(comp) * (row_h + label_h) + 0.5))
    H = fig.get_figheight()
    for i, (t, cols) in enumerate(comp.items()):
        bottom = H - 0.45 - (i + 1) * row_h - i * label_h
        ax = fig.add_axes([2.0 / fig.get_figwidth(), bottom / H, cell * len(cols) / fig.get_figwidth(), row_h / H])
        vals = [v for v in cols.values()]
        for j, v in enumerate(vals):
            colour = "#e5e5e5" if v is None else cmap(v / 100)
            ax.add_patch(plt.Rectangle((j, 0), 1, 1, facecolor=colour, edgecolor="white", linewidth=1.5))
            txt = nb.fmt(None if v is None else round(v))
            ax.text(j + 0.5, 0.5, txt, ha="center", va="center", fontsize=7,
                    color="white" if v is not None and (v < 20 or v > 80) else "black")
        ax.set_xlim(0, len(cols))
        ax.set_ylim(0, 1)
        ax.set_xticks([j + 0.5 for j in range(len(cols))], list(cols), rotation=40, ha="right", fontsize=7)
        ax.set_yticks([0.5], [t], fontsize=9)
        ax.tick_params(length=0)
        ax.grid(False)
        for sp in ax.spines.values():
            sp.set_visible(False)
    fig.suptitle("Completeness by table and column (% of rows filled in)", fontsize=11, fontweight="bold",
                 x=0.02, ha="left", y=1 - 0.12 / H)
    low = [f"{t}.{c}" for t, cols in comp.items() for c, v in cols.items()
           if v is not None and v < dq["complete_enough_pct"]]
    hidden = sum(v is None for cols in comp.values() for v in cols.values())
    nb.show(fig, layout=False, data=data_quality.completeness_table(dq),  # laid out by hand above
            alt=(f"Completeness of every column of the {len(comp)} tables provided, as the % of rows filled in "
                 f"(printed in each cell); below {nb.fmt(dq['complete_enough_pct'], 0)}%: "
                 + (f"{', '.join(low[:8])}{', and others' if len(low) > 8 else ''}" if low else "no column")
                 + ("; shares resting on a small count are withheld ([c])" if hidden else "") + "."))

# %% [markdown]
# ## Completeness where it matters
# Some columns are empty by design for some rows (no duration for a missed appointment, no
# closure reason for an open referral): these shares count only the rows where a value is due.

# %%
if ran:
    rows = [(f"{v['table']}.{v['column']}", v["among"], v["eligible"], v["pct"])
            for v in dq["completeness_where_it_matters"].values()]
    display(nb.table(pd.DataFrame(rows, columns=["Column", "Among", "Rows (rounded to 5)", "% filled in"],
                                  dtype=object)))

# %% [markdown]
# ## Is recording improving?
# % of referrals with each optional column filled in, by financial year of referral.

# %%
if ran:
    by = dq["completeness_by_year"]
    years = list(dict.fromkeys(y for ys in by.values() for y in ys))
    grid = pd.DataFrame([[by[c].get(y) for y in years] for c in by], index=list(by), columns=years, dtype="float64")
    if grid.notna().any().any():
        fig, ax = plt.subplots(figsize=(1.2 * len(years) + 4, 0.4 * len(by) + 1.6))
        sns.heatmap(grid, vmin=0, vmax=100, cmap="RdYlGn", annot=True, fmt=".0f", annot_kws={"fontsize": 8},
                    linewidths=0.5, linecolor="white", cbar_kws={"label": "% of referrals"}, ax=ax)
        ax.set_title("Referrals: optional columns filled in, by financial year")
        moved = [c for c in by if grid.loc[c].notna().sum() >= 2
                 and abs(grid.loc[c].dropna().iloc[-1] - grid.loc[c].dropna().iloc[0]) >= 10]
        nb.show(fig, alt=(f"Share of referrals with each optional column filled in, by financial year from {years[0]} "
                          f"to {years[-1]} (printed in each cell); "
                          + (f"recording changed by 10 points or more for {', '.join(moved)}" if moved
                             else "no column changed by 10 points or more") + "."),
                data=data_quality.completeness_by_year_table(dq))
    else:
        display(nb.md("Too few referrals in each year to show."))

# %% [markdown]
# ## Record checks
# Records dated outside the extract period, records out of order, and referrals that were never
# seen or never closed. The data contract allows these, but each affects some figures.

# %%
KIND = {"out_of_period": "Dated outside the period", "order": "Out of order", "follow_up": "Never seen or never closed",
        "duplicates": "Duplicates"}
if ran:
    for kind, title in KIND.items():
        rows = [(f"{c['unit'][0].upper()}{c['unit'][1:]} that {c['description']}"
                 + ("" if c["unit"] == c["table"] else f" ({c['table']})"), c["records"],
                 c["checked"], c["pct"]) for c in dq["checks"].values() if c["kind"] == kind]
        if rows:
            display(nb.md(f"**{title}**"))
            display(nb.table(pd.DataFrame(rows, columns=["Records …", "Records", "Checked", "% of checked"],
                                          dtype=object)))

# %% [markdown]
# ## Reading: how the gaps limit the analyses

# %%
if ran:
    display(nb.md(data_quality.reading(dq)))
