"""Reporting periods: a financial year (``2023-24``), a calendar quarter (``2023-Q2``) or a
month (``2023-07``), the cadence Barnet reports on.

A period report restricts the *activity* sections to the period: it covers the referrals
received in the period and the appointments, signposts and unmet needs recorded for them within
the period. The restricted extract is itself a valid contract extract (no orphans), so every
activity definition of the contract applies unchanged. Appointments in the period for people
referred earlier belong to the earlier period's report. Outcome sections keep their own windows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .errors import TargetError

if TYPE_CHECKING:  # pandas is imported where a period is built: `python -m pipeline notebooks merton`
    import pandas as pd  # starts its kernel before paying for it (pipeline/execute.py)

    from .extract import Extract

_FY = re.compile(r"^(\d{4})-(\d{2})$")
_Q = re.compile(r"^(\d{4})-Q([1-4])$")
_M = re.compile(r"^(\d{4})-(\d{2})$")

# child tables restricted to the period: (table, date column)
CHILD_TABLES = {"sp_contacts": "contact_date", "signposting": "signpost_date", "unmet_needs": "recorded_date"}


@dataclass(frozen=True)
class Period:
    label: str  # as given: "2023-24", "2023-Q2", "2023-07"
    kind: str  # "financial_year", "quarter", "month"
    start: pd.Timestamp
    end: pd.Timestamp  # inclusive

    @property
    def description(self) -> str:
        if self.kind == "financial_year":
            return f"financial year {self.start.year}/{str(self.end.year)[2:]}"
        if self.kind == "quarter":
            return f"{self.label[-2:]} {self.start.year} ({self.start:%B} to {self.end:%B})"
        return f"{self.start:%B %Y}"


class PeriodError(TargetError):
    """A reporting period label that is not one, or a period outside the extract."""


def parse_period(text: str) -> Period:
    """Parse ``2023-24`` (financial year 1 April 2023 to 31 March 2024), ``2023-Q2``
    (calendar quarter April to June 2023) or ``2023-07`` (July 2023)."""
    s = (text or "").strip()
    quarter, fy = _Q.match(s), _FY.match(s)
    if quarter or fy:  # pandas only for what may be a period (not for every folder name)
        import pandas as pd
    if quarter:
        year, q = int(quarter.group(1)), int(quarter.group(2))
        start = pd.Timestamp(year, 3 * (q - 1) + 1, 1)
        return Period(s, "quarter", start, start + pd.offsets.QuarterEnd(0))
    if fy:
        year, second = int(fy.group(1)), int(fy.group(2))
        if second == (year + 1) % 100:
            return Period(s, "financial_year", pd.Timestamp(year, 4, 1), pd.Timestamp(year + 1, 3, 31))
        if 1 <= second <= 12:
            start = pd.Timestamp(year, second, 1)
            return Period(s, "month", start, start + pd.offsets.MonthEnd(0))
    raise PeriodError(
        f"'{text}' is not a reporting period. Use a financial year like 2023-24, "
        "a calendar quarter like 2023-Q2, or a month like 2023-07.")


def check_within(period: Period, extract_start: pd.Timestamp, extract_end: pd.Timestamp) -> None:
    if period.end < extract_start or period.start > extract_end:
        raise PeriodError(
            f"period {period.label} ({period.start:%Y-%m-%d} to {period.end:%Y-%m-%d}) is outside the extract, "
            f"which covers {extract_start:%Y-%m-%d} to {extract_end:%Y-%m-%d}")


def restrict(extract: Extract, period: Period) -> Extract:
    """The extract with referrals received in the period and their child records within it.

    Other tables keyed by referral (``outcome_measures``) keep only those referrals' rows, so the
    result is a valid contract extract; patient-keyed tables are unchanged."""
    from .extract import Extract

    ref = extract["referrals"]
    keep = ref[(ref["referral_date"] >= period.start) & (ref["referral_date"] <= period.end)]
    tables = dict(extract.tables)
    tables["referrals"] = keep
    ids = set(keep["referral_id"])
    for name, t in extract.tables.items():
        if name == "referrals" or "referral_id" not in t.columns:
            continue
        keep_rows = t["referral_id"].isin(ids)
        if name in CHILD_TABLES:
            col = CHILD_TABLES[name]
            keep_rows &= (t[col] >= period.start) & (t[col] <= period.end)
        tables[name] = t[keep_rows]
    start = max(extract.config.start, period.start).date()
    end = min(extract.config.end, period.end).date()
    config = replace(extract.config, extract_start=start, extract_end=end)
    return Extract(config, tables, extract.sha256)


def split_target(target: str) -> tuple[str, Period | None]:
    """``merton`` or ``merton/2023-24`` → (slug, period)."""
    slug, _, label = target.partition("/")
    return slug, (parse_period(label) if label else None)
