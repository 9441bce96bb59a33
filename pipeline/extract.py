"""The typed, validated extract that every stage after loading works with.

Conventions for the tables in :attr:`Extract.tables` (what :mod:`pipeline.load` produces and
:mod:`pipeline.synthetic` data must survive):

- dates are ``datetime64[ns]`` (naive, midnight), missing = ``NaT``;
- booleans are pandas nullable ``"boolean"``;
- integers are nullable ``"Int64"``; other numbers ``float64``;
- ids (``patient_id``, ``referral_id``, ...) and category values are Python strings
  (pandas ``object`` dtype), missing = ``None``/``NaN``;
- only contract columns are kept, in contract order; extra input columns are dropped after
  validation;
- a table absent from the extract is absent from the dict (optional tables).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported where a timestamp is made: publishing needs none
    import pandas as pd


@dataclass
class ExtractConfig:
    """The validated contents of ``extract.yml``."""

    slug: str
    borough: str  # display name
    ons_code: str
    extract_start: date
    extract_end: date
    registered_population: int
    referral_target_monthly: tuple[int, int] | None = None
    readmission_benchmark_30d_pct: float | None = None
    date_format: str | None = None
    synthetic: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # any other keys, kept verbatim

    @property
    def start(self) -> pd.Timestamp:
        import pandas as pd

        return pd.Timestamp(self.extract_start)

    @property
    def end(self) -> pd.Timestamp:
        import pandas as pd

        return pd.Timestamp(self.extract_end)


@dataclass
class Extract:
    config: ExtractConfig
    tables: dict[str, pd.DataFrame]
    sha256: str  # hash over extract.yml and every table file, in name order

    def has(self, *names: str) -> bool:
        return all(n in self.tables for n in names)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]
