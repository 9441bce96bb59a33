"""An extract folder's table files, found and read as the user wrote them: every CSV cell as text,
a Parquet file's columns as stored (text columns as Python strings, with their codes:
:mod:`pipeline.textcodes`). Each table is ``<table>.csv`` or ``<table>.parquet``.

Row numbers are what a spreadsheet user sees: the header is row 1 and the first data row is row 2.
Parquet files have no header line, but the same numbering is used (the first record is row 2), so
that a CSV and a Parquet export of the same table give the same row numbers.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .contract import TABLES
from .errors import Problem
from .memory import release_arrow
from .textcodes import Codes, arrow_text


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
    release_arrow()
    strings, found = {}, {}
    for name in text:
        strings[name], found[name] = arrow_text(pq.read_table(path, columns=[name], read_dictionary=[name])
                                                .column(0), with_codes=codes is not None)
        release_arrow()
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



def find_table_files(raw_dir: Path) -> tuple[dict[str, Path], list[Problem]]:
    """Each contract table's file in ``raw_dir`` (table -> path), and a problem for each table
    given as both CSV and Parquet."""
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


def read_table(path: Path, codes: dict[str, Codes] | None = None) -> tuple[pd.DataFrame | None, Problem | None]:
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

