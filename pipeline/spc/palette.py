"""Colours and marker shapes of SPC charts and icons, one per point class.

The MDC palette (grey #A6A6A6, blue #00B0F0, orange #E46C0A, purple #490092) darkened where needed so that
every mark reaches 3:1 contrast against white (WCAG 2.2 SC 1.4.11, non-text contrast) and the white glyphs
on the icons 4.5:1 (SC 1.4.3): the hues stay recognisably MDC. Colour never carries meaning alone: each
class also has its own marker shape and a text label.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.spc.model import COMMON_CAUSE, CONCERN, IMPROVEMENT, NEUTRAL

WHITE = "#FFFFFF"
INK = "#1F1F1F"  # text, the mean line and icon outlines
GREY = "#757575"  # MDC grey, darkened: the data line, common cause points, the process limits
TARGET = "#C00000"  # the target line (red, dash-dot)


@dataclass(frozen=True)
class Style:
    colour: str
    marker: str  # matplotlib marker
    shape: str  # the shape's name, for legends and alt text
    label: str  # what the class means, in words


POINT_STYLES = {
    COMMON_CAUSE: Style(GREY, "o", "small circle", "Common cause"),
    IMPROVEMENT: Style("#0077B6", "s", "square", "Special cause: improvement"),  # MDC blue, darkened
    CONCERN: Style("#B8560A", "D", "diamond", "Special cause: concern"),  # MDC orange, darkened
    NEUTRAL: Style("#490092", "^", "triangle", "Special cause: neither improvement nor concern"),  # MDC purple
}


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    """WCAG relative luminance of ``#RRGGBB``."""
    h = colour.lstrip("#")
    r, g, b = (_linear(int(h[i:i + 2], 16)) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str = WHITE) -> float:
    """WCAG contrast ratio of two ``#RRGGBB`` colours (1 to 21)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
