"""The numbers behind every table and chart, for readers to download.

A notebook shows a published table with :func:`pipeline.nb.table` and a chart with
:func:`pipeline.nb.show` (``data=``: the published numbers it draws); both carry the same values as
CSV (``text/csv``) in the executed notebook. When the report is published, each CSV

- gets a file name from its notebook and the heading it sits under (:func:`name`),
- is offered beside its table or chart as a link holding the file itself (a ``data:`` address, so
  the report still opens offline and no request leaves the machine) (:func:`add_links`), and
- is written to ``reports/<borough>/tables/`` with a data dictionary, ``tables/README.md``
  (:func:`write`).

Only published figures reach these files: they are the tables the report shows, withheld values
as ``[c]``.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

MIME = "text/csv"
MARK = "sp-download"   # output metadata: the file a CSV is published as
SOURCE = "sp-source"   # cell metadata: the notebook a cell of the combined report came from


@dataclass(frozen=True)
class Download:
    file: str
    caption: str
    kind: str  # "table" or "chart"
    csv: str


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50] or "table"


def _heading(source: str) -> str | None:
    found = re.findall(r"^#{1,4}\s+(.+)$", source, flags=re.M)
    return found[-1].strip() if found else None


def name(nb: nbformat.NotebookNode) -> list[Download]:
    """Give every CSV output of the combined report a file name and a caption (the notebook it came
    from and the heading it sits under), recorded in the output's metadata; returns them in order."""
    out: list[Download] = []
    heading, counts = "", {}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heading = _heading(cell.source) or heading
            continue
        if cell.cell_type != "code":
            continue
        source = cell.metadata.get(SOURCE, "report")
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get(MIME)
            if text is None:
                continue
            counts[source] = counts.get(source, 0) + 1
            kind = "chart" if "image/png" in output["data"] else "table"
            file = f"{source}-{counts[source]:02d}-{_slug(heading)}.csv"
            output.setdefault("metadata", {})[MARK] = {"file": file, "caption": heading, "kind": kind}
            out.append(Download(file, heading, kind, text))
    return out


def add_links(nb: nbformat.NotebookNode) -> None:
    """After every named CSV output, a link that downloads it (the file travels inside the link)."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            outputs.append(output)
            meta = output.get("metadata", {}).get(MARK)
            if meta is None:
                continue
            text = output["data"][MIME]
            data = base64.b64encode(text.encode("utf-8")).decode("ascii")
            what = "the numbers in this chart" if meta["kind"] == "chart" else "this table"
            link = (f'<p class="sp-download"><a download="{html.escape(meta["file"])}" '
                    f'href="data:text/csv;charset=utf-8;base64,{data}">Download {what} (CSV, '
                    f'{html.escape(meta["file"])})</a></p>')
            if meta["kind"] == "chart":  # the chart's table alternative, for readers who cannot see it
                link = (f'<details class="sp-chart-data"><summary>The numbers in this chart, as a table</summary>'
                        f'{html_table(text)}</details>') + link
            outputs.append(nbformat.v4.new_output("display_data", data={"text/html": link, "text/plain": ""}))
        cell.outputs = outputs


def html_table(text: str) -> str:
    """A CSV as an HTML table: a header row, and each row's first cell as its row header."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return ""
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in rows[0])
    body = "".join("<tr>" + "".join((f'<th scope="row">{html.escape(c)}</th>' if i == 0 else f"<td>{html.escape(c)}</td>")
                                    for i, c in enumerate(r)) + "</tr>" for r in rows[1:])
    return f'<table class="sp-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def write(downloads: list[Download], folder: Path, borough: str) -> None:
    """The CSV files and their data dictionary."""
    if not downloads:
        return
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"# Tables behind the report for {borough}", "",
             "Every table the report shows, and the numbers behind every chart, as CSV (UTF-8, comma-separated, "
             "one header row). Only published figures are here, after disclosure control: counts are rounded to "
             "the nearest 5, `[c]` marks a figure withheld (a small number, one that could reveal a small number, "
             "or one resting on too few people), and percentages are computed from the rounded counts. The "
             "report's methods section and `results.json` (`disclosure`) give the rules.", ""]
    for d in downloads:
        (folder / d.file).write_text(d.csv, encoding="utf-8")
        header = next(csv.reader(io.StringIO(d.csv)), [])
        lines += [f"## {d.file}", "", f"{'Chart' if d.kind == 'chart' else 'Table'}: {d.caption or 'untitled'}.", "",
                  "| Column | Holds |", "|---|---|"]
        lines += [f"| {c} | {_holds(c, d.csv)} |" for c in header]
        lines.append("")
    (folder / "README.md").write_text("\n".join(lines), encoding="utf-8")


def _holds(column: str, text: str) -> str:
    """'numbers' or 'text' for one column, from its values (``[c]`` aside)."""
    values = [r.get(column, "") for r in csv.DictReader(io.StringIO(text))]
    shown = [v for v in values if v not in ("", "[c]")]
    try:
        [float(v.replace(",", "")) for v in shown]
    except ValueError:
        return "text (a label or a formatted figure)"
    return "numbers" + (" ([c] where withheld)" if "[c]" in values else "")
