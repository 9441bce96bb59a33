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
# # Participants
#
# *Logic model: participants.* Who the service reached: age at referral, gender, ethnicity,
# deprivation (IMD decile, 1 = most deprived; Core20 = deciles 1–2, the most deprived fifth of
# neighbourhoods), carers, people on the diabetes and severe mental illness registers, and the
# practice's risk band. The breakdowns are **descriptive** and count referrals; the comparison
# with the registered population is **comparative** (descriptive, not causal) and counts people.
# These figures are published in the `activity` section of `results.json` (key `participants`
# and its neighbours); this notebook shows them. Every figure has passed disclosure control.

# %% tags=["parameters"]
borough = "merton"
processed_dir = None  # default: data_processed/<borough>, built on first use
fragments_dir = None  # default: build/<borough>/fragments
period = None  # e.g. "2023-24", "2023-Q2", "2023-07": restricts the activity sections

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pipeline import nb
from pipeline.analyses import activity

# the activity section publishes these figures: read what 20_activity saved for these inputs
sec = nb.section("activity", borough, processed_dir, fragments_dir, period, reuse=True)
act = sec.data
if sec.ok:
    display(nb.md(f"This section covers **{sec.ctx.period_text}**."))

LABELS = activity.LABELS
RISK_ORDER = ["very_high", "high", "medium", "low", "not_recorded"]


def ordered(col, keys):
    if col == "imd_decile":
        return sorted(keys, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0))
    if col == "age_band":
        bands = [b for _, _, b in activity.AGE_BANDS]
        return sorted(keys, key=lambda k: bands.index(k) if k in bands else len(bands))
    if col == "risk_band":
        return sorted(keys, key=lambda k: RISK_ORDER.index(k) if k in RISK_ORDER else len(RISK_ORDER))
    if col in activity.BOOLEAN_COLUMNS:
        return sorted(keys, key=lambda k: ["yes", "no", "not_recorded"].index(k) if k in ("yes", "no", "not_recorded") else 3)
    return sorted(keys, key=lambda k: (k == "not_recorded", k == "not_stated"))


# %% [markdown]
# ## Who was referred
# Descriptive. Counts are referrals (a person referred twice counts twice); % is of all referrals.

# %%
if sec.ok:
    s = act["participants_summary"]
    display(nb.md(
        f"**Core20:** {nb.fmt(s['core20_pct'], 1)}% of referrals with a recorded IMD decile came from the most "
        f"deprived fifth of neighbourhoods (deciles 1–2); by construction 20% of England's population lives there."))
    cols = [c for c in activity.PARTICIPANT_COLUMNS if c not in ("referral_source", "referral_reason")]
    rows = []
    for col in cols:
        cells, pct = act["participants"][col], act["participants_pct"][col]
        for i, k in enumerate(ordered(col, list(cells))):
            rows.append((LABELS[col] if i == 0 else "", k.replace("_", " "), cells[k], pct[k]))
    display(nb.table(pd.DataFrame(rows, columns=["Characteristic", "Group", "Referrals", "% of referrals"],
                                  dtype=object)))

# %% [markdown]
# ## Referred people against the registered population
# Comparative (descriptive comparison; a proxy). The extract has no profile of the whole
# registered list, so the `comparison_patients` pool — registered patients who were never referred
# — stands in for it. The pool is whatever the service extracted for matched comparisons, so it may
# not mirror the list exactly. Each referred person counts once, at their earliest referral.
# A bar reaching past the pool's marker means the group is over-represented among referrals.

# %%
vs = act["participants_vs_registered"] if sec.ok else None
if sec.ok and vs["pool"] is None:
    display(nb.md("This extract has no `comparison_patients` table, so there is no profile of registered patients "
                  "to compare referrals with."))
elif sec.ok:
    display(nb.md(f"About {nb.fmt(vs['referred_people'])} referred people and {nb.fmt(vs['pool_people'])} people in "
                  "the comparison pool."))
    shown = [c for c in activity.POOL_COLUMNS
             if any(v is not None for v in vs["columns"][c]["referred_pct"].values())
             and any(v is not None for v in vs["columns"][c]["pool_pct"].values())]
    if not shown:
        display(nb.md("Too few people to compare after disclosure control."))
    else:
        ncol = min(3, len(shown))
        nrow = -(-len(shown) // ncol)
        fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.6 * nrow), squeeze=False)
        for ax in axes.flat[len(shown):]:
            ax.set_visible(False)
        gaps = []  # (referred - pool, column, group): the group most over-represented, for the alt text
        for ax, col in zip(axes.flat, shown, strict=False):
            r, p = vs["columns"][col]["referred_pct"], vs["columns"][col]["pool_pct"]
            keys = ordered(col, list(r))[::-1]
            y = np.arange(len(keys))
            ax.barh(y, [r[k] or 0 for k in keys], color="#2b6a99", label="referred (bars)")
            ax.scatter([p[k] for k in keys if p[k] is not None], [yi for yi, k in zip(y, keys, strict=True) if p[k] is not None],
                       color="#f2b134", edgecolor="#444", marker="D", zorder=3, label="comparison pool (diamonds)")
            for yi, k in zip(y, keys, strict=True):
                if r[k] is None:
                    ax.text(0, yi, " [c]", va="center", fontsize=7, color="#555")
            gaps += [(r[k] - p[k], col, k) for k in keys if r[k] is not None and p[k] is not None
                     and k not in ("not_recorded", "not_stated")]
            ax.set_yticks(y, [k.replace("_", " ") for k in keys], fontsize=9)
            ax.set_title(LABELS[col], fontsize=11)
            ax.set_xlabel("% of people")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", ncol=2, fontsize=9, frameon=False)
        alt = ("For each characteristic, bars give the % of referred people in each group and diamonds the % of the "
               "comparison pool.")
        if gaps:
            _, col, k = max(gaps)
            alt += (f" The most over-represented group among referrals is {LABELS[col].lower()} {k.replace('_', ' ')}: "
                    f"{nb.fmt(vs['columns'][col]['referred_pct'][k], 1)}% of referred people against "
                    f"{nb.fmt(vs['columns'][col]['pool_pct'][k], 1)}% of the pool.")
        rows = [(LABELS[col], k.replace("_", " "), vs["columns"][col]["referred_pct"][k], vs["columns"][col]["pool_pct"][k])
                for col in shown for k in ordered(col, list(vs["columns"][col]["referred_pct"]))]
        drawn = pd.DataFrame(rows, columns=["Characteristic", "Group", "% of referred people", "% of comparison pool"],
                             dtype=object)
        nb.show(fig, alt=alt, rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()), data=drawn)
        display(nb.table(drawn.assign(Characteristic=drawn["Characteristic"].where(
            drawn["Characteristic"].ne(drawn["Characteristic"].shift()), ""))))

# %% [markdown]
# ## Reading

# %%
if sec.ok:
    display(nb.md(activity.participants_reading(act)))
