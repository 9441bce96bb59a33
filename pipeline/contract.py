"""Data contract v1 (``shared/data-contract.md`` section 1) as data, pandera schemas and rules.

What lives here:

- :data:`TABLES`: every contract table, in contract order, as a :class:`TableSpec` holding
  its :class:`ColumnSpec` list (type, required or optional, allowed values, ranges, pattern,
  uniqueness). :data:`REQUIRED_TABLES` / :data:`OPTIONAL_TABLES` split them.
- :data:`CATEGORIES` (allowed values by column name), :data:`ONS4_ITEMS`,
  :data:`CLINICAL_MEASURE_RANGES`.
- :func:`schema`: the pandera ``DataFrameSchema`` of one table *after* typing (the
  conventions of :mod:`pipeline.extract`). It checks dtypes, missing values, allowed values,
  ranges, patterns and uniqueness, column by column.
- :func:`check_tables`: runs every schema plus the rules that need several columns or several
  tables (dates in order, orphans, per-measure ranges, ONS4 scores, quarter starts, the NHS
  number refusal) and returns a list of :class:`~pipeline.errors.Problem`.
- :func:`validate_extract`: the same for an in-memory :class:`~pipeline.extract.Extract`
  (e.g. synthetic data); raises :class:`~pipeline.errors.DataError`.

"required" on a column means the column must be present *and* every row must have a value.
An optional column may be left out of the file entirely (it is then all-missing) or have
empty cells. Tables the contract describes in prose (signposting, unmet_needs, ...) have
every listed column required unless the contract calls it optional or says "same rules as in
referrals".

Row numbers: :func:`check_tables` takes the row number a user sees from each table's
index (:mod:`pipeline.load` sets it: the header is row 1, the first data row is row 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Iterable, Literal, Mapping, Sequence

import numpy as np
import pandas as pd
import pandera.pandas as pa

from . import CONTRACT_VERSION  # noqa: F401  (one number for the whole package)
from .errors import MAX_EXAMPLES, DataError, Problem
from .measures import CLINICAL_MEASURE_RANGES, CLINICAL_MEASURE_UNITS, CLINICAL_WHOLE_MEASURES  # noqa: F401
from .textcodes import Codes

ColumnType = Literal["string", "date", "boolean", "integer", "number", "category"]

#: pandas dtype of each contract type after loading (the :mod:`pipeline.extract` conventions).
DTYPES: dict[str, Any] = {
    "string": object,
    "category": object,
    "date": "datetime64[ns]",
    "boolean": "boolean",
    "integer": "Int64",
    "number": "float64",
}

# --------------------------------------------------------------------------------------------
# Allowed values
# --------------------------------------------------------------------------------------------

ONS4_ITEMS: list[str] = ["life_satisfaction", "worthwhile", "happiness", "anxiety"]
ONS4_INSTRUMENT = "ons4"
ONS4_SCORE_RANGE = (0, 10)

#: allowed values, keyed by column name (the same list wherever the column appears).
CATEGORIES: dict[str, list[str]] = {
    "referral_source": [
        "gp",
        "nurse",
        "other_primary_care",
        "secondary_care",
        "social_care",
        "vcse",
        "self",
        "other",
    ],
    "referral_reason": [
        "mental_health",
        "social_isolation",
        "financial",
        "housing",
        "carer_support",
        "long_term_condition",
        "physical_activity",
        "employment",
        "bereavement",
        "other",
    ],
    "closure_reason": [
        "completed",
        "declined",
        "not_suitable",
        "disengaged",
        "died",
        "moved_away",
        "other",
    ],
    "gender": ["female", "male", "other", "not_stated"],
    "ethnicity": ["asian", "black", "mixed", "white", "other", "not_stated"],
    "risk_band": ["very_high", "high", "medium", "low"],
    "service_outcome": ["admission_avoided", "discharge_expedited", "other"],
    "status": ["attended", "dna", "cancelled"],
    "contact_type": ["face_to_face", "telephone", "video", "home_visit", "group"],
    "service_category": [
        "mental_health",
        "social_activity",
        "physical_activity",
        "financial_advice",
        "housing",
        "carer_support",
        "food",
        "legal_advice",
        "employment",
        "befriending",
        "other",
    ],
    "clinician_role": ["gp", "nurse", "other"],
    "measure": list(CLINICAL_MEASURE_RANGES),
    "admission_method": ["emergency", "elective", "other"],
    "ons4_item": ONS4_ITEMS,
}

PRACTICE_CODE_PATTERN = r"^[A-Z][0-9]{5}$"
SNAKE_CASE_PATTERN = r"^[a-z0-9]+(_[a-z0-9]+)*$"

# NHS-number refusal: a patient_id column is refused when at least this share of its
# non-missing values are valid NHS numbers.
NHS_NUMBER_SHARE = 0.9

# --------------------------------------------------------------------------------------------
# Specs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: ColumnType
    required: bool = True  # column present and every value filled
    categories: str | None = None  # key into CATEGORIES
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    pattern_hint: str | None = None  # plain-English description of the pattern
    unique: bool = False
    description: str = ""

    @property
    def dtype(self) -> Any:
        return DTYPES[self.type]

    @property
    def allowed(self) -> list[str] | None:
        return CATEGORIES[self.categories] if self.categories else None


@dataclass(frozen=True)
class TableSpec:
    name: str
    required: bool
    columns: tuple[ColumnSpec, ...]
    description: str = ""
    _by_name: dict[str, ColumnSpec] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({c.name: c for c in self.columns})

    def column(self, name: str) -> ColumnSpec:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def optional_columns(self) -> list[str]:
        return [c.name for c in self.columns if not c.required]

    @property
    def dtypes(self) -> dict[str, Any]:
        return {c.name: c.dtype for c in self.columns}


def _s(name: str, required: bool = True, **kw: Any) -> ColumnSpec:
    return ColumnSpec(name, "string", required, **kw)


def _d(name: str, required: bool = True, **kw: Any) -> ColumnSpec:
    return ColumnSpec(name, "date", required, **kw)


def _b(name: str, required: bool = True, **kw: Any) -> ColumnSpec:
    return ColumnSpec(name, "boolean", required, **kw)


def _i(name: str, required: bool = True, **kw: Any) -> ColumnSpec:
    return ColumnSpec(name, "integer", required, **kw)


def _n(name: str, required: bool = True, **kw: Any) -> ColumnSpec:
    return ColumnSpec(name, "number", required, **kw)


def _c(name: str, required: bool = True, categories: str | None = None, **kw: Any) -> ColumnSpec:
    return ColumnSpec(name, "category", required, categories=categories or name, **kw)


def _practice(required: bool = True) -> ColumnSpec:
    return _s(
        "practice_code",
        required,
        pattern=PRACTICE_CODE_PATTERN,
        pattern_hint="an ODS practice code: one capital letter then five digits, e.g. F84001",
        description="ODS code of the registered practice",
    )


def _snake(name: str, description: str = "") -> ColumnSpec:
    return ColumnSpec(
        name,
        "category",
        True,
        pattern=SNAKE_CASE_PATTERN,
        pattern_hint="lower-case snake case, e.g. ons4 or life_satisfaction",
        description=description,
    )


_TABLE_LIST = [
    TableSpec(
        "referrals",
        True,
        (
            _s("referral_id", unique=True),
            _s("patient_id"),
            _practice(),
            _s("pcn", description="Primary Care Network name or code"),
            _d("referral_date", description="within extract_start..extract_end"),
            _c("referral_source"),
            _c("referral_reason"),
            _d("first_contact_date", False, description="on or after referral_date; empty = never seen"),
            _d("closure_date", False, description="on or after referral_date and first_contact_date"),
            _c("closure_reason", False, description="required when closure_date is given"),
            _i("age", min=0, max=120, description="at referral"),
            _c("gender"),
            _c("ethnicity"),
            _i("imd_decile", False, min=1, max=10, description="1 (most deprived) .. 10"),
            _c("risk_band", False),
            _b("diabetes", False),
            _b("severe_mental_illness", False),
            _b("carer", False),
            _c("service_outcome", False),
            _n("bed_days_saved", False, min=0),
            _n("health_budget_gbp", False, min=0),
        ),
        "one row per referral to the service",
    ),
    TableSpec(
        "sp_contacts",
        True,
        (
            _s("referral_id"),
            _d("contact_date", description="on or after the referral's referral_date"),
            _c("status"),
            _c("contact_type", False),
            _i("duration_minutes", False, min=0, max=480),
        ),
        "link-worker appointments",
    ),
    TableSpec(
        "outcome_measures",
        False,
        (
            _s("referral_id"),
            _d("assessment_date"),
            _snake("instrument", "ons4; other instruments are carried"),
            _snake("item", "for ons4: life_satisfaction, worthwhile, happiness, anxiety"),
            _n("score", description="for ons4: whole number 0..10"),
        ),
        "patient-reported measures, long format",
    ),
    TableSpec(
        "signposting",
        False,
        (
            _s("referral_id"),
            _d("signpost_date"),
            _s("service_name"),
            _c("service_category"),
        ),
        "onward referrals and signposts",
    ),
    TableSpec(
        "unmet_needs",
        False,
        (
            _s("referral_id"),
            _d("recorded_date"),
            _s("need", description="free text label"),
        ),
        "needs with no service to meet them",
    ),
    TableSpec(
        "gp_appointments",
        False,
        (
            _s("patient_id"),
            _d("appointment_date"),
            _c("clinician_role", False),
        ),
        "one row per attended GP-practice appointment",
    ),
    TableSpec(
        "comparison_patients",
        False,
        (
            _s("patient_id"),
            _practice(),
            _i("age", min=0, max=120),
            _c("gender"),
            _i("imd_decile", False, min=1, max=10),
            _c("risk_band", False),
            _b("diabetes", False),
            _b("severe_mental_illness", False),
        ),
        "registered patients never referred",
    ),
    TableSpec(
        "clinical_measurements",
        False,
        (
            _s("patient_id"),
            _d("measurement_date"),
            _c("measure"),
            _n("value", description="within the measure's range"),
        ),
        "clinical measurements (may predate extract_start)",
    ),
    TableSpec(
        "hospital_spells",
        False,
        (
            _s("patient_id"),
            _d("admission_date"),
            _d("discharge_date", description="on or after admission_date"),
            _c("admission_method"),
            _b("sp_index"),
        ),
        "hospital spells",
    ),
    TableSpec(
        "deaths",
        False,
        (
            _s("patient_id", unique=True),
            _d("date_of_death"),
        ),
        "deaths",
    ),
    TableSpec(
        "pcn_quarterly",
        False,
        (
            _s("pcn"),
            _d("quarter_start", description="first day of a calendar quarter"),
            _i("registered_population", min=0),
            _n("splw_fte", min=0),
            _n("ae_attendances", min=0),
            _n("nonelective_cost_gbp", min=0),
        ),
        "PCN panel for workforce regressions",
    ),
]

#: table name -> spec, in contract order
TABLES: dict[str, TableSpec] = {t.name: t for t in _TABLE_LIST}
REQUIRED_TABLES: list[str] = [t.name for t in _TABLE_LIST if t.required]
OPTIONAL_TABLES: list[str] = [t.name for t in _TABLE_LIST if not t.required]
#: tables whose referral_id must exist in referrals
REFERRAL_CHILD_TABLES: list[str] = ["sp_contacts", "outcome_measures", "signposting", "unmet_needs"]


# --------------------------------------------------------------------------------------------
# pandera schemas
# --------------------------------------------------------------------------------------------


def _fmt_num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _range_text(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"must be between {_fmt_num(lo)} and {_fmt_num(hi)}"
    if lo == 0:
        return "must not be negative (0 or more)"
    if lo is not None:
        return f"must be {_fmt_num(lo)} or more"
    return f"must be {_fmt_num(hi)} or less"  # type: ignore[arg-type]


def _allowed_text(values: Sequence[str]) -> str:
    return "is not an allowed value; use one of " + ", ".join(values) + " (lower case, exactly as listed)"


def _matches(pattern: str):
    """pandera's ``str_matches`` (``str.match(pattern, na=False)``), evaluated once per distinct
    value: a practice code repeats thousands of times in a big table."""

    def check(s: pd.Series) -> pd.Series:
        values = s.to_numpy(dtype=object, copy=False)
        u = pd.Series(pd.unique(values), dtype=object)
        ok = u.str.match(pattern, na=False).to_numpy(dtype=bool)
        if ok.all():
            return pd.Series(True, index=s.index)
        return s.isin(u[ok]) if ok.any() else pd.Series(False, index=s.index)

    return check


def _column_schema(col: ColumnSpec, text_dtype: Any = str, complete: bool = False) -> pa.Column:
    """``complete``: the column is known to hold no missing value, so pandera need not look for
    any (the same outcome, one pass fewer over a big column)."""
    checks: list[pa.Check] = []
    na = {"ignore_na": not complete}
    if col.allowed is not None:
        checks.append(pa.Check.isin(col.allowed, error=_allowed_text(col.allowed), **na))
    if col.pattern:
        checks.append(pa.Check(_matches(col.pattern), error=f"must be {col.pattern_hint}", **na))
    if col.min is not None and col.max is not None:
        checks.append(pa.Check.in_range(col.min, col.max, error=_range_text(col.min, col.max)))
    elif col.min is not None:
        checks.append(pa.Check.ge(col.min, error=_range_text(col.min, None)))
    elif col.max is not None:
        checks.append(pa.Check.le(col.max, error=_range_text(None, col.max)))
    dtype = text_dtype if col.type in ("string", "category") else col.dtype
    nullable = complete or not col.required
    return pa.Column(dtype, checks, nullable=nullable, unique=col.unique, required=True, name=col.name)


_SCHEMAS: dict[tuple[str, bool, frozenset[str]], pa.DataFrameSchema] = {}


def schema(table: str, *, text_checked: bool = False, complete: Iterable[str] = ()) -> pa.DataFrameSchema:
    """The pandera schema of a typed table: exactly the contract columns, in order.

    ``text_checked=True`` leaves out the ``str`` type check of the text columns (pandera tests
    every value with ``isinstance``), for a table whose text columns are known to hold only text.
    ``complete`` names columns known to hold no missing value: pandera does not look for any."""
    key = (table, text_checked, frozenset(complete))
    if key not in _SCHEMAS:
        spec = TABLES[table]
        _SCHEMAS[key] = pa.DataFrameSchema(
            {c.name: _column_schema(c, None if text_checked else str, c.name in key[2]) for c in spec.columns},
            strict=True,
            ordered=True,
            name=table,
        )
    return _SCHEMAS[key]


def _only_text(s: pd.Series, codes: Codes | None = None) -> bool:
    """Every value is a string or missing (what pandera's ``str`` check accepts), found in C (on
    the distinct values, when ``codes`` describe ``s``)."""
    if s.dtype != object:
        return False
    k = Codes.of(s, codes)
    return pd.api.types.infer_dtype(s if k is None else k.uniques, skipna=True) in ("string", "empty")


# --------------------------------------------------------------------------------------------
# NHS numbers
# --------------------------------------------------------------------------------------------

_NHS_WEIGHTS = np.arange(10, 1, -1)  # 10, 9, ..., 2
_SEPARATORS = re.compile(r"[\s-]")


def is_valid_nhs_number(s: object) -> bool:
    """True when ``s`` is a 10-digit NHS number with a valid Modulus 11 check digit.

    Spaces and hyphens (``943 476 5919``) are ignored. The check digit is
    ``11 - (sum of the first nine digits weighted 10..2) mod 11``; 11 becomes 0 and 10 means
    the number is invalid.
    """
    if s is None or isinstance(s, bool):
        return False
    text = _SEPARATORS.sub("", str(s))
    if len(text) != 10 or not text.isascii() or not text.isdigit():
        return False
    digits = [int(c) for c in text]
    check = 11 - sum(d * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    if check == 11:
        check = 0
    return check != 10 and check == digits[9]


def nhs_number_mask(values: pd.Series) -> pd.Series:
    """Boolean Series (same index): which values are valid NHS numbers. Vectorised."""
    out = pd.Series(False, index=values.index)
    v = values.dropna()
    if v.empty:
        return out
    v = v.astype(str).str.replace(r"[\s-]", "", regex=True)
    ten = v.str.fullmatch(r"[0-9]{10}").fillna(False).astype(bool)
    v = v[ten]
    if v.empty:
        return out
    digits = (np.frombuffer("".join(v.tolist()).encode("ascii"), dtype=np.uint8) - 48).reshape(-1, 10)
    check = 11 - (digits[:, :9].astype(np.int64) @ _NHS_WEIGHTS) % 11
    check[check == 11] = 0
    ok = (check != 10) & (check == digits[:, 9])
    out.loc[v.index] = ok
    return out


def looks_like_nhs_numbers(values: pd.Series, share: float = NHS_NUMBER_SHARE) -> bool:
    present = values.dropna()
    if present.empty:
        return False
    return bool(nhs_number_mask(present).mean() >= share)


# --------------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------------


def problem_at(
    file: str, column: str | None, message: str, rows: Iterable[Any], values: Sequence[Any] | None = None
) -> Problem:
    """A Problem for the offending ``rows`` (row numbers), showing the first few as examples."""
    rows = [int(r) for r in rows]
    return Problem(
        file=file,
        column=column,
        message=message,
        rows=tuple(rows[:MAX_EXAMPLES]),
        values=tuple(values[:MAX_EXAMPLES]) if values is not None else (),
        count=len(rows),
    )


def _display(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        return None if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return v


class _Ctx:
    """Finds files and the raw value a user typed, by table and row number."""

    def __init__(
        self,
        tables: Mapping[str, pd.DataFrame],
        files: Mapping[str, str] | None,
        raw: Mapping[str, pd.DataFrame] | None,
        unreadable: Mapping[str, Mapping[str, Iterable[int]]] | None = None,
    ):
        self.tables = tables
        self.files = dict(files or {})
        self.raw = dict(raw or {})
        self.unreadable = {t: {c: set(map(int, r)) for c, r in cols.items()} for t, cols in (unreadable or {}).items()}

    def file(self, table: str) -> str:
        return self.files.get(table, f"{table}.csv")

    def values(self, table: str, column: str, rows: Sequence[Any]) -> list[Any]:
        rows = list(rows)[:MAX_EXAMPLES]
        src = self.raw.get(table)
        if src is None or column not in src.columns:
            src = self.tables[table]
        col = src[column]
        return [_display(col.loc[r]) for r in rows]

    def at(self, table: str, column: str, message: str, mask: pd.Series) -> Problem | None:
        if not bool(mask.any()):
            return None
        rows = mask.index[mask.to_numpy(dtype=bool)]
        return problem_at(self.file(table), column, message, rows, self.values(table, column, rows))


_PANDERA_MESSAGES = {
    "not_nullable": "is empty, but a value is required",
    "field_uniqueness": "has repeated values, but each value must be unique",
}


def _schema_problems(
    table: str, df: pd.DataFrame, ctx: _Ctx, codes: Mapping[str, Codes] | None = None
) -> list[Problem]:
    file = ctx.file(table)
    spec = TABLES[table]
    out: list[Problem] = []
    # pandera accepts a pandas categorical for ``str``; the conventions want plain objects
    for col in spec.columns:
        if col.dtype is object and col.name in df.columns and df[col.name].dtype != object:
            out.append(
                Problem(
                    file=file,
                    column=col.name,
                    message=f"has the wrong data type: expected {col.type} (object), got {df[col.name].dtype}",
                )
            )
    text = [c.name for c in spec.columns if c.dtype is object and c.name in df.columns]
    known = {c: Codes.of(df[c], (codes or {}).get(c)) for c in text}
    text_checked = all(_only_text(df[c], known[c]) for c in text)
    complete = sorted(c for c, k in known.items() if k is not None and k.missing_count == 0)
    try:
        # inplace: nothing is coerced, so pandera need not copy the table first
        schema(table, text_checked=text_checked, complete=complete).validate(df, lazy=True, inplace=True)
        return out
    except pa.errors.SchemaErrors as e:
        fc = e.failure_cases
    order = {n: i for i, n in enumerate(spec.column_names)}
    fc = fc.assign(_order=fc["column"].map(order).fillna(len(order)))
    for (_, column, check), grp in fc.groupby(["_order", "column", "check"], sort=True, dropna=False):
        column = None if pd.isna(column) else str(column)
        check = str(check)
        if check == "column_in_dataframe":
            for c in grp["failure_case"]:
                out.append(Problem(file=file, column=str(c), message="required column is missing"))
            continue
        if check == "column_in_schema":
            out.append(
                Problem(
                    file=file,
                    message="has columns that are not in the contract",
                    values=tuple(str(c) for c in grp["failure_case"]),
                )
            )
            continue
        if check == "column_ordered":
            out.append(Problem(file=file, message="columns are not in contract order"))
            continue
        if column in spec and check.startswith("dtype("):
            out.append(
                Problem(
                    file=file,
                    column=column,
                    message=f"has the wrong data type: expected {spec.column(column).type} "
                    f"({spec.column(column).dtype}), got {check}",
                )
            )
            continue
        message = _PANDERA_MESSAGES.get(check, check)
        if column == "referral_id" and check == "field_uniqueness":
            message = "has repeated values, but each referral_id must be unique"
        rows = pd.to_numeric(grp["index"], errors="coerce").dropna().astype(int)
        rows = sorted(set(rows))
        if check == "not_nullable":  # cells already reported as unreadable are not also "empty"
            skip = ctx.unreadable.get(table, {}).get(column or "", set())
            rows = [r for r in rows if r not in skip]
            if not rows:
                continue
        if rows and column in df.columns:
            out.append(problem_at(file, column, message, rows, ctx.values(table, column, rows)))
        else:
            out.append(
                Problem(
                    file=file,
                    column=column,
                    message=message,
                    values=tuple(_display(v) for v in grp["failure_case"][:MAX_EXAMPLES]),
                )
            )
    return out


# --------------------------------------------------------------------------------------------
# Rules across columns and tables
# --------------------------------------------------------------------------------------------


def _fmt_date(d: Any) -> str:
    return pd.Timestamp(d).strftime("%Y-%m-%d")


def _row_rules(
    table: str, df: pd.DataFrame, ctx: _Ctx, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> list[Problem]:
    out: list[Problem | None] = []
    if table == "referrals":
        rd = df["referral_date"]
        if start is not None and end is not None:
            out.append(
                ctx.at(
                    table,
                    "referral_date",
                    f"is outside the extract period {_fmt_date(start)} to {_fmt_date(end)} "
                    "(extract_start..extract_end in extract.yml)",
                    (rd < start) | (rd > end),
                )
            )
        fc, cd = df["first_contact_date"], df["closure_date"]
        out.append(ctx.at(table, "first_contact_date", "is before the referral_date of the same row", fc < rd))
        out.append(ctx.at(table, "closure_date", "is before the referral_date of the same row", cd < rd))
        out.append(
            ctx.at(table, "closure_date", "is before the first_contact_date of the same row", (cd < fc) & (cd >= rd))
        )
        out.append(
            ctx.at(
                table,
                "closure_reason",
                "is empty, but a closure_reason is required when closure_date is given",
                cd.notna() & df["closure_reason"].isna(),
            )
        )
    elif table == "outcome_measures":
        ons4 = df["instrument"] == ONS4_INSTRUMENT
        out.append(
            ctx.at(
                table,
                "item",
                "is not an ONS4 item; for instrument ons4 use one of " + ", ".join(ONS4_ITEMS),
                ons4 & df["item"].notna() & ~df["item"].isin(ONS4_ITEMS),
            )
        )
        sc = df["score"]
        lo, hi = ONS4_SCORE_RANGE
        bad = ons4 & sc.notna() & ((sc < lo) | (sc > hi) | (sc != np.round(sc)))
        out.append(ctx.at(table, "score", f"must be a whole number from {lo} to {hi} for ONS4 items", bad))
    elif table == "clinical_measurements":
        m, v = df["measure"], df["value"]
        lo = m.map({k: r[0] for k, r in CLINICAL_MEASURE_RANGES.items()})
        hi = m.map({k: r[1] for k, r in CLINICAL_MEASURE_RANGES.items()})
        known = lo.notna() & v.notna()
        whole = m.isin(CLINICAL_WHOLE_MEASURES)
        bad = known & ((v < lo) | (v > hi) | (whole & (v != np.round(v))))
        if bad.any():
            for measure in [k for k in CLINICAL_MEASURE_RANGES if (bad & (m == k)).any()]:
                a, b = CLINICAL_MEASURE_RANGES[measure]
                rule = (
                    "must be 0 or 1 for smoking_status (1 = current smoker, 0 = not)"
                    if measure == "smoking_status"
                    else f"is out of range for {measure}: must be between {_fmt_num(a)} and "
                    f"{_fmt_num(b)} {CLINICAL_MEASURE_UNITS[measure]}"
                )
                out.append(ctx.at(table, "value", rule, bad & (m == measure)))
    elif table == "hospital_spells":
        out.append(
            ctx.at(
                table,
                "discharge_date",
                "is before the admission_date of the same row",
                df["discharge_date"] < df["admission_date"],
            )
        )
    elif table == "pcn_quarterly":
        q = df["quarter_start"]
        bad = q.notna() & ~((q.dt.day == 1) & q.dt.month.isin([1, 4, 7, 10]))
        out.append(
            ctx.at(
                table,
                "quarter_start",
                "is not the first day of a calendar quarter (1 January, 1 April, 1 July or 1 October)",
                bad,
            )
        )
    return [p for p in out if p is not None]


_TextCodes = Mapping[str, Mapping[str, Codes]]  # {table: {column: codes}}


def _codes_of(codes: _TextCodes | None, table: str, s: pd.Series) -> Codes | None:
    """The codes of column ``s`` of ``table``, if known and still describing it."""
    return Codes.of(s, (codes or {}).get(table, {}).get(str(s.name))) if codes else None


def _codes_or_factorize(codes: _TextCodes | None, table: str, s: pd.Series) -> Codes:
    """:func:`_codes_of`, or the column's codes found now (one hash of every row)."""
    return _codes_of(codes, table, s) or Codes.factorize(s.to_numpy(dtype=object, copy=False))


def _cross_rules(tables: Mapping[str, pd.DataFrame], ctx: _Ctx, codes: _TextCodes | None = None) -> list[Problem]:
    out: list[Problem | None] = []
    if "referrals" not in tables:
        return []
    ref = tables["referrals"]
    # a missing referral_id names no referral: it never matches another missing one
    ref_dates = (ref[["referral_id", "referral_date"]].dropna(subset=["referral_id"])
                 .drop_duplicates("referral_id").set_index("referral_id")["referral_date"])
    ref_file = ctx.file("referrals")
    for child in REFERRAL_CHILD_TABLES:
        if child not in tables:
            continue
        df = tables[child]
        k = _codes_or_factorize(codes, child, df["referral_id"])  # once per distinct referral_id
        orphan = pd.Series(k.gather(~pd.Index(k.uniques).isin(ref_dates.index), False), index=df.index)
        out.append(ctx.at(child, "referral_id", f"has referral_ids that are not in {ref_file}", orphan))
    if "sp_contacts" in tables:
        df = tables["sp_contacts"]
        k = _codes_or_factorize(codes, "sp_contacts", df["referral_id"])
        per_id = pd.Series(k.uniques, dtype=object).map(ref_dates).to_numpy(dtype="datetime64[ns]")
        rdate = pd.Series(k.gather(per_id, np.datetime64("NaT", "ns")), index=df.index)
        out.append(
            ctx.at(
                "sp_contacts",
                "contact_date",
                f"is before the referral's referral_date in {ref_file}",
                df["contact_date"] < rdate,
            )
        )
    return [p for p in out if p is not None]


def _nhs_screen(values: Any) -> np.ndarray:
    """Which text values might be NHS numbers (ten digits, perhaps spaced): the cheap screen
    first, as most pseudonyms are not. Matched in Arrow (one C++ pass) when the values convert."""
    import pyarrow
    import pyarrow.compute

    pattern = r"[0-9][0-9 -]{9,13}"
    try:
        arr = pyarrow.array(np.asarray(values, dtype=object), type=pyarrow.string(), from_pandas=True)
    except (pyarrow.ArrowException, UnicodeError):
        return pd.Series(values, dtype=object).str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)
    found = pyarrow.compute.match_substring_regex(arr, f"^{pattern}$")
    return found.fill_null(False).to_numpy(zero_copy_only=False)


def _nhs_problems(tables: Mapping[str, pd.DataFrame], ctx: _Ctx, codes: _TextCodes | None = None) -> list[Problem]:
    out = []
    for name, df in tables.items():
        if "patient_id" not in df.columns:
            continue
        ids = df["patient_id"]
        k = _codes_of(codes, name, ids)
        if k is None and _only_text(ids):
            k = Codes.factorize(ids.to_numpy(dtype=object, copy=False))
        if k is not None:  # text: screened once per distinct value, counted by code
            n_present = len(ids) - k.missing_count
            if n_present == 0:
                continue
            if np.count_nonzero(k.gather(_nhs_screen(k.uniques), False)) / n_present < NHS_NUMBER_SHARE:
                continue
            present = ids[~k.missing()]
        else:
            present = ids.dropna() if ids.hasnans else ids
            if present.empty or _nhs_screen(present.astype(str)).mean() < NHS_NUMBER_SHARE:
                continue
        mask = nhs_number_mask(present)
        if mask.mean() >= NHS_NUMBER_SHARE:
            rows = mask.index[mask.to_numpy(dtype=bool)]
            out.append(
                problem_at(
                    ctx.file(name),
                    "patient_id",
                    f"looks like real NHS numbers: {int(mask.sum())} of {len(present)} values are "
                    "10-digit numbers that pass the NHS number check-digit test. patient_id must be a "
                    "pseudonymised key, never an NHS number: pseudonymise the extract before loading "
                    "it (the values are not shown here)",
                    rows,
                )
            )
    return out


def check_tables(
    tables: Mapping[str, pd.DataFrame],
    start: date | pd.Timestamp | None = None,
    end: date | pd.Timestamp | None = None,
    files: Mapping[str, str] | None = None,
    raw: Mapping[str, pd.DataFrame] | None = None,
    unreadable: Mapping[str, Mapping[str, Iterable[int]]] | None = None,
    codes: _TextCodes | None = None,
) -> list[Problem]:
    """Every contract problem in typed ``tables`` (conventions of :mod:`pipeline.extract`).

    Each table's index must hold the row numbers to report. ``files`` maps table name to file
    name (default ``<table>.csv``); ``raw`` optionally gives the raw frames (same index) so
    problems quote what the user typed. ``start``/``end`` are the extract period.
    ``unreadable`` ({table: {column: row numbers}}) lists cells already reported as
    unreadable (they are missing in ``tables`` but not reported again as empty). Missing
    required tables are reported too. ``codes`` ({table: {column: codes}}) optionally gives the
    codes of text columns (:mod:`pipeline.textcodes`): their checks then run once per distinct value.
    """
    ctx = _Ctx(tables, files, raw, unreadable)
    s = pd.Timestamp(start) if start is not None else None
    e = pd.Timestamp(end) if end is not None else None
    problems: list[Problem] = []
    for name in REQUIRED_TABLES:
        if name not in tables:
            problems.append(
                Problem(file=ctx.file(name), message=f"required table is missing: provide {name}.csv or {name}.parquet")
            )
    nhs = _nhs_problems(tables, ctx, codes)
    typed_ok: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        if name not in tables:
            continue
        df = tables[name]
        found = _schema_problems(name, df, ctx, (codes or {}).get(name))
        problems.extend(found)
        if not any(
            p.message == "required column is missing"
            or p.message.startswith("has the wrong data type")
            or p.message == "columns are not in contract order"
            for p in found
        ):
            typed_ok[name] = df
            problems.extend(_row_rules(name, df, ctx, s, e))
    problems.extend(_cross_rules(typed_ok, ctx, codes))
    return hide_nhs_values(nhs + problems, nhs)


def hide_nhs_values(problems: list[Problem], nhs: Sequence[Problem]) -> list[Problem]:
    """Blank the quoted patient_id values of files refused for NHS numbers."""
    refused = {p.file for p in nhs}
    if not refused:
        return problems
    return [
        replace(p, values=()) if p.file in refused and p.column == "patient_id" and p not in nhs else p
        for p in problems
    ]


def validate_extract(extract: Any) -> None:
    """Check an in-memory :class:`~pipeline.extract.Extract` against the contract.

    Rows are numbered as if each table were a CSV file (first data row = row 2). Raises
    :class:`~pipeline.errors.DataError` listing every problem.
    """
    tables = {}
    for name, df in extract.tables.items():
        if name not in TABLES:
            continue
        df = df.copy()
        df.index = pd.RangeIndex(2, len(df) + 2)
        tables[name] = df
    problems = check_tables(tables, extract.config.extract_start, extract.config.extract_end)
    if problems:
        raise DataError(problems)


def empty_table(table: str) -> pd.DataFrame:
    """A zero-row table with the contract columns and dtypes."""
    return pd.DataFrame({c.name: pd.Series([], dtype=c.dtype) for c in TABLES[table].columns})
