"""The old disclosure helpers other sections still import from ``pipeline.analyses.activity``
(``data_quality``, ``inputs``) until they move to the disclosure layer; the activity section no
longer uses them. To be deleted with :mod:`pipeline.disclosure.legacy`."""

from __future__ import annotations

import math

from ...disclosure import SDC


def stat(sdc: SDC, value: float | None, base_n: int | None, key: str, decimals: int = 2,
         events: int | None = None) -> float | None:
    """:meth:`SDC.stat`, except that a figure with nothing to estimate (no value, or a base of 0) is
    ``None`` without being listed as suppressed: disclosure control did not remove it."""
    if value is None or base_n in (None, 0) or (isinstance(value, float) and math.isnan(value)):
        return None
    return sdc.stat(float(value), base_n, key, decimals=decimals, events=events)


def share(sdc: SDC, count_pub: int | None, total_raw: int, total_pub: int | None, key: str,
          decimals: int | None = None) -> float | None:
    """A percentage from *published* (rounded) counts; suppressed when the count is, or when the
    total rests on fewer than ``min_base`` people; ``None`` unrecorded when the total is 0."""
    if not total_raw:
        return None
    if count_pub is None or total_pub in (None, 0) or not sdc.base_ok(total_raw):
        return sdc.stat(None, None, key)  # records the suppression, returns None
    d = sdc.rules.pct_decimals if decimals is None else decimals
    return float(round(count_pub / total_pub * 100, d)) + 0.0


def rate(sdc: SDC, count_pub: int | None, count_raw: int, denominator: float | None, per: float, key: str,
         decimals: int = 2) -> float | None:
    """A rate per ``per`` from a published (rounded) count; suppressed with the count."""
    if denominator in (None, 0) or (isinstance(denominator, float) and math.isnan(denominator)):
        return None
    if count_raw == 0:
        return 0.0
    if count_pub is None:
        return sdc.stat(None, None, key)
    return sdc.stat(count_pub / denominator * per, count_raw, key, decimals=decimals)


def not_about_people(sdc: SDC, value: float | None, key: str, decimals: int = 2) -> float | None:
    """A figure that describes the service, not people (an FTE, a registered population, the share
    of a column filled in): passed through :meth:`SDC.stat` with a base that never suppresses."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return sdc.stat(float(value), sdc.rules.min_base, key, decimals=decimals)
