"""A validated extract stored as ``data_processed/<slug>/``: one Parquet file per table plus
``manifest.json`` (:mod:`pipeline.processed`), written atomically, and read back into pandas with
exactly the loader's dtypes (:mod:`pipeline.extract`). Text columns whose codes the loader found
are written by their codes; big tables are written and read a few million rows at a time."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import contract
from .contract import TABLES, TEXT_TYPES, ColumnSpec
from .errors import DataError, Problem
from .extract import Extract
from .memory import release_arrow
from .processed import MANIFEST, config_to_dict, extract_of, json_default, read_manifest
from .textcodes import Codes, arrow_text

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
        k = Codes.of(s, (codes or {}).get(col.name)) if col.type in TEXT_TYPES else None
        if k is not None:
            idx = k.codes[rows]
            arr = pa.array(k.uniques, type=typ).take(pa.array(idx, mask=idx < 0))
        elif col.type == "date":
            arr = pa.array(s.iloc[rows].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]"), type=typ,
                           from_pandas=True)
        elif col.type in TEXT_TYPES:  # from_pandas: missing (None or NaN) is null
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
    release_arrow()


_NULLABLE = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}.get


def _column(col: ColumnSpec, arr: pa.ChunkedArray) -> pd.Series:
    """One processed column with the loader's dtype (:mod:`pipeline.extract`)."""
    if col.type == "date":
        return pd.Series(arr.cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False), dtype="datetime64[ns]")
    if col.type in TEXT_TYPES:
        return pd.Series(arrow_text(arr, with_codes=False)[0], dtype=object)
    if col.type in ("boolean", "integer"):
        return arr.to_pandas(types_mapper=_NULLABLE).reset_index(drop=True).rename(None)
    return pd.Series(arr.to_numpy(zero_copy_only=False), dtype="float64")


def _read_processed_table(name: str, path: Path) -> pd.DataFrame:
    """A processed table, converted column by column; each column's Arrow buffers are let go as
    soon as it is converted, so a big table needs little more than its pandas form."""
    text = [c.name for c in TABLES[name].columns if c.type in TEXT_TYPES]
    table = pq.read_table(path, read_dictionary=text)
    n, big = table.num_rows, table.num_rows > WRITE_CHUNK_ROWS
    cols = {}
    for col in TABLES[name].columns:
        arr = table.column(col.name)
        table = table.drop_columns([col.name])
        cols[col.name] = _column(col, arr)
        del arr
        if big:
            release_arrow()
    del table
    release_arrow()
    # copy=False: each column keeps its own array (no consolidation copy of a big table)
    return pd.DataFrame(cols, index=pd.RangeIndex(n), copy=False)


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
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, default=json_default) + "\n", encoding="utf-8")
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
