"""Turn the executed notebooks into one report: Quarto when it is on PATH, else nbconvert.

Both renderers start from the same combined notebook (:func:`combine`): the borough's executed
notebooks in logic-model order, with parameter cells, warnings and code dropped from view.

- **Quarto** (``quarto`` on PATH): ``quarto render report.ipynb --to <fmt> --no-execute`` for
  self-contained HTML (``embed-resources``), Typst PDF and DOCX.
- **nbconvert fallback**: the ``basic`` template (cells only, no CDN scripts) wrapped in our
  own page with inline CSS, a table of contents and images embedded as data URIs, so the file
  opens offline and no request leaves the machine.

``REQUIRE_QUARTO=1`` makes a missing Quarto an error instead of a fallback.
"""

from __future__ import annotations

import copy
import html
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .downloads import SOURCE
from .errors import BuildError
from .execute import RESET_TAG
from .sections import SECTION_MARK

QUARTO_FORMATS = {"html": "index.html", "typst": "report.pdf", "docx": "report.docx"}
SYNTHETIC_NOTE = "SYNTHETIC DATA: these figures describe made-up patients, not a real service."
NOT_FOR_PUBLICATION = "NOT FOR PUBLICATION: disclosure control is switched off."


class RenderError(BuildError):
    pass


@dataclass
class ReportMeta:
    title: str
    subtitle: str
    banners: list[str] = field(default_factory=list)  # repeated at the top of every page
    provenance_md: str = ""  # markdown appended as the last section


@dataclass
class Rendered:
    renderer: str  # "quarto" or "nbconvert"
    version: str
    files: list[str]


# --------------------------------------------------------------------------- combine

def _is_hidden_cell(cell) -> bool:
    tags = set(cell.get("metadata", {}).get("tags", []))
    return bool(tags & {"parameters", "injected-parameters", RESET_TAG, "remove_cell", "remove"})


def _clean_outputs(outputs: list) -> list:
    keep = []
    for out in outputs:
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            continue  # warnings and progress bars are for the log, not the report
        if out.get("output_type") == "error":
            continue
        keep.append(out)
    return keep


def combine(notebooks: list[Path], unavailable: set[str] = frozenset()) -> nbformat.NotebookNode:
    """One notebook from several executed ones, in order, without parameter cells.

    ``unavailable``: notebooks (by name) none of whose sections could run on this extract; each is
    cut after the note that says why (:func:`pipeline.nb.section` marks it), so the report and its
    table of contents show one short note instead of a skeleton."""
    combined = nbformat.v4.new_notebook()
    combined.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    combined.metadata["language_info"] = {"name": "python"}
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        for cell in (_until_not_available(nb.cells) if path.stem in unavailable else nb.cells):
            if _is_hidden_cell(cell):
                continue
            cell = copy.deepcopy(cell)
            cell.metadata[SOURCE] = path.stem
            if cell.cell_type == "code":
                cell.outputs = _clean_outputs(cell.get("outputs", []))
                cell.metadata.pop("papermill", None)
                cell.metadata.pop("execution", None)
                if not cell.outputs:
                    continue
            combined.cells.append(cell)
    number_cells(combined)
    return combined


def _until_not_available(cells: list) -> list:
    """The cells up to and including the first one whose output is a section's "not available" note."""
    for i, cell in enumerate(cells):
        if cell.cell_type != "code" or _is_hidden_cell(cell):
            continue
        if any(SECTION_MARK in out.get("metadata", {}) for out in cell.get("outputs", [])):
            return cells[: i + 1]
    return cells


def number_cells(nb: nbformat.NotebookNode) -> None:
    """Deterministic cell ids, so two builds of the same inputs give the same files."""
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:04d}"


# --------------------------------------------------------------------------- quarto

def quarto_path() -> str | None:
    return shutil.which("quarto")


def _quarto_front_matter(meta: ReportMeta) -> str:
    banner = " ".join(meta.banners)
    title = meta.title.replace('"', "'")
    subtitle = meta.subtitle.replace('"', "'")
    lines = ["---", f'title: "{title}"', f'subtitle: "{subtitle}"', "execute:", "  enabled: false",
             "  echo: false", "  warning: false", "format:",
             "  html:", "    embed-resources: true", "    toc: true", "    code-fold: false",
             "  typst:", "    toc: true", "  docx:", "    toc: true"]
    if banner:
        lines.insert(3, f'abstract: "{banner.replace(chr(34), chr(39))}"')
    lines.append("---")
    return "\n".join(lines)


def render_quarto(combined: nbformat.NotebookNode, meta: ReportMeta, out_dir: Path, workdir: Path) -> Rendered:
    quarto = quarto_path()
    if not quarto:
        raise RenderError("quarto is not on PATH")
    nb = copy.deepcopy(combined)
    cells = [nbformat.v4.new_raw_cell(_quarto_front_matter(meta))]
    for b in meta.banners:
        cells.append(nbformat.v4.new_markdown_cell(f"::: {{.callout-warning}}\n{b}\n:::"))
    nb.cells = cells + nb.cells + ([nbformat.v4.new_markdown_cell(meta.provenance_md)] if meta.provenance_md else [])
    number_cells(nb)
    workdir.mkdir(parents=True, exist_ok=True)
    src = workdir / "report.ipynb"
    nbformat.write(nb, src)
    version = subprocess.run([quarto, "--version"], capture_output=True, text=True).stdout.strip() or "unknown"
    files = []
    for fmt, target in QUARTO_FORMATS.items():
        cmd = [quarto, "render", src.name, "--to", fmt, "--no-execute", "--output-dir", str(workdir / "out")]
        proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RenderError(f"quarto render --to {fmt} failed:\n{proc.stderr[-2000:]}")
        produced = workdir / "out" / ("report." + {"html": "html", "typst": "pdf", "docx": "docx"}[fmt])
        if not produced.exists():
            raise RenderError(f"quarto render --to {fmt} did not produce {produced.name}")
        shutil.move(produced, out_dir / target)
        files.append(target)
    return Rendered("quarto", version, files)


# --------------------------------------------------------------------------- nbconvert fallback

PAGE_CSS = """
:root { --ink:#1d2731; --muted:#5b6770; --accent:#2b6a99; --warn:#9a3412; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: var(--ink);
       margin: 0; line-height: 1.5; }
.banner { position: sticky; top: 0; z-index: 10; background: #fff4e5; color: var(--warn); border-bottom: 2px solid #f2b134;
          padding: .4rem 1rem; font-weight: 600; text-align: center; }
@media print { .banner { position: fixed; top: 0; left: 0; right: 0; } body { margin-top: 2.5rem; } }
.layout { display: flex; gap: 2rem; max-width: 1200px; margin: 0 auto; padding: 1rem 1.5rem; }
nav.toc { flex: 0 0 240px; position: sticky; top: 3rem; align-self: flex-start; font-size: .9rem; max-height: 90vh; overflow:auto; }
nav.toc ul { list-style: none; padding-left: .8rem; margin: .2rem 0; }
nav.toc a { color: var(--accent); text-decoration: none; display: inline-block; min-height: 24px; line-height: 24px; }
.sp-download { font-size: .85rem; margin: -.5rem 0 1rem; } .sp-download a { display: inline-block; min-height: 24px; line-height: 24px; }
main { flex: 1 1 auto; min-width: 0; }
header.title h1 { margin-bottom: .2rem; } header.title p { color: var(--muted); margin-top: 0; }
main table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .92rem; }
main table th, main table td { border-bottom: 1px solid #d6dde3; padding: .25rem .6rem; vertical-align: top; }
main table th { text-align: left; }
table.sp-table th, table.sp-table td, table.dataframe th, table.dataframe td { border-bottom: 1px solid #d6dde3; padding: .25rem .6rem; text-align: right; }
table.sp-table th:first-child, table.sp-table td:first-child { text-align: left; }
img { max-width: 100%; height: auto; }
.anchor-link { display: none; }
section.provenance { font-size: .85rem; color: var(--muted); border-top: 1px solid #d6dde3; margin-top: 2rem; }
@media (max-width: 800px) { .layout { display: block; } nav.toc { position: static; } }
"""

_HEADING = re.compile(r"<h([12])([^>]*)>(.*?)</h\1>", re.S)


def _slug(text: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", re.sub(r"<[^>]+>", "", text).lower()).strip("-") or "section"
    slug, i = base, 2
    while slug in used:
        slug, i = f"{base}-{i}", i + 1
    used.add(slug)
    return slug


def _add_toc(body: str) -> tuple[str, str]:
    used: set[str] = set()
    items: list[tuple[int, str, str]] = []

    def repl(m: re.Match) -> str:
        level, attrs, inner = int(m.group(1)), m.group(2), m.group(3)
        text = re.sub(r"<[^>]+>", "", inner).replace("¶", "").strip()
        slug = _slug(text, used)
        attrs = re.sub(r'\sid="[^"]*"', "", attrs)
        items.append((level, slug, text))
        return f'<h{level}{attrs} id="{slug}">{inner}</h{level}>'

    body = _HEADING.sub(repl, body)
    toc = ["<ul>"]
    for level, slug, text in items:
        pad = "" if level == 1 else ' style="padding-left:.8rem"'
        toc.append(f'<li{pad}><a href="#{slug}">{text}</a></li>')
    toc.append("</ul>")
    return body, "\n".join(toc)


def render_html_fallback(combined: nbformat.NotebookNode, meta: ReportMeta, out_dir: Path) -> Rendered:
    import nbconvert
    from nbconvert import HTMLExporter

    nb = copy.deepcopy(combined)
    if meta.provenance_md:
        nb.cells.append(nbformat.v4.new_markdown_cell(meta.provenance_md))
    number_cells(nb)
    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True, anchor_link_text="")
    body, _ = exporter.from_notebook_node(nb)
    body = re.sub(r"<script\b[^>]*\bsrc=[^>]*></script>", "", body)  # no external scripts, ever
    body, toc = _add_toc(body)
    banners = "".join(f'<div class="banner">{html.escape(b)}</div>' for b in meta.banners)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(meta.title)}</title>
<style>{PAGE_CSS}</style>
</head>
<body>
{banners}
<div class="layout">
<nav class="toc" aria-label="Contents"><strong>Contents</strong>
{toc}
</nav>
<main>
<header class="title"><h1 id="report-title">{html.escape(meta.title)}</h1><p>{html.escape(meta.subtitle)}</p></header>
{body}
</main>
</div>
</body>
</html>
"""
    (out_dir / "index.html").write_text(page, encoding="utf-8")
    return Rendered("nbconvert", nbconvert.__version__, ["index.html"])


def render(combined: nbformat.NotebookNode, meta: ReportMeta, out_dir: Path, workdir: Path) -> Rendered:
    """Render with Quarto when available (required when ``REQUIRE_QUARTO=1``), else nbconvert."""
    if quarto_path():
        return render_quarto(combined, meta, out_dir, workdir)
    if os.environ.get("REQUIRE_QUARTO") == "1":
        raise RenderError("REQUIRE_QUARTO=1 but quarto is not on PATH (install it with conda-forge, see README)")
    return render_html_fallback(combined, meta, out_dir)
