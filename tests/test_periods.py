"""Reporting periods: parsing, the restricted extract, and clear errors."""

import pandas as pd
import pytest
from notebook_runs import TINY

from pipeline.analyses import activity
from pipeline.checks import validate_extract
from pipeline.load import load_extract
from pipeline.periods import PeriodError, check_within, parse_period, restrict, split_target


@pytest.mark.parametrize("label,kind,start,end", [
    ("2023-24", "financial_year", "2023-04-01", "2024-03-31"),
    ("1999-00", "financial_year", "1999-04-01", "2000-03-31"),
    ("2023-Q1", "quarter", "2023-01-01", "2023-03-31"),
    ("2023-Q2", "quarter", "2023-04-01", "2023-06-30"),
    ("2024-Q4", "quarter", "2024-10-01", "2024-12-31"),
    ("2023-07", "month", "2023-07-01", "2023-07-31"),
    ("2024-02", "month", "2024-02-01", "2024-02-29"),
])
def test_parse(label, kind, start, end):
    p = parse_period(label)
    assert (p.kind, p.start, p.end) == (kind, pd.Timestamp(start), pd.Timestamp(end))


@pytest.mark.parametrize("bad", ["2023-13", "2023-25", "2023", "23-24", "2023-Q5", "2023/24", "", "FY2023"])
def test_malformed_periods_get_a_clear_message(bad):
    with pytest.raises(PeriodError, match="financial year like 2023-24"):
        parse_period(bad)


def test_period_outside_the_extract_is_refused():
    with pytest.raises(PeriodError, match="outside the extract"):
        check_within(parse_period("2019-20"), pd.Timestamp("2022-04-01"), pd.Timestamp("2024-03-31"))


def test_split_target():
    assert split_target("merton") == ("merton", None)
    slug, p = split_target("merton/2023-Q2")
    assert slug == "merton" and p.label == "2023-Q2"


def test_restricted_extract_is_valid_and_counts_the_period():
    ext = load_extract(TINY)
    fy = restrict(ext, parse_period("2022-23"))
    validate_extract(fy)  # still a valid contract extract: no orphans
    raw = activity.compute(fy)
    # README: 2022/23 has 7 referrals (R001..R007) for 6 patients (P001 twice)
    assert raw.referrals == 7 and raw.patients == 6
    # contacts of R001..R007 held within 2022-04-01..2023-03-31: all but R006's 2023-05-31 visit
    assert raw.contacts_booked == 5 + 3 + 2 + 2 + 3 + 3 + 3
    assert list(raw.referrals_by_month)[0] == "2022-04" and list(raw.referrals_by_month)[-1] == "2023-03"
    month = activity.compute(restrict(ext, parse_period("2023-02")))
    assert month.referrals == 1 and month.contacts_booked == 2  # R007: dna 02-21, attended 02-28
