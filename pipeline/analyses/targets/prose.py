"""The clinical-targets section in words and tables, from the *published* section only: the
Merton-style band table, the checks raised before reading it, the plain-English reading and the
executive summary's rows."""

from __future__ import annotations

import pandas as pd

from ...formatting import fmt
from ...sections import Headline
from .method import BAND_LABELS, BANDS, COHORT_LABELS, COHORTS, WINDOWS

MEASUREMENT_RISE_FLAG_PP = 10.0  # flag a rise in measurement after first contact of this many points
SUMMARY_LABELS = {"diabetes": "diabetes", "severe_mental_illness": "severe mental illness"}


def ran(section: dict, cohort: str) -> bool:
    """Whether the cohort has results (it is configured and published)."""
    det = section.get("detail", {}).get(cohort)
    return bool(det) and det.get("status") != "not_run"


def band_table(section: dict, cohort: str, window: str) -> pd.DataFrame:
    """The published distribution as the Merton table: one row per band, % meeting 0..T targets."""
    rows = []
    for b in BANDS:
        d = section[cohort][b][f"{window}_pct"]
        rows.append({"Risk band": BAND_LABELS[b], "Patients": section[cohort][b]["n"], **d})
    return pd.DataFrame(rows, dtype=object)


def flags(section: dict, cohort: str) -> list[dict]:
    """Checks to read before the tables, each judged on published figures (a check judged on an
    exact count would narrow a rounded one: "fewer than 30" about a band published as 30 says
    it holds 28 or 29). A withheld count is never 0 (zeros are published)."""
    det = section["detail"][cohort]
    out: list[dict] = []
    n_t = len(det["targets"])
    for w in WINDOWS:
        bands = [section[cohort][b] for b in BANDS]
        if any(x["n"] for x in bands) and all(x["n"] == 0 or x[f"{w}_pct"][str(n_t)] == 0 for x in bands):
            out.append({"code": "no_patient_met_all_targets", "window": w,
                        "message": f"No patient in any risk band met all {n_t} targets in the {w} window: check the "
                                   "target logic and recording before reading the table (the Merton evaluation "
                                   "raised the same question)."})
    for name, t in det["by_target"].items():
        before, after = t["prior"]["measured_pct"], t["after"]["measured_pct"]
        if before is not None and after is not None and after - before >= MEASUREMENT_RISE_FLAG_PP:
            out.append({"code": "measurement_rise", "target": name,
                        "message": f"{name.replace('_', ' ')} was recorded for at least {MEASUREMENT_RISE_FLAG_PP:.0f} "
                                   "percentage points more patients after first contact than before: part of any "
                                   "rise in targets met is more measurement, not better control."})
    small = section["detail"]["method"]["small_band_warning"]
    for b in BANDS:
        n, label = section[cohort][b]["n"], b.replace("_", " ")
        if n == 0:
            out.append({"code": "empty_band", "band": b,
                        "message": f"The {label} risk band has no eligible patients: its row is empty."})
        elif n is None or n < small:
            size = "is too small to publish" if n is None else f"is about {fmt(n)} patients (fewer than {small})"
            out.append({"code": "small_band", "band": b,
                        "message": f"The {label} risk band {size}: each patient moves its percentages by several "
                                   "points, so read its row with care."})
    missing = det["flow"]["missing_risk_band"]
    if missing is None or missing > 0:
        out.append({"code": "missing_risk_band",
                    "message": "Some eligible patients have no risk band and are in no band's row."})
    return out


REGRESSION_TO_THE_MEAN = (
    "People are often referred when their numbers are bad, and a reading taken at a bad moment tends to be followed "
    "by a better one with no help at all (regression to the mean): part of any rise in targets met after first "
    "contact would have happened anyway.")


def proportional_odds_text(models: dict) -> str:
    """What the proportional-odds check shows, in words (published figures only)."""
    po = models.get("proportional_odds") or {}
    p, p_all = (po.get("period") or {}).get("p_value"), (po.get("overall") or {}).get("p_value")
    cuts = {k: v["odds_ratio"] for k, v in (po.get("period_odds_ratio_by_cut") or {}).items()}
    if p is None:
        return "The proportional-odds assumption could not be checked here."
    ors = ", ".join(f"{fmt(v, 2)} for at least {k}" for k, v in cuts.items())
    text = (f"Proportional-odds check: fitted one cut-point at a time, the period's odds ratio is {ors} target(s) "
            f"met (test that they are equal: p = {p:.3f}; all terms together: p = {fmt(p_all, 3)}). ")
    if p < 0.05:
        return text + ("They differ, so the common odds ratio is an average over the cut-points and does not "
                       "describe each of them: read the cut-point odds ratios.")
    return text + ("There is no clear evidence that they differ, so one common odds ratio is a fair summary "
                   "(a check with little power in a small cohort cannot show that they are equal).")


def deaths_text(det: dict) -> str:
    """How patients who died in the after window are counted, and what excluding them changes."""
    died = det["flow"].get("died_in_after_window")
    sens = det.get("excluding_deaths")
    if sens is None:
        return ("This extract has no deaths table, so patients who died in the 12 months after first contact cannot "
                "be counted; the published method counts their missing measurements as targets not met.")
    per, main = sens["period"], det["models"]["period"]
    who = f"{fmt(died)} eligible patients" if died is not None else f"Some eligible patients (a number withheld, {fmt(died)})"
    text = (f"{who} died within the 12 months after first contact; the published method (kept "
            "for every figure above, to compare with the Merton evaluation) counts their missing measurements as "
            "targets not met.")
    if per["odds_ratio"] is None or main["odds_ratio"] is None:
        why = "it rests on too few deaths to publish" if died is None else "it could not be estimated"
        return text + f" A sensitivity analysis without them is not shown ({why})."
    return text + (f" Without them the common odds ratio is {fmt(per['odds_ratio'], 2)} (95% CI "
                   f"{fmt(per['ci95'][0], 2)} to {fmt(per['ci95'][1], 2)}), against {fmt(main['odds_ratio'], 2)} "
                   "with them.")


def _cohort_reading(section: dict, cohort: str) -> str:
    det = section["detail"][cohort]
    label = COHORT_LABELS[cohort].lower()
    n = det["flow"]["eligible"]
    al = det["at_least_one_target_pct"]
    if not n:
        return f"Too few people with {label} had 12 months of follow-up to report."
    s = f"About {fmt(n)} people with {label} had 12 months of follow-up after first contact."
    if al["prior"] is None or al["after"] is None:
        s += (" The share meeting at least one target before and after cannot both be shown after disclosure control "
              "(see the tables above for what can be shown).")
    else:
        s += (f" Of the {fmt(det['flow']['with_risk_band'])} with a risk band, the share meeting at least one of their "
              f"{len(det['targets'])} targets went from {fmt(al['prior'], 1)}% in the 12 months before first contact "
              f"to {fmt(al['after'], 1)}% in the 12 months after.")
    mean = det["mean_over_targets"]
    m0, m1 = mean["measured_pct"]["prior"], mean["measured_pct"]["after"]
    k0, k1 = mean["met_if_measured_pct"]["prior"], mean["met_if_measured_pct"]["after"]
    if None not in (m0, m1, k0, k1):
        s += (f" On average {fmt(m0, 1)}% had each measurement recorded in the year before and {fmt(m1, 1)}% in the "
              f"year after{' — so part of the rise is more testing' if m1 - m0 >= 5 else ''}; among those measured, "
              f"the share meeting a target went from {fmt(k0, 1)}% to {fmt(k1, 1)}%.")
    per = det["models"]["period"]
    if per["odds_ratio"] is not None and per["ci95"] is not None:
        lo, hi = per["ci95"]
        s += (f" Across risk bands, the odds of meeting more targets after first contact were {per['odds_ratio']:.1f} "
              f"times those before (95% CI {lo:.1f} to {hi:.1f}).")
        het = det["models"]["interaction_wald"]["p_value"]
        if het is not None:
            s += (" The change differed between risk bands." if het < 0.05 else
                  " There is no clear evidence that the change differed between risk bands.")
        s += " " + proportional_odds_text(det["models"])
    return s + " " + deaths_text(det)


def reading(section: dict) -> str:
    """A plain-English reading of the published section (published figures only)."""
    parts, checks = [], []
    for cohort in COHORTS:
        if not ran(section, cohort):
            continue
        parts.append(_cohort_reading(section, cohort))
        checks += [f"{COHORT_LABELS[cohort]}: {f['message']}" for f in flags(section, cohort)
                   if f["code"] in ("no_patient_met_all_targets", "small_band", "empty_band")]
    if not parts:
        return "No clinical-targets results could be reported for this extract."
    text = " ".join(parts)
    text += (" These are before-and-after figures with no comparison group: they show how recorded targets "
             "changed while people were supported, not how much of that change social prescribing caused; "
             "counting 'not measured' as 'not met' (the published method) mixes better control with more testing; "
             "and " + REGRESSION_TO_THE_MEAN[0].lower() + REGRESSION_TO_THE_MEAN[1:])
    if checks:
        text += " Check before quoting: " + " ".join(dict.fromkeys(checks))
    return text


def headlines(section: dict) -> list[Headline]:
    """Per cohort, the published share meeting at least one target before and after (over the
    patients with a risk band)."""
    out = []
    for cohort in COHORTS:
        if not ran(section, cohort):
            continue
        det = section["detail"][cohort]
        al = det["at_least_one_target_pct"]
        if al["prior"] is None or al["after"] is None:
            continue
        out.append(Headline(f"People with {SUMMARY_LABELS[cohort]} meeting at least one target",
                            f"{al['prior']:.0f}% → {al['after']:.0f}%",
                            f"12 months before vs after first contact, {fmt(det['flow']['with_risk_band'])} people "
                            "with a risk band; testing also rises after first contact, so part of this is more "
                            "measurement"))
    return out
