"""The ``survey_responses`` table's rules across its rows: a questionnaire (``response_id``) answers
each question once and has one respondent group, one wave and one return date; a ``question_id``
has one wording. Each problem names the file, the column, the rows and their values."""

from __future__ import annotations

import pandas as pd

from ..errors import Problem
from .locate import Locator

TABLE = "survey_responses"

#: column -> the key whose rows must agree on it, and why
CONSISTENT = (
    ("respondent_group", "response_id", "a questionnaire (response_id) has one respondent_group"),
    ("survey_wave", "response_id", "a questionnaire (response_id) belongs to one survey_wave"),
    ("response_date", "response_id", "a questionnaire (response_id) has one response_date"),
    ("question_text", "question_id", "a question_id has one wording in every row and wave"),
)


def _differs_from_first(df: pd.DataFrame, key: str, column: str) -> pd.Series:
    """Rows whose ``column`` differs from the first filled value of their ``key`` (missing keys and
    missing values are left to the column checks)."""
    filled = df[df[key].notna() & df[column].notna()]
    first = filled.groupby(key, sort=False)[column].transform("first")
    bad = filled[column] != first
    return bad.reindex(df.index, fill_value=False)


def survey_rules(df: pd.DataFrame, ctx: Locator) -> list[Problem]:
    """The rules across rows of the typed ``survey_responses`` table."""
    out: list[Problem | None] = []
    keyed = df["response_id"].notna() & df["question_id"].notna()
    twice = keyed & df.duplicated(["response_id", "question_id"], keep=False)
    out.append(ctx.at(TABLE, "question_id", "is repeated within one response_id: a questionnaire answers each "
                                            "question once (one row per response_id and question_id)", twice))
    for column, key, why in CONSISTENT:
        out.append(ctx.at(TABLE, column, f"differs from the first row of the same {key}: {why}",
                          _differs_from_first(df, key, column)))
    return [p for p in out if p is not None]
