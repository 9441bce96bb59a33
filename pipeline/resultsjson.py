"""The text of a published ``results.json`` (a borough report's and the London comparison's):
one format, so the files diff cleanly and never carry NaN or infinity."""

from __future__ import annotations

import json
from typing import Any


def dumps(results: dict[str, Any]) -> str:
    return json.dumps(results, indent=2, sort_keys=False, ensure_ascii=False, allow_nan=False) + "\n"
