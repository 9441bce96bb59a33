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
# # Activities and outputs
#
# *Logic model: activities → outputs.* How many people were referred to social prescribing and
# by whom, how quickly they were seen, how link-worker appointments were used, where people were
# signposted, which needs no local service could meet, and how referrals were closed.
# Definitions follow the data contract (section 2, *Activity*). Every figure in this section is
# **descriptive**: counts of what the service did, not evidence of what it changed. Every figure
# has passed disclosure control: counts are rounded to the nearest 5, small numbers show as `[c]`,
# and a percentage, average or rate resting on fewer than 8 people is not shown.

# %% tags=["parameters"]
borough = "merton"
processed_dir = None  # default: data_processed/<borough>, built on first use
fragments_dir = None  # default: build/<borough>/fragments
period = None  # e.g. "2023-24", "2023-Q2", "2023-07": restricts the activity sections

# %%
import matplotlib.pyplot as plt
import pandas as pd

from pipeline import nb
from pipeline.analyses import activity

sec = nb.section("activity", borough, processed_dir, fragments_dir, period)
act = sec.data
if sec.ok:
    display(nb.md(f"This section covers **{sec.ctx.period_text}**: referrals received in that time and their "
                  "appointments, signposts and needs recorded in it."))

BLUE, AMBER = "#2b6a99", "#f2b134"


def nice(key):
    return str(key).replace("_", " ")


def showable(cells):
    """Is there anything to draw? (at least one published, non-zero count)"""
    return any(v for v in cells.values())


def largest(cells):
    """The group with the largest published count."""
    shown = {k: v for k, v in cells.items() if v is not None}
    return max(shown, key=shown.get)


def hbar(ax, cells, title, xlabel="Referrals (rounded to 5)", order=None, top=None):
    """Horizontal bars of published counts; a withheld cell is drawn as an empty bar marked [c]."""
    keys = order or bar_order(cells)
    keys = keys[:top] if top else keys
    y = list(range(len(keys)))[::-1]
    ax.barh(y, [cells[k] or 0 for k in keys], color=BLUE)
    for yi, k in zip(y, keys, strict=True):
        if cells[k] is None:
            ax.text(0, yi, " [c]", va="center", fontsize=8, color="#555")
    ax.set_yticks(y, [nice(k) for k in keys])
    ax.set_xlim(left=0)
    ax.set_xlabel(xlabel)
    ax.set_title(title)


def count_frame(cells, label, value="Referrals", keys=None):
    """Published counts as a table: a row per group (``keys``: their order), ``None`` where withheld."""
    keys = list(cells) if keys is None else keys
    return pd.DataFrame({label: [nice(k) for k in keys], value: pd.Series([cells[k] for k in keys], dtype=object)})


def bar_order(cells):
    """The groups in the order ``hbar`` draws them, top to bottom."""
    return sorted(cells, key=lambda k: -(cells[k] or 0))


def count_table(cells, label, pct=None):
    df = count_frame(cells, label)
    if pct is not None:
        df["%"] = pd.Series([pct.get(k) for k in cells], dtype=object)
    return nb.table(df)


# %% [markdown]
# ## Monthly activity at a glance
# Descriptive, over time. Each monthly series read as an NHS England *Making Data Count* statistical
# process control (XmR) chart: the mean, process limits (mean ± 2.66 × the mean moving range) and the
# months a rule flags as special cause (a point beyond the limits; 7 in a row above or below the mean;
# 7 rising or falling; 2 of 3 beyond two sigma). The variation icon describes the latest month, the
# assurance icon whether the referral target (where `extract.yml` sets one) is met reliably. Fewer than
# 15 months give *trial* limits. Computed from the published monthly figures: a withheld month is a gap.
# The method is in `docs/spc.md`.

# %%
if sec.ok:
    from pipeline import spc

    band = act["referral_target"]
    charts = activity.spc.analyse(act["monthly"], (band["lower"], band["upper"]) if band else None)
    rows, icons = [], {"Variation": [], "Assurance": []}
    for s in act["spc"].values():
        limits = nb.fmt(None) if s["mean"] is None else f"{s['lower_limit']:,.1f} to {s['upper_limit']:,.1f}"
        rows.append((s["label"], s["latest_month"] or "-", s["latest_value"], s["mean"], limits,
                     spc.icon_label(s["variation"], trial=s["trial_limits"]) if s["variation"] else "not assessed",
                     spc.icon_label(s["assurance"], trial=s["trial_limits"]) if s["assurance"] else "no target"))
        icons["Variation"].append(spc.icon_svg(s["variation"], trial=s["trial_limits"]) if s["variation"]
                                  else "not assessed")
        icons["Assurance"].append(spc.icon_svg(s["assurance"], trial=s["trial_limits"]) if s["assurance"]
                                  else "no target")
    display(nb.table(pd.DataFrame(rows, columns=["Measure", "Latest month", "Latest", "Mean", "Process limits",
                                                 "Variation", "Assurance"], dtype=object), html=icons))
    for name, result in charts.items():
        s = act["spc"][name]
        fig, ax = plt.subplots(figsize=(10, 3.6))
        spc.draw(ax, result, title=s["label"], unit=s["unit"])
        points = pd.DataFrame([(p.label, p.value, ", ".join(p.rules) or "") for p in result.points],
                              columns=["Month", s["label"], "Special cause rules"], dtype=object)
        nb.show(fig, alt=spc.alt_text(result, s["label"]), data=points)

# %% [markdown]
# ## Headline activity
# Descriptive (published method: the NEL and Merton dashboards report the same figures).

# %%
if sec.ok:
    rows = [
        ("Referrals", act["referrals"]),
        ("Patients referred", act["patients"]),
        ("Patients seen (at least one attended appointment)", act["patients_seen"]),
        ("Patients seen (% of patients referred)", act["patients_seen_pct"]),
        ("New referrals (the patient's first)", act["new_vs_rereferrals"]["new"]),
        ("Re-referrals (the patient's second or later)", act["new_vs_rereferrals"]["re_referral"]),
        ("Appointments booked", act["contacts_booked"]),
        ("Appointments attended", act["contacts_attended"]),
        ("Did not attend or cancelled (% of booked)", act["dna_or_cancelled_pct"]),
        ("Attended appointments per patient seen (mean)", act["mean_attended_contacts_per_patient_seen"]),
        ("Days from referral to first contact (median)", act["median_days_referral_to_first_contact"]),
    ]
    display(nb.table(pd.DataFrame(rows, columns=["Measure", "Value"], dtype=object), decimals=1))

# %% [markdown]
# ## Referrals by month, against the target
# Descriptive. Monthly referrals against the service's monthly target band where `extract.yml`
# sets one (Barnet reports referrals against the DES target's lower and upper bounds each month).
# Months whose count is withheld are marked "c" on the chart.

# %%
if sec.ok:
    by_month = act["referrals_by_month"]
    months = list(by_month)
    tgt = act["referral_target"]
    fig, ax = plt.subplots(figsize=(10, 3.6))
    x = range(len(months))
    ax.bar(x, [by_month[m] or 0 for m in months], color=BLUE, label="referrals")
    for xi, m in zip(x, months, strict=True):
        if by_month[m] is None:
            ax.text(xi, 0, "c", ha="center", va="bottom", fontsize=7, color="#555")
    if tgt:
        ax.axhspan(tgt["lower"], tgt["upper"], color=AMBER, alpha=0.25, hatch="//", edgecolor=AMBER,
                   label=f"monthly target {tgt['lower']}–{tgt['upper']}")
        ax.legend(loc="upper left")
    step = max(1, len(months) // 12)
    ax.set_xticks(list(x)[::step], months[::step], rotation=45, ha="right")
    ax.set_ylabel("Referrals (rounded to 5)")
    ax.set_title("Referrals by month" + ("  (c = withheld)" if None in by_month.values() else ""))
    shown = [v for v in by_month.values() if v is not None]
    alt = f"Referrals by month from {months[0]} to {months[-1]}"
    if any(shown):
        alt += f", between {nb.fmt(min(shown))} and {nb.fmt(max(shown))} a month (rounded to 5)"
    else:
        alt += ": every month's count is 0 or withheld as a small number"
    if tgt:
        alt += (f"; against the monthly target of {tgt['lower']} to {tgt['upper']}, {tgt['months_below']} months were "
                f"below it, {tgt['months_within']} within and {tgt['months_above']} above")
    nb.show(fig, alt=alt + ".", data=count_frame(by_month, "Month", "Referrals (rounded to 5)"))
    if tgt:
        unknown = (f", and {tgt['months_unknown']} could not be judged because their count is withheld"
                   if tgt["months_unknown"] else "")
        display(nb.md(f"Of {len(months)} months, **{tgt['months_below']} were below** the target band "
                      f"({tgt['lower']}–{tgt['upper']} a month), **{tgt['months_within']} within** it and "
                      f"**{tgt['months_above']} above** it{unknown}. Months are judged on the published "
                      "(rounded) counts."))
    else:
        display(nb.md("`extract.yml` sets no monthly referral target (`referral_target_monthly`), so months are "
                      "not judged against one."))

# %% [markdown]
# ## Where referrals came from
# Descriptive. Referrals by registered practice and Primary Care Network (PCN), and the rate
# per 1,000 registered patients: the borough's `registered_population` from `extract.yml`, and
# each PCN's population from `pcn_quarterly` where it is given.

# %%
if sec.ok:
    rates = act["referral_rates"]
    display(nb.md(
        f"Across the borough, about **{nb.fmt(rates['per_1000_registered'], 1)} referrals per 1,000 registered "
        f"patients** over the period ({nb.fmt(rates['per_1000_registered_per_year'], 1)} per 1,000 a year; "
        f"registered population {nb.fmt(rates['registered_population'])})."))
    if rates["by_pcn"]:
        rows = [(p, r["referrals"], r["registered_population"], r["per_1000"], r["per_1000_per_year"])
                for p, r in rates["by_pcn"].items()]
        display(nb.md("**By PCN** (population: the mean of the PCN's quarters in `pcn_quarterly` that overlap the "
                      "period)"))
        display(nb.table(pd.DataFrame(rows, columns=["PCN", "Referrals", "Registered population",
                                                     "Per 1,000 registered", "Per 1,000 a year"], dtype=object),
                         decimals=2))
    else:
        display(nb.md("**By PCN**"))
        display(count_table(act["referrals_by_pcn"], "PCN"))
        display(nb.md("No `pcn_quarterly` table gives PCN populations, so rates by PCN are not shown."))
    display(nb.md("**By practice**"))
    display(count_table(act["referrals_by_practice"], "Practice (ODS code)"))

# %% [markdown]
# ## Who referred, and why
# Descriptive. Referral source and the main reason for referral (NEL and Barnet report both).

# %%
if sec.ok and showable(act["referrals_by_source"]) and showable(act["referrals_by_reason"]):
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    hbar(a1, act["referrals_by_source"], "Referral source")
    hbar(a2, act["referrals_by_reason"], "Reason for referral")
    src, why = largest(act["referrals_by_source"]), largest(act["referrals_by_reason"])
    nb.show(fig, alt=f"Referrals by source and by reason (rounded to 5): most came from {nice(src)} "
                     f"({nb.fmt(act['referrals_by_source'][src])}), and the most common reason was {nice(why)} "
                     f"({nb.fmt(act['referrals_by_reason'][why])}).",
            data=pd.DataFrame([(by, nice(k), cells[k]) for by, cells in (("Referral source", act["referrals_by_source"]),
                                                                         ("Reason for referral", act["referrals_by_reason"]))
                               for k in bar_order(cells)],
                              columns=["Grouped by", "Group", "Referrals (rounded to 5)"], dtype=object))
elif sec.ok:
    display(nb.md("Too few referrals in each group to show after disclosure control."))

# %% [markdown]
# ## Appointments
# Descriptive. Appointments booked by type, how many were attended, missed (did not attend) or
# cancelled, and the length of attended appointments (Barnet reports appointment totals and
# durations monthly). Appointments with no type are shown as "not recorded".

# %%
if sec.ok:
    cbt = act["contacts_by_type"]
    rows = [(nice(t), r["booked"], r["attended"], r["dna"], r["cancelled"], r["dna_or_cancelled_pct"],
             r["median_minutes"], r["mean_minutes"]) for t, r in cbt.items() if r["booked"] != 0]
    display(nb.table(pd.DataFrame(rows, columns=["Type", "Booked", "Attended", "Did not attend", "Cancelled",
                                                 "% missed or cancelled", "Median minutes (attended)",
                                                 "Mean minutes (attended)"], dtype=object), decimals=1))

# %% [markdown]
# ## Waiting for a first contact
# Descriptive. Days from referral to first contact, for referrals with a first contact. Referrals
# received near the end of the period may not have been contacted yet, so waits near the end are
# under-represented.

# %%
if sec.ok:
    w = act["wait"]
    display(nb.md(
        f"Median **{nb.fmt(w['median_days'], 0)} days** (quartiles {nb.fmt(w['q1_days'], 0)} to "
        f"{nb.fmt(w['q3_days'], 0)} days); **{nb.fmt(w['within_14_days_pct'], 1)}%** of those contacted were "
        f"contacted within 14 days. About {nb.fmt(w['referrals_with_first_contact'])} referrals had a first contact "
        f"and {nb.fmt(w['referrals_not_seen'])} had none."))
    dist = w["distribution"]
    if showable(dist):
        fig, ax = plt.subplots(figsize=(7, 3))
        x = range(len(w["bins"]))
        ax.bar(x, [dist[b] or 0 for b in w["bins"]], color=BLUE)
        for xi, b in zip(x, w["bins"], strict=True):
            if dist[b] is None:
                ax.text(xi, 0, "[c]", ha="center", va="bottom", fontsize=8, color="#555")
        ax.set_xticks(list(x), [f"{b} days" for b in w["bins"]])
        ax.set_ylabel("Referrals (rounded to 5)")
        ax.set_title("Days from referral to first contact")
        nb.show(fig, alt="Referrals by days from referral to first contact (rounded to 5): "
                         + "; ".join(f"{b} days {nb.fmt(dist[b])}" for b in w["bins"])
                         + f". The median wait was {nb.fmt(w['median_days'], 0)} days.",
                data=pd.DataFrame({"Days from referral to first contact": [f"{b} days" for b in w["bins"]],
                                   "Referrals (rounded to 5)": pd.Series([dist[b] for b in w["bins"]], dtype=object)}))

# %% [markdown]
# ## Closures
# Descriptive. Referrals closed by the end of the period and why; the rest were still open.

# %%
if sec.ok:
    c = act["closures"]
    display(nb.md(
        f"About {nb.fmt(c['closed'])} referrals were closed and {nb.fmt(c['open_at_end'])} were still open at the end "
        f"of the period ({nb.fmt(c['open_longer_than_365_days'])} of them open for more than a year). The median time "
        f"from referral to closure was {nb.fmt(c['median_days_referral_to_closure'], 0)} days."))
    reasons = {k: v for k, v in c["reasons"].items() if v != 0}
    if reasons:
        display(count_table(reasons, "Closure reason", pct=c["reasons_pct"]))

# %% [markdown]
# ## Signposting
# Descriptive. Where link workers signposted or referred people on (the Merton report lists its
# most-used services; Barnet reports the most prescribed services by PCN). Service names are
# grouped ignoring capital letters and spacing, so "AGE UK MERTON" and "Age UK Merton" count
# together. Only services with enough signposts to publish are named; the rest are "all other".

# %%
sp = act["signposting"] if sec.ok else None
if sec.ok and sp.get("status") == "not_available":
    display(nb.md(f"No signposting figures: {sp['reason']}."))
elif sec.ok:
    display(nb.md(
        f"About {nb.fmt(sp['signposts'])} signposts for {nb.fmt(sp['referrals_signposted'])} referrals "
        f"({nb.fmt(sp['referrals_signposted_pct'], 1)}% of referrals), to {nb.fmt(sp['services'])} different "
        "services."))
    top = sp["top_services"]
    if top:
        display(nb.table(pd.DataFrame([(t["service"], t["signposts"], t["pct"]) for t in top],
                                      columns=["Service", "Signposts", "% of signposts"], dtype=object)))
    cats = {k: v for k, v in sp["by_category"].items() if v != 0}
    if showable(cats):
        fig, ax = plt.subplots(figsize=(7, 3.5))
        hbar(ax, cats, "Signposts by service category", xlabel="Signposts (rounded to 5)")
        cat = largest(cats)
        nb.show(fig, alt=f"Signposts by service category (rounded to 5); the most used category was {nice(cat)} "
                         f"({nb.fmt(cats[cat])} signposts, {nb.fmt(sp['by_category_pct'][cat], 1)}%).",
                data=count_frame(cats, "Service category", "Signposts (rounded to 5)", bar_order(cats)))

# %% [markdown]
# ## Unmet needs: the gap report
# Descriptive. Needs that link workers could find no service for, tagged on the referral (the
# Barnet "cohort" tags that turned an anecdotal list of gaps into a weighted report). A referral
# counts once for each need. Needs per 1,000 referrals put PCNs of different sizes side by side.

# %%
un = act["unmet_needs"] if sec.ok else None
if sec.ok and un.get("status") == "not_available":
    display(nb.md(f"No gap report: {un['reason']}. Recording gaps as tags on referrals would let this report weigh "
                  "each gap by the number of people who needed it."))
elif sec.ok:
    display(nb.md(
        f"About {nb.fmt(un['needs_recorded'])} unmet needs were recorded for {nb.fmt(un['referrals_with_need'])} "
        f"referrals ({nb.fmt(un['referrals_with_need_pct'], 1)}% of referrals), across "
        f"{nb.fmt(un['distinct_needs'])} different needs."))
    rows = [(nice(k), v, un["top_needs_per_1000_referrals"][k]) for k, v in un["top_needs"].items()]
    if rows:
        display(nb.md("**Largest gaps**"))
        display(nb.table(pd.DataFrame(rows, columns=["Need", "Referrals with the need", "Per 1,000 referrals"],
                                      dtype=object)))
    rows = [(p, r["referrals"], r["needs"], r["needs_per_1000_referrals"]) for p, r in un["by_pcn"].items()]
    display(nb.md("**By PCN**"))
    display(nb.table(pd.DataFrame(rows, columns=["PCN", "Referrals", "Needs recorded", "Needs per 1,000 referrals"],
                                  dtype=object)))
    grid = un["by_need_pcn_per_1000_referrals"]
    if grid:
        pcns = list(un["by_pcn"])
        df = pd.DataFrame([[nice(n)] + [grid[n][p] for p in pcns] for n in grid], columns=["Need"] + pcns,
                          dtype=object)
        display(nb.md("**Needs per 1,000 referrals, by need and PCN**"))
        display(nb.table(df))

# %% [markdown]
# ## Reading

# %%
if sec.ok:
    display(nb.md(activity.reading(act)))
