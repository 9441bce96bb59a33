"""Assemble ``results.json``, render the report and publish it atomically.

Everything is written into a temporary folder beside the destination; only when the whole
report is complete, and has passed the identifier scan, is it swapped into place with one
atomic rename. A failed or interrupted build leaves the previous report byte-identical.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pyarrow as pa
import pyarrow.compute as pc

from . import CONTRACT_VERSION, comparators, downloads, paths, sections
from .atomic import staging_dir, swap_into_place
from .config import Settings
from .disclosure import Rules
from .disclosure.statement import markdown as statement_markdown
from .disclosure.statement import statement
from .errors import BuildError
from .execute import RESET_TAG
from .extract import Extract
from .periods import Period
from .processed import text_columns
from .provenance import build_time, code_version, package_versions
from .render import NOT_FOR_PUBLICATION, SYNTHETIC_NOTE, ReportMeta, combine, number_cells, render
from .resultsjson import dumps
from .summary import markdown as summary_markdown

ID_COLUMNS = ("patient_id", "referral_id", "response_id")


class PublishError(BuildError):
    pass


# --------------------------------------------------------------------------- results.json

def read_fragments(fragments_dir: Path) -> dict[str, dict[str, Any]]:
    """{section: fragment} as the notebooks saved them (:meth:`pipeline.sections.Result.fragment`)."""
    frags = {}
    if fragments_dir.exists():
        for f in sorted(fragments_dir.glob("*.json")):
            if f.name != sections.SNAPSHOT:
                frag = json.loads(f.read_text())
                frags[frag["section"]] = frag
    return frags


def declared_sections(fragments_dir: Path, fragments: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every registered section's declaration (:func:`pipeline.sections.snapshot`, saved by the
    notebook stage), and that of any fragment it does not list."""
    snap = fragments_dir / sections.SNAPSHOT
    declared = json.loads(snap.read_text()) if snap.exists() else {}
    for name, frag in fragments.items():
        declared.setdefault(name, {"title": frag.get("title", name), "notebook": frag.get("notebook", ""),
                                   "order": frag.get("order", 0), "contract": bool(frag.get("contract"))})
    return declared


def assemble_results(extract: Extract, settings: Settings, fragments: dict[str, dict[str, Any]],
                     provenance: dict[str, Any], declared: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """``results.json``: every declared section in :func:`pipeline.sections.results_order` (one
    whose notebook has not run says so), with the paths disclosure control withheld, those that
    could not be estimated (with reasons) and the disclosure statement."""
    declared = declared if declared is not None else {
        n: {"contract": bool(f.get("contract")), "order": f.get("order", 0)} for n, f in fragments.items()}
    cfg = extract.config
    results: dict[str, Any] = {
        "contract_version": CONTRACT_VERSION,
        "borough": cfg.slug,
        "extract": {"start": cfg.extract_start.isoformat(), "end": cfg.extract_end.isoformat(),
                    "sha256": extract.sha256},
        "code_version": provenance["code_version"],
        "suppressed": [],
    }
    suppressed: list[str] = []
    facts: list[str] = []
    not_estimable: dict[str, str] = {}
    applied: dict[str, int] = {}
    for name in sections.results_order(declared):
        frag = fragments.get(name)
        if frag is None:
            results[name] = {"status": "not_run", "reason": "the analysis for this section has not been built yet"}
        elif frag["status"] != "ok":
            results[name] = {"status": frag["status"], "reason": frag.get("reason") or "not run"}
        else:
            results[name] = frag["data"]
            suppressed += frag.get("suppressed", [])
            not_estimable.update(frag.get("not_estimable", {}))
            facts += frag.get("facts", [])
            for rule, n in frag.get("rules_applied", {}).items():
                applied[rule] = applied.get(rule, 0) + n
    results["suppressed"] = sorted(set(suppressed))
    results["not_estimable"] = dict(sorted(not_estimable.items()))
    results["synthetic"] = bool(cfg.synthetic)
    results["disclosure_control"] = settings.disclosure.model_dump()
    results["disclosure"] = statement(Rules(settings.disclosure), applied, sorted(facts))
    results["provenance"] = provenance
    return results


def unavailable_notebooks(fragments: dict[str, dict[str, Any]], declared: dict[str, dict[str, Any]]) -> set[str]:
    """Notebooks none of whose sections ran: the report keeps only their "not available" note."""
    by_notebook: dict[str, list[str]] = {}
    for name, d in declared.items():
        by_notebook.setdefault(d["notebook"], []).append(name)
    return {nb for nb, names in by_notebook.items()
            if all(fragments.get(n, {}).get("status") == "not_run" for n in names)}


# --------------------------------------------------------------------------- identifier scan

_TOKEN = re.compile(r"[A-Za-z0-9]+")
_DATA_URI = re.compile(r"data:[a-z]+/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+")
_TEN_DIGITS = re.compile(r"\d{10}")


def _text_columns(extract: Extract) -> Iterator[tuple[str, str, pa.Array]]:
    """(table, column, distinct values as strings) for every id and text column of an extract
    held in memory."""
    import pandas as pd

    for name, table in extract.tables.items():
        for col in table.columns:
            if col in ID_COLUMNS or table[col].dtype == object:
                distinct = pd.unique(table[col].to_numpy(dtype=object))  # each value once, not a copy per row
                yield name, col, pa.array([str(v) for v in distinct[pd.notna(distinct)]], type=pa.string())


def identifiers_among(tokens: set[str], extract: Extract, processed_dir: Path | None = None) -> set[str]:
    """The tokens that are input identifiers: a patient, referral or survey response id, or a
    10-digit number that is the whole of a value in any text column.

    The published text is small and the extract may be large, so the scan goes from the tokens
    to the extract: each column is checked against the few thousand tokens (a vectorised set
    lookup), never turned into a set of its own millions of values. With ``processed_dir`` the
    columns are read straight from the processed Parquet, a few million rows at a time, and
    ``extract`` is needed for nothing else (it may hold no tables)."""
    if not tokens:
        return set()
    every = pa.array(sorted(tokens), type=pa.string())
    ten = pa.array(sorted(t for t in tokens if _TEN_DIGITS.fullmatch(t)), type=pa.string())
    columns = text_columns(processed_dir) if processed_dir is not None else _text_columns(extract)
    found: set[str] = set()
    for _, col, values in columns:
        candidates = every if col in ID_COLUMNS else ten
        if not len(candidates):
            continue
        if pa.types.is_dictionary(values.type):
            if not pc.any(pc.is_in(values.dictionary, value_set=candidates)).as_py():
                continue  # no candidate among the distinct values: the usual case, decided on them alone
            values = values.cast(pa.string())  # which rows hold one: decoded only then
        found.update(pc.unique(values.filter(pc.is_in(values, value_set=candidates))).to_pylist())
    return found


def published_text(path: Path) -> str:
    if path.suffix == ".docx":
        import zipfile

        with zipfile.ZipFile(path) as z:
            return " ".join(z.read(n).decode("utf-8", "ignore") for n in z.namelist() if n.endswith(".xml"))
    if path.suffix == ".pdf":
        pdftotext = shutil.which("pdftotext")
        if pdftotext:
            import subprocess

            return subprocess.run([pdftotext, str(path), "-"], capture_output=True, text=True).stdout
        return path.read_bytes().decode("latin-1")
    if path.suffix in {".png", ".jpg", ".svg"}:
        return ""
    text = path.read_text(encoding="utf-8", errors="ignore")
    if path.suffix == ".ipynb":
        text = without_notebook_images(text)
    return text


def without_notebook_images(text: str) -> str:
    """A notebook's JSON with base64 image outputs blanked: their characters can spell any short
    identifier by chance (they are pictures, scanned as pictures are: not at all)."""
    try:
        nb = json.loads(text)
    except ValueError:
        return text
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            for mime in [m for m in data if m.startswith("image/") and m != "image/svg+xml"]:
                data[mime] = ""
    return json.dumps(nb)


def published_tokens(folder: Path) -> dict[str, set[str]]:
    """{file: its distinct alphanumeric tokens} for every published file, pictures left out."""
    return {str(f.relative_to(folder)): set(_TOKEN.findall(_DATA_URI.sub(" ", published_text(f))))
            for f in sorted(p for p in folder.rglob("*") if p.is_file())}


def scan_for_identifiers(folder: Path, extract: Extract, processed_dir: Path | None = None) -> list[tuple[str, str]]:
    """(file, identifier) for every input identifier found in a published file (the first three
    per file); ``processed_dir`` as for :func:`identifiers_among`."""
    tokens = published_tokens(folder)
    ids = identifiers_among(set().union(*tokens.values()), extract, processed_dir)
    return [(f, i) for f, found in tokens.items() for i in sorted(found & ids)[:3]]


# --------------------------------------------------------------------------- notebooks

def strip_notebook(src: Path, dst: Path) -> None:
    """Copy an executed notebook for publishing: outputs kept (they are disclosure-controlled),
    stderr streams, error tracebacks and machine-specific metadata dropped."""
    nb = nbformat.read(src, as_version=4)
    nb.cells = [c for c in nb.cells if RESET_TAG not in c.get("metadata", {}).get("tags", [])]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
            cell.metadata.pop("execution", None)
            pm = cell.metadata.get("papermill")
            if pm:
                for k in ("start_time", "end_time", "duration"):
                    pm.pop(k, None)
    pm = nb.metadata.get("papermill", {})
    for k in ("start_time", "end_time", "duration", "input_path", "output_path"):
        pm.pop(k, None)
    nbformat.write(nb, dst)


# --------------------------------------------------------------------------- the whole step

def provenance_markdown(results: dict[str, Any], rendered_by: str) -> str:
    prov = results["provenance"]
    pkgs = ", ".join(f"{k} {v}" for k, v in prov["package_versions"].items())
    params = ", ".join(f"{k}={v}" for k, v in prov["parameters"].items())
    return "\n".join([
        "## Methods and provenance",
        "",
        f"- **Inputs**: `data_raw/{results['borough']}/`, sha256 `{results['extract']['sha256']}`; "
        f"extract period {results['extract']['start']} to {results['extract']['end']}.",
        f"- **Code version**: `{results['code_version']}` (data contract v{results['contract_version']}).",
        f"- **Parameters**: {params}.",
        "- **Disclosure control**: see the statement below.",
        f"- **Rendered by**: {rendered_by}.",
        f"- **Packages**: {pkgs}.",
        f"- **Built**: {prov['build_time']}.",
        "",
        "Machine-readable figures are in `results.json`; the executed notebooks behind every section "
        "are in `notebooks/`.",
        "",
        statement_markdown(results["disclosure"]),
    ])


def publish_report(borough: str, extract: Extract, settings: Settings, executed: list[Path],
                   fragments_dir: Path, dest: Path | None = None, parameters: dict[str, Any] | None = None,
                   keep: tuple[str, ...] = (), period: Period | None = None,
                   processed_dir: Path | None = None, refresh: bool = False) -> dict[str, Any]:
    """Build the whole report into a staging folder, check it, and swap it into ``dest``.

    The identifier scan looks in ``extract``'s tables, or with ``processed_dir`` in that processed
    extract's Parquet (then ``extract`` needs only its configuration and hash). ``refresh``: render
    the published report again (to show the current London comparison), keeping its
    ``results.json`` as it is, byte for byte and with its modification time, so Make sees nothing
    new."""
    dest = dest or paths.report_dir(borough)
    for nb_path in executed:
        if not nb_path.exists():
            raise PublishError(f"executed notebook {nb_path} is missing; run the notebooks first")
    fragments = read_fragments(fragments_dir)
    declared = declared_sections(fragments_dir, fragments)
    if refresh:
        results = load_results(dest / "results.json")
    else:
        provenance = {
            "build_time": build_time(),
            "code_version": code_version(),
            "parameters": {"borough": borough, "period": period.label if period else None, **(parameters or {})},
            "package_versions": package_versions(),
        }
        results = assemble_results(extract, settings, fragments, provenance, declared)
    if period is not None and not refresh:
        results["period"] = {"label": period.label, "start": period.start.date().isoformat(),
                             "end": period.end.date().isoformat(),
                             "applies_to": "activity sections; outcome sections keep their own windows"}
    compared = None if period is not None else comparators.for_borough(borough, extract.sha256, dest.parent)

    banners = []
    if extract.config.synthetic:
        banners.append(SYNTHETIC_NOTE)
    if not settings.disclosure.enabled:
        banners.append(NOT_FOR_PUBLICATION)
    cfg = extract.config
    meta = ReportMeta(
        title=f"{settings.report.title}: {cfg.borough}" + (f", {period.description}" if period else ""),
        subtitle=f"{settings.report.organisation} · extract {cfg.extract_start:%d %B %Y} to {cfg.extract_end:%d %B %Y}",
        banners=banners,
    )
    staged = staging_dir(dest)
    try:
        (staged / "notebooks").mkdir()
        for nb_path in executed:
            strip_notebook(nb_path, staged / "notebooks" / nb_path.name)
        combined = combine(executed, unavailable_notebooks(fragments, declared))
        in_report_order = sorted(declared, key=lambda n: (declared[n]["order"], n))
        headlines = [h for n in in_report_order for h in fragments.get(n, {}).get("headlines", [])]
        combined.cells.insert(0, nbformat.v4.new_markdown_cell(summary_markdown(results, headlines)))
        if compared is not None:
            combined.cells.insert(1, nbformat.v4.new_markdown_cell(comparators.markdown(compared)))
        number_cells(combined)
        tables = downloads.name(combined)
        downloads.add_links(combined)
        # the renderer and its version go into the provenance section, so render twice is avoided by
        # asking the renderer first and filling the text after
        from .render import quarto_path

        renderer = "quarto" if quarto_path() else "nbconvert"
        if not refresh:
            results["provenance"]["renderer"] = renderer
        meta.provenance_md = provenance_markdown(results, renderer)
        with tempfile.TemporaryDirectory(prefix="render-") as work:
            rendered = render(combined, meta, staged, Path(work))
        if refresh:
            shutil.copy2(dest / "results.json", staged / "results.json")
        else:
            results["provenance"]["renderer"] = f"{rendered.renderer} {rendered.version}"
            results["provenance"]["formats"] = rendered.files
            (staged / "results.json").write_text(dumps(results), encoding="utf-8")
        downloads.write(tables, staged / "tables", extract.config.borough)
        hits = scan_for_identifiers(staged, extract, processed_dir)
        if hits:
            shown = "; ".join(f"{f}: {i}" for f, i in hits[:5])
            raise PublishError(f"refusing to publish: patient identifiers found in the report ({shown})")
        swap_into_place(staged, dest, keep=keep)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return results


def load_results(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())

