"""Loading an extract: ``data_raw/<borough>/`` read, typed and checked against data contract v1.

:func:`load_extract` reads every table (:mod:`pipeline.rawtables`), types every column strictly
(:mod:`pipeline.coerce`), checks the whole extract against the contract (:mod:`pipeline.checks`)
and either returns a typed :class:`~pipeline.extract.Extract` or raises one
:class:`~pipeline.errors.DataError` listing every problem found in every table.

The stages around it import from here too: :func:`read_extract_config` (``extract.yml``,
:mod:`pipeline.extract_config`), :func:`inputs_sha256` (:mod:`pipeline.hashing`) and
:func:`write_processed` / :func:`read_processed` (``data_processed/<borough>/``,
:mod:`pipeline.processed_tables`).

Row numbers in messages are what a spreadsheet user sees: the header is row 1 and the first
data row is row 2. Parquet files have no header line, but the same numbering is used (the
first record is reported as row 2) so that a CSV and a Parquet export of the same table give
the same row numbers. CSV rows that are entirely empty are skipped (they keep their numbers).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .checks import check_tables
from .checks.locate import Locator
from .checks.nhs import hide_nhs_values, nhs_number_problems
from .coerce import type_table
from .config import SETTINGS_FILE
from .contract import REQUIRED_TABLES, TABLES
from .errors import DataError, Problem
from .extract import Extract
from .extract_config import CONFIG_FILE, ISO_DATE, read_extract_config
from .hashing import inputs_sha256
from .processed_tables import read_processed, write_processed
from .rawtables import find_table_files, read_table
from .textcodes import Codes

__all__ = [  # load_extract, and what the stages around it import from here
    "CONFIG_FILE",
    "ISO_DATE",
    "SETTINGS_FILE",
    "inputs_sha256",
    "load_extract",
    "read_extract_config",
    "read_processed",
    "write_processed",
]


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
    found, problems = find_table_files(raw_dir)
    unreadable: set[str] = {_table_of(p.file) for p in problems}
    bad_cells: dict[str, dict[str, list[int]]] = {}

    tables: dict[str, pd.DataFrame] = {}
    raws: dict[str, pd.DataFrame] = {}
    files = {name: f"{name}.csv" for name in TABLES}
    files.update({name: p.name for name, p in found.items()})
    text_codes: dict[str, dict[str, Codes]] = {}
    for name, path in found.items():
        read_codes: dict[str, Codes] = {}
        raw, err = read_table(path, read_codes)
        if err is not None:
            problems.append(err)
            unreadable.add(name)
            continue
        bad_cells[name] = {}
        typed, prepared, found_problems, text_codes[name] = type_table(
            TABLES[name], raw, path.name, date_format, bad_cells[name], read_codes)
        problems.extend(found_problems)
        raws[name] = prepared
        if typed is None:
            unreadable.add(name)
            # still screen patient_id for NHS numbers, so they are never echoed
            if "patient_id" in prepared.columns:
                tables_for_nhs = {name: prepared[["patient_id"]]}
                problems.extend(nhs_number_problems(tables_for_nhs, Locator(tables_for_nhs, files, None)))
            continue
        tables[name] = typed

    # required tables that are absent (not merely unreadable)
    present = {name: df for name, df in tables.items()}
    checked = check_tables(present, config.extract_start, config.extract_end, files, raws, bad_cells, text_codes)
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
    problems = hide_nhs_values(problems + checked, nhs)
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
