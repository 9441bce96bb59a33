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
from pipeline.disclosure import fmt

ctx = nb.setup(borough, processed_dir, fragments_dir, period)
missing = ctx.missing(*inputs.REQUIRED)
ran = not missing
if missing:
    reason = ctx.not_run(inputs.SECTION, needs=missing)
    display(nb.md(f"**Not available:** {reason}. Link-worker FTE and caseloads need `pcn_quarterly` (PCN, quarter, "
                  "registered population and `splw_fte`)."))
else:
    raw = inputs.compute(ctx.activity_extract, ctx.settings)
    inp = inputs.publish(raw, ctx.sdc.scoped(inputs.SECTION))
    ctx.save_section(inputs.SECTION, inp)
    display(nb.md(f"Caseloads and budgets cover **{ctx.period_text}**; the workforce chart shows every quarter "
                  "the extract gives."))

GUIDE = inputs.CASELOAD_GUIDANCE

# %% [markdown]
# ## Link-worker FTE over time
# Descriptive. Whole-time-equivalent link workers in each PCN by quarter, as `pcn_quarterly`
# gives them, and the total per 100,000 registered patients.

# %%
if ran:
    q = inp["quarters"]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [3, 2]})
    dates = pd.to_datetime(q)
    for pcn, series in inp["fte_by_pcn_quarter"].items():
        ax.plot(pd.to_datetime(list(series)), list(series.values()), marker="o", markersize=3, label=pcn)
    if ctx.period is not None:
        ax.axvspan(ctx.period.start, ctx.period.end, color="#f2b134", alpha=0.2, label=f"period {ctx.period.label}")
    ax.set_ylabel("Link-worker FTE")
    ax.set_title("Link-worker FTE by PCN")
    if len(inp["fte_by_pcn_quarter"]) <= 12:
        ax.legend(fontsize=7, ncol=2, loc="upper left")
    ax2.plot(dates, [inp["fte_per_100k_registered_by_quarter"][k] for k in q], color="#2b6a99", marker="o", markersize=3)
    ax2.set_ylabel("FTE per 100,000 registered")
    ax2.set_title("All PCNs given")
    ax2.set_ylim(bottom=0)
    fig.autofmt_xdate()
    nb.show(fig)

# %% [markdown]
# ## Caseload per FTE against the guidance
# Descriptive. People per full-time-equivalent link worker per year: FTE-years add up each
# PCN-quarter's FTE for the days it overlaps the period; people are those referred in the
# PCN-quarters `pcn_quarterly` covers, counted once per PCN and financial year. *Seen* means at
# least one attended appointment: the guidance counts people seen. The band is shaded.

# %%
if ran:
    c = inp["caseload"]
    rows = [("All PCNs", c["fte_years"], c["people_referred"], c["referred_per_fte_year"], c["people_seen"],
             c["seen_per_fte_year"], c["seen_vs_guidance"] or "[c]")]
    rows += [(p, r["fte_years"], r["people_referred"], r["referred_per_fte_year"], r["people_seen"],
              r["seen_per_fte_year"], r["seen_vs_guidance"] or "[c]") for p, r in c["by_pcn"].items()]
    display(nb.table(pd.DataFrame(rows, columns=["PCN", "FTE-years", "People referred", "Referred per FTE-year",
                                                 "People seen", "Seen per FTE-year", "Against 200–250"],
                                  dtype=object), decimals={"FTE-years": 2, "Referred per FTE-year": 1,
                                                           "Seen per FTE-year": 1}))
    shown = {p: r["seen_per_fte_year"] for p, r in c["by_pcn"].items() if r["seen_per_fte_year"] is not None}
    if shown:
        fig, ax = plt.subplots(figsize=(8, 0.45 * len(shown) + 1.4))
        names = list(shown)[::-1]
        ax.barh(names, [shown[n] for n in names], color="#2b6a99")
        ax.axvspan(GUIDE[0], GUIDE[1], color="#f2b134", alpha=0.3, label="guidance 200–250")
        ax.set_xlabel("People seen per FTE-year")
        ax.set_title("Caseload by PCN against the guidance")
        ax.legend(fontsize=8, loc="lower right")
        nb.show(fig)
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
# Descriptive. One-off personal health budgets recorded on referrals (`health_budget_gbp`).

# %%
if ran:
    b = inp["budget"]
    if b["status"] != "ok":
        display(nb.md(f"Not recorded: {b['reason']}."))
    else:
        display(nb.md(f"About {fmt(b['budgets'])} referrals had a budget, £{fmt(b['total_gbp'], 0)} in total "
                      f"(mean £{fmt(b['mean_gbp'], 0)}, median £{fmt(b['median_gbp'], 0)} per budget). The mean is "
                      "the total over the rounded number of budgets."))

# %% [markdown]
# ## Reading

# %%
if ran:
    c = inp["caseload"]
    seen = c["seen_per_fte_year"]
    if seen is None:
        text = ("Too few people in the period to publish a caseload per link worker after disclosure control.")
    else:
        word = {"below": "below", "within": "within", "above": "above"}[c["seen_vs_guidance"]]
        text = (f"Over {ctx.period_text}, each full-time-equivalent link worker saw about {seen:.0f} different people "
                f"a year ({fmt(c['referred_per_fte_year'], 0)} referred), {word} the national guidance of "
                f"{GUIDE[0]}–{GUIDE[1]}.")
        n_pcn = {k: sum(1 for r in c["by_pcn"].values() if r["seen_vs_guidance"] == k) for k in ("below", "within", "above")}
        text += (f" By PCN: {n_pcn['below']} below, {n_pcn['within']} within and {n_pcn['above']} above the band.")
    text += (" A caseload well below the band can mean spare capacity, long and intensive support, or link workers "
             "doing work the extract does not record (groups, outreach); well above it can mean short contacts or "
             "waiting lists. The FTE figures are as the PCNs reported them.")
    display(nb.md(text))
