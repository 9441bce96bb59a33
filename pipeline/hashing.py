"""The SHA-256 of an extract's input files, and one hash of them all: what a processed extract
and a report record as the inputs they were built from."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .config import SETTINGS_FILE
from .contract import TABLES
from .extract_config import CONFIG_FILE


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
