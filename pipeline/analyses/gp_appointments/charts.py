"""The numbers the section's charts draw, as tables, from the *published* section only: the report
offers each as the chart's CSV download and table alternative. A withheld figure stays ``None``
(``[c]`` in the CSV); a figure that does not exist (the reference quarter's interval) is empty."""

from __future__ import annotations

import pandas as pd

GROUPS = (("event_study", "Referred patients"), ("event_study_comparison", "Matched comparison patients"))


def window_label(key: str) -> str:
    """'3 months' for the published window key '3m'."""
    return f"{key[:-1]} months"


def variance_chart_table(section: dict) -> pd.DataFrame:
    """The % activity variance chart: a row per financial-year cohort and window."""
    var = section["variance_pct"]
    rows = [(c, window_label(k), v) for c in sorted(var) for k, v in var[c].items()]
    return pd.DataFrame(rows, columns=["Financial year of referral", "Window before and after referral",
                                       "% change in GP appointments (after vs before)"], dtype=object)


def event_study_table(section: dict) -> pd.DataFrame:
    """The event-study chart: a row per group and quarter around referral, with the rate ratio
    against the reference quarter and its 95% interval."""
    series = {"event_study": section["event_study"],
              "event_study_comparison": section.get("matched_did", {}).get("event_study_comparison")}
    rows = []
    for key, group in GROUPS:
        if not series[key]:
            continue
        for q, e in series[key]["quarters"].items():
            if e.get("reference"):
                lo, hi = "", ""  # the reference: the ratio is 1 by definition and has no interval
            else:
                lo, hi = e.get("ci95") or (None, None)
            rows.append((group, int(q), e.get("rate_ratio"), lo, hi))
    ref = section["event_study"]["reference_quarter"]
    return pd.DataFrame(rows, columns=["Group", "Quarter relative to referral",
                                       f"Rate ratio of GP appointments (vs quarter {ref})", "95% CI low",
                                       "95% CI high"], dtype=object)
