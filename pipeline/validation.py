"""``make validate BOROUGH=x``: check an extract and print a readable summary, building nothing.

The summary lists every contract table (file found, rows, the date range of its main date
column, completeness and its least complete column), which report sections the tables allow
(from each registered section's required tables, :mod:`pipeline.sections`), files that are not contract tables, and every
problem by file, column, row and value. It is produced even when ``extract.yml`` or the tables
are invalid: the inventory comes from the raw files, the problems from the same loader that
``make report`` uses (:func:`pipeline.load.load_extract`) and the settings check
(:func:`pipeline.config.load_settings`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .config import SETTINGS_FILE, load_settings
from .contract import TABLES, TableSpec
from .errors import ConfigError, DataError, Problem
from .extract import ExtractConfig
from .extract_config import CONFIG_FILE, ISO_DATE, read_extract_config
from .load import load_extract
from .rawtables import find_table_files, read_table


@dataclass
class TableInfo:
    name: str
    required: bool
    file: str | None = None
    rows: int | None = None
    date_column: str | None = None
    first: str | None = None
    last: str | None = None
    complete_pct: float | None = None
    least: tuple[str, float] | None = None  # least complete contract column
    unreadable: bool = False


@dataclass
class Summary:
    folder: Path
    config: ExtractConfig | None
    tables: list[TableInfo]
    problems: list[Problem]
    sections: dict[str, list[str]] = field(default_factory=dict)  # section -> missing tables ([] = runs)
    ignored: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _date_column(spec: TableSpec) -> str | None:
    return next((c.name for c in spec.columns if c.type == "date"), None)


def _inventory(raw_dir: Path, date_format: str) -> tuple[list[TableInfo], list[str]]:
    found, _ = find_table_files(raw_dir)
    infos = []
    for name, spec in TABLES.items():
        info = TableInfo(name, spec.required, date_column=_date_column(spec))
        path = found.get(name)
        if path is not None:
            info.file = path.name
            raw, err = read_table(path)
            if err is not None or raw is None:
                info.unreadable = True
            else:
                raw = raw.replace(r"^\s*$", pd.NA, regex=True) if len(raw) else raw
                raw = raw.dropna(how="all")
                info.rows = len(raw)
                cols = [c for c in spec.column_names if c in raw.columns]
                if info.rows and cols:
                    filled = raw[cols].notna().mean() * 100
                    info.complete_pct = float(filled.mean())
                    low = filled.idxmin()
                    if filled[low] < 100:
                        info.least = (str(low), float(filled[low]))
                if info.rows and info.date_column in raw.columns:
                    col = raw[info.date_column]
                    if pd.api.types.is_datetime64_any_dtype(col.dtype):
                        dates = col
                    else:
                        dates = pd.to_datetime(col.astype("string"), format=date_format, errors="coerce")
                    dates = dates.dropna()
                    if len(dates):
                        info.first, info.last = f"{dates.min():%Y-%m-%d}", f"{dates.max():%Y-%m-%d}"
        infos.append(info)
    known = {f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")} | {CONFIG_FILE, SETTINGS_FILE}
    ignored = sorted(p.name for p in raw_dir.iterdir()
                     if p.is_file() and p.suffix.lower() in {".csv", ".parquet", ".xlsx", ".xls", ".txt"}
                     and p.name not in known)
    return infos, ignored


def section_requirements() -> dict[str, tuple[str, ...]]:
    """Report section -> the tables it needs, from the section registry."""
    from .sections import registry

    return {s.name: s.required for s in registry()}


def summarise(raw_dir: Path) -> Summary:
    raw_dir = Path(raw_dir)
    problems: list[Problem] = []
    config: ExtractConfig | None = None
    try:
        config = read_extract_config(raw_dir)
    except ConfigError as e:
        problems += e.problems
    fmt = (config.date_format if config else None) or ISO_DATE
    tables, ignored = _inventory(raw_dir, fmt)
    try:
        load_settings(raw_dir)
    except ConfigError as e:
        problems += e.problems
    if config is not None:
        try:
            load_extract(raw_dir)
        except DataError as e:
            problems += e.problems
    else:
        # the loader stops at extract.yml: still report required tables that are missing or empty
        for t in tables:
            if t.required and t.file is None:
                problems.append(Problem(file=f"{t.name}.csv", message="required table is missing"))
            elif t.required and t.rows == 0:
                problems.append(Problem(file=t.file or f"{t.name}.csv", message="has a header but no data rows: "
                                        "this table is required, so export its rows below the header"))
    have = {t.name for t in tables if t.file is not None and t.rows}
    sections = {s: [t for t in req if t not in have] for s, req in section_requirements().items()}
    return Summary(raw_dir, config, tables, problems, sections, ignored)


def _n(x: int | None) -> str:
    return "-" if x is None else f"{x:,}"


def format_summary(s: Summary, slug: str) -> str:
    lines = []
    cfg = s.config
    if cfg is not None:
        lines.append(f"{cfg.borough} ({cfg.slug}, {cfg.ons_code}): extract {cfg.extract_start} to {cfg.extract_end}, "
                     f"registered population {cfg.registered_population:,}{' [synthetic]' if cfg.synthetic else ''}")
    else:
        lines.append(f"data_raw/{slug}/: extract.yml is incomplete or invalid (see the problems below)")
    lines.append("")
    lines.append(f"{'table':<23}{'file':<27}{'rows':>9}  {'dates':<25}{'complete':>9}")
    for t in s.tables:
        label = t.name + (" *" if t.required else "")
        if t.file is None:
            lines.append(f"{label:<23}{'-':<27}{'':>9}  {'not provided' + (' (REQUIRED)' if t.required else '')}")
            continue
        if t.unreadable:
            lines.append(f"{label:<23}{t.file:<27}{'':>9}  unreadable (see problems)")
            continue
        dates = f"{t.first} to {t.last}" if t.first else ("header only, no rows" if t.rows == 0 else "-")
        complete = "-" if t.complete_pct is None else f"{t.complete_pct:.1f}%"
        row = f"{label:<23}{t.file:<27}{_n(t.rows):>9}  {dates:<25}{complete:>9}"
        if t.least:
            row += f"  (least: {t.least[0]} {t.least[1]:.0f}%)"
        lines.append(row)
    lines.append("* required table; dates: the range of each table's first date column; complete: % of "
                 "contract cells filled")
    if s.ignored:
        lines.append(f"Ignored (not contract tables; check the names): {', '.join(s.ignored)}")
    runs = sorted(sec for sec, missing in s.sections.items() if not missing)
    skips = sorted((sec, missing) for sec, missing in s.sections.items() if missing)
    lines.append("")
    lines.append("Report sections these tables allow: " + (", ".join(r.replace("_", " ") for r in runs) or "none"))
    if skips:
        lines.append("Sections left out, and the tables they need: " + "; ".join(
            f"{sec.replace('_', ' ')} ({', '.join(m)})" for sec, m in skips))
    lines.append("")
    if s.ok:
        lines.append("No problems found: the extract meets data contract v1. "
                     f"Build the report with: make report BOROUGH={slug}")
    else:
        n = len(s.problems)
        lines.append(f"{n} problem{'s' if n != 1 else ''}:")
        lines += [f"  - {p}" for p in s.problems]
        if cfg is None:
            lines.append("The tables' contents are checked once extract.yml is valid.")
        lines.append(f"Fix {'these' if n != 1 else 'it'} and run `make validate BOROUGH={slug}` again. "
                     "Nothing was built.")
    return "\n".join(lines)
