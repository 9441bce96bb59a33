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
# # Surveys of patients, link workers and practice staff
#
# *Logic model: reported experience, alongside the measured outcomes.* What the people in and
# around the service say about it: patients about their support and how connected they feel, link
# workers about their caseload and the services they can refer to, GP practice staff about working
# with the service. Surveys are anonymous and cross-sectional: they cannot be linked to referrals
# or followed person by person, so they sit after the outcomes measured from records (wellbeing,
# clinical targets, GP use, hospital use) as a view on every stage of the model rather than as
# one link in it.
#
# Answers are on a five-point scale (1 strongly disagree … 5 strongly agree); *agreeing* means 4
# or 5. Every figure has passed disclosure control: counts are rounded to the nearest 5, small
# numbers show as `[c]`, shares are computed from the rounded counts, and intervals and tests from
# the published rounded counts. **Free-text comments are never published.**

# %% tags=["parameters"]
borough = "merton"
processed_dir = None  # default: data_processed/<borough>, built on first use
fragments_dir = None  # default: build/<borough>/fragments
period = None  # reporting period; surveys always use the whole extract

# %%
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pipeline import nb
from pipeline.analyses import surveys

sec = nb.section("surveys", borough, processed_dir, fragments_dir, period)
sv = sec.data
if sec.ok and period is not None:
    display(nb.md(f"*This section covers every survey wave in the extract, not only the period {period}.*"))
LABELS = surveys.GROUP_LABELS


def wave_name(w):
    return f"Wave {w}"


# %% [markdown]
# ## Who answered
# Descriptive. Questionnaires returned by each group in each survey wave (rounded to the nearest
# 5). Groups are not added together: each is its own survey.

# %%
if sec.ok:
    q = sv["questionnaires"]
    rows = [(LABELS[g], *[q["by_group_wave"][g][w] for w in sv["waves"]], q["by_group"][g]) for g in sv["groups"]]
    cols = ["Respondent group", *[wave_name(w) for w in sv["waves"]], "All waves"]
    display(nb.table(pd.DataFrame(rows, columns=cols, dtype=object), decimals=0))

# %% [markdown]
# ## How each question was answered
# Descriptive. For each question and wave: the share of the group's questionnaires giving each
# answer (*no answer*: skipped or don't know), and the share agreeing (agree or strongly agree)
# with its 95% Wilson interval. Percentages are of the rounded number of questionnaires returned.
# Where a point of the scale has only a handful of answers, the answers are shown in three
# (disagree, neither, agree) or only the share agreeing is given: a few withheld cells of a
# breakdown could be worked out from the rest.

# %%
def answers_text(a):
    if a["pct"] is None:
        return "only the share agreeing is published"
    return "; ".join(f"{sv['categories'][c]} {nb.fmt(p, 1)}" for c, p in a["pct"].items())


if sec.ok:
    for g, qs in sv["questions"].items():
        rows = [(d["text"], wave_name(w), sv["questionnaires"]["by_group_wave"][g][w], answers_text(a), a["agree_pct"],
                 nb.ci_text(a["agree_ci95"], 1, "%")) for d in qs.values() for w, a in d["waves"].items()]
        if not rows:
            continue
        cols = ["Question", "Wave", "Questionnaires", "Answers (% of questionnaires)", "Agreeing (%)", "95% CI"]
        display(nb.md(f"**{LABELS[g]}**"))
        display(nb.table(pd.DataFrame(rows, columns=cols, dtype=object), decimals={"Questionnaires": 0}))

# %%
if sec.ok and any(sv["questions"].values()):
    drawn = [(g, d["text"], w, a["agree_pct"], a["agree_ci95"]) for g, qs in sv["questions"].items()
             for d in qs.values() for w, a in d["waves"].items()]
    data = pd.DataFrame([(LABELS[g], t, wave_name(w), p, ci[0] if ci else None, ci[1] if ci else None)
                         for g, t, w, p, ci in drawn],
                        columns=["Respondent group", "Question", "Wave", "Agreeing (%)", "95% CI low", "95% CI high"])
    groups = [g for g, qs in sv["questions"].items() if qs]
    heights = [max(1.2, 0.55 * len(sv["questions"][g]) + 0.8) for g in groups]
    fig, axes = plt.subplots(len(groups), 1, figsize=(9, sum(heights) + 0.6), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    shapes = [("o", "circles"), ("s", "squares"), ("^", "triangles"), ("D", "diamonds"), ("v", "down-triangles")]
    handles = {}
    for ax, g in zip(axes[:, 0], groups, strict=True):
        qs = list(sv["questions"][g].values())
        y = np.arange(len(qs))
        for i, w in enumerate(sv["waves"]):
            off = (i - (len(sv["waves"]) - 1) / 2) * 0.25
            for yy, d in zip(y, qs, strict=True):
                a = d["waves"].get(w)
                if a is None:
                    continue
                if a["agree_pct"] is None:  # withheld: said so where the point would be
                    ax.text(1, yy + off, f"{wave_name(w)}: [c]", va="center", fontsize=8, color="#444")
                    continue
                x, ci = a["agree_pct"], a["agree_ci95"] or [a["agree_pct"]] * 2
                handles[w] = ax.errorbar([x], [yy + off], xerr=[[x - ci[0]], [ci[1] - x]],
                                         fmt=shapes[i % len(shapes)][0], capsize=3, color=f"C{i}")
        ax.set_yticks(y, [textwrap.fill(d["text"], 45) for d in qs], fontsize=9)
        ax.set_ylim(len(qs) - 0.5, -0.5)
        ax.set_xlim(0, 100)
        ax.set_title(LABELS[g], loc="left", fontsize=11)
    if handles:
        labels = [f"{wave_name(w)} ({shapes[sv['waves'].index(w) % len(shapes)][1]})" for w in handles]
        fig.legend(list(handles.values()), labels, loc="upper right", ncols=len(handles), fontsize=9, frameon=False)
    axes[-1, 0].set_xlabel("Agreeing (agree or strongly agree), % with 95% CI")
    withheld = int(data["Agreeing (%)"].isna().sum())
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    nb.show(fig, data=data, layout=False, alt=(
        "Share agreeing with each survey question, by respondent group and wave (each wave its own marker "
        "shape: circles for the first, squares for the second), with 95% intervals: "
        + "; ".join(f"{LABELS[g].lower()}, “{t}”, {wave_name(w).lower()} {nb.fmt(p, 1)}%" for g, t, w, p, _ in drawn)
        + (f". {withheld} figure(s) withheld by disclosure control are not drawn." if withheld else ".")))

# %% [markdown]
# ## Change between waves
# Comparative (before and after, no comparison group). For each question asked in more than one
# wave: the share agreeing in its last wave minus its first, with Newcombe's 95% interval for a
# difference of two independent proportions and the two-proportion test, computed from the
# published rounded counts. The waves are different respondents, so this compares two groups of
# people, not the same people over time.

# %%
if sec.ok:
    rows = []
    for g, qs in sv["questions"].items():
        for d in qs.values():
            c = d["change"]
            if c is None:
                continue
            a, b = d["waves"][c["from_wave"]], d["waves"][c["to_wave"]]
            rows.append((LABELS[g], d["text"], f"{nb.fmt(a['agree_pct'], 1)} → {nb.fmt(b['agree_pct'], 1)}",
                         f"{c['from_wave']} → {c['to_wave']}", c["agree_pct_points"], nb.ci_text(c["ci95"], 1),
                         nb.p_text(c["p_value"]), c["direction"] or "[c]"))
    if rows:
        display(nb.table(pd.DataFrame(rows, dtype=object, columns=[
            "Respondent group", "Question", "Agreeing (%)", "Waves", "Change (percentage points)", "95% CI", "p",
            "Reading"]), decimals=1))
        clear = [surveys.change_text(sv, g, k) for g, k, c in surveys.changes(sv) if c["direction"] != surveys.UNCLEAR]
        if clear:
            display(nb.md("\n".join(f"- {t}" for t in clear)))
    else:
        display(nb.md("No question was asked in more than one wave, so nothing can be compared between waves."))

# %% [markdown]
# ## Free-text questions and comments
# Free-text comments can identify the people who wrote them or the people they mention, so the
# analysis never reads them: no comment appears in this report, its tables or `results.json`.

# %%
if sec.ok:
    only = sv["free_text_only_questions"]
    if only:
        lines = [f"- {LABELS[g]}: “{t}”" for g, qs in only.items() for t in qs.values()]
        display(nb.md("Questions answered in free text only (their answers are not published):\n\n" + "\n".join(lines)))
    display(nb.md("Read the comments locally, under your organisation's information governance, before quoting "
                  "any of them: remove names, places and details that could point to a person."))

# %% [markdown]
# ## How to read the survey figures

# %%
if sec.ok:
    display(nb.md("\n".join(f"- {c}" for c in sv["caveats"])))

# %% [markdown]
# ## Reading

# %%
if sec.ok:
    display(nb.md(surveys.reading(sv)))
