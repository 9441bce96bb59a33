"""The errors the command line reports as messages, not tracebacks.

- :class:`DataError` (and :class:`ConfigError`): the user's extract or settings break the data
  contract. It carries one or more :class:`Problem` records (file, column, rows, values).
- :class:`TargetError`: the command asked for something that is not there or is malformed: an
  unknown borough, a target that is not a slug or ``slug/period``, a bad period label, a
  notebook that does not exist.

Both are the user's to fix: the command line prints them and exits with status 2, publishing
nothing. :class:`BuildError` is a build step that stopped for a reason its message explains (a
notebook failed, an identifier was found in the report, the renderer failed): status 1, no
traceback. Anything else is a bug and propagates with its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Problem:
    """One defect in an extract.

    ``rows`` are 1-based data row numbers as a user sees them in a spreadsheet *below the
    header* (the first data row is row 2 of the CSV file, and is reported as ``row 2``).
    """

    file: str  # e.g. "referrals.csv" or "extract.yml"
    message: str  # what is wrong, in plain words
    column: str | None = None
    rows: Sequence[int] = field(default_factory=tuple)
    values: Sequence[object] = field(default_factory=tuple)
    count: int | None = None  # total number of offending rows, when more than shown

    def __str__(self) -> str:
        where = self.file
        if self.column:
            where += f", column '{self.column}'"
        text = f"{where}: {self.message}"
        if self.rows:
            shown = list(self.rows)[:MAX_EXAMPLES]
            vals = list(self.values)[:MAX_EXAMPLES]
            total = self.count if self.count is not None else len(self.rows)
            label = "row" if total == 1 else "rows"
            pairs = []
            for i, r in enumerate(shown):
                if i < len(vals):
                    pairs.append(f"{r} ({_fmt(vals[i])})")
                else:
                    pairs.append(str(r))
            text += f" [{label} " + ", ".join(pairs)
            if total > len(shown):
                text += f" and {total - len(shown)} more"
            text += "]"
        elif self.values:
            text += " [value " + ", ".join(_fmt(v) for v in list(self.values)[:MAX_EXAMPLES]) + "]"
        return text


def _fmt(v: object) -> str:
    if v is None:
        return "empty"
    try:
        import pandas as pd

        if pd.isna(v):  # type: ignore[arg-type]
            return "empty"
    except (TypeError, ValueError, ImportError):
        pass
    return repr(str(v))


class DataError(Exception):
    """The extract breaks the data contract. ``problems`` lists every defect found."""

    def __init__(self, problems: Problem | Iterable[Problem]):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(self.format())

    def format(self) -> str:
        n = len(self.problems)
        head = f"The extract has {n} problem{'s' if n != 1 else ''}:"
        return "\n".join([head] + [f"  - {p}" for p in self.problems])


class ConfigError(DataError):
    """A settings file (extract.yml, settings.yml, config/*.yml) is invalid."""


class TargetError(ValueError):
    """What the command asked for is not there or is malformed (an unknown borough, a bad target
    or period label, an unknown notebook); the message says what exists or what is expected."""


class BuildError(RuntimeError):
    """A build step stopped for a reason its message explains (not a bug in the pipeline)."""
