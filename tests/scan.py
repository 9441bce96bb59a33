"""An independent check of published files: no small counts, no identifiers.

Used by the end-to-end tests (one borough) and the slow all-borough scan. It does not trust the
publisher: it reads what is on disk.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

# integer-valued JSON keys that are not counts of people or records
NOT_COUNTS = {"contract_version", "row", "min_count", "rounding", "min_base", "pct_decimals", "df", "f_df",
              "df_resid", "df_model", "quarters", "horizon", "n_practices", "horizons_days", "day", "days", "window_days",
              "min_days_between", "decile", "k", "year", "bins", "n_tests", "n_quarters", "n_pcns",
              "regression_min_pcns", "pcns", "lower", "upper", "months_above", "months_below", "months_within",
              "months_unknown", "distinct_needs", "regression_min_quarters", "small_band_warning", "targets_in_cohort",
              "max_targets", "n_targets", "n_bootstrap", "seed", "t", "at_day", "times", "level", "order"}
_CELL = re.compile(r"<tr>(.*?)</tr>", re.S)
_TD = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
_TOKEN = re.compile(r"[A-Za-z0-9]+")
_DATA_URI = re.compile(r"data:[a-z]+/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+")


def small_counts_in_json(obj, path="") -> list[str]:
    """Dotted paths of integers 1..7 under keys that are counts."""
    hits = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in NOT_COUNTS or k in {"disclosure_control", "disclosure", "provenance", "suppressed", "not_estimable", "period"}:
                continue
            hits += small_counts_in_json(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            hits += small_counts_in_json(v, f"{path}[{i}]")
    elif isinstance(obj, int) and not isinstance(obj, bool) and 1 <= obj <= 7:
        hits.append(f"{path}={obj}")
    return hits


def small_counts_in_html(html: str) -> list[str]:
    """Table cells (other than a row's first, label cell) holding a bare integer 1..7."""
    hits = []
    for row in _CELL.findall(html):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in _TD.findall(row)]
        for c in cells[1:]:
            if re.fullmatch(r"[1-7]", c):
                hits.append(f"cell {c!r} in row {cells[:3]}")
    return hits


def identifiers_in(folder: Path, ids: set[str]) -> list[str]:
    hits = []
    for f in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in {".html", ".json", ".ipynb", ".md", ".txt"}):
        text = f.read_text(errors="ignore")
        if f.suffix == ".ipynb":  # base64 pictures can spell a short id by chance: blank them
            nb = json.loads(text)
            for cell in nb.get("cells", []):
                for out in cell.get("outputs", []):
                    for mime in [m for m in out.get("data", {}) if m.startswith("image/") and m != "image/svg+xml"]:
                        out["data"][mime] = ""
            text = json.dumps(nb)
        text = _DATA_URI.sub(" ", text)
        found = ids.intersection(_TOKEN.findall(text))
        hits += [f"{f.name}: {i}" for i in sorted(found)[:3]]
    return hits


def scan_report(folder: Path, ids: set[str]) -> list[str]:
    problems = []
    results = json.loads((folder / "results.json").read_text())
    if results.get("disclosure_control", {}).get("enabled", True):
        problems += [f"results.json {h}" for h in small_counts_in_json(results)]
        problems += [f"index.html {h}" for h in small_counts_in_html((folder / "index.html").read_text())]
        for nbf in sorted((folder / "notebooks").glob("*.ipynb")):
            for cell in json.loads(nbf.read_text())["cells"]:
                for out in cell.get("outputs", []):
                    html = "".join(out.get("data", {}).get("text/html", []))
                    problems += [f"{nbf.name} {h}" for h in small_counts_in_html(html)]
    problems += identifiers_in(folder, ids)
    return problems


def input_identifiers(raw_dir: Path) -> set[str]:
    """patient_id / referral_id values and 10-digit numbers in the raw extract."""
    import pandas as pd

    ids: set[str] = set()
    for f in raw_dir.glob("*.csv"):
        df = pd.read_csv(f, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for col in df.columns:
            if col in ("patient_id", "referral_id"):
                ids.update(v for v in df[col] if v)
            else:
                ids.update(v for v in df[col] if re.fullmatch(r"\d{10}", v))
    return ids
