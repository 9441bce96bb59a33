"""What an attack reports: a :class:`Finding`, its classification and how serious it is.

Classifications (``docs/release-check.md`` explains each with an example):

- ``exact_small``: an exact count of 1..7 recovered;
- ``exact_behind_rounded``: an exact value recovered where only a rounded (or suppressed) value
  was published;
- ``bounded_small``: a hidden or unpublished count shown to lie in a narrower range than 1..7;
- ``suppressed_recovered``: a suppressed value recovered as precisely as if it had been published
  (a hidden cell pinned to within one rounding step, or a suppressed estimate read off its
  interval);
- ``shown_but_withheld``: a number shown in the HTML or the notebooks that ``results.json``
  withholds or does not hold at all;
- ``small_base``: a figure published although the published numbers show it rests on fewer
  people than the minimum base (a horizon past the follow-up);
- ``not_from_rounded``: a percentage that could not have been computed from the rounded counts
  the rules promise, with nothing exact recovered from it (a warning: the rule is broken but no
  count is exposed).

Every classification fails the release except ``not_from_rounded``, which only warns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EXACT_SMALL = "exact_small"
EXACT_BEHIND_ROUNDED = "exact_behind_rounded"
BOUNDED_SMALL = "bounded_small"
SUPPRESSED_RECOVERED = "suppressed_recovered"
SHOWN_BUT_WITHHELD = "shown_but_withheld"
SMALL_BASE = "small_base"
NOT_FROM_ROUNDED = "not_from_rounded"

#: classifications that stop a release
FAILING = (EXACT_SMALL, EXACT_BEHIND_ROUNDED, BOUNDED_SMALL, SUPPRESSED_RECOVERED, SHOWN_BUT_WITHHELD, SMALL_BASE)
#: classifications reported as warnings only
WARNING = (NOT_FROM_ROUNDED,)

MEANING = {
    EXACT_SMALL: "an exact count of 1 to 7 can be recovered",
    EXACT_BEHIND_ROUNDED: "an exact value can be recovered where only a rounded or suppressed one was published",
    BOUNDED_SMALL: "a hidden count can be shown to lie in a narrower range than 1 to 7",
    SUPPRESSED_RECOVERED: "a suppressed value can be recovered as precisely as a published one",
    SHOWN_BUT_WITHHELD: "a number is shown in the report that results.json does not publish",
    SMALL_BASE: "a figure is published on fewer people than the minimum base",
    NOT_FROM_ROUNDED: "a percentage was not computed from rounded counts (nothing exact recovered)",
}


@dataclass(frozen=True)
class Finding:
    """One thing an attacker can learn from the published report.

    ``paths`` are the JSON paths (or, for HTML and notebooks, the places) the attack read;
    ``recovered`` maps each recovered quantity to its value: an int for an exact count, a
    ``(low, high)`` pair for a bound, a float for a recovered estimate; ``how`` says in plain
    English how it was recovered.
    """

    attack: str
    classification: str
    file: str
    paths: tuple[str, ...]
    recovered: dict[str, Any] = field(hash=False)
    how: str

    def __post_init__(self) -> None:
        if self.classification not in MEANING:
            raise ValueError(f"unknown classification {self.classification!r}")

    @property
    def fails(self) -> bool:
        return self.classification in FAILING

    def text(self) -> str:
        where = ", ".join(self.paths[:4]) + (f" (+{len(self.paths) - 4} more)" if len(self.paths) > 4 else "")
        return f"{self.file}: {where}\n    {self.how}"


def small(n: int, min_count: int) -> bool:
    """A count the rules never publish (1..min_count-1)."""
    return 0 < n < min_count


def exact_class(values: list[int], min_count: int) -> str:
    """The classification of exactly recovered counts: small if any of them is."""
    return EXACT_SMALL if any(small(v, min_count) for v in values) else EXACT_BEHIND_ROUNDED
