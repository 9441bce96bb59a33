"""The executive summary: the headline figures with direction and uncertainty, and the caveats
that matter, written from the *published* results (so it can only repeat disclosure-controlled
numbers) and placed at the front of the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .disclosure import fmt

ONS4_LABELS = {"life_satisfaction": "Life satisfaction", "worthwhile": "Feeling things are worthwhile",
               "happiness": "Happiness", "anxiety": "Anxiety"}


@dataclass
class Headline:
    measure: str
    value: str
    reading: str


def _ok(section: Any) -> bool:
    return isinstance(section, dict) and section.get("status") != "not_run"


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _ci(ci: Any, decimals: int = 1, suffix: str = "") -> str:
    if not ci or ci[0] is None:
        return ""
    return f" (95% CI {ci[0]:.{decimals}f}{suffix} to {ci[1]:.{decimals}f}{suffix})"


def headlines(results: dict[str, Any]) -> list[Headline]:
    out: list[Headline] = []
    act = results.get("activity")
    if _ok(act):
        seen_pct = None
        if act.get("patients") and act.get("patients_seen") is not None:
            seen_pct = round(act["patients_seen"] / act["patients"] * 100, 1)
        out.append(Headline("Referrals received", fmt(act.get("referrals")),
                            f"for {fmt(act.get('patients'))} people; {fmt(seen_pct, 1)}% of them were seen at least once"))
        out.append(Headline("Appointments missed or cancelled", fmt(act.get("dna_or_cancelled_pct"), 1, "%"),
                            f"of {fmt(act.get('contacts_booked'))} booked; "
                            f"{fmt(act.get('mean_attended_contacts_per_patient_seen'), 1)} attended per person seen"))
        out.append(Headline("Wait from referral to first contact", fmt(act.get("median_days_referral_to_first_contact"), 0, " days"),
                            "median"))
    wb = results.get("wellbeing")
    if _ok(wb):
        for item in ("life_satisfaction", "anxiety"):
            d = _get(wb, "ons4", item)
            if not d or d.get("mean_change") is None:
                continue
            change = d["mean_change"]
            better = change < 0 if item == "anxiety" else change > 0
            ci = d.get("ci95")
            sure = ci and ci[0] is not None and (ci[0] > 0 or ci[1] < 0)
            direction = ("improved" if better else "worsened") if sure else "no clear change"
            out.append(Headline(f"{ONS4_LABELS[item]} (ONS4, 0–10)", f"{change:+.1f} points",
                                f"{direction}{_ci(ci)}, {fmt(d.get('n_pairs'))} people with before and after scores"))
    tg = results.get("targets")
    if _ok(tg):
        for cohort, label in (("diabetes", "diabetes"), ("severe_mental_illness", "severe mental illness")):
            bands = tg.get(cohort) or {}
            pri, aft, n = [], [], 0
            for band in bands.values():
                p0, a0 = _get(band, "prior_pct", "0"), _get(band, "after_pct", "0")
                if p0 is None or a0 is None or band.get("n") is None:
                    continue
                pri.append((100 - p0) * band["n"])
                aft.append((100 - a0) * band["n"])
                n += band["n"]
            if n:
                out.append(Headline(f"People with {label} meeting at least one target",
                                    f"{sum(pri) / n:.0f}% → {sum(aft) / n:.0f}%",
                                    f"12 months before vs after first contact, {fmt(n)} people; testing also rises "
                                    "after first contact, so part of this is more measurement"))
    gp = results.get("gp_appointments")
    if _ok(gp):
        var = gp.get("variance_pct") or {}
        cohorts = [c for c in sorted(var) if _get(var, c, "3m") is not None]
        if cohorts:
            c = cohorts[-1]
            out.append(Headline(f"GP appointments, {c} cohort", f"{var[c]['3m']:+.1f}% at 3 months",
                                f"after vs before referral (published method; {fmt(_get(var, c, '12m'), 1, '%')} at 12 months); "
                                "includes regression to the mean"))
        did = gp.get("matched_did") if isinstance(gp.get("matched_did"), dict) else None
        rr = did and (did.get("rate_ratio") if not isinstance(did.get("rate_ratio"), dict) else None)
        if rr is not None:
            out.append(Headline("GP appointments vs matched comparison", f"rate ratio {rr:.2f}",
                                f"difference-in-differences{_ci(did.get('ci95'), 2)}; the more causal-leaning estimate"))
    hs = results.get("hospital")
    if _ok(hs):
        bd, cb = _get(hs, "bed_days_saved") or {}, _get(hs, "cost_benefit") or {}
        if bd.get("mean") is not None:
            out.append(Headline("Bed days saved (the service's own estimate)", f"{bd['mean']:.1f} per referral",
                                f"{fmt(bd.get('total'), 0)} in total; notional value £{fmt(cb.get('total_gbp'), 0)} at "
                                f"£{fmt(cb.get('bed_day_tariff_gbp'), 0)} a bed day, not cash released"))
    rd = results.get("readmission")
    if _ok(rd) and rd.get("cif_30d_pct") is not None:
        bench = rd.get("benchmark_30d_pct")
        out.append(Headline("Emergency readmission within 30 days", fmt(rd["cif_30d_pct"], 1, "%"),
                            f"{_ci(rd.get('cif_30d_ci95'), 1, '%').strip()} of {fmt(rd.get('n_index'))} supported discharges"
                            + (f"; national benchmark {bench:.1f}% (spell-based, case-mix standardised: not like for like)"
                               if bench is not None else "")))
    return out


def caveats(results: dict[str, Any]) -> list[str]:
    notes = []
    if results.get("synthetic"):
        notes.append("**Synthetic data.** Every figure describes made-up patients generated to resemble published "
                     "evaluations; nothing here is evidence about a real service.")
    notes.append("**Uncontrolled design.** Before-and-after comparisons cannot separate the service's effect from "
                 "regression to the mean, seasonality and other changes; the comparative analyses say which "
                 "estimates lean causal.")
    dc = results.get("disclosure_control", {})
    if dc.get("enabled", True):
        n = len(results.get("suppressed", []))
        notes.append(f"**Small numbers.** Counts are rounded to the nearest {dc.get('rounding', 5)} and "
                     f"{n} figure{'s' if n != 1 else ''} resting on fewer than {dc.get('min_base', 8)} people "
                     "are suppressed (shown as [c]); percentages may not sum to 100.")
    else:
        notes.append("**NOT FOR PUBLICATION.** Disclosure control is switched off: exact small numbers are shown.")
    missing = [k for k, v in results.items() if isinstance(v, dict) and v.get("status") == "not_run"]
    if missing:
        notes.append("**Not available from this extract:** " + ", ".join(m.replace("_", " ") for m in missing) + ".")
    if results.get("period"):
        p = results["period"]
        notes.append(f"**Reporting period {p['label']}** ({p['start']} to {p['end']}) applies to the activity "
                     "sections; outcome sections use their own follow-up windows over the whole extract.")
    return notes


def markdown(results: dict[str, Any]) -> str:
    lines = ["# Executive summary", ""]
    heads = headlines(results)
    if heads:
        lines += ["| Measure | Figure | Reading |", "|---|---|---|"]
        lines += [f"| {h.measure} | {h.value} | {h.reading} |" for h in heads]
        lines.append("")
    lines += ["**Caveats that matter**", ""] + [f"- {c}" for c in caveats(results)]
    return "\n".join(lines)
