"""The processed extract on disk (``data_processed/<slug>/``) as the publishing stage reads it:
its manifest and the text of its Parquet tables, with neither pandas nor the contract's pandera
schemas imported (about half a second of every ``publish`` process).

:func:`pipeline.processed_tables.write_processed` writes the folder and
:func:`pipeline.processed_tables.read_processed` reads its tables into pandas; both go through this
module for the manifest (and the extract's configuration in it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from . import CONTRACT_VERSION
from .errors import DataError, Problem
from .extract import Extract, ExtractConfig

MANIFEST = "manifest.json"
#: rows read at a time by :func:`text_columns` (bounds its memory on a big table)
SCAN_BATCH_ROWS = 1 << 22


def read_manifest(processed_dir: Path) -> dict[str, Any]:
    """The manifest, checked: present, and written under this code's contract version."""
    processed_dir = Path(processed_dir)
    if not (processed_dir / MANIFEST).is_file():
        raise DataError(Problem(file=MANIFEST, message=f"is missing from {processed_dir}: run the load step again"))
    m = json.loads((processed_dir / MANIFEST).read_text(encoding="utf-8"))
    if m.get("contract_version") != CONTRACT_VERSION:
        raise DataError(
            Problem(
                file=MANIFEST,
                column="contract_version",
                message=f"was written under contract version {m.get('contract_version')}, this code "
                f"reads version {CONTRACT_VERSION}: run the load step again",
            )
        )
    return m


def config_from_dict(d: dict[str, Any]) -> ExtractConfig:
    target = d.get("referral_target_monthly")
    return ExtractConfig(
        slug=d["slug"],
        borough=d["borough"],
        ons_code=d["ons_code"],
        extract_start=date.fromisoformat(d["extract_start"]),
        extract_end=date.fromisoformat(d["extract_end"]),
        registered_population=int(d["registered_population"]),
        referral_target_monthly=tuple(target) if target is not None else None,  # type: ignore[arg-type]
        readmission_benchmark_30d_pct=d.get("readmission_benchmark_30d_pct"),
        date_format=d.get("date_format"),
        synthetic=bool(d.get("synthetic", False)),
        extra=dict(d.get("extra") or {}),
    )


def json_default(v: Any) -> Any:
    """``json.dumps``'s ``default`` for the manifest: dates as ISO text, tuples as lists."""
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    if isinstance(v, tuple):
        return list(v)
    raise TypeError(f"not JSON serialisable: {v!r}")


def config_to_dict(config: ExtractConfig) -> dict[str, Any]:
    """The manifest's ``config``: what :func:`config_from_dict` reads back."""
    d = asdict(config)
    d["extract_start"] = config.extract_start.isoformat()
    d["extract_end"] = config.extract_end.isoformat()
    if config.referral_target_monthly is not None:
        d["referral_target_monthly"] = list(config.referral_target_monthly)
    return json.loads(json.dumps(d, default=json_default))


def extract_of(m: dict[str, Any], tables: dict[str, Any] | None = None) -> Extract:
    """The :class:`Extract` a manifest describes, holding ``tables`` (default: none)."""
    extract = Extract(config=config_from_dict(m["config"]), tables=dict(tables or {}), sha256=m["sha256"])
    extract.input_files = dict(m.get("inputs") or {})  # type: ignore[attr-defined]
    return extract


def header(processed_dir: Path) -> Extract:
    """The extract's configuration, hash and input files, without any of its rows."""
    return extract_of(read_manifest(processed_dir))


def _is_text(typ: pa.DataType) -> bool:
    if pa.types.is_dictionary(typ):
        typ = typ.value_type
    return pa.types.is_string(typ) or pa.types.is_large_string(typ)


def text_columns(processed_dir: Path) -> Iterator[tuple[str, str, pa.Array]]:
    """(table, column, values) for every text column of a processed extract, read straight from
    its Parquet a column and a few million rows at a time: what a scan over the extract's text
    needs, without building the tables in pandas. The text columns are those the Parquet stores
    as strings, which :func:`pipeline.load.write_processed` does for exactly the contract's
    string and category columns. Values are Arrow strings (nulls for missing),
    dictionary-encoded as the Parquet stores them (an id column's distinct values once per row
    group, not a string per row)."""
    processed_dir = Path(processed_dir)
    for name in read_manifest(processed_dir)["tables"]:
        path = processed_dir / f"{name}.parquet"
        text = [f.name for f in pq.read_schema(path) if _is_text(f.type)]
        if not text:
            continue
        pf = pq.ParquetFile(path, read_dictionary=text)
        for col in text:
            for batch in pf.iter_batches(batch_size=SCAN_BATCH_ROWS, columns=[col]):
                yield name, col, batch.column(0)
        pf.close()
