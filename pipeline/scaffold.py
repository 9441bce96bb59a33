"""``make new-borough NAME="Kingston upon Thames"``: start ``data_raw/<slug>/`` for a borough's
own data.

The folder gets:

- ``extract.yml`` to fill in (``templates/extract.yml``; the ONS code is filled in for a built-in
  area), so ``make validate`` names each key still missing;
- ``referrals.csv`` and ``sp_contacts.csv``, the required tables, as header-only templates, and
  ``templates/<table>.csv`` for every contract table (copy up the optional ones you have);
- ``settings.yml``: every project default from ``config/defaults.yml``, commented out, to
  override for this borough only;
- ``README.md``: how to export each table from the usual systems (EMIS, SystmOne, Joy,
  Elemental) and what every column means, generated from the contract in
  :mod:`pipeline.contract` and ``templates/export-guidance.yml`` so it cannot drift.

An existing folder is never overwritten.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path
from string import Template
from typing import Any

import yaml

from . import paths
from .contract import CLINICAL_MEASURE_RANGES, CLINICAL_MEASURE_UNITS, TABLES, ColumnSpec, TableSpec

TEMPLATES = paths.ROOT / "templates"
SYSTEMS = ("EMIS", "SystmOne", "Joy", "Elemental")
RESERVED = {"london"}  # reports/london/ is the cross-borough comparison
TYPE_TEXT = {
    "string": "text",
    "category": "one of a fixed list",
    "date": "date (YYYY-MM-DD)",
    "boolean": "yes/no",
    "integer": "whole number",
    "number": "number",
}


class ScaffoldError(ValueError):
    """The name is unusable or the folder exists (a message, not a traceback)."""


def slugify(name: str) -> str:
    """'Kingston upon Thames' -> 'kingston-upon-thames'; 'Norfolk & Waveney' -> 'norfolk-and-waveney'."""
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    text = text.lower().replace("&", " and ").replace("'", "")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def guidance() -> dict[str, Any]:
    return yaml.safe_load((TEMPLATES / "export-guidance.yml").read_text(encoding="utf-8"))


def column_meaning(table: str, col: ColumnSpec, glossary: dict[str, str]) -> str:
    """What a column means and the rules it must meet, from the contract (plus the glossary)."""
    parts = []
    meaning = glossary.get(f"{table}.{col.name}") or glossary.get(col.name) or ""
    if meaning:
        parts.append(meaning)
    if col.description and col.description not in meaning:
        parts.append(col.description)
    ranged = ".." in col.description
    if col.name == "measure":
        parts.append("one of " + ", ".join(f"`{m}` ({CLINICAL_MEASURE_UNITS[m]}, {lo:g}..{hi:g})"
                                           for m, (lo, hi) in CLINICAL_MEASURE_RANGES.items()))
    elif col.allowed is not None:
        parts.append("one of " + ", ".join(f"`{v}`" for v in col.allowed))
    if ranged:
        pass
    elif col.min is not None and col.max is not None:
        parts.append(f"{col.min:g} to {col.max:g}")
    elif col.min is not None:
        parts.append(f"{col.min:g} or more")
    if col.pattern_hint:
        parts.append(col.pattern_hint)
    if col.unique:
        parts.append("unique: no two rows share a value")
    text = "; ".join(p.rstrip(".") for p in parts if p)
    return text[:1].upper() + text[1:]


def table_markdown(spec: TableSpec, guide: dict[str, Any], glossary: dict[str, str]) -> str:
    g = guide.get(spec.name, {})
    where = "this folder" if spec.required else "`templates/` (copy it up into this folder if you have the data)"
    lines = [f"### `{spec.name}.csv` ({'required' if spec.required else 'optional'})", "",
             f"{g.get('what', spec.description)} Header-only template: {where}.", "",
             f"**Usually from:** {g.get('source', '')}", ""]
    for system in SYSTEMS:
        if g.get(system):
            lines.append(f"- *{system}*: {g[system]}")
    lines += ["", "| column | needed | type | meaning and rules |", "|---|---|---|---|"]
    for col in spec.columns:
        needed = "yes" if col.required else "optional"
        if spec.name == "referrals" and col.name == "closure_reason":
            needed = "if closed"
        lines.append(f"| `{col.name}` | {needed} | {TYPE_TEXT[col.type]} | "
                     f"{column_meaning(spec.name, col, glossary).replace('|', '/')} |")
    return "\n".join(lines)


def readme_text(name: str, slug: str) -> str:
    g = guidance()
    systems = "\n".join(f"- **{s}**: {g['systems'][s]}" for s in SYSTEMS)
    tables = "\n\n".join(table_markdown(spec, g["tables"], g["columns"]) for spec in TABLES.values())
    return Template((TEMPLATES / "README.md").read_text(encoding="utf-8")).substitute(
        name=name, slug=slug, systems=systems, tables=tables)


def extract_yml_text(name: str, slug: str) -> str:
    ons = ""
    try:
        from .areas import AREAS

        if slug in AREAS:
            ons = AREAS[slug].ons_code
    except Exception:  # noqa: BLE001 - the built-in areas only pre-fill a code
        ons = ""
    return Template((TEMPLATES / "extract.yml").read_text(encoding="utf-8")).substitute(
        name=name, slug=slug, borough_yaml=json.dumps(name, ensure_ascii=False), ons_code=ons)


def settings_yml_text(name: str) -> str:
    """Every default from config/defaults.yml, commented out, under a short explanation."""
    defaults = (paths.CONFIG / "defaults.yml").read_text(encoding="utf-8").splitlines()
    while defaults and (not defaults[0].strip() or defaults[0].startswith("#")):
        defaults.pop(0)  # the defaults file's own header
    body = ["# " + line if line.strip() else "" for line in defaults]
    head = [f"# settings.yml for {name}: overrides of the project defaults (config/defaults.yml) for this",
            "# borough only. Everything below is commented out, showing the default. To change a setting,",
            "# remove the '# ' from its line and from the lines of the sections above it, e.g.",
            "#     report:",
            '#       organisation: "Kingston social prescribing service"',
            "# Checked when the extract is loaded (make validate): a wrong key or value is named there.", ""]
    return "\n".join(head + body).rstrip() + "\n"


def header_csv(spec: TableSpec) -> str:
    return ",".join(spec.column_names) + "\n"


def new_borough(name: str, raw_root: Path | None = None) -> Path:
    """Create ``data_raw/<slug>/`` for ``name``; refuses an existing folder."""
    name = (name or "").strip()
    if not name:
        raise ScaffoldError('give the borough\'s name: make new-borough NAME="Kingston upon Thames"')
    slug = slugify(name)
    if not slug:
        raise ScaffoldError(f"{name!r} has no letters or digits to make a folder name from")
    if slug in RESERVED:
        raise ScaffoldError(f"'{slug}' is reserved for the London-wide comparison (reports/london/); use the "
                            "borough's own name")
    raw_root = raw_root or paths.DATA_RAW
    dest = raw_root / slug
    if dest.exists():
        what = "an extract" if (dest / "extract.yml").exists() else "files"
        raise ScaffoldError(f"data_raw/{slug}/ already exists and holds {what}: it is never overwritten. Move it "
                            "away or delete it first if you mean to start again.")
    raw_root.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".new-{slug}-", dir=raw_root))
    try:
        (staged / "templates").mkdir()
        (staged / "extract.yml").write_text(extract_yml_text(name, slug), encoding="utf-8")
        (staged / "settings.yml").write_text(settings_yml_text(name), encoding="utf-8")
        (staged / "README.md").write_text(readme_text(name, slug), encoding="utf-8")
        for spec in TABLES.values():
            (staged / "templates" / f"{spec.name}.csv").write_text(header_csv(spec), encoding="utf-8")
            if spec.required:
                (staged / f"{spec.name}.csv").write_text(header_csv(spec), encoding="utf-8")
        staged.chmod(0o755)
        staged.rename(dest)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return dest


def next_steps(dest: Path) -> str:
    slug = dest.name
    rel = f"data_raw/{slug}/"
    return "\n".join([
        f"Created {rel}",
        "  extract.yml          fill in the dates and the registered population",
        "  referrals.csv        required: replace with your export (keep the header)",
        "  sp_contacts.csv      required: replace with your export (keep the header)",
        "  templates/           header-only templates for every table: copy up the optional ones you have",
        "  settings.yml         optional overrides (report title, organisation, targets, thresholds)",
        "  README.md            how to export each table from EMIS, SystmOne, Joy or Elemental, and what each column means",
        f"Next: make validate BOROUGH={slug}",
    ])
