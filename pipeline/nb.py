"""What a report notebook needs, in one import: ``ctx = nb.setup(borough, processed_dir, fragments_dir)``.

A notebook (``notebooks/*.py``, jupytext percent format) has a ``parameters`` cell::

    borough = "merton"
    processed_dir = None   # default data_processed/<borough>; built on first use in JupyterLab
    fragments_dir = None   # default build/<borough>/fragments
    period = None          # e.g. "2023-24", "2023-Q2", "2023-07": activity sections only

then calls :func:`setup`, computes with a ``pipeline.analyses`` module, passes the raw result
through disclosure control (``module.publish(raw, ctx.sdc.scoped(section))``), shows only
published numbers, and saves its ``results.json`` section with :meth:`Context.save_section`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import paths
from .config import Settings, load_settings
from .disclosure import SDC, fmt
from .extract import Extract
from .periods import Period, check_within, parse_period, restrict


@dataclass
class Context:
    borough: str
    extract: Extract
    settings: Settings
    sdc: SDC
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

    def save_section(self, name: str, data: dict[str, Any] | None, *, status: str = "ok",
                     reason: str | None = None) -> dict[str, Any]:
        """Write this notebook's section of results.json (already disclosure-controlled)."""
        frag: dict[str, Any] = {"section": name, "status": status}
        if status == "ok":
            frag["data"] = data
            frag["suppressed"] = [p for p in self.sdc.suppressed if p == name or p.startswith(name + ".")]
        else:
            frag["reason"] = reason
        self.fragments_dir.mkdir(parents=True, exist_ok=True)
        (self.fragments_dir / f"{name}.json").write_text(json.dumps(frag, indent=1, sort_keys=True) + "\n")
        return frag

    def not_run(self, name: str, needs: list[str] | None = None, reason: str | None = None) -> str:
        """Record that a section could not run; returns the reason to show in the notebook."""
        if reason is None:
            reason = "this extract has no " + " or ".join(f"`{t}`" for t in (needs or [])) + " table"
        self.save_section(name, None, status="not_run", reason=reason)
        return reason


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
    from .load import read_processed

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
    return Context(borough, extract, settings, SDC(settings.disclosure), frag, per)


def _style() -> None:
    import matplotlib
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "figure.figsize": (8, 4),
                                "svg.hashsalt": "sp-eval", "axes.titleweight": "bold"})
    pd.set_option("display.max_rows", 60)
    _draw_once()


def _draw_once() -> None:
    """In a Jupyter kernel, show figures at their own size rather than cropped to what they draw.

    The inline backend's default (``bbox_inches="tight"``) draws every figure twice: once to find
    how far its text reaches, then again cropped to that. The report's figures are laid out by
    :func:`show` (``tight_layout``), so everything already sits inside the figure: one draw will do.
    """
    cfg = _inline_config()
    if cfg is not None and cfg.print_figure_kwargs.get("bbox_inches", "tight") is not None:
        cfg.print_figure_kwargs = {**cfg.print_figure_kwargs, "bbox_inches": None}


def _inline_config() -> Any:
    """The inline backend's settings in an IPython kernel; ``None`` in plain Python."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.config import InlineBackend
    except ImportError:
        return None
    shell = get_ipython()
    return None if shell is None else InlineBackend.instance(parent=shell)


def show(fig: Any, *, layout: bool = True, **tight: Any) -> None:
    """Show a figure laid out once and drawn once.

    ``layout``: run ``fig.tight_layout(**tight)`` first (``False`` for a figure laid out by hand).
    ``tight_layout`` leaves a placeholder layout engine behind, which makes Matplotlib draw the
    figure once more before drawing it for real; the layout is final here, so it is dropped.

    ``tight_layout`` lets a title or axis label wider than its axes overhang the figure; such a
    figure is shown cropped to what it draws instead, as the inline backend does by default (two
    draws), so nothing is cut off."""
    import matplotlib.pyplot as plt

    if layout:
        fig.tight_layout(**tight)
    fig.set_layout_engine(None)
    cfg = _inline_config()
    if cfg is None or not _overhangs(fig):
        plt.show()
        return
    kwargs = cfg.print_figure_kwargs
    cfg.print_figure_kwargs = {**kwargs, "bbox_inches": "tight"}
    try:
        plt.show()
    finally:
        cfg.print_figure_kwargs = kwargs


def _overhangs(fig: Any) -> bool:
    """Whether an axes title or x-axis label reaches past the left or right edge of the figure, or
    a y-axis label past the top or bottom: the extents ``tight_layout`` leaves out. Only those
    texts are measured, along the axis where their position is final before drawing (centred on
    their axes); their sizes are cached from the layout."""
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


def table(df: pd.DataFrame, decimals: int | dict[str, int] = 1, index: bool = False) -> Any:
    """Display a published table: ``None`` cells show as ``[c]``, numbers with separators."""
    from IPython.display import HTML

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
    html = out.to_html(index=index, escape=True, border=0, classes="sp-table", na_rep="[c]")
    if not index and labels and len(labels) < len(out.columns):
        html = _row_headers(html, len(labels))
    return HTML(html)


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
