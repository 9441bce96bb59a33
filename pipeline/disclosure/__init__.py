"""Statistical disclosure control: the one layer every published number passes through.

- :mod:`~pipeline.disclosure.rules`     the thresholds as arithmetic (small, rounding, bases, curve steps)
- :mod:`~pipeline.disclosure.cells`     counts as cells tied by their sums; primary and secondary suppression
- :mod:`~pipeline.disclosure.figures`   the kinds of figure and the rule that decides each
- :mod:`~pipeline.disclosure.curves`    survival / cumulative-incidence curves from rounded counts
- :mod:`~pipeline.disclosure.release`   a section's release: build the tree, decide it, keep the ledger
- :mod:`~pipeline.disclosure.statement` the disclosure statement a report carries

A withheld value is ``None`` (``null`` in JSON, ``[c]`` in tables and text).
"""

from __future__ import annotations

from ..formatting import SUPPRESSED_MARK, fmt
from .release import Published, Release, release
from .rules import Rules

__all__ = ["SUPPRESSED_MARK", "Published", "Release", "Rules", "fmt", "release"]
