"""The MDC summary icons: a small inline SVG (shape, glyph and a text label) and plain-text labels.

Each icon is a filled circle with a letter (H high, L low, P pass, F fail, ? hit and miss, ~ common cause)
and its label written next to it, so it reads without colour; its ``<title>`` and ``aria-label`` give the
full meaning to screen readers. An icon judged on trial limits has a dashed outline and says "trial".
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from pipeline.spc.limits import STABLE_MIN_POINTS
from pipeline.spc.model import (
    COMMON_CAUSE,
    CONCERN,
    CONSISTENT_FAIL,
    CONSISTENT_PASS,
    HIGH,
    HIT_AND_MISS,
    IMPROVEMENT,
    LOW,
    NEUTRAL,
)
from pipeline.spc.palette import GREY, INK, POINT_STYLES, WHITE

ICON_SIZE = 28  # px, the circle's diameter
TRIAL_NOTE = f"trial limits (fewer than {STABLE_MIN_POINTS} months)"


@dataclass(frozen=True)
class Icon:
    colour: str
    glyph: str
    label: str  # short, shown next to the shape
    meaning: str  # full sentence, for screen readers and tables


COMPARATIVE = {HIGH: "higher", LOW: "lower"}
VARIATION_WORDS = {IMPROVEMENT: ("Improvement", "special cause improvement"),
                   CONCERN: ("Concern", "special cause concern"),
                   NEUTRAL: ("Special cause", "special cause")}


def _variation(signal: str, side: str) -> tuple[str, Icon]:
    short, words = VARIATION_WORDS[signal]
    if signal == NEUTRAL:
        why = "; neither direction is better"
    else:
        good = side if signal == IMPROVEMENT else (LOW if side == HIGH else HIGH)
        why = f" and {COMPARATIVE[good]} is better"
    meaning = f"Variation: {words}, the latest month signals {COMPARATIVE[side]} values{why}."
    return f"{signal}_{side}", Icon(POINT_STYLES[signal].colour, "H" if side == HIGH else "L",
                                    f"{short} ({side})", meaning)


ICONS: dict[str, Icon] = dict([
    (COMMON_CAUSE, Icon(GREY, "~", "Common cause",
                        "Variation: common cause, no sign of change in the latest month.")),
    *(_variation(signal, side) for signal in (IMPROVEMENT, CONCERN, NEUTRAL) for side in (HIGH, LOW)),
    (CONSISTENT_PASS, Icon(POINT_STYLES[IMPROVEMENT].colour, "P", "Target consistently met",
                           "Assurance: the target lies outside the process limits on the good side, "
                           "so it will be met every month unless the process changes.")),
    (CONSISTENT_FAIL, Icon(POINT_STYLES[CONCERN].colour, "F", "Target consistently missed",
                           "Assurance: the target lies outside the process limits on the bad side, "
                           "so it will be missed every month unless the process changes.")),
    (HIT_AND_MISS, Icon(GREY, "?", "Target hit and miss",
                        "Assurance: the target lies between the process limits, "
                        "so it will be met in some months and missed in others.")),
])


def _icon(kind: str) -> Icon:
    if kind not in ICONS:
        raise ValueError(f"unknown SPC icon {kind!r}; one of {', '.join(ICONS)}")
    return ICONS[kind]


def icon_label(kind: str, *, trial: bool = False) -> str:
    """The short plain-text label of an icon, e.g. "Concern (low)" or "Target hit and miss, trial limits"."""
    return _icon(kind).label + (", trial limits" if trial else "")


def icon_meaning(kind: str, *, trial: bool = False) -> str:
    """What the icon means, in a sentence (or two when judged on trial limits)."""
    return _icon(kind).meaning + (f" Judged on {TRIAL_NOTE}." if trial else "")


def icon_svg(kind: str, *, trial: bool = False) -> str:
    """A small inline SVG of the icon with its label beside it; ``<title>`` for screen readers."""
    icon = _icon(kind)
    label, meaning = icon_label(kind, trial=trial), icon_meaning(kind, trial=trial)
    r = ICON_SIZE / 2
    width = ICON_SIZE + 10 + round(6.4 * len(label))  # about 6.4 px a character at 12 px Arial
    dash = ' stroke-dasharray="3 2"' if trial else ""
    font = 'font-family="Arial, Helvetica, sans-serif"'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(meaning)}" '
        f'width="{width}" height="{ICON_SIZE + 2}" viewBox="0 0 {width} {ICON_SIZE + 2}">'
        f"<title>{escape(meaning)}</title>"
        f'<circle cx="{r + 1}" cy="{r + 1}" r="{r}" fill="{icon.colour}" stroke="{INK}" stroke-width="1.5"{dash}/>'
        f'<text x="{r + 1}" y="{r + 6}" text-anchor="middle" {font} font-size="15" font-weight="bold" '
        f'fill="{WHITE}">{escape(icon.glyph)}</text>'
        f'<text x="{ICON_SIZE + 8}" y="{r + 5}" {font} font-size="12" fill="{INK}">{escape(label)}</text>'
        "</svg>"
    )
