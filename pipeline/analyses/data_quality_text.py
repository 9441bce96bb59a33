"""The data-quality section in words: one sentence for each gap found, saying how it limits the
analyses, written from the *published* section only (so it can only repeat disclosure-controlled
figures)."""

from __future__ import annotations

from typing import Any

from ..formatting import fmt

COMPLETE_ENOUGH_PCT = 95.0  # a column filled in for fewer rows than this gets a limitation sentence
TREND_POINTS = 10.0  # a change in a column's completeness between the first and last year worth a sentence

#: how a gap in an optional column limits the analyses (table.column -> consequence)
CONSEQUENCES: dict[str, str] = {
    "referrals.first_contact_date": "the wait from referral to first contact covers only referrals with a first "
    "contact date, and the GP-appointment and clinical-target analyses that start at first contact lose the rest",
    "referrals.closure_date": "closure reasons and lengths of support describe only the referrals that were closed",
    "referrals.closure_reason": "closure reasons describe only the referrals that record one",
    "referrals.imd_decile": "deprivation breakdowns and the Core20 share leave these referrals out, and a "
    "matched comparison on deprivation cannot use them",
    "referrals.risk_band": "these referrals are excluded from the clinical targets by risk band",
    "referrals.diabetes": "people with no diabetes flag are left out of the diabetes target cohort, so it is "
    "undercounted",
    "referrals.severe_mental_illness": "people with no SMI flag are left out of the severe mental illness target "
    "cohort, so it is undercounted",
    "referrals.carer": "the share of carers is a minimum: an empty cell may be a carer not recorded as one",
    "referrals.service_outcome": "hospital outcomes (admissions avoided, discharges expedited) cover only the "
    "referrals that record one; an empty cell is not evidence that nothing was achieved",
    "referrals.bed_days_saved": "bed days saved and their cost cover only the referrals with an estimate",
    "referrals.health_budget_gbp": "personal health budget totals cover only referrals with a recorded amount; an "
    "empty cell cannot be told apart from no budget",
    "sp_contacts.contact_type": "appointments with no type appear as 'not recorded' in the tables by type",
    "sp_contacts.duration_minutes": "appointment lengths describe only appointments with a duration",
    "comparison_patients.imd_decile": "the comparison pool's deprivation profile, and matching on deprivation, "
    "leave these patients out",
    "comparison_patients.risk_band": "matching on risk band leaves these comparison patients out",
    "comparison_patients.diabetes": "matching on the diabetes register treats these comparison patients as unknown",
    "comparison_patients.severe_mental_illness": "matching on the SMI register treats these comparison patients "
    "as unknown",
    "gp_appointments.clinician_role": "GP-practice appointments cannot be split by clinician for these rows",
}
#: columns that are empty by design for some rows: judged by the conditional completeness instead
CONDITIONAL_ONLY = {"sp_contacts.duration_minutes", "referrals.closure_reason", "referrals.closure_date",
                    "referrals.first_contact_date"}


SINGULAR = {"are": "is", "were": "was", "have": "has", "appear": "appears", "lie": "lies"}


def limitations(pub: dict[str, Any]) -> list[str]:
    """One sentence per gap found in the published section ``pub``."""
    out: list[str] = []
    for name, cond in pub["completeness_where_it_matters"].items():
        p = cond["pct"]
        if p is not None and p < COMPLETE_ENOUGH_PCT and name in CONSEQUENCES:
            out.append(f"`{cond['column']}` is filled in for {p:.1f}% of {cond['among']} (`{cond['table']}`): "
                       f"{CONSEQUENCES[name]}.")
    for t, cols in pub["completeness"].items():
        for c, p in cols.items():
            key = f"{t}.{c}"
            if key in CONDITIONAL_ONLY:
                continue
            if key in CONSEQUENCES and p is not None and p < COMPLETE_ENOUGH_PCT:
                what = "empty in this extract" if p == 0 else f"filled in for {p:.1f}% of rows"
                out.append(f"`{c}` in `{t}` is {what}: {CONSEQUENCES[key]}.")
    about = "About " if pub["counts_rounded"] else ""
    for ch in pub["checks"].values():
        if ch["records"] == 0:
            continue
        desc, unit = ch["description"], ch["unit"]
        if ch["records"] is None:  # withheld: a small number, or hidden so that one cannot be worked out
            n = f"Some {unit} (a number withheld by disclosure control)"
        else:
            if ch["records"] == 1:
                unit = unit[:-1] if unit.endswith("s") else unit
                verb, _, rest = desc.partition(" ")
                desc = f"{SINGULAR.get(verb, verb)} {rest}"
            n = f"{about}{fmt(ch['records'])} {unit}"
        pct = "" if ch["pct"] is None else f" ({ch['pct']:.1f}% of those checked)"
        lim = ch["limitation"]
        out.append(f"{n}{pct} in `{ch['table']}` {desc}. {lim[0].upper()}{lim[1:]}.")
    for c, years in pub["completeness_by_year"].items():
        shown = [(y, v) for y, v in years.items() if v is not None]
        if f"referrals.{c}" in CONDITIONAL_ONLY or len(shown) < 2:
            continue
        (y0, v0), (y1, v1) = shown[0], shown[-1]
        if abs(v1 - v0) >= TREND_POINTS:
            way = "improved" if v1 > v0 else "fell"
            out.append(f"Recording of `{c}` {way} from {v0:.0f}% of referrals in {y0} to {v1:.0f}% in {y1}: "
                       "comparisons between years partly reflect recording, not only the service.")
    absent = [t for t, v in pub["tables"].items() if not v["present"]]
    if absent:
        out.append("Not provided: " + ", ".join(f"`{t}`" for t in absent) + ". The sections that need them say "
                   "so and are not run.")
    return out


def reading(pub: dict[str, Any]) -> str:
    """The limitations as a list, and what to make of them."""
    lim = limitations(pub)
    head = ("\n".join(f"- {s}" for s in lim) if lim else
            "No gaps found: every optional column is at least 95% complete where it is due, and no record fails a "
            "check.")
    return head + ("\n\nGaps in recording are common in social prescribing data and are rarely random: a field left "
                   "empty more often for people seen once, or in busier practices, biases the figures built on it. "
                   "Read each section with the sentences above in mind.")
