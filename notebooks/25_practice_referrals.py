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
# # Referrals by practice against list size
#
# *Logic model: activities.* How many people each GP practice refers, per 1,000 patients on its
# registered list a year, against the borough's rate: which practices refer fewer (or more) than
# chance alone explains. Referrals are counted over the whole extract for the practice and
# financial year of each referral, where the `practices` table gives that practice's list size for
# that year; a practice's patient-years are its list sizes weighted by the share of each financial
# year inside the extract. The funnel limits are Spiegelhalter's exact Poisson 95% and 99.8% limits
# around the borough's rate, as the London comparison draws them for boroughs; when practices vary
# more than chance allows, limits allowing for that (overdispersion) are drawn too.
#
# Referral counts have passed disclosure control (rounded to 5, small numbers `[c]`) and every rate
# is computed from the rounded counts; list sizes and patient-years describe practices, not people.

# %% tags=["parameters"]
borough = "merton"
processed_dir = None  # default: data_processed/<borough>, built on first use
fragments_dir = None  # default: build/<borough>/fragments
period = None  # this section covers the whole extract (a period report repeats it unchanged)

# %%
import matplotlib.pyplot as plt
import pandas as pd

from pipeline import nb
from pipeline.analyses import practice_referrals

sec = nb.section("practice_referrals", borough, processed_dir, fragments_dir, period)
pr = sec.data
if sec.ok:
    pc = pr["period_covered"]
    display(nb.md(f"Referrals from **{pc['start']} to {pc['end']}** (financial years {', '.join(pr['years'])}): "
                  f"{nb.fmt(pr['referrals_with_list_size'])} of {nb.fmt(pr['referrals'])} referrals come from a "
                  f"practice and year with a list size, over {nb.fmt(pr['patient_years'], 1)} registered patient-years "
                  f"in {pr['n_practices']} practices and {pr['n_pcns']} PCNs."))
    if pr["practices_without_list_size"]:
        display(nb.md("**Data quality.** Practices in `referrals` with no row in `practices`: "
                      f"{', '.join(pr['practices_without_list_size'])}. Referrals with no list size for their "
                      f"practice and year: {nb.fmt(pr['referrals_without_list_size'])}; they are left out of the rates."))
    if pr["practices_listed_under_two_pcns"]:
        display(nb.md("**Data quality.** Practices listed under more than one PCN (counted under the PCN of their latest "
                      f"year): {', '.join(pr['practices_listed_under_two_pcns'])}."))
    if pr["referrals_pcn_differs_from_list"] != 0:
        display(nb.md(f"**Data quality.** {nb.fmt(pr['referrals_pcn_differs_from_list'])} referrals name a PCN other "
                      "than their practice's in `practices`; here they count under the practice's PCN."))

# %% [markdown]
# ## Funnel plot of practices
# Comparative (descriptive). Each point is a practice: its referral rate against its registered
# patient-years. The horizontal line is the borough's rate; the inner and outer funnels are the
# 95% and 99.8% limits. Practices below the outer funnel are named on the chart and marked with a
# downward triangle; those above it with an upward triangle.

# %%
if sec.ok and pr["rate_per_1000_per_year"] is not None:
    rows = practice_referrals.practice_rows(pr)
    shown = [(p, c, r) for p, c, r in rows if r["rate_per_1000_per_year"] is not None]
    f = pr["funnel"]
    curve = f["curve"]
    adjusted = "99.8_overdispersion_adjusted" in curve
    fig, ax = plt.subplots(figsize=(9, 5))
    x = curve["patient_years"]
    for level, style in (("95", "--"), ("99.8", "-")):
        key = f"{level}_overdispersion_adjusted" if adjusted else level
        ax.plot(x, [lim[0] for lim in curve[key]], style, color="#555555", linewidth=1, label=f"{level}% limits")
        ax.plot(x, [lim[1] for lim in curve[key]], style, color="#555555", linewidth=1)
    ax.axhline(pr["rate_per_1000_per_year"], color="#2b6a99", linewidth=1.2, label="borough rate")
    markers = {"below": ("v", "#c0504d"), "above": ("^", "#7f3f98"), "within": ("o", "#2b6a99")}
    for side, (marker, colour) in markers.items():
        pts = [(r["patient_years"], r["rate_per_1000_per_year"]) for _, _, r in shown
               if practice_referrals.verdict(r) == side]
        if pts:
            ax.scatter(*zip(*pts, strict=True), marker=marker, color=colour, s=36, zorder=3,
                       label={"below": "below 99.8% limit", "above": "above 99.8% limit", "within": "within"}[side])
    for _, c, r in shown:
        if practice_referrals.verdict(r) in ("below", "above"):
            ax.annotate(c, (r["patient_years"], r["rate_per_1000_per_year"]), textcoords="offset points",
                        xytext=(5, -10 if practice_referrals.verdict(r) == "below" else 5), fontsize=8)
    ax.set_xlabel("Registered patient-years")
    ax.set_ylabel("Referrals per 1,000 registered a year")
    ax.set_title("Practices against the borough's rate" + (" (limits allowing for overdispersion)" if adjusted else ""))
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="upper right")
    low, high = practice_referrals.flagged(pr, "below"), practice_referrals.flagged(pr, "above")
    data = pd.DataFrame([(p, c, r["patient_years"], r["referrals"], r["rate_per_1000_per_year"],
                          *r[("limits_overdispersion_adjusted" if adjusted else "limits")]["99.8"],
                          practice_referrals.verdict(r)) for p, c, r in rows],
                        columns=["PCN", "Practice", "Patient-years", "Referrals", "Rate per 1,000 a year",
                                 "99.8% lower", "99.8% upper", "Against 99.8% limits"])
    nb.show(fig, alt=(f"Funnel plot of the practices' referral rates per 1,000 registered patients a year "
                      f"against the borough's {nb.fmt(pr['rate_per_1000_per_year'], 2)}: "
                      + (f"{', '.join(low)} below the 99.8% limit" if low else "none below the 99.8% limit")
                      + (f"; {', '.join(high)} above it." if high else "; none above it.")), data=data)

# %% [markdown]
# ## Practices ranked by referral rate
# Comparative (descriptive). Lowest rate first, with the 95% interval of each practice's rate (exact
# Poisson, from the rounded count) and its position against the 95% and 99.8% limits. When the
# practices vary more than chance, the last column reads them against the wider limits that allow
# for it: the position to act on.

# %%
if sec.ok:
    over = pr["funnel"]["overdispersion"]
    rows = []
    for p, c, r in practice_referrals.practice_rows(pr):
        adj = r.get("position_overdispersion_adjusted")
        rows.append((c, p, r["patient_years"], r["referrals"], r["rate_per_1000_per_year"], nb.ci_text(r["ci95"], 1),
                     nb.fmt(r["position"]["95"]), nb.fmt(r["position"]["99.8"]), nb.fmt(adj["99.8"]) if adj else "-"))
    table = pd.DataFrame(rows, columns=["Practice", "PCN", "Patient-years", "Referrals", "Rate per 1,000 a year",
                                        "95% CI", "Against 95%", "Against 99.8%", "Against 99.8% (overdispersion)"],
                         dtype=object)
    display(nb.table(table, decimals={"Patient-years": 1, "Rate per 1,000 a year": 1}))
    if over["estimated"]:
        display(nb.md(f"Overdispersion: phi = {nb.fmt(over['phi'], 2)} "
                      + ("(the practices vary more than chance: the wider limits are drawn)." if over["detected"]
                         else "(no more variation than chance: the Poisson limits apply).")))
    else:
        display(nb.md(f"Overdispersion was not estimated: {over['reason']}; the Poisson limits apply."))

# %% [markdown]
# ## By Primary Care Network
# Comparative (descriptive). The PCNs' rates against the same borough rate, with Poisson limits at
# each PCN's patient-years (too few PCNs to estimate overdispersion between them).

# %%
if sec.ok:
    rows = [(p, d["patient_years"], d["referrals"], d["rate_per_1000_per_year"], nb.ci_text(d["ci95"], 1),
             nb.fmt(d["position"]["95"]), nb.fmt(d["position"]["99.8"])) for p, d in pr["by_pcn"].items()]
    display(nb.table(pd.DataFrame(rows, columns=["PCN", "Patient-years", "Referrals", "Rate per 1,000 a year",
                                                 "95% CI", "Against 95%", "Against 99.8%"], dtype=object),
                     decimals={"Patient-years": 1, "Rate per 1,000 a year": 1}))

# %% [markdown]
# ## Reading

# %%
if sec.ok:
    display(nb.md(practice_referrals.reading(pr)))
