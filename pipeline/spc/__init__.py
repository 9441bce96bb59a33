"""Statistical process control (XmR) charts in the NHS England "Making Data Count" style.

``xmr(series, direction=..., target=..., baseline=...)`` analyses a monthly series (month -> value or
None); ``draw``, ``alt_text``, ``icon_svg``, ``icon_label`` and ``summary_rows`` present the result. The
method, the rules and their sources are in docs/spc.md.
"""

from pipeline.spc.model import Limits, Point, SPCResult
from pipeline.spc.xmr import RUN_LENGTH, xmr

__all__ = ["RUN_LENGTH", "Limits", "Point", "SPCResult", "xmr"]
