"""The ``practices`` and ``caseload_reviews`` tables of the contract: a valid example loads, and each
broken rule is a message naming the file, the column, the row and the value (row 2 is the first
data row). Each case writes the two tables into a copy of tests/fixtures/tiny and changes one
thing."""

from __future__ import annotations

import pytest
from test_contract import add_row, find_problem, load_error, set_cell, tiny  # noqa: F401  (tiny: a fixture)

from pipeline.contract import CATEGORIES, OPTIONAL_TABLES, REFERRAL_CHILD_TABLES, TABLES
from pipeline.load import load_extract

PRACTICES = """practice_code,pcn,year,list_size
F84001,PCN North,2022/23,4000
F84001,PCN North,2023/24,4200
F84002,PCN North,2022/23,2000
F84003,PCN South,2022/23,3000
"""
REVIEWS = """referral_id,review_date,rag_rating,safeguarding_escalation
R001,2022-04-19,red,true
R001,2022-05-20,amber,false
R002,2022-05-10,green,
R004,2022-07-05,amber,no
"""


@pytest.fixture
def both(tiny):  # noqa: F811
    (tiny / "practices.csv").write_text(PRACTICES)
    (tiny / "caseload_reviews.csv").write_text(REVIEWS)
    return tiny


def test_the_tables_in_the_contract():
    assert {"practices", "caseload_reviews"} <= set(OPTIONAL_TABLES)
    assert TABLES["practices"].column_names == ["practice_code", "pcn", "year", "list_size"]
    assert TABLES["caseload_reviews"].required_columns == ["referral_id", "review_date", "rag_rating"]
    assert CATEGORIES["rag_rating"] == ["red", "amber", "green"]
    assert "caseload_reviews" in REFERRAL_CHILD_TABLES


def test_a_valid_example_loads(both):
    ex = load_extract(both)
    pr, rv = ex["practices"], ex["caseload_reviews"]
    assert pr["year"].tolist() == ["2022/23", "2023/24", "2022/23", "2022/23"]
    assert str(pr["list_size"].dtype) == "Int64" and pr["list_size"].sum() == 13200
    assert rv["safeguarding_escalation"].tolist()[:2] == [True, False] and rv["safeguarding_escalation"].isna()[2]
    assert str(rv["review_date"].dtype) == "datetime64[ns]"


def test_the_escalation_column_may_be_left_out(both):
    (both / "caseload_reviews.csv").write_text("\n".join(line.rsplit(",", 1)[0] for line in REVIEWS.splitlines()))
    assert load_extract(both)["caseload_reviews"]["safeguarding_escalation"].isna().all()


CASES = [
    ("practice code not ODS", lambda d: set_cell(d, "practices.csv", 3, "practice_code", "84001"),
     "practices.csv", "practice_code", 3, "84001", "ODS practice code"),
    ("year not written 2023/24", lambda d: set_cell(d, "practices.csv", 2, "year", "2022-23"),
     "practices.csv", "year", 2, "2022-23", "a financial year written 2023/24"),
    ("year not consecutive", lambda d: set_cell(d, "practices.csv", 4, "year", "2022/24"),
     "practices.csv", "year", 4, "2022/24", "the second part must be the year after the first"),
    ("list size zero", lambda d: set_cell(d, "practices.csv", 5, "list_size", "0"),
     "practices.csv", "list_size", 5, "0", "1 or more"),
    ("list size missing", lambda d: set_cell(d, "practices.csv", 5, "list_size", ""),
     "practices.csv", "list_size", 5, None, "empty"),
    ("a practice's year twice", lambda d: set_cell(d, "practices.csv", 3, "year", "2022/23"),
     "practices.csv", "practice_code", 3, "F84001", "more than one row for the same year"),
    ("rating not lower case", lambda d: set_cell(d, "caseload_reviews.csv", 3, "rag_rating", "Amber"),
     "caseload_reviews.csv", "rag_rating", 3, "Amber", "red, amber, green"),
    ("rating missing", lambda d: set_cell(d, "caseload_reviews.csv", 4, "rag_rating", ""),
     "caseload_reviews.csv", "rag_rating", 4, None, "empty"),
    ("review before the referral", lambda d: set_cell(d, "caseload_reviews.csv", 5, "review_date", "2022-06-30"),
     "caseload_reviews.csv", "review_date", 5, "2022-06-30", "before the referral's referral_date"),
    ("two reviews on one day", lambda d: set_cell(d, "caseload_reviews.csv", 3, "review_date", "2022-04-19"),
     "caseload_reviews.csv", "review_date", 3, "2022-04-19", "same referral on the same day"),
    ("unknown referral", lambda d: add_row(d, "caseload_reviews.csv", {"referral_id": "R999", "review_date":
                                                                       "2022-05-01", "rag_rating": "green"}),
     "caseload_reviews.csv", "referral_id", 6, "R999", "not in referrals.csv"),
    ("escalation not a boolean", lambda d: set_cell(d, "caseload_reviews.csv", 2, "safeguarding_escalation", "maybe"),
     "caseload_reviews.csv", "safeguarding_escalation", 2, "maybe", None),
    ("review date unreadable", lambda d: set_cell(d, "caseload_reviews.csv", 2, "review_date", "19/04/2022"),
     "caseload_reviews.csv", "review_date", 2, "19/04/2022", None),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_broken_rule_is_named(both, case):
    _, mutate, file, column, row, value, words = case
    mutate(both)
    p = find_problem(load_error(both), file, column, row, value)
    if words:
        assert words in p.message, p.message
