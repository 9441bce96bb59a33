"""The activity section in words: its reading, the participants' reading and its rows of the
executive summary, quoting published figures only."""

from __future__ import annotations

from datetime import date

from ...disclosure.release import OTHER
from ...formatting import fmt
from ...sections import Headline

LABELS = {"age_band": "Age band", "gender": "Gender", "ethnicity": "Ethnicity", "imd_decile": "IMD decile",
          "referral_source": "Referral source", "referral_reason": "Referral reason", "risk_band": "Risk band",
          "carer": "Carer", "diabetes": "Diabetes register", "severe_mental_illness": "Severe mental illness register"}
UNRECORDED = ("not_recorded", "not_stated")


def period_text(act: dict) -> str:
    """'1 April 2021 to 31 March 2024': the days the published figures cover."""
    p = act["period_covered"]
    start, end = date.fromisoformat(p["start"]), date.fromisoformat(p["end"])
    return f"{start.day} {start:%B %Y} to {end.day} {end:%B %Y}"


def reading(act: dict) -> str:
    """A plain-English reading of the published activity section."""
    rates = act["referral_rates"]
    per_year = (f" ({fmt(rates['per_1000_registered_per_year'], 1)} per 1,000 registered patients a year)"
                if rates["per_1000_registered_per_year"] is not None else "")
    parts = [
        f"From {period_text(act)} the service received about {fmt(act['referrals'])} referrals for "
        f"{fmt(act['patients'])} people{per_year} and saw {fmt(act['patients_seen'])} of them at least once "
        f"({fmt(act['patients_seen_pct'], 0)}%).",
        f"Of the appointments booked, {fmt(act['dna_or_cancelled_pct'], 1)}% were missed or cancelled; people who "
        f"were seen attended {fmt(act['mean_attended_contacts_per_patient_seen'], 1)} appointments on average, and "
        f"the median wait from referral to first contact was {fmt(act['median_days_referral_to_first_contact'], 0)} "
        f"days ({fmt(act['wait']['within_14_days_pct'], 0)}% within two weeks).",
    ]
    tgt = act["referral_target"]
    if tgt:
        parts.append(f"Referrals were below the monthly target in {tgt['months_below']} of "
                     f"{len(act['referrals_by_month'])} months, within it in {tgt['months_within']} and above it "
                     f"in {tgt['months_above']}.")
    sp, un = act["signposting"], act["unmet_needs"]
    if sp.get("status") != "not_available" and sp["top_services"] and sp["top_services"][0]["service"] != OTHER:
        parts.append(f"The most used onward service was {sp['top_services'][0]['service']}.")
    if un.get("status") != "not_available":
        named = [k for k in un["top_needs"] if k != OTHER][:3]
        if named:
            parts.append("The largest recorded gaps were " + ", ".join(named) + ".")
    parts.append("These are counts of activity, not evidence of impact: the outcome sections ask what changed.")
    return " ".join(parts)


def _largest(pct: dict) -> str | None:
    shown = {k: v for k, v in pct.items() if v is not None and k not in UNRECORDED}
    return max(shown, key=shown.get).replace("_", " ") if shown else None


def participants_reading(act: dict) -> str:
    """A plain-English reading of who was referred (the participants' part of the section)."""
    p, s = act["participants_pct"], act["participants_summary"]
    tops = {"gender": _largest(p["gender"]), "ethnicity": _largest(p["ethnicity"]),
            "age band": _largest(p["age_band"])}
    if all(v is None for v in tops.values()):
        text = [f"From {period_text(act)} there were too few referrals in each group to describe who was reached "
                "after disclosure control."]
    else:
        text = [f"From {period_text(act)}, the largest groups referred were: "
                + ", ".join(f"{k} {v}" for k, v in tops.items() if v is not None) + "."]
    if s["core20_pct"] is not None:
        more = "more" if s["core20_pct"] > 20 else "less"
        text.append(f"{fmt(s['core20_pct'], 1)}% of referrals with an IMD decile came from the most deprived fifth of "
                    f"neighbourhoods, {more} than the 20% an even spread across England would give "
                    "(the borough's own share of Core20 neighbourhoods may differ).")
    carers = p["carer"].get("yes")
    if carers is not None:
        text.append(f"{fmt(carers, 1)}% of referrals were recorded as carers (a minimum: the field is often empty).")
    if act["participants_vs_registered"]["pool"] is not None:
        text.append("The comparison with the pool of never-referred registered patients is a proxy for the registered "
                    "list: differences describe who was referred, not why.")
    text.append("These figures describe who was reached; they say nothing about whether the service helped them.")
    return " ".join(text)


def headlines(act: dict) -> list[Headline]:
    """The executive summary's activity rows (a key missing from ``act`` shows as withheld)."""
    get = act.get
    return [
        Headline("Referrals received", fmt(get("referrals")),
                 f"for {fmt(get('patients'))} people; {fmt(get('patients_seen_pct'), 1)}% of them were seen at least "
                 "once"),
        Headline("Appointments missed or cancelled", fmt(get("dna_or_cancelled_pct"), 1, "%"),
                 f"of {fmt(get('contacts_booked'))} booked; "
                 f"{fmt(get('mean_attended_contacts_per_patient_seen'), 1)} attended per person seen"),
        Headline("Wait from referral to first contact", fmt(get("median_days_referral_to_first_contact"), 0, " days"),
                 "median"),
    ]
