"""Reading, validating and writing extracts.

- :func:`read_extract_config` parses and validates ``extract.yml``.
- :func:`load_extract` reads ``data_raw/<borough>/`` (CSV or Parquet per table), types every
  column strictly, checks the whole extract against data contract v1 and either returns a typed
  :class:`~pipeline.extract.Extract` or raises one :class:`~pipeline.errors.DataError` listing
  every problem found in every table.
- :func:`write_processed` / :func:`read_processed` store a validated extract as Parquet plus
  ``manifest.json`` and read it back with identical dtypes.
- :func:`inputs_sha256` hashes the input files.

Row numbers in messages are what a spreadsheet user sees: the header is row 1 and the first
data row is row 2. Parquet files have no header line, but the same numbering is used (the
first record is reported as row 2) so that a CSV and a Parquet export of the same table give
the same row numbers. CSV rows that are entirely empty are skipped (they keep their numbers).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from . import contract
from .contract import REQUIRED_TABLES, TABLES, ColumnSpec, TableSpec
from .errors import ConfigError, DataError, Problem
from .extract import Extract, ExtractConfig
from .paths import SLUG_RE
from .processed import MANIFEST, extract_of, read_manifest
from .textcodes import Codes

_TEXT_TYPES = ("string", "category")
CONFIG_FILE = "extract.yml"
SETTINGS_FILE = "settings.yml"
ISO_DATE = "%Y-%m-%d"

_ONS_CODE = re.compile(r"^[EWSN][0-9]{8}$")
_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KNOWN_KEYS = (
    "borough",
    "ons_code",
    "extract_start",
    "extract_end",
    "registered_population",
    "referral_target_monthly",
    "readmission_benchmark_30d_pct",
    "date_format",
    "synthetic",
)
_TRUE = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


# --------------------------------------------------------------------------------------------
# extract.yml
# --------------------------------------------------------------------------------------------


class _TextDateLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so an impossible date gets a clear message."""


_TextDateLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _as_date(v: Any) -> date | None:
    if isinstance(v, datetime):
        return None
    if isinstance(v, date):
        return v
    if isinstance(v, str) and _ISO_DATE_RE.match(v.strip()):
        try:
            return date.fromisoformat(v.strip())
        except ValueError:
            return None
    return None


def human_date_format(fmt: str) -> str:
    """``%d/%m/%Y`` -> ``DD/MM/YYYY``, for messages."""
    for a, b in (("%Y", "YYYY"), ("%y", "YY"), ("%m", "MM"), ("%d", "DD"), ("%b", "Mon"), ("%B", "Month")):
        fmt = fmt.replace(a, b)
    return fmt


def _check_date_format(fmt: str) -> bool:
    probe = date(2021, 4, 30)
    try:
        text = probe.strftime(fmt)
        return datetime.strptime(text, fmt).date() == probe
    except (ValueError, TypeError):
        return False


def read_extract_config(raw_dir: Path) -> ExtractConfig:
    """Parse and validate ``<raw_dir>/extract.yml``. The slug is the folder name.

    Raises :class:`~pipeline.errors.ConfigError` listing every invalid or missing key (file
    ``extract.yml``, the key as the column).
    """
    raw_dir = Path(raw_dir)
    path = raw_dir / CONFIG_FILE
    slug = raw_dir.name
    if not path.is_file():
        raise ConfigError(Problem(file=CONFIG_FILE, message=f"is missing: every extract folder needs one ({raw_dir})"))
    try:
        data = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=_TextDateLoader)  # noqa: S506
    except UnicodeDecodeError:
        raise ConfigError(Problem(file=CONFIG_FILE, message="is not UTF-8 text")) from None
    except (yaml.YAMLError, ValueError) as e:
        raise ConfigError(Problem(file=CONFIG_FILE, message=f"is not valid YAML: {e}")) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(Problem(file=CONFIG_FILE, message="must be a list of 'key: value' settings"))

    problems: list[Problem] = []

    def bad(key: str, message: str, value: Any = None, show: bool = True) -> None:
        problems.append(
            Problem(
                file=CONFIG_FILE, column=key, message=message, values=(value,) if show and value is not None else ()
            )
        )

    if not SLUG_RE.match(slug):
        problems.append(
            Problem(
                file=CONFIG_FILE,
                column="folder name",
                message=f"the folder name {slug!r} is not a valid borough slug: use lower-case letters, "
                "digits and '-' only (e.g. barking-and-dagenham)",
            )
        )
    for key in ("borough", "ons_code", "extract_start", "extract_end", "registered_population"):
        if data.get(key) is None:
            bad(key, "is missing: this key is required")

    borough = data.get("borough")
    if borough is not None and (not isinstance(borough, str) or not borough.strip()):
        bad("borough", "must be the borough's display name (text)", borough)
    ons = data.get("ons_code")
    if ons is not None and (not isinstance(ons, str) or not _ONS_CODE.match(ons.strip())):
        bad("ons_code", "must be an ONS area code: a letter E, W, S or N then 8 digits, e.g. E09000024", ons)

    dates: dict[str, date | None] = {}
    for key in ("extract_start", "extract_end"):
        v = data.get(key)
        if v is None:
            continue
        d = _as_date(v)
        if d is None:
            bad(key, "must be a date written YYYY-MM-DD, e.g. 2021-04-01", v)
        dates[key] = d
    start, end = dates.get("extract_start"), dates.get("extract_end")
    if start and end and end < start:
        bad("extract_end", f"is before extract_start ({start.isoformat()})", end.isoformat())

    pop = data.get("registered_population")
    if pop is not None and not (isinstance(pop, int) and not isinstance(pop, bool) and pop > 0):
        bad("registered_population", "must be a positive whole number (no commas), e.g. 215000", pop)

    target = data.get("referral_target_monthly")
    target_t: tuple[int, int] | None = None
    if target is not None:
        if (
            isinstance(target, (list, tuple))
            and len(target) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in target)
        ):
            if target[0] > target[1]:
                bad(
                    "referral_target_monthly", "must be [lower, upper] with lower no more than upper", str(list(target))
                )
            else:
                target_t = (int(target[0]), int(target[1]))
        else:
            bad("referral_target_monthly", "must be two whole numbers [lower, upper], e.g. [120, 160]", str(target))

    bench = data.get("readmission_benchmark_30d_pct")
    if bench is not None and not (_is_number(bench) and 0 <= bench <= 100):
        bad("readmission_benchmark_30d_pct", "must be a percentage between 0 and 100", bench)

    fmt = data.get("date_format")
    if fmt is not None and not (isinstance(fmt, str) and _check_date_format(fmt)):
        bad("date_format", 'must be a date format with day, month and year, e.g. "%d/%m/%Y" or "%Y-%m-%d"', fmt)

    synthetic = data.get("synthetic", False)
    if synthetic is None:
        synthetic = False
    if not isinstance(synthetic, bool):
        bad("synthetic", "must be true or false", synthetic)

    if problems:
        raise ConfigError(problems)
    extra = {k: v for k, v in data.items() if k not in _KNOWN_KEYS}
    return ExtractConfig(
        slug=slug,
        borough=borough.strip(),
        ons_code=ons.strip(),
        extract_start=start,  # type: ignore[arg-type]
        extract_end=end,  # type: ignore[arg-type]
        registered_population=int(pop),
        referral_target_monthly=target_t,
        readmission_benchmark_30d_pct=float(bench) if bench is not None else None,
        date_format=fmt,
        synthetic=bool(synthetic),
        extra=extra,
    )


# --------------------------------------------------------------------------------------------
# Typing raw columns
# --------------------------------------------------------------------------------------------


def _clean(words: np.ndarray) -> bool:
    """No string is empty or starts or ends with whitespace (nothing for ``str.strip`` to do),
    found in Arrow: only the distinct first and last characters are tested in Python."""
    try:
        arr = pa.array(words, type=pa.string())
    except (pa.ArrowException, UnicodeError):  # not UTF-8 as it stands (a lone surrogate, say)
        u = pd.Series(words, dtype=object)
        stripped = u.str.strip()
        return not bool(((stripped != u) | (stripped == "")).to_numpy(dtype=bool).any())
    if len(arr) == 0:
        return True
    if pc.min(pc.utf8_length(arr)).as_py() == 0:
        return False
    ends = pc.unique(pa.concat_arrays([pc.utf8_slice_codeunits(arr, 0, 1), pc.utf8_slice_codeunits(arr, -1)]))
    return not any(ch.isspace() for ch in ends.to_pylist())


def _strip_text(s: pd.Series, codes: Codes) -> tuple[pd.Series, Codes]:
    """Text stripped, empty text made missing (NaN); a missing value stays as it was. Returns the
    result and its codes (``codes`` describe ``s``); each distinct value is stripped once."""
    if _clean(codes.uniques):
        return s, codes  # already clean (the usual case): no copy
    u = pd.Series(codes.uniques, dtype=object)
    stripped = u.str.strip()
    empty = (stripped == "").to_numpy(dtype=bool)
    values = s.to_numpy(dtype=object, copy=False)
    out = codes.gather(stripped.mask(empty).to_numpy(dtype=object), None)
    missing = codes.missing()
    if missing.any():
        out[missing] = values[missing]
    new = codes.codes
    if empty.any():  # text that was only spaces is missing now
        new = np.append(np.where(empty, -1, np.arange(len(empty))), -1)[new]
    result = pd.Series(out, index=s.index, name=s.name, dtype=object)
    return result, Codes(new, stripped.to_numpy(dtype=object), result.to_numpy(dtype=object, copy=False))


def _prepare(s: pd.Series, codes: Codes | None = None) -> tuple[pd.Series, Codes | None]:
    """Raw values with text stripped and empty text made missing (NaN), and the codes of a text
    column (``codes``: those of ``s`` as read, if known; otherwise found here)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        s = s.astype(object, copy=False)
        codes = Codes.of(s, codes)
        kind = pd.api.types.infer_dtype(s if codes is None else codes.uniques, skipna=True)
        if kind in ("string", "empty"):
            return _strip_text(s, codes or Codes.factorize(s.to_numpy(dtype=object, copy=False)))
        if kind not in ("date", "datetime", "datetime64"):
            # mixed Python objects (Parquet only): compare as text
            s = s.where(s.isna(), s.astype(str).str.strip())
            s = s.mask(s == "")
    return s, None


def _to_strings(s: pd.Series) -> pd.Series:
    present = s.notna()
    if pd.api.types.is_float_dtype(s.dtype):
        whole = s.dropna()
        if len(whole) and bool((whole == np.round(whole)).all()):
            s = s.astype("Int64")
    out = s.astype(object).where(present, None)
    out[present] = s[present].astype(str)
    return out.astype(object)


#: rows tested at a time by the checks that need a temporary array per row
CHECK_CHUNK_ROWS = 1 << 22

_NS_PER_DAY = 86_400 * 10**9


def _at_midnight(values: np.ndarray) -> bool:
    """Every time in a ``datetime64[ns]`` array is midnight (NaT counts): tested a slice at a time,
    so a 50-million-row column needs no second column-sized array."""
    ns = values.view("i8")
    nat = np.iinfo(np.int64).min
    for lo in range(0, len(ns), CHECK_CHUNK_ROWS):
        part = ns[lo:lo + CHECK_CHUNK_ROWS]
        if bool(((part % _NS_PER_DAY != 0) & (part != nat)).any()):
            return False
    return True


def _convert(
    s: pd.Series, col: ColumnSpec, date_format: str, codes: Codes | None = None
) -> tuple[pd.Series, pd.Series, str]:
    """Type one prepared column. Returns (typed, bad mask, message for bad values). ``codes``: those
    of a text column (:func:`_prepare`); text is then typed once per distinct value."""
    codes = Codes.of(s, codes)
    if codes is None and contract._only_text(s):
        codes = Codes.factorize(s.to_numpy(dtype=object, copy=False))
    present = s.notna() if codes is None else pd.Series(~codes.missing(), index=s.index)
    no_bad = pd.Series(False, index=s.index)
    t = col.type
    if t in ("string", "category"):
        if codes is not None:
            if codes.missing_count == 0:
                # nothing to replace: the prepared values are the typed ones
                return s, no_bad, ""
            return s.where(present, None).astype(object), no_bad, ""
        return _to_strings(s), no_bad, ""

    if t == "date":
        human = human_date_format(date_format)
        msg = f"is not a valid date in the format {human}"
        if date_format != ISO_DATE:
            msg += f" (date_format {date_format!r} in extract.yml)"
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            if getattr(s.dt, "tz", None) is not None:
                s = s.dt.tz_localize(None)
            s = s.astype("datetime64[ns]", copy=False)
            # already dates (the usual case): the column itself, not a second copy of it
            return (s if _at_midnight(s.to_numpy(copy=False)) else s.dt.normalize()), no_bad, msg
        if codes is not None:
            typed = codes.map(lambda u: pd.to_datetime(u, format=date_format, errors="coerce")
                              .astype("datetime64[ns]").dt.normalize(), np.datetime64("NaT", "ns"))
            typed = pd.Series(typed, index=s.index, dtype="datetime64[ns]")
            return typed, present & typed.isna(), msg
        if s.dtype == object:
            typed = pd.to_datetime(s, errors="coerce")
        else:
            typed = pd.Series(pd.NaT, index=s.index)
        typed = pd.Series(typed, index=s.index).astype("datetime64[ns]").dt.normalize()
        return typed, present & typed.isna(), msg

    if t == "boolean":
        msg = "is not a yes/no value: use true/false, 1/0 or yes/no"
        if pd.api.types.is_bool_dtype(s.dtype):
            return s.astype("boolean"), no_bad, msg
        if pd.api.types.is_numeric_dtype(s.dtype):
            mapped = s.map({1: True, 0: False})
        elif codes is not None:
            mapped = pd.Series(codes.map(lambda u: u.astype(str).str.lower().map(_TRUE).astype(object), np.nan),
                               index=s.index, dtype=object)
        else:
            mapped = s.astype(str).str.lower().map(_TRUE).where(present)
        bad = present & mapped.isna()
        return mapped.where(~bad).astype("boolean"), bad, msg

    # integer / number
    if codes is not None:
        num = codes.map(lambda u: pd.to_numeric(u, errors="coerce").astype("float64"), np.nan)
    elif pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
        num = pd.to_numeric(s.where(present).astype(object), errors="coerce")
    else:
        num = s
    num = pd.Series(num, index=s.index).astype("float64")
    if pd.api.types.is_bool_dtype(s.dtype):
        num[:] = np.nan
    values = num.to_numpy()
    finite = np.isfinite(values) & (np.abs(np.nan_to_num(values)) < 2.0**53)
    if t == "integer":
        bad = present & ~(finite & (num == np.round(num)))
        typed = num.where(~bad).round().astype("Int64")
        return typed, bad, "is not a whole number"
    bad = present & ~finite
    return num.where(~bad), bad, "is not a number"


# --------------------------------------------------------------------------------------------
# Reading tables
# --------------------------------------------------------------------------------------------


def _read_csv(path: Path) -> pd.DataFrame:
    df = pd.read_csv(
        path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig", skip_blank_lines=False
    )
    with open(path, newline="", encoding="utf-8-sig") as f:
        header = next(csv.reader(f), [])
    if len(header) == len(df.columns):  # pandas renames repeated names ("age.1"); keep the real ones
        df.columns = header
    df.columns = [str(c).strip() for c in df.columns]
    df.index = pd.RangeIndex(2, len(df) + 2)
    return df


def _read_parquet(path: Path, codes: dict[str, Codes] | None = None) -> pd.DataFrame:
    """A Parquet table as pandas, text as Python strings; ``codes`` (if given) receives the codes
    of each text column read dictionary-encoded (:mod:`pipeline.textcodes`)."""
    # Text columns are read dictionary-encoded, one at a time, each distinct string becoming one
    # shared Python object (a big table repeats its ids and categories millions of times). One at
    # a time: a column's Arrow form (with a dictionary per row group) is let go before the next is
    # read, so a 50-million-row table never holds all its columns twice. Arrow's own pandas
    # conversion would build a categorical first.
    try:
        schema = pq.read_schema(path)
    except pa.ArrowException:
        pq.read_table(path)  # a broken file: the reader's own message
        raise
    index = {c for c in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)}
    names = schema.names
    text = [f.name for f in schema if f.name not in index
            and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))]
    if len(set(names)) != len(names):
        text = []  # the same name twice cannot be read by name: as it is (the loader reports it)
    table = pq.read_table(path, columns=[c for c in names if c not in text] if text else None)
    n = table.num_rows
    df = table.to_pandas(date_as_object=False, split_blocks=True)
    del table
    _release_arrow_memory()
    strings, found = {}, {}
    for name in text:
        strings[name], found[name] = _text_column(pq.read_table(path, columns=[name], read_dictionary=[name])
                                                  .column(0), with_codes=codes is not None)
        _release_arrow_memory()
    if strings:  # one frame of the arrays as they are (assigning a column would copy it)
        df.index = pd.RangeIndex(n)  # in place: a file's own index (pandas metadata) is not data
        df = pd.DataFrame({c: strings.pop(c) if c in strings else df[c] for c in names if c in strings or c in df},
                          index=pd.RangeIndex(n), copy=False)
    df.columns = [str(c).strip() for c in df.columns]
    df.index = pd.RangeIndex(2, len(df) + 2)
    if codes is not None:
        for name, c in found.items():
            if c is not None and list(df.columns).count(name.strip()) == 1:
                codes[name.strip()] = c.describe(df[name.strip()].to_numpy(dtype=object, copy=False))
    return df


def _release_arrow_memory() -> None:
    """Hand Arrow's freed buffers back to the system (its allocator keeps them otherwise): a big
    table's Arrow copy is garbage as soon as the pandas one exists."""
    pa.default_memory_pool().release_unused()


def _find_table_files(raw_dir: Path) -> tuple[dict[str, Path], list[Problem]]:
    found: dict[str, Path] = {}
    problems: list[Problem] = []
    for name in TABLES:
        csv, parquet = raw_dir / f"{name}.csv", raw_dir / f"{name}.parquet"
        if csv.is_file() and parquet.is_file():
            problems.append(
                Problem(file=csv.name, message=f"both {csv.name} and {parquet.name} are present; keep only one of them")
            )
        elif csv.is_file():
            found[name] = csv
        elif parquet.is_file():
            found[name] = parquet
    return found, problems


def _read_table(path: Path, codes: dict[str, Codes] | None = None) -> tuple[pd.DataFrame | None, Problem | None]:
    """The raw table (text as read) or the problem reading it. ``codes``: see :func:`_read_parquet`."""
    try:
        if path.suffix == ".csv":
            return _read_csv(path), None
        return _read_parquet(path, codes), None
    except UnicodeDecodeError:
        return None, Problem(file=path.name, message="is not UTF-8 text: save it as 'CSV UTF-8' and try again")
    except pd.errors.EmptyDataError:
        return None, Problem(file=path.name, message="is empty: it needs at least a header row")
    except pd.errors.ParserError as e:
        return None, Problem(file=path.name, message=f"could not be read as CSV: {e}")
    except (OSError, pa.ArrowException) as e:
        return None, Problem(file=path.name, message=f"could not be read as Parquet: {e}")


def _type_table(
    spec: TableSpec,
    raw: pd.DataFrame,
    file: str,
    date_format: str,
    unreadable: dict[str, list[int]] | None = None,
    known: Mapping[str, Codes] | None = None,
) -> tuple[pd.DataFrame | None, pd.DataFrame, list[Problem], dict[str, Codes]]:
    """Type a raw table (index = row numbers). Returns (typed or None, prepared raw, problems,
    codes of the typed table's text columns: :mod:`pipeline.textcodes`).

    Row numbers of unreadable cells are added to ``unreadable`` by column. ``known``: the codes of
    the raw text columns as read (:func:`_read_table`), if any.
    """
    known = known or {}
    codes: dict[str, Codes] = {}
    problems: list[Problem] = []
    unreadable = unreadable if unreadable is not None else {}
    dup = sorted({c for c in raw.columns if list(raw.columns).count(c) > 1})
    if dup:
        problems.append(Problem(file=file, message="has the same column name more than once", values=tuple(dup)))
        return None, raw, problems, codes
    wanted = [c for c in spec.column_names if c in raw.columns]
    everything = {c: _prepare(raw[c], known.get(c)) for c in raw.columns}
    # copy=False: one array per column, never consolidated into a copy (tables can be big)
    prepared = pd.DataFrame({c: everything[c][0] for c in wanted}, index=raw.index, copy=False)
    found = {c: everything[c][1] for c in wanted if everything[c][1] is not None}
    # rows where every cell is empty (e.g. trailing blank lines) are not data
    all_blank = None
    for c in raw.columns:  # until a column with no missing value shows that no row is blank
        s, k = everything[c]
        missing = s.isna().to_numpy() if k is None else k.missing()
        all_blank = missing if all_blank is None else all_blank & missing
        if not all_blank.any():
            break
    if all_blank is not None and all_blank.any():
        prepared = prepared[~all_blank]
        found = {c: k.take(~all_blank).describe(prepared[c].to_numpy(dtype=object, copy=False))
                 for c, k in found.items()}
    del everything

    lower = {c.lower(): c for c in raw.columns}
    for col in spec.columns:
        if col.required and col.name not in raw.columns:
            hint = ""
            if col.name.lower() in lower:
                hint = f" (found {lower[col.name.lower()]!r}: column names are lower case, exactly as in the contract)"
            problems.append(Problem(file=file, column=col.name, message="required column is missing" + hint))
    if problems:
        return None, prepared, problems, codes

    typed: dict[str, pd.Series] = {}
    for col in spec.columns:
        if col.name not in prepared.columns:
            if col.dtype is object:
                typed[col.name] = pd.Series([None] * len(prepared), index=prepared.index, dtype=object)
            else:
                typed[col.name] = pd.Series(index=prepared.index, dtype=col.dtype)
            continue
        series, bad, msg = _convert(prepared[col.name], col, date_format, found.get(col.name))
        if bool(bad.any()):
            rows = bad.index[bad.to_numpy(dtype=bool)]
            vals = [prepared[col.name].loc[r] for r in rows[:5]]
            problems.append(contract.problem_at(file, col.name, msg, rows, vals))
            unreadable[col.name] = [int(r) for r in rows]
        typed[col.name] = series
        if col.name in found and col.type in _TEXT_TYPES:
            # a text column keeps its values (missing ones become None): the same codes
            codes[col.name] = found[col.name].describe(series.to_numpy(dtype=object, copy=False))
    return pd.DataFrame(typed, index=prepared.index, copy=False), prepared, problems, codes


def load_extract(raw_dir: Path) -> Extract:
    """Read, type and validate the extract in ``raw_dir`` (``data_raw/<borough>/``).

    Every table is ``<table>.csv`` or ``<table>.parquet``; other files are ignored. Raises
    :class:`~pipeline.errors.ConfigError` when ``extract.yml`` is invalid, otherwise one
    :class:`~pipeline.errors.DataError` listing every problem in every table. Row numbers: the
    header is row 1, the first data row row 2 (Parquet: the first record is row 2 too).
    """
    raw_dir = Path(raw_dir)
    config = read_extract_config(raw_dir)
    date_format = config.date_format or ISO_DATE
    found, problems = _find_table_files(raw_dir)
    unreadable: set[str] = {_table_of(p.file) for p in problems}
    bad_cells: dict[str, dict[str, list[int]]] = {}

    tables: dict[str, pd.DataFrame] = {}
    raws: dict[str, pd.DataFrame] = {}
    files = {name: f"{name}.csv" for name in TABLES}
    files.update({name: p.name for name, p in found.items()})
    text_codes: dict[str, dict[str, Codes]] = {}
    for name, path in found.items():
        read_codes: dict[str, Codes] = {}
        raw, err = _read_table(path, read_codes)
        if err is not None:
            problems.append(err)
            unreadable.add(name)
            continue
        bad_cells[name] = {}
        typed, prepared, found_problems, text_codes[name] = _type_table(
            TABLES[name], raw, path.name, date_format, bad_cells[name], read_codes)
        problems.extend(found_problems)
        raws[name] = prepared
        if typed is None:
            unreadable.add(name)
            # still screen patient_id for NHS numbers, so they are never echoed
            if "patient_id" in prepared.columns:
                tables_for_nhs = {name: prepared[["patient_id"]]}
                problems.extend(contract._nhs_problems(tables_for_nhs, contract._Ctx(tables_for_nhs, files, None)))
            continue
        tables[name] = typed

    # required tables that are absent (not merely unreadable)
    present = {name: df for name, df in tables.items()}
    checked = contract.check_tables(present, config.extract_start, config.extract_end, files, raws, bad_cells,
                                    text_codes)
    checked = [
        p
        for p in checked
        if not (p.message.startswith("required table is missing") and _table_of(p.file) in unreadable)
    ]
    # a required table with a header but no rows (e.g. a `make new-borough` template left unfilled)
    # is an error; an optional table may be empty (no deaths, say)
    for name in REQUIRED_TABLES:
        if name in tables and len(tables[name]) == 0:
            checked.append(Problem(file=files[name], message="has a header but no data rows: this table is "
                                   "required, so export its rows below the header"))
    nhs = [p for p in problems + checked if "looks like real NHS numbers" in p.message]
    problems = contract.hide_nhs_values(problems + checked, nhs)
    if problems:
        raise DataError(_order(problems))

    out = {}
    for name in TABLES:
        if name in tables:  # numbered from 0 again, in place (reset_index would copy every table)
            out[name] = tables[name]
            out[name].index = pd.RangeIndex(len(out[name]))
    overall, per_file = inputs_sha256(raw_dir)
    extract = Extract(config=config, tables=out, sha256=overall)
    extract.input_files = per_file  # type: ignore[attr-defined]  # read by write_processed
    extract.text_codes = text_codes  # type: ignore[attr-defined]  # read by write_processed
    return extract


def _table_of(file: str) -> str:
    return file.rsplit(".", 1)[0]


def _order(problems: list[Problem]) -> list[Problem]:
    """Stable order: file-level first, then by table in contract order."""
    rank = {n: i for i, n in enumerate(TABLES)}
    return sorted(problems, key=lambda p: (rank.get(_table_of(p.file), -1),))


# --------------------------------------------------------------------------------------------
# Hashes
# --------------------------------------------------------------------------------------------


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def inputs_sha256(raw_dir: Path) -> tuple[str, dict[str, str]]:
    """SHA-256 of every input file, and one overall hash.

    Inputs: ``extract.yml``, ``settings.yml`` when present, and every contract table file
    (``<table>.csv`` / ``<table>.parquet``), by file name. The overall hash is the SHA-256 of
    the lines ``"<sha256>  <file name>\\n"`` in file-name order (the ``sha256sum`` format).
    """
    raw_dir = Path(raw_dir)
    names = {CONFIG_FILE, SETTINGS_FILE}
    for t in TABLES:
        names.update({f"{t}.csv", f"{t}.parquet"})
    per_file = {n: _file_sha256(raw_dir / n) for n in sorted(names) if (raw_dir / n).is_file()}
    listing = "".join(f"{h}  {n}\n" for n, h in per_file.items())
    return hashlib.sha256(listing.encode("utf-8")).hexdigest(), per_file


# --------------------------------------------------------------------------------------------
# Processed extracts
# --------------------------------------------------------------------------------------------

_ARROW_TYPES = {
    "string": pa.string(),
    "category": pa.string(),
    "date": pa.date32(),
    "boolean": pa.bool_(),
    "integer": pa.int64(),
    "number": pa.float64(),
}


def _arrow_table(name: str, df: pd.DataFrame, codes: dict[str, Codes] | None = None,
                 rows: slice = slice(None)) -> pa.Table:
    """Rows ``rows`` of a typed table as Arrow. A text column with known codes goes by its codes
    (its distinct strings once, then Arrow's ``take``), not by converting every row's string."""
    spec = TABLES[name]
    arrays, fields = [], []
    for col in spec.columns:
        s = df[col.name]
        typ = _ARROW_TYPES[col.type]
        k = Codes.of(s, (codes or {}).get(col.name)) if col.type in _TEXT_TYPES else None
        if k is not None:
            idx = k.codes[rows]
            arr = pa.array(k.uniques, type=typ).take(pa.array(idx, mask=idx < 0))
        elif col.type == "date":
            arr = pa.array(s.iloc[rows].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]"), type=typ,
                           from_pandas=True)
        elif col.type in _TEXT_TYPES:  # from_pandas: missing (None or NaN) is null
            arr = pa.array(s.iloc[rows].to_numpy(dtype=object), type=typ, from_pandas=True)
        else:
            arr = pa.array(s.iloc[rows], type=typ, from_pandas=True)
        arrays.append(arr)
        fields.append(pa.field(col.name, typ, nullable=True))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


#: rows converted to Arrow at a time when writing (bounds the memory a big table needs)
WRITE_CHUNK_ROWS = 1 << 22


def _write_parquet(name: str, df: pd.DataFrame, path: Path, codes: dict[str, Codes] | None = None) -> None:
    if len(df) <= WRITE_CHUNK_ROWS:
        pq.write_table(_arrow_table(name, df, codes), path, compression="zstd", write_statistics=True)
    else:
        schema = _arrow_table(name, df.iloc[:0]).schema
        with pq.ParquetWriter(path, schema, compression="zstd", write_statistics=True) as writer:
            for lo in range(0, max(len(df), 1), WRITE_CHUNK_ROWS):
                writer.write_table(_arrow_table(name, df, codes, slice(lo, lo + WRITE_CHUNK_ROWS)))
    _release_arrow_memory()


_NULLABLE = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}.get


def _objects(arr: pa.ChunkedArray) -> np.ndarray:
    """A string column as an object array (``None`` for missing). Read dictionary-encoded, each
    distinct string becomes one Python object shared by its rows: a 20-million-row id column costs
    its pointers, not 20 million strings."""
    return _text_column(arr, with_codes=False)[0]


def _text_column(arr: pa.ChunkedArray, with_codes: bool = True) -> tuple[np.ndarray, Codes | None]:
    """:func:`_objects`, with the column's codes when it was read dictionary-encoded."""
    if not pa.types.is_dictionary(arr.type):
        return arr.to_numpy(zero_copy_only=False).astype(object), None
    d = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    del arr  # the caller's reference only: a column read for this call is let go here
    _release_arrow_memory()
    words = np.empty(len(d.dictionary) + 1, dtype=object)
    words[:-1] = d.dictionary.to_numpy(zero_copy_only=False)
    words[-1] = None
    indices = (d.indices.fill_null(-1) if d.indices.null_count else d.indices).to_numpy(zero_copy_only=False)
    small = np.min_scalar_type(-len(words))  # the smallest signed type for every code and -1
    if small.itemsize < indices.itemsize:  # a category of a few words: int8, a quarter of int32
        indices = indices.astype(small)
    values = words[indices]  # -1 (missing) is the last word: None
    return values, (Codes.from_dictionary(indices, words[:-1], values) if with_codes else None)


def _column(col: ColumnSpec, arr: pa.ChunkedArray) -> pd.Series:
    """One processed column with the loader's dtype (:mod:`pipeline.extract`)."""
    if col.type == "date":
        return pd.Series(arr.cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False), dtype="datetime64[ns]")
    if col.type in _TEXT_TYPES:
        return pd.Series(_objects(arr), dtype=object)
    if col.type in ("boolean", "integer"):
        return arr.to_pandas(types_mapper=_NULLABLE).reset_index(drop=True).rename(None)
    return pd.Series(arr.to_numpy(zero_copy_only=False), dtype="float64")


def _read_processed_table(name: str, path: Path) -> pd.DataFrame:
    """A processed table, converted column by column; each column's Arrow buffers are let go as
    soon as it is converted, so a big table needs little more than its pandas form."""
    text = [c.name for c in TABLES[name].columns if c.type in _TEXT_TYPES]
    table = pq.read_table(path, read_dictionary=text)
    n, big = table.num_rows, table.num_rows > WRITE_CHUNK_ROWS
    cols = {}
    for col in TABLES[name].columns:
        arr = table.column(col.name)
        table = table.drop_columns([col.name])
        cols[col.name] = _column(col, arr)
        del arr
        if big:
            _release_arrow_memory()
    del table
    _release_arrow_memory()
    # copy=False: each column keeps its own array (no consolidation copy of a big table)
    return pd.DataFrame(cols, index=pd.RangeIndex(n), copy=False)


def _json_default(v: Any) -> Any:
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    if isinstance(v, tuple):
        return list(v)
    raise TypeError(f"not JSON serialisable: {v!r}")


def config_to_dict(config: ExtractConfig) -> dict[str, Any]:
    d = asdict(config)
    d["extract_start"] = config.extract_start.isoformat()
    d["extract_end"] = config.extract_end.isoformat()
    if config.referral_target_monthly is not None:
        d["referral_target_monthly"] = list(config.referral_target_monthly)
    return json.loads(json.dumps(d, default=_json_default))


def write_processed(extract: Extract, out_dir: Path, inputs: dict[str, str] | None = None) -> Path:
    """Write ``extract`` to ``out_dir`` as one Parquet file per table plus ``manifest.json``.

    The files are written into a temporary folder beside ``out_dir`` which then replaces it, so a
    failure leaves any previous ``out_dir`` as it was. ``inputs`` ({file: sha256}) goes into the
    manifest; by default the per-file hashes :func:`load_extract` / :func:`read_processed`
    attached to the extract (``extract.input_files``), else ``{}``. Text columns whose codes
    :func:`load_extract` attached (``extract.text_codes``) are written by their codes.
    """
    out_dir = Path(out_dir)
    if inputs is None:
        inputs = getattr(extract, "input_files", None) or {}
    # the codes of the text columns, when the loader found them (pipeline.textcodes)
    text_codes = getattr(extract, "text_codes", None) or {}
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        counts = {}
        for name in TABLES:
            if name not in extract.tables:
                continue
            df = extract.tables[name]
            _write_parquet(name, df, tmp / f"{name}.parquet", text_codes.get(name))
            counts[name] = int(len(df))
        manifest = {
            "contract_version": contract.CONTRACT_VERSION,
            "borough": extract.config.slug,
            "inputs": dict(sorted((inputs or {}).items())),
            "sha256": extract.sha256,
            "tables": counts,
            "config": config_to_dict(extract.config),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, default=_json_default) + "\n", encoding="utf-8")
        _swap_in(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _swap_in(new: Path, target: Path) -> None:
    if not target.exists():
        os.replace(new, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    old.rmdir()
    os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def read_processed(processed_dir: Path, tables: Iterable[str] | None = None) -> Extract:
    """Read an extract written by :func:`write_processed`, with the loader's dtypes.

    ``tables`` names the tables to read (default: all); ``tables=()`` reads only the manifest,
    for a stage that needs the extract's configuration and hash but none of its rows."""
    processed_dir = Path(processed_dir)
    manifest = read_manifest(processed_dir)
    wanted = None if tables is None else set(tables)
    frames = {}
    for name in manifest["tables"]:
        if wanted is not None and name not in wanted:
            continue
        path = processed_dir / f"{name}.parquet"
        if name not in TABLES or not path.is_file():
            raise DataError(Problem(file=path.name, message="is listed in manifest.json but missing"))
        frames[name] = _read_processed_table(name, path)
    return extract_of(manifest, frames)
