"""The contract's rules that need more than one column or more than one table: dates in order, the
extract period, closure reasons, ONS4 items and scores (other instruments': :mod:`.instruments`),
per-measure ranges, quarter starts, financial-year labels, survey questionnaires (:mod:`.surveys`),
keys of several columns given once (:mod:`.repeats`) (one table's rows), and referral_ids that exist
in referrals, contacts and caseload reviews after their referral (across tables)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..contract import (
    CLINICAL_MEASURE_RANGES,
    CLINICAL_MEASURE_UNITS,
    CLINICAL_WHOLE_MEASURES,
    ONS4_INSTRUMENT,
    ONS4_ITEMS,
    ONS4_SCORE_RANGE,
    REFERRAL_CHILD_TABLES,
)
from ..errors import Problem
from ..textcodes import Codes, ExtractCodes, column_codes
from .instruments import instrument_problems
from .locate import Locator, display_value, number_text
from .repeats import repeated_keys
from .surveys import survey_rules

#: tables whose rows must be dated on or after their referral's referral_date: table -> date column
DATED_AFTER_REFERRAL = {"sp_contacts": "contact_date", "caseload_reviews": "review_date"}


def row_rules(
    table: str, df: pd.DataFrame, ctx: Locator, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> list[Problem]:
    """The rules within each row of typed ``df`` (``start``/``end``: the extract period)."""
    out: list[Problem | None] = []
    if table == "referrals":
        rd = df["referral_date"]
        if start is not None and end is not None:
            out.append(
                ctx.at(
                    table,
                    "referral_date",
                    f"is outside the extract period {display_value(start)} to {display_value(end)} "
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
        out.extend(instrument_problems(table, df, ctx))
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
                    else f"is out of range for {measure}: must be between {number_text(a)} and "
                    f"{number_text(b)} {CLINICAL_MEASURE_UNITS[measure]}"
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
    elif table == "survey_responses":
        out += survey_rules(df, ctx)
    elif table == "practices":
        y = df["year"].astype("string")
        first, second = pd.to_numeric(y.str[:4], errors="coerce"), pd.to_numeric(y.str[5:7], errors="coerce")
        bad = first.notna() & second.notna() & (second != (first + 1) % 100)
        out.append(ctx.at(table, "year", "is not a financial year: the second part must be the year after the "
                          "first, as in 2023/24", bad.fillna(False).astype(bool)))
    out.extend(repeated_keys(table, df, ctx))
    return [p for p in out if p is not None]


def _codes_or_factorize(codes: ExtractCodes | None, table: str, s: pd.Series) -> Codes:
    """:func:`~pipeline.textcodes.column_codes`, or the column's codes found now (one hash of every row)."""
    return column_codes(codes, table, s) or Codes.factorize(s.to_numpy(dtype=object, copy=False))


def cross_rules(tables: Mapping[str, pd.DataFrame], ctx: Locator, codes: ExtractCodes | None = None) -> list[Problem]:
    """The rules across tables (``tables``: those whose columns are all present and typed)."""
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
    for child, date_column in DATED_AFTER_REFERRAL.items():
        if child not in tables:
            continue
        df = tables[child]
        k = _codes_or_factorize(codes, child, df["referral_id"])
        per_id = pd.Series(k.uniques, dtype=object).map(ref_dates).to_numpy(dtype="datetime64[ns]")
        rdate = pd.Series(k.gather(per_id, np.datetime64("NaT", "ns")), index=df.index)
        out.append(
            ctx.at(
                child,
                date_column,
                f"is before the referral's referral_date in {ref_file}",
                df[date_column] < rdate,
            )
        )
    return [p for p in out if p is not None]
