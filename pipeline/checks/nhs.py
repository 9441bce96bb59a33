"""NHS numbers: the Modulus 11 check, and the refusal of a ``patient_id`` column that holds real NHS
numbers (``patient_id`` must be a pseudonym). A refused file's ``patient_id`` values are never
quoted in any message."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem
from ..textcodes import Codes, ExtractCodes, column_codes, only_text
from .locate import Locator, problem_at

# NHS-number refusal: a patient_id column is refused when at least this share of its
# non-missing values are valid NHS numbers.
NHS_NUMBER_SHARE = 0.9

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


def nhs_number_problems(
    tables: Mapping[str, pd.DataFrame], ctx: Locator, codes: ExtractCodes | None = None
) -> list[Problem]:
    """A problem for each table whose ``patient_id`` values are, at least :data:`NHS_NUMBER_SHARE`
    of them, valid NHS numbers (the values are not quoted)."""
    out = []
    for name, df in tables.items():
        if "patient_id" not in df.columns:
            continue
        ids = df["patient_id"]
        k = column_codes(codes, name, ids)
        if k is None and only_text(ids):
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


def hide_nhs_values(problems: list[Problem], nhs: Sequence[Problem]) -> list[Problem]:
    """Blank the quoted patient_id values of files refused for NHS numbers."""
    refused = {p.file for p in nhs}
    if not refused:
        return problems
    return [
        replace(p, values=()) if p.file in refused and p.column == "patient_id" and p not in nhs else p
        for p in problems
    ]
