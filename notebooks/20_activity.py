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
# # Activities, outputs and participants
#
# *Logic model: activities → participants.* How many people were referred to social
# prescribing, how many were seen, how link-worker appointments were used, and who the service
# reached. Definitions follow the data contract (section 2, *Activity*). Every figure has passed
# disclosure control: counts are rounded to the nearest 5 and small numbers show as `[c]`.

# %% tags=["parameters"]
borough = "merton"
processed_dir = None  # default: data_processed/<borough>, built on first use
fragments_dir = None  # default: build/<borough>/fragments
period = None  # e.g. "2023-24", "2023-Q2", "2023-07": restricts the activity sections

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from pipeline import nb
from pipeline.analyses import activity
from pipeline.disclosure import fmt

ctx = nb.setup(borough, processed_dir, fragments_dir, period)
missing = ctx.missing(*activity.REQUIRED)
if missing:
    reason = ctx.not_run(activity.SECTION, needs=missing)
    display(nb.md(f"**Not available:** {reason}."))
else:
    raw = activity.compute(ctx.activity_extract, ctx.settings)
    act = activity.publish(raw, ctx.sdc.scoped(activity.SECTION))
    ctx.save_section(activity.SECTION, act)

# %% [markdown]
# ## Headline activity
# Descriptive (published method).

# %%
if not missing:
    rows = [
        ("Referrals", act["referrals"]),
        ("Patients referred", act["patients"]),
        ("Patients seen (at least one attended appointment)", act["patients_seen"]),
        ("Appointments booked", act["contacts_booked"]),
        ("Appointments attended", act["contacts_attended"]),
        ("Did not attend or cancelled (% of booked)", act["dna_or_cancelled_pct"]),
        ("Attended appointments per patient seen (mean)", act["mean_attended_contacts_per_patient_seen"]),
        ("Days from referral to first contact (median)", act["median_days_referral_to_first_contact"]),
    ]
    display(nb.table(pd.DataFrame(rows, columns=["Measure", "Value"], dtype=object), decimals=1))

# %% [markdown]
# ## Referrals by month
# Monthly referrals against the service's monthly target band where `extract.yml` sets one.

# %%
if not missing:
    months = pd.DataFrame({"month": list(act["referrals_by_month"]),
                           "referrals": list(act["referrals_by_month"].values())})
    fig, ax = plt.subplots(figsize=(9, 3.5))
    sns.barplot(data=months.fillna(0), x="month", y="referrals", color="#2b6a99", ax=ax)
    target = ctx.config.referral_target_monthly
    if target:
        ax.axhspan(target[0], target[1], color="#f2b134", alpha=0.25, label=f"target {target[0]}–{target[1]}")
        ax.legend(loc="upper left")
    ax.set_xlabel("")
    ax.set_ylabel("Referrals (rounded to 5)")
    ax.set_xticks(ax.get_xticks()[::3])
    ax.tick_params(axis="x", rotation=45)
    ax.set_title("Referrals by month")
    plt.show()

# %% [markdown]
# ## Participants
# Who was referred: age at referral, gender, ethnicity, deprivation (IMD decile, 1 = most
# deprived), referral source and reason. Counts are referrals.

# %%
LABELS = {"age_band": "Age band", "gender": "Gender", "ethnicity": "Ethnicity",
          "imd_decile": "IMD decile", "referral_source": "Referral source",
          "referral_reason": "Referral reason"}
if not missing:
    total = act["referrals"]
    for col, cells in act["participants"].items():
        keys = list(cells)
        if col == "imd_decile":
            keys = sorted(keys, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0))
        elif col != "age_band":
            keys = sorted(keys, key=lambda k: -(cells[k] or 0))
        df = pd.DataFrame({
            LABELS[col]: [k.replace("_", " ") for k in keys],
            "Referrals": pd.Series([cells[k] for k in keys], dtype=object),
            "%": [round(cells[k] / total * 100, 1) if cells[k] is not None and total else None for k in keys],
        })
        display(nb.md(f"**{LABELS[col]}**"))
        display(nb.table(df))

# %% [markdown]
# ## Reading
# %%
if not missing:
    core20 = act["participants"]["imd_decile"]
    c20 = [core20.get(k) for k in ("1", "2")]
    core_txt = ""
    if all(v is not None for v in c20) and act["referrals"]:
        core_txt = (f" About {fmt(round(sum(c20) / act['referrals'] * 100))}% of referrals came from the "
                    "most deprived fifth of neighbourhoods (IMD deciles 1–2, the Core20 population).")
    display(nb.md(
        f"Between {ctx.config.extract_start:%B %Y} and {ctx.config.extract_end:%B %Y} the service received "
        f"about {fmt(act['referrals'])} referrals for {fmt(act['patients'])} people, and saw "
        f"{fmt(act['patients_seen'])} of them at least once. Of the appointments booked, "
        f"{fmt(act['dna_or_cancelled_pct'], 1)}% were missed or cancelled; people who were seen attended "
        f"{fmt(act['mean_attended_contacts_per_patient_seen'], 1)} appointments on average, and the median "
        f"wait from referral to first contact was {fmt(act['median_days_referral_to_first_contact'], 0)} days."
        + core_txt +
        " These are counts of activity, not evidence of impact: the outcome sections below ask what changed."
    ))
