"""The GP section in words: which estimate to quote, a plain reading and the executive summary's
rows, written from the *published* section only (every number quoted is a published figure)."""

from __future__ import annotations

from ...formatting import ci_text, fmt, p_text
from ...sections import Headline

CAUSAL_READING = (
    "The matched difference-in-differences rate ratio is the causal-leaning estimate: it compares the change in "
    "referred patients' GP use with the change, over the same calendar days, in similar registered patients who "
    "were not referred (same practice, age band, gender, risk band and baseline GP use), and its 'before' window "
    "ends six months before referral, so it is not flattered by the rise in GP use that leads up to a referral. "
    "The published % variance compares the months just after referral with the months just before, when GP use "
    "peaks; part of any fall it shows would have happened anyway (regression to the mean). The event study shows "
    "that peak. None of these is a trial: unrecorded reasons for referral can still differ between the groups."
)

NO_COMPARISON_READING = (
    "Without a comparison group no estimate here is causal. The published % variance compares the months just "
    "after referral with the months just before, when GP use peaks, so part of any fall it shows would have "
    "happened anyway (regression to the mean); the event study, which compares each patient's GP use after "
    "referral with their own use a year before, is the better guide to the size of any change, but it cannot "
    "separate the service's effect from other changes over time. Adding `comparison_patients` to the extract "
    "allows a matched comparison."
)


def headline_cohort(section: dict) -> str | None:
    """The cohort the reading quotes: the latest with a 12-month figure, else the latest with a 3-month one."""
    var = section.get("variance_pct") or {}
    for k in ("12m", "3m"):
        ok = [c for c in sorted(var) if var[c].get(k) is not None]
        if ok:
            return ok[-1]
    return None


def _pct_change(v: float) -> str:
    if abs(v) < 0.5:
        return "about as many"
    return f"{abs(v):.0f}% {'fewer' if v < 0 else 'more'}"


def _p_is(p: float) -> str:
    """'p = 0.508' or 'p < 0.001' for a published p-value."""
    text = p_text(p)
    return f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"


def _more_less(change_pct: float) -> str:
    return f"about {abs(change_pct):.0f}% {'fewer' if change_pct < 0 else 'more'}"


def reading(section: dict) -> str:
    """A plain-English reading of the published section (published numbers only)."""
    parts = []
    c = headline_cohort(section)
    if c is not None:
        v = section["variance_pct"][c]
        lead = next(k for k in ("3m", "6m", "9m", "12m") if v.get(k) is not None)
        months = int(lead[:-1])
        than = "as" if abs(v[lead]) < 0.5 else "than"
        s = (f"Using the published method, patients referred in {c} had {_pct_change(v[lead])} GP appointments in "
             f"the {months} months after referral {than} in the {months} months before")
        if lead != "12m" and v.get("12m") is not None:
            s += f" ({_pct_change(v['12m'])} over 12 months)"
        parts.append(s + ".")
    else:
        parts.append("Too few referred patients had GP appointment windows inside the extract to report the published "
                     "% variance.")
    q = section.get("event_study", {}).get("quarters", {})
    ref = section.get("event_study", {}).get("reference_quarter")
    r1, r2 = (q.get(k, {}).get("rate_ratio") for k in ("-1", "-2"))
    if r1 is not None and ref is not None:
        s = (f"But GP use was already rising before referral: in the three months before referral it was {r1:.2f} times "
             f"its level in quarter {ref} (about {abs(ref) * 3 - 3} to {abs(ref) * 3} months before)")
        if r2 is not None:
            s += f", and {r2:.2f} times in the three months before that"
        s += ("; a before-and-after comparison starting from that peak shows a fall that would have happened anyway "
              "(regression to the mean).")
        after = [q.get(k, {}).get("rate_ratio") for k in ("1", "2", "3", "4")]
        if all(a is not None for a in after):
            s += (f" In the four quarters after referral it was {', '.join(f'{a:.2f}' for a in after)} times that "
                  "earlier level.")
        parts.append(s)
    did = section.get("matched_did") or {}
    rr, ci, change = did.get("rate_ratio"), did.get("ci95"), did.get("change_pct")
    if did.get("status") == "ok" and rr is not None and ci is not None and change is not None:
        m = did.get("matching", {})
        sure = ci[1] < 1 or ci[0] > 1
        s = (f"The estimate that leans most towards cause compares {fmt(m.get('n_referred_matched'))} referred patients "
             f"with {fmt(m.get('n_comparison_matched'))} similar patients at the same practices who were not referred "
             "(matched on age band, gender, risk band and earlier GP use), from a baseline 6 to 12 months before "
             f"referral (before the rise) to the year after: referred patients had {_more_less(change)} GP appointments "
             f"than the comparison suggests they would have had (rate ratio {rr:.2f}, 95% CI {ci[0]:.2f} to "
             f"{ci[1]:.2f}){'' if sure else ', a difference that could be chance'}.")
        peak = did.get("sensitivity", {}).get("before_includes_peak", {}).get("rate_ratio")
        if peak is not None:
            s += (f" Had the 'before' period included the months just before referral, the same comparison would "
                  f"have given {peak:.2f}, which shows how much the pre-referral peak flatters before-and-after figures.")
        s += (" It is still not a trial: people are referred for reasons the records do not show, and those reasons "
              "may also change their GP use.")
        parts.append(s)
    else:
        parts.append("There is no matched comparison group in this extract "
                     f"({did.get('reason') or 'the model could not be estimated'}), so none of these figures can "
                     "separate the effect of social prescribing from regression to the mean and other change.")
    return " ".join(parts)


def trends_reading(did: dict) -> str:
    """A plain reading of the checks of the matched comparison's parallel-trends assumption."""
    pt = did.get("parallel_trends") or {}
    parts = []
    pl = pt.get("placebo_did") or {}
    rr, ci = pl.get("rate_ratio"), pl.get("ci95")
    if rr is not None and ci is not None:
        b, a = pl["window_days"]["before"], pl["window_days"]["after"]
        parts.append(
            f"Placebo: the same model comparing days {-b[0]} to {-b[1]} before referral with days {-a[0]} to {-a[1]} "
            f"before it (no referral in between) gives a rate ratio of {rr:.2f} (95% CI {ci_text(ci)}), "
            + ("consistent with the two groups' GP use moving together before referral." if ci[0] <= 1 <= ci[1] else
               "so the groups' GP use was already moving apart before referral: read the main estimate with care."))
    t = pt.get("pre_referral_test") or {}
    if t.get("p_value") is not None:
        qs = ", ".join(str(q) for q in t["quarters"])
        parts.append(
            f"Quarter by quarter, referred against matched comparison patients in quarters {qs} (those that end before "
            f"the 'before' window does and lie outside the matching window), a joint test gives "
            f"{_p_is(t['p_value'])}: " + ("no evidence that the groups' trends differed." if t["p_value"] >= 0.05 else
                                           "the groups' trends differed, so parallel trends is in doubt."))
    al = pt.get("all_pre_referral_test") or {}
    if al.get("p_value") is not None:
        parts.append(
            f"Over every quarter before referral the same test gives {_p_is(al['p_value'])}"
            + (": it also takes in the rise in GP use in the six months before referral, which the main estimate's "
               "'before' window leaves out, and the matching window, where comparison patients were chosen for GP use "
               "like the referred patients'." if al["p_value"] < 0.05 else
               ", no difference even including the months just before referral."))
    return " ".join(parts)


def headlines(section: dict) -> list[Headline]:
    """The section's rows of the executive summary (published figures only): the matched comparison
    first where there is one, then the published method with its caveat (quoting its 12-month
    figure where published: the 3-month one starts from the pre-referral peak and is the most
    inflated)."""
    out = []
    did = section.get("matched_did") or {}
    rr, ci, change = did.get("rate_ratio"), did.get("ci95"), did.get("change_pct")
    if rr is not None:
        out.append(Headline(
            "GP appointments vs matched comparison", f"rate ratio {rr:.2f}",
            (f"{_more_less(change)} appointments than similar patients who were not referred " if change is not None
             else "") + "(difference in differences" + (f", 95% CI {ci_text(ci)}" if ci else "")
            + "); the causal-leaning estimate, from a baseline before the pre-referral rise"))
    c = headline_cohort(section)
    if c is not None:
        v = section["variance_pct"][c]
        k = "12m" if v.get("12m") is not None else "3m"
        out.append(Headline(
            f"GP appointments, {c} cohort (published method)", f"{v[k]:+.1f}% at {k[:-1]} months",
            "after vs before referral" + (f" ({v['3m']:+.1f}% at 3 months)" if k != "3m" and v.get("3m") is not None
                                          else "")
            + "; overstates any fall: GP use peaks just before referral, so part of the fall would have happened "
              "anyway (regression to the mean)" + ("" if rr is not None else "; there is no comparison group")))
    return out
