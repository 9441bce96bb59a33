"""Statistical process control (XmR) charts in the NHS England "Making Data Count" style.

``xmr(series, direction=..., target=..., baseline=...)`` analyses a monthly series (month -> value or
None); ``draw`` (matplotlib), ``alt_text``, ``icon_svg``, ``icon_label`` and ``summary_rows`` present the
result. The method, the rules and their sources are in docs/spc.md. ``draw`` is imported on first use, so
importing the package does not import matplotlib.
"""

from pipeline.spc.describe import alt_text
from pipeline.spc.icons import icon_label, icon_meaning, icon_svg
from pipeline.spc.model import Limits, Point, SPCResult
from pipeline.spc.summary import summary_rows
from pipeline.spc.xmr import RUN_LENGTH, xmr

__all__ = ["RUN_LENGTH", "Limits", "Point", "SPCResult", "alt_text", "draw", "icon_label", "icon_meaning",
           "icon_svg", "summary_rows", "xmr"]


def __getattr__(name: str):
    if name == "draw":
        from pipeline.spc.chart import draw

        return draw
    raise AttributeError(f"module 'pipeline.spc' has no attribute {name!r}")
