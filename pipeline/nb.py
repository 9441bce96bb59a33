"""What a report notebook needs, in one import.

A notebook (``notebooks/*.py``, jupytext percent format) has a ``parameters`` cell::

    borough = "merton"
    processed_dir = None   # default data_processed/<borough>; built on first use in JupyterLab
    fragments_dir = None   # default build/<borough>/fragments
    period = None          # e.g. "2023-24", "2023-Q2", "2023-07": activity sections only

then opens with one call, ``sec = nb.section("readmission", borough, processed_dir,
fragments_dir, period)``: it runs the registered section (:mod:`pipeline.sections`) through the
disclosure layer and saves its part of ``results.json``, or shows why it cannot run. The rest of
the notebook shows ``sec.data`` (published figures only) under ``if sec.ok:``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import paths, sections
from .config import Settings, load_settings
from .disclosure import Rules
from .extract import Extract
from .formatting import ci_text, fmt, p_text  # noqa: F401  (re-exported for notebooks)
from .periods import Period, check_within, parse_period, restrict


@dataclass
class Context:
    borough: str
    extract: Extract
    settings: Settings
    fragments_dir: Path
    period: Period | None = None
    _activity: Extract | None = None

    @property
    def config(self):
        return self.extract.config

    @property
    def activity_extract(self) -> Extract:
        """The extract for activity sections: restricted to the reporting period when one is set
        (referrals received in it, and their contacts, signposts and needs recorded in it)."""
        if self.period is None:
            return self.extract
        if self._activity is None:
            self._activity = restrict(self.extract, self.period)
        return self._activity

    @property
    def period_text(self) -> str:
        """'the financial year 2023/24' or 'the whole extract (April 2021 to March 2024)'."""
        if self.period is None:
            return f"the whole extract ({self.config.extract_start:%B %Y} to {self.config.extract_end:%B %Y})"
        return self.period.description

    def has(self, *tables: str) -> bool:
        return self.extract.has(*tables)

    def missing(self, *tables: str) -> list[str]:
        return [t for t in tables if t not in self.extract.tables]


def ensure_processed(borough: str) -> Path:
    """The processed folder for a borough, building it (and a synthetic extract) when absent."""
    out = paths.processed_dir(borough)
    if not (out / "manifest.json").exists():
        from .cli import process  # local import: cli imports this module's siblings

        process(borough)
    return out


_CACHE: dict[tuple[str, int], Extract] = {}


def _read_processed_cached(processed: Path) -> Extract:
    """Read a processed extract once per kernel: notebooks sharing a kernel share the tables.

    Keyed on the manifest's modification time, so reprocessed data is read afresh. Analyses
    treat the tables as read-only."""
    from .processed_tables import read_processed  # not .load: the kernel needs no pandera

    key = (str(processed.resolve()), (processed / "manifest.json").stat().st_mtime_ns)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = read_processed(processed)
    return _CACHE[key]


def setup(borough: str, processed_dir: str | Path | None = None,
          fragments_dir: str | Path | None = None, period: str | None = None) -> Context:
    processed = Path(processed_dir) if processed_dir else ensure_processed(borough)
    pd.set_option("mode.copy_on_write", True)
    cached = _read_processed_cached(processed)
    # lazy copies: with copy-on-write a notebook that adds a column never changes the shared tables
    extract = Extract(cached.config, {k: v.copy(deep=False) for k, v in cached.tables.items()}, cached.sha256)
    settings = load_settings(processed)  # processing copies settings.yml next to the tables
    per = parse_period(period) if period else None
    if per is not None:
        check_within(per, extract.config.start, extract.config.end)
    default_frag = paths.build_dir(borough) / (per.label if per else "") / "fragments"
    frag = Path(fragments_dir) if fragments_dir else default_frag
    _style()
    return Context(borough, extract, settings, frag, per)




@dataclass
class SectionView:
    """A section as its notebook sees it: ``ok``, the published ``data`` or the ``reason`` it
    did not run, and the notebook's :class:`Context`."""

    ctx: Context
    name: str
    status: str
    data: Any = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == sections.OK


def section(name: str, borough: str, processed_dir: str | Path | None = None,
            fragments_dir: str | Path | None = None, period: str | None = None, *,
            reuse: bool = False) -> SectionView:
    """Run the registered section ``name`` and save its part of ``results.json``; when it cannot
    run, show why (a note the report keeps as the section's only content) and save that.

    ``reuse``: a notebook that shows part of another notebook's section reads the fragment that
    section saved for these same inputs instead of computing it again."""
    ctx = setup(borough, processed_dir, fragments_dir, period)
    sec = sections.get(name)
    frag = _fragment(ctx, sec, reuse)
    view = SectionView(ctx, name, frag["status"], frag.get("data"), frag.get("reason"))
    if not view.ok:
        _show_not_available(sec, view.reason or "")
    return view


def _fragment(ctx: Context, sec: "sections.Section", reuse: bool) -> dict[str, Any]:
    """The section's fragment: the one saved for these inputs when ``reuse``, else computed,
    released and saved."""
    frag_path = ctx.fragments_dir / f"{sec.name}.json"
    if reuse and frag_path.exists():
        saved = json.loads(frag_path.read_text())
        if saved.get("inputs_sha256") == ctx.extract.sha256:
            return saved
    inputs = sections.Inputs(ctx.activity_extract if sec.follows_period else ctx.extract, ctx.extract,
                             ctx.settings, ctx.period)
    frag = sec.run(inputs, Rules(ctx.settings.disclosure), _withheld_before(ctx, sec)).fragment(ctx.extract.sha256)
    ctx.fragments_dir.mkdir(parents=True, exist_ok=True)
    frag_path.write_text(json.dumps(frag, indent=1, sort_keys=True) + "\n")
    (ctx.fragments_dir / sections.SNAPSHOT).write_text(json.dumps(sections.snapshot(), indent=1) + "\n")
    return frag


def _withheld_before(ctx: Context, sec: "sections.Section") -> set[str]:
    """The ``results.json`` paths withheld by the sections ``sec`` comes after and repeats counts
    of (their saved fragments, or computed now). A section restricted to a reporting period counts
    other things than a whole-extract one, so it is skipped in a period report."""
    out: set[str] = set()
    for name in sec.after:
        before = sections.get(name)
        if before.follows_period != sec.follows_period and ctx.period is not None:
            continue
        out.update(_fragment(ctx, before, reuse=True).get("suppressed", []))
    return out


def _show_not_available(sec: "sections.Section", reason: str) -> None:
    from IPython.display import Markdown, display

    text = f"**{sec.title}: not available.** {reason[:1].upper() + reason[1:]}."
    if sec.needs:
        text += f" {sec.needs}"
    display(Markdown(text), metadata={sections.SECTION_MARK: {"name": sec.name, "status": sections.NOT_RUN}})


def _style() -> None:
    import matplotlib
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "figure.figsize": (8, 4),
                                "svg.hashsalt": "sp-eval", "axes.titleweight": "bold"})
    pd.set_option("display.max_rows", 60)


def show(fig: Any, alt: str | None = None, *, data: pd.DataFrame, layout: bool = True, **tight: Any) -> None:
    """Show a figure with its alternative text: ``alt`` states the figure's message in a sentence
    or two (what a reader who cannot see it needs), and becomes the image's ``alt`` in the report.
    ``data`` (required): the published numbers the chart draws, as a table (withheld values as
    ``None``); the report offers them as a CSV file beside the chart, which is also the chart's
    table alternative. A chart with nothing to tabulate is a bug, so there is no default.

    ``layout``: run ``fig.tight_layout(**tight)`` first (``False`` for a figure laid out by hand).
    The figure is drawn once, to PNG, at its own size; one whose title or axis label overhangs
    its edge (``tight_layout`` leaves those out) is cropped to what it draws instead, so nothing
    is cut off. The figure is closed afterwards."""
    import base64
    import io

    import matplotlib.pyplot as plt
    from IPython.display import display

    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"show(data=...) takes the chart's published numbers as a DataFrame, not {type(data).__name__}")
    if layout:
        fig.tight_layout(**tight)
    fig.set_layout_engine(None)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight" if _overhangs(fig) else None)
    plt.close(fig)
    bundle = {"image/png": base64.b64encode(buf.getvalue()).decode("ascii"), "text/plain": alt or "<figure>",
              CSV_MIME: csv_text(data)}
    display(bundle, raw=True, metadata={"image/png": {"alt": alt}} if alt else None)


def _overhangs(fig: Any) -> bool:
    """Whether an axes title or x-axis label reaches past the left or right edge of the figure, or
    a y-axis label past the top or bottom: the extents ``tight_layout`` leaves out."""
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height

    def shown(text: Any) -> bool:
        return text.get_visible() and bool(text.get_text())

    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for text in (ax.title, ax.xaxis.label):
            if shown(text):
                box = text.get_window_extent(renderer)
                if box.x0 < 0 or box.x1 > width:
                    return True
        if shown(ax.yaxis.label):
            box = ax.yaxis.label.get_window_extent(renderer)
            if box.y0 < 0 or box.y1 > height:
                return True
    return False


CSV_MIME = "text/csv"


def csv_text(df: pd.DataFrame, index: bool = False) -> str:
    """A table of published values as CSV: withheld values as ``[c]``, numbers as published."""
    out = df.astype(object).map(lambda v: fmt(None) if _none_if_nan(v) is None else v)
    return out.to_csv(index=index, lineterminator="\n")


class _Table:
    """A published table as the notebook shows it (HTML) and as readers download it (CSV)."""

    def __init__(self, html: str, csv: str):
        self.html, self.csv = html, csv

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {"text/html": self.html, CSV_MIME: self.csv}


def table(df: pd.DataFrame, decimals: int | dict[str, int] = 1, index: bool = False,
          html: dict[str, list[str]] | None = None) -> Any:
    """Display a published table: ``None`` cells show as ``[c]``, numbers with separators. The
    report offers the same values as a CSV file beside it (``tables/`` of the published report).
    ``html``: columns shown as the given HTML (icons) instead of their text, which the CSV keeps."""
    out = df.astype(object).copy()
    # leading columns of text are row labels: rendered as row headers (<th>), so a label such as
    # an IMD decile "3" is never read as a count (by people or by the published-file scanner)
    labels = []
    for col in out.columns:
        if len(out) and all(isinstance(v, str) for v in out[col]):
            labels.append(col)
        else:
            break
    for col in out.columns:
        d = decimals.get(col, 1) if isinstance(decimals, dict) else decimals
        out[col] = [fmt(_none_if_nan(v), d) if (v is None or isinstance(v, (int, float))) else v for v in out[col]]
    marks = {}
    for col, cells in (html or {}).items():
        for i, cell in enumerate(cells):
            marks[f"@@html-{col}-{i}@@"] = cell
            out.at[out.index[i], col] = f"@@html-{col}-{i}@@"
    text = out.to_html(index=index, escape=True, border=0, classes="sp-table", na_rep="[c]")
    for mark, cell in marks.items():
        text = text.replace(mark, cell)
    if not index and labels and len(labels) < len(out.columns):
        text = _row_headers(text, len(labels))
    return _Table(text, csv_text(df, index))


def _row_headers(html: str, k: int) -> str:
    """The first ``k`` cells of each body row as ``<th scope="row">``."""
    import re

    def row(m: re.Match) -> str:
        cells = m.group(0)
        for _ in range(k):
            cells = re.sub(r"<td>(.*?)</td>", r'<th scope="row">\1</th>', cells, count=1, flags=re.S)
        return cells

    head, sep, body = html.partition("<tbody>")
    return head + sep + re.sub(r"<tr>.*?</tr>", row, body, flags=re.S)


def _none_if_nan(v: Any) -> Any:
    return None if isinstance(v, float) and v != v else v


def md(text: str) -> Any:
    from IPython.display import Markdown

    return Markdown(text)
