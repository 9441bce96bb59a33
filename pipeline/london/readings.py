"""The words of the comparison: values and counts as printed, a borough's position in plain
words, and a cautious reading of a borough outside the limits."""

from __future__ import annotations

import math

from .compare import Comparison, Row
from .indicators import Indicator
from .read import display_name

FLAG_TEXT = {
    "within": "within the 95% limits",
    "above_95": "above the 95% limit",
    "below_95": "below the 95% limit",
    "above_99.8": "above the 99.8% limit",
    "below_99.8": "below the 99.8% limit",
}


def fmt_value(ind: Indicator, x: float | None) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if ind.kind == "mean":
        return f"{x:+.{ind.decimals}f}"
    return f"{x:,.{ind.decimals}f}{ind.unit}"


def fmt_n(x: float) -> str:
    return f"{x:,.0f}" if x >= 10 else f"{x:,.2f}"


def reading(comp: Comparison, row: Row, n_boroughs: int) -> str:
    """A cautious sentence for a borough outside the limits."""
    ind, p = comp.indicator, row.point
    side = "above" if row.flag.startswith("above") else "below"
    level = "99.8%" if row.flag.endswith("99.8") else "95%"
    chance = n_boroughs * (0.002 if level == "99.8%" else 0.05)
    judged = " It is"
    if ind.higher_is:
        good = (side == "above") == (ind.higher_is == "better")
        judged = " On its face that is a " + ("favourable" if good else "less favourable") + " position, but it is"
    text = (f"{display_name(p.borough)}: {fmt_value(ind, p.value)} (95% CI {fmt_value(ind, p.ci95[0])} to "
            f"{fmt_value(ind, p.ci95[1])}; {fmt_n(p.n)} {p.n_label}) is {side} the {level} limit around the "
            f"London figure of {fmt_value(ind, comp.target)}. With {n_boroughs} boroughs compared, about "
            f"{chance:.1f} would fall outside {level} limits by chance alone.{judged} a prompt to look "
            "at how the data are recorded and who the service reaches before reading it as a difference in "
            "performance.")
    if row.flag_adjusted is not None:
        if row.flag_adjusted == "within":
            text += (" Allowing for the extra variation between London boroughs (overdispersion), it is within "
                     "the adjusted limits.")
        else:
            text += f" It stays {FLAG_TEXT[row.flag_adjusted]} even after allowing for overdispersion."
    return text

