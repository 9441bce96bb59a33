"""Link workers' RAG (red, amber, green) ratings of their caseload over time, movement between
ratings, and safeguarding escalations: the ``caseload_rag`` section
(``docs/methods-caseload-rag.md``).

The ratings follow the voluntary-sector guidance for social prescribing (Family Action, *Social
prescribing in secondary care: how to guide*, 2018, seed 004): *green*, no identified safeguarding
concern; *amber*, some concern, monitored closely in case it needs escalating; *red*, significant
concern, social services involved. The guide asks services to monitor the "RAG rated caseload
over time" and the "cases escalated". From ``caseload_reviews`` (one row per referral and review
day):

- **Caseload by month**: at the end of each month of the extract, the open cases (referred by
  then; ``closure_date`` empty or later) that have a rating by then, by their latest rating; counts
  and shares of the month's rated open cases.
- **Movement between consecutive reviews**: every pair of a referral's consecutive reviews, from
  one rating to the next (a two-way table with both margins: its unit is a pair of reviews, so a
  case reviewed often counts several times).
- **First to latest rating**: each referral with at least two reviews, its first rating against
  its latest; improved (red to amber or green, amber to green), unchanged, worsened; and the share
  of cases first rated red that left red. *Completion*: the share of rated cases with a later
  review, the base of these figures.
- **Escalations**: reviews with ``safeguarding_escalation`` true, by month and by the rating at
  the review, as a share of the reviews at each rating; cases with at least one escalation.

An uncontrolled description: a case is often referred, and first rated, at a crisis, so ratings
tend to fall back whatever the service does (regression to the mean); ratings are one worker's
judgement, not a validated measure; cases that disengage before a second review are not in the
movement tables. Over the whole extract: a period report repeats it unchanged.

Disclosure: every count is a count of people's cases or reviews, through the layer. The monthly
table, both movement tables and the escalations have their sums declared (rows, columns and
totals; reviews at a rating = those escalated + those not; cases reviewed = reviewed again + once
only; reviews = the later reviews of a pair + each case's first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..disclosure import Release
from ..extract import Extract
from ..formatting import fmt
from ..sections import Headline, NotAvailable, Section

RATINGS = ("red", "amber", "green")  # worst first
GUIDE = ("Family Action (2018), Social prescribing in secondary care: how to guide (Healthy London Partnership), "
         "'Assessment and safeguarding' and 'Monitoring and impact measurement'")
DEFINITIONS = {
    "green": "no identified safeguarding concerns",
    "amber": "some concerns about the case; monitored very closely in case it needs escalating",
    "red": "significant concern; social services involved",
}


@dataclass
class CaseloadRaw:
    start: pd.Timestamp
    end: pd.Timestamp
    months: list[str]
    by_month: dict[str, dict[str, int]]  # month -> rating -> open rated cases at the month's end
    reviews_by_rating: dict[str, int]
    transitions: dict[str, dict[str, int]]  # from -> to, consecutive reviews of a referral
    first_latest: dict[str, dict[str, int]]  # first -> latest rating, referrals with 2+ reviews
    cases_reviewed: int
    escalation_recorded: bool
    escalation_missing: int  # reviews with no value in safeguarding_escalation
    escalations_by_rating: dict[str, int]
    escalations_by_month: dict[str, int]
    cases_escalated: int

    @property
    def reviews(self) -> int:
        return sum(self.reviews_by_rating.values())


def _grid(pairs: pd.DataFrame, a: str, b: str) -> dict[str, dict[str, int]]:
    """Counts of (a, b) rating pairs as rows a x columns b, every rating in both."""
    n = pairs.groupby([a, b]).size()
    return {r: {c: int(n.get((r, c), 0)) for c in RATINGS} for r in RATINGS}


def month_labels(start: pd.Timestamp, end: pd.Timestamp) -> list[str]:
    return [str(p) for p in pd.period_range(start, end, freq="M")]


def compute(extract: Extract) -> CaseloadRaw:
    cfg = extract.config
    months = month_labels(cfg.start, cfg.end)
    rv = extract["caseload_reviews"]
    if rv.empty:
        raise NotAvailable("the caseload_reviews table has no rows")
    ref = extract["referrals"]
    closure = rv["referral_id"].map(pd.Series(ref["closure_date"].to_numpy(), index=ref["referral_id"]))
    rv = pd.DataFrame({"referral_id": rv["referral_id"].to_numpy(), "date": rv["review_date"].to_numpy(),
                       "rating": rv["rag_rating"].to_numpy(), "closure": closure.to_numpy(),
                       "escalation": rv["safeguarding_escalation"].array})
    rv = rv.sort_values(["referral_id", "date"], kind="mergesort").reset_index(drop=True)
    same = rv["referral_id"].eq(rv["referral_id"].shift(-1)).to_numpy()
    rating = rv["rating"].to_numpy()

    # caseload at each month's end: a review is the case's latest from its own month until the
    # month before the next review's month, or before the closure's (open means closed later)
    base = cfg.start.year * 12 + cfg.start.month

    def month_index(d: pd.Series) -> np.ndarray:
        return (d.dt.year * 12 + d.dt.month - base).fillna(len(months)).astype(np.int64).to_numpy()

    start = month_index(rv["date"])
    nxt = np.where(same, np.r_[start[1:], 0], len(months))
    stop = np.clip(np.minimum(nxt, month_index(rv["closure"])), 0, len(months))
    by_month: dict[str, dict[str, int]] = {m: {} for m in months}
    for r in RATINGS:
        diff = np.zeros(len(months) + 1, dtype=np.int64)
        ok = (rating == r) & (start < stop) & (start >= 0)
        np.add.at(diff, start[ok], 1)
        np.add.at(diff, stop[ok], -1)
        for m, n in zip(months, np.cumsum(diff)[:-1], strict=True):
            by_month[m][r] = int(n)

    pairs = pd.DataFrame({"from": rating[:-1][same[:-1]], "to": rating[1:][same[:-1]]})
    ends = rv.groupby("referral_id", sort=False)["rating"].agg(["first", "last", "size"])
    again = ends[ends["size"] >= 2]

    recorded = rv["escalation"].notna().to_numpy()
    esc = rv[rv["escalation"].fillna(False).to_numpy(dtype=bool)]
    esc_month = esc["date"].dt.strftime("%Y-%m")
    return CaseloadRaw(
        start=cfg.start, end=cfg.end, months=months, by_month=by_month,
        reviews_by_rating={r: int((rv["rating"] == r).sum()) for r in RATINGS},
        transitions=_grid(pairs, "from", "to"), first_latest=_grid(again, "first", "last"),
        cases_reviewed=int(len(ends)), escalation_recorded=bool(recorded.any()),
        escalation_missing=int((~recorded).sum()),
        escalations_by_rating={r: int((esc["rating"] == r).sum()) for r in RATINGS},
        escalations_by_month={m: int((esc_month == m).sum()) for m in months},
        cases_escalated=int(esc["referral_id"].nunique()))


# ---------------------------------------------------------------------------------- publish
def _two_way(rel: Release, table: Any) -> dict[str, Any]:
    """A ratings x ratings table as published: counts, both margins, the total and each row's
    shares (from the rounded counts)."""
    return {
        "counts": {r: {c: rel.count(table.cell[(r, c)]) for c in RATINGS} for r in RATINGS},
        "from_total": {r: rel.count(table.row_total[r]) for r in RATINGS},
        "to_total": {c: rel.count(table.col_total[c]) for c in RATINGS},
        "total": rel.count(table.total),
        "row_pct": {r: {c: rel.pct(table.cell[(r, c)], table.row_total[r]) for c in RATINGS} for r in RATINGS},
    }


def _direction(rel: Release, table: Any) -> dict[str, Any]:
    """First to latest: improved (a better latest rating), unchanged, worsened, as cells tied to the
    table's cells and total."""
    rank = {r: i for i, r in enumerate(RATINGS)}
    parts = {"improved": [(a, b) for a in RATINGS for b in RATINGS if rank[b] > rank[a]],
             "unchanged": [(a, a) for a in RATINGS],
             "worsened": [(a, b) for a in RATINGS for b in RATINGS if rank[b] < rank[a]]}
    cells = {}
    for k, keys in parts.items():
        cells[k] = rel.cell(sum(table.cell[x].value for x in keys), f"first_latest.{k}")
        rel.group(cells[k], [table.cell[x] for x in keys])
    rel.group(table.total, cells.values())
    left_red = rel.cell(table.row_total["red"].value - table.cell[("red", "red")].value, "first_latest.left_red")
    rel.group(left_red, [table.cell[("red", "amber")], table.cell[("red", "green")]])
    rel.group(table.row_total["red"], [left_red, table.cell[("red", "red")]])
    return {
        "direction": {k: rel.count(c) for k, c in cells.items()},
        "direction_pct": {k: rel.pct(c, table.total) for k, c in cells.items()},
        "first_red_left_red": rel.count(left_red),
        "first_red_left_red_pct": rel.pct(left_red, table.row_total["red"]),
    }


def _escalations(rel: Release, raw: CaseloadRaw, reviews: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """The escalations as published, and the cell of cases escalated (None when not recorded)."""
    if not raw.escalation_recorded:
        return {"status": "not_recorded",
                "reason": "the extract records no safeguarding escalations (safeguarding_escalation is empty)"}, None
    total = rel.cell(sum(raw.escalations_by_rating.values()), "escalations")
    by_rating = rel.split(total, raw.escalations_by_rating, "escalations.by_rating")
    for r in RATINGS:
        rest = rel.cell(reviews[r].value - by_rating[r].value, f"reviews_not_escalated[{r}]")
        rel.group(reviews[r], [by_rating[r], rest])
    by_month = rel.split(total, raw.escalations_by_month, "escalations.by_month")
    cases = rel.cell(raw.cases_escalated, "cases_escalated")
    return {
        "status": "ok",
        "escalations": rel.count(total),
        "by_rating_at_review": rel.counts(by_rating),
        "pct_of_reviews_at_rating": {r: rel.pct(by_rating[r], reviews[r]) for r in RATINGS},
        "by_month": rel.counts(by_month),
        "cases_escalated": rel.count(cases),
        "reviews_with_no_value": rel.count(raw.escalation_missing),
        "counting": "reviews with safeguarding_escalation true, by the month of the review and the rating given at it; "
                    "an empty value counts as no escalation",
    }, cases


def publish(raw: CaseloadRaw, rel: Release) -> dict[str, Any]:
    monthly = rel.table({m: raw.by_month[m] for m in raw.months}, "caseload")
    reviews_total = rel.cell(raw.reviews, "reviews")
    reviews = rel.split(reviews_total, raw.reviews_by_rating, "reviews.by_rating")
    moves = rel.table(raw.transitions, "transitions")
    ends = rel.table(raw.first_latest, "first_latest")
    cases = rel.cell(raw.cases_reviewed, "cases_reviewed")
    once = rel.cell(raw.cases_reviewed - ends.total.value, "cases_reviewed_once")
    rel.group(cases, [ends.total, once])
    rel.group(reviews_total, [moves.total, cases])  # each case's first review, and every later one
    escalations, cases_escalated = _escalations(rel, raw, reviews)
    if cases_escalated is not None:
        rel.group(cases, [cases_escalated, rel.cell(cases.value - cases_escalated.value, "cases_not_escalated")])
        escalations["cases_escalated_pct"] = rel.pct(cases_escalated, cases)
    return {
        "period_covered": {"start": raw.start.date().isoformat(), "end": raw.end.date().isoformat()},
        "ratings": list(RATINGS),
        "definitions": dict(DEFINITIONS),
        "source": GUIDE,
        "reviews": rel.count(reviews_total),
        "reviews_by_rating": rel.counts(reviews),
        "cases_reviewed": rel.count(cases),
        "caseload_by_month": {
            "counting": "open cases at the end of each month (referred by then, not yet closed) with a rating by then, "
                        "by their latest rating",
            "open_rated_cases": {m: rel.count(monthly.row_total[m]) for m in raw.months},
            "counts": {m: {r: rel.count(monthly.cell[(m, r)]) for r in RATINGS} for m in raw.months},
            "pct": {m: {r: rel.pct(monthly.cell[(m, r)], monthly.row_total[m]) for r in RATINGS} for m in raw.months},
        },
        "transitions": {
            "counting": "every pair of consecutive reviews of a referral, from the earlier rating to the later one "
                        "(a case reviewed often counts once per pair)",
            **_two_way(rel, moves),
        },
        "first_to_latest": {
            "counting": "each referral with at least two reviews: its first rating against its latest",
            **_two_way(rel, ends),
            **_direction(rel, ends),
            "cases_reviewed_again": rel.count(ends.total),
            "cases_reviewed_again_pct": rel.pct(ends.total, cases),
        },
        "escalations": escalations,
    }


# ---------------------------------------------------------------------------------- reading
def reading(pub: dict[str, Any]) -> str:
    """A plain-English reading of the published section (published figures only)."""
    fl = pub["first_to_latest"]
    parts = []
    d = fl["direction_pct"]
    if d["improved"] is not None:
        parts.append(f"Of about {fmt(fl['total'])} cases rated at least twice, {fmt(d['improved'], 1)}% had a better "
                     f"latest rating than their first, {fmt(d['unchanged'], 1)}% the same and {fmt(d['worsened'], 1)}% "
                     "a worse one.")
    if fl["first_red_left_red_pct"] is not None:
        parts.append(f"Of the cases first rated red, {fmt(fl['first_red_left_red_pct'], 1)}% were amber or green at "
                     "their latest review.")
    if fl["cases_reviewed_again_pct"] is not None:
        parts.append(f"These rest on the {fmt(fl['cases_reviewed_again_pct'], 1)}% of rated cases reviewed again; "
                     "cases that closed or disengaged after one review are not in them.")
    esc = pub["escalations"]
    if esc.get("status") == "ok" and esc["pct_of_reviews_at_rating"]["red"] is not None:
        parts.append(f"A safeguarding concern was escalated at {fmt(esc['pct_of_reviews_at_rating']['red'], 1)}% of "
                     f"reviews rated red and {fmt(esc['pct_of_reviews_at_rating']['amber'], 1)}% rated amber.")
    if not parts:
        return "Too few rated cases to publish the movement between ratings after disclosure control."
    parts.append("This is a description without a comparison group: people are often referred, and first rated, at a "
                 "crisis, so ratings tend to improve whatever the service does (regression to the mean), and a RAG "
                 "rating is a link worker's judgement, not a validated measure.")
    return " ".join(parts)


def headlines(pub: dict[str, Any]) -> list[Headline]:
    fl = pub["first_to_latest"]
    if fl["first_red_left_red_pct"] is None:
        return []
    return [Headline("Cases first rated red that were amber or green at their latest review",
                     fmt(fl["first_red_left_red_pct"], 1, "%"),
                     f"of about {fmt(fl['from_total']['red'])} cases first rated red and reviewed again; "
                     "no comparison group (regression to the mean)")]


SECTION = Section(
    name="caseload_rag",
    title="Caseload RAG ratings and safeguarding escalations",
    notebook="35_caseload_rag",
    order=35,
    required=("referrals", "caseload_reviews"),
    needs="This section needs the `caseload_reviews` table: link workers' red, amber or green rating of each case at "
          "each review, and whether a safeguarding concern was escalated.",
    compute=lambda inputs: compute(inputs.whole),
    publish=publish,
    reading=reading,
    headlines=headlines,
)
