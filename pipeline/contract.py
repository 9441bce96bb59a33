"""Data contract v1 (``docs/data-contract.md`` section 1) as data: the tables and their columns.

- :data:`TABLES`: every contract table, in contract order, as a :class:`TableSpec` holding
  its :class:`ColumnSpec` list (type, required or optional, allowed values, ranges, pattern,
  uniqueness). :data:`REQUIRED_TABLES` / :data:`OPTIONAL_TABLES` split them.
- :data:`CATEGORIES` (allowed values by column name), :data:`ONS4_ITEMS`,
  :data:`CLINICAL_MEASURE_RANGES` (from :mod:`pipeline.measures`).
- :data:`DTYPES`: the pandas dtype of each contract type after loading (the conventions of
  :mod:`pipeline.extract`); :func:`empty_table` a zero-row table with them.

Checking an extract against all this (pandera schemas, the rules across columns and tables, the
NHS number refusal) is :mod:`pipeline.checks`.

"required" on a column means the column must be present *and* every row must have a value.
An optional column may be left out of the file entirely (it is then all-missing) or have
empty cells. Tables the contract describes in prose (signposting, unmet_needs, ...) have
every listed column required unless the contract calls it optional or says "same rules as in
referrals".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from . import CONTRACT_VERSION  # noqa: F401  (one number for the whole package)
from .measures import CLINICAL_MEASURE_RANGES, CLINICAL_MEASURE_UNITS, CLINICAL_WHOLE_MEASURES  # noqa: F401

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

#: the contract types held as text (Python strings, or None when missing)
TEXT_TYPES = ("string", "category")

# --------------------------------------------------------------------------------------------
# Allowed values
# --------------------------------------------------------------------------------------------

ONS4_ITEMS: list[str] = ["life_satisfaction", "worthwhile", "happiness", "anxiety"]
ONS4_INSTRUMENT = "ons4"
ONS4_SCORE_RANGE = (0, 10)

#: who answered a survey (``survey_responses.respondent_group``), and the five-point agreement
#: scale of ``survey_responses.response``: 1 = strongly disagree .. 5 = strongly agree
SURVEY_GROUPS: list[str] = ["patient", "link_worker", "practice_staff"]
LIKERT_LABELS: dict[int, str] = {1: "strongly disagree", 2: "disagree", 3: "neither agree nor disagree",
                                 4: "agree", 5: "strongly agree"}

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
    "respondent_group": SURVEY_GROUPS,
    "rag_rating": ["red", "amber", "green"],
}

PRACTICE_CODE_PATTERN = r"^[A-Z][0-9]{5}$"
SNAKE_CASE_PATTERN = r"^[a-z0-9]+(_[a-z0-9]+)*$"
FINANCIAL_YEAR_PATTERN = r"^[0-9]{4}/[0-9]{2}$"

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
            _snake("instrument", "ons4; swemwbs, eq5d5l, pam, wsas, wellbeing_star; other instruments are carried"),
            _snake("item", "for ons4: life_satisfaction, worthwhile, happiness, anxiety; the other instruments' "
                           "items in docs/data-contract.md"),
            _n("score", description="for ons4: whole number 0..10; each other instrument's item its own range"),
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
    TableSpec(
        "survey_responses",
        False,
        (
            _s("response_id", description="one returned questionnaire; its rows share one respondent_group, "
                                          "survey_wave and response_date"),
            _c("respondent_group"),
            _i("survey_wave", min=1, max=99, description="1 for the first round of the survey, 2 for the next, ..."),
            _d("response_date", False, description="the day the questionnaire was returned"),
            _snake("question_id", "the question's short name, the same in every wave, e.g. connected_community"),
            _s("question_text", description="the question as asked; one wording per question_id; published"),
            _i("response", False, min=1, max=5,
               description="1 strongly disagree, 2 disagree, 3 neither, 4 agree, 5 strongly agree; empty = "
                           "not answered or don't know"),
            _s("free_text", False, description="a comment in the respondent's own words: never published"),
        ),
        "survey answers from patients, link workers and practice staff, one row per question answered",
    ),
    TableSpec(
        "practices",
        False,
        (
            _practice(),
            _s("pcn"),
            _s(
                "year",
                pattern=FINANCIAL_YEAR_PATTERN,
                pattern_hint="a financial year written 2023/24 (1 April 2023 to 31 March 2024)",
                description="one row per practice and year",
            ),
            _i("list_size", min=1),
        ),
        "GP practices' registered list sizes by financial year",
    ),
    TableSpec(
        "caseload_reviews",
        False,
        (
            _s("referral_id"),
            _d("review_date", description="on or after the referral's referral_date; one review per referral and day"),
            _c("rag_rating"),
            _b("safeguarding_escalation", False),
        ),
        "link workers' RAG ratings of open cases and safeguarding escalations",
    ),
]

#: table name -> spec, in contract order
TABLES: dict[str, TableSpec] = {t.name: t for t in _TABLE_LIST}
REQUIRED_TABLES: list[str] = [t.name for t in _TABLE_LIST if t.required]
OPTIONAL_TABLES: list[str] = [t.name for t in _TABLE_LIST if not t.required]
#: tables whose referral_id must exist in referrals
REFERRAL_CHILD_TABLES: list[str] = ["sp_contacts", "outcome_measures", "signposting", "unmet_needs", "caseload_reviews"]


def empty_table(table: str) -> pd.DataFrame:
    """A zero-row table with the contract columns and dtypes."""
    return pd.DataFrame({c.name: pd.Series([], dtype=c.dtype) for c in TABLES[table].columns})
