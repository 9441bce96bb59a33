"""The catalogue's relations (:mod:`.catalogue`) for two sections: referrals by practice against
list size (``practice_referrals``: practices add up to their PCN, PCNs to the referrals with a list
size, each rate over its patient-years, and the same referrals in the activity section of a report
on the whole extract) and caseload RAG ratings (``caseload_rag``: a month's open cases by rating,
two ratings x ratings tables with both margins, the improved / unchanged / worsened split, reviews
and cases, escalations)."""

from __future__ import annotations

from .catalogue import A, Relation, Same, Share, Sum
from .published import get

PR = "practice_referrals"
CR = "caseload_rag"
FL = f"{CR}.first_to_latest"


def _whole_report(r: dict) -> bool:
    """A report on the whole extract (not a period's): its activity section covers what the
    practice section covers."""
    return "period" not in r


def _all_with_list_size(r: dict) -> bool:
    return _whole_report(r) and get(r, (PR, "all_referrals_with_list_size")) is True


PRACTICE_CASELOAD: list[Relation] = [
    # ---- referrals by practice: practices add up to their PCN, PCNs to the referrals with a list size
    Sum(f"{PR}.by_pcn.*.referrals", f"{PR}.referrals_with_list_size", "referrals by PCN"),
    Sum(f"{PR}.by_pcn.{{p}}.practices.*.referrals", f"{PR}.by_pcn.{{p}}.referrals", "a PCN's practices"),
    Sum((f"{PR}.referrals_with_list_size", f"{PR}.referrals_without_list_size"), f"{PR}.referrals",
        "referrals with and without a list size"),
    Sum(f"{PR}.referrals_pcn_differs_from_list", f"{PR}.referrals", "some referrals", at_most=True),
    # the borough's rate is of the referrals with a list size; a PCN's or practice's all have one
    *[Share(f"{PR}.{unit}rate_per_1000_per_year", f"{PR}.{unit}patient_years", "referrals per 1,000 patient-years",
            numerator=f"{PR}.{unit}{count}", scale=1000, part=False)
      for unit, count in (("", "referrals_with_list_size"), ("by_pcn.{p}.", "referrals"),
                          ("by_pcn.{p}.practices.{c}.", "referrals"))],
    # the same referrals in the activity section of a report on the whole extract
    Sum(f"{PR}.referrals", f"{A}.referrals", "all referrals", when=_whole_report),
    Sum(f"{PR}.by_pcn.*.practices.{{c}}.referrals", f"{A}.referrals_by_practice.{{c}}", "a practice's referrals",
        at_most=True, when=_whole_report),
    Sum(f"{PR}.by_pcn.*.practices.{{c}}.referrals", f"{A}.referrals_by_practice.{{c}}",
        "a practice's referrals (all with a list size)", when=_all_with_list_size),
    # ---- caseload RAG ratings: a month's open cases by rating; two ratings x ratings tables with both margins
    Sum(f"{CR}.caseload_by_month.counts.{{m}}.*", f"{CR}.caseload_by_month.open_rated_cases.{{m}}",
        "a month's open cases by rating"),
    Share(f"{CR}.caseload_by_month.pct.{{m}}.{{r}}", f"{CR}.caseload_by_month.open_rated_cases.{{m}}",
          "share of a month's open rated cases", numerator=f"{CR}.caseload_by_month.counts.{{m}}.{{r}}"),
    *[rel for t in ("transitions", "first_to_latest") for rel in (
        Sum(f"{CR}.{t}.counts.{{a}}.*", f"{CR}.{t}.from_total.{{a}}", "a row of ratings"),
        Sum(f"{CR}.{t}.counts.*.{{b}}", f"{CR}.{t}.to_total.{{b}}", "a column of ratings"),
        Sum(f"{CR}.{t}.from_total.*", f"{CR}.{t}.total", "rows"),
        Sum(f"{CR}.{t}.to_total.*", f"{CR}.{t}.total", "columns"),
        Share(f"{CR}.{t}.row_pct.{{a}}.{{b}}", f"{CR}.{t}.from_total.{{a}}", "share of a row",
              numerator=f"{CR}.{t}.counts.{{a}}.{{b}}"))],
    *[Sum(tuple(f"{FL}.counts.{a}.{b}" for a, b in cells), f"{FL}.direction.{k}", f"{k}: cells of the table")
      for k, cells in (("improved", (("red", "amber"), ("red", "green"), ("amber", "green"))),
                       ("unchanged", (("red", "red"), ("amber", "amber"), ("green", "green"))),
                       ("worsened", (("amber", "red"), ("green", "red"), ("green", "amber"))))],
    Sum(f"{FL}.direction.*", f"{FL}.total", "improved, unchanged or worsened"),
    Share(f"{FL}.direction_pct.{{k}}", f"{FL}.total", "share of cases rated twice", numerator=f"{FL}.direction.{{k}}"),
    Sum((f"{FL}.counts.red.amber", f"{FL}.counts.red.green"), f"{FL}.first_red_left_red", "first red, left red"),
    Share(f"{FL}.first_red_left_red_pct", f"{FL}.from_total.red", "share of those first rated red",
          numerator=f"{FL}.first_red_left_red"),
    Same(f"{FL}.cases_reviewed_again", f"{FL}.total", "cases rated twice"),
    Share(f"{FL}.cases_reviewed_again_pct", f"{CR}.cases_reviewed", "share of rated cases",
          numerator=f"{FL}.cases_reviewed_again"),
    Sum(f"{CR}.reviews_by_rating.*", f"{CR}.reviews", "reviews by rating"),
    Sum((f"{CR}.transitions.total", f"{CR}.cases_reviewed"), f"{CR}.reviews", "each case's first review and the rest"),
    Sum(f"{CR}.escalations.by_rating_at_review.*", f"{CR}.escalations.escalations", "escalations by rating"),
    Sum(f"{CR}.escalations.by_month.*", f"{CR}.escalations.escalations", "escalations by month", at_most=True),
    Share(f"{CR}.escalations.pct_of_reviews_at_rating.{{r}}", f"{CR}.reviews_by_rating.{{r}}",
          "share of reviews at a rating", numerator=f"{CR}.escalations.by_rating_at_review.{{r}}"),
    Share(f"{CR}.escalations.cases_escalated_pct", f"{CR}.cases_reviewed", "share of rated cases",
          numerator=f"{CR}.escalations.cases_escalated"),
    Sum(f"{CR}.escalations.cases_escalated", f"{CR}.escalations.escalations", "a case escalated once or more",
        at_most=True),
    Sum(f"{CR}.escalations.reviews_with_no_value", f"{CR}.reviews", "some reviews", at_most=True),
]
