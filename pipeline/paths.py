"""Every path the project uses, anchored at the project root (the folder holding this package).

Override the root with ``SP_EVAL_ROOT`` (tests use this to work in a temporary copy).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import TargetError

ROOT = Path(os.environ.get("SP_EVAL_ROOT", Path(__file__).resolve().parent.parent)).resolve()

DATA_RAW = ROOT / "data_raw"
DATA_PROCESSED = ROOT / "data_processed"
BUILD = ROOT / "build"
REPORTS = ROOT / "reports"
NOTEBOOKS = ROOT / "notebooks"
CONFIG = ROOT / "config"
DOCS = ROOT / "docs"

LONDON = "london"  # reports/london/: the cross-borough comparison, never a borough

SLUG_RE = re.compile(r"^[a-z0-9-]+$")


def check_slug(borough: str) -> str:
    if not SLUG_RE.match(borough or ""):
        raise TargetError(f"borough {borough!r} is not a slug (lower case letters, digits and '-')")
    return borough


def raw_dir(borough: str) -> Path:
    return DATA_RAW / check_slug(borough)


def processed_dir(borough: str) -> Path:
    return DATA_PROCESSED / check_slug(borough)


def build_dir(borough: str) -> Path:
    return BUILD / check_slug(borough)


def report_dir(borough: str) -> Path:
    return REPORTS / check_slug(borough)
