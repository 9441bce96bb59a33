"""Month labels ``YYYY-MM``: parsed, checked for consecutiveness and written out for readers."""

from __future__ import annotations

import re
from collections.abc import Sequence

MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(label: str) -> tuple[int, int] | None:
    """(year, month) for a ``YYYY-MM`` label, else None."""
    m = _MONTH.match(label)
    return (int(m.group(1)), int(m.group(2))) if m else None


def gaps_in_months(labels: Sequence[str]) -> str | None:
    """When every label is a month: why they are not consecutive months in order, or None if they are."""
    ym = [parse_month(x) for x in labels]
    if not ym or any(m is None for m in ym):
        return None
    for i in range(1, len(ym)):
        (y0, m0), (y1, m1) = ym[i - 1], ym[i]
        if y1 * 12 + m1 != y0 * 12 + m0 + 1:
            return (f"month {labels[i]} does not follow {labels[i - 1]}: give every month in order, "
                    "with None for a month that has no published value")
    return None


def month_name(label: str) -> str:
    """``2021-04`` -> ``April 2021``; any other label unchanged."""
    ym = parse_month(label)
    return f"{MONTH_NAMES[ym[1] - 1]} {ym[0]}" if ym else label


def month_abbr(label: str) -> str:
    """``2021-04`` -> ``Apr 2021`` (for axis ticks); any other label unchanged."""
    ym = parse_month(label)
    return f"{MONTH_NAMES[ym[1] - 1][:3]} {ym[0]}" if ym else label
