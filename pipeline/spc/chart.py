"""An XmR chart in the MDC style on a matplotlib Axes: ``draw(ax, result, title=..., unit=...)``.

A grey line with grey points; special cause points coloured (blue improvement, orange concern, purple
where no direction is better) *and* drawn with their own marker shape; the mean as a solid line, the
process limits dashed (dotted and labelled "trial" when they are trial limits); the target dash-dot; the
variation and assurance icons above the plot with their labels. A legend under the plot says in words
what every line and shape means, so nothing is told by colour alone (WCAG 2.2 SC 1.4.1).
"""

from __future__ import annotations

import math

from matplotlib.lines import Line2D
from matplotlib.offsetbox import AnchoredOffsetbox, DrawingArea, HPacker, TextArea
from matplotlib.patches import Circle
from matplotlib.text import Text

from pipeline.spc.describe import fmt_limit, fmt_number
from pipeline.spc.icons import ICONS, icon_label
from pipeline.spc.limits import STABLE_MIN_POINTS
from pipeline.spc.model import COMMON_CAUSE, SPCResult
from pipeline.spc.months import month_abbr
from pipeline.spc.palette import GREY, INK, POINT_STYLES, TARGET, WHITE

MAX_TICKS = 12
LIMIT_DASH = (0, (6, 3))
TRIAL_DASH = (0, (1.5, 2.5))
ICON_PX = 20  # the icons' diameter on the chart, in points


def _icon_box(kind: str, label: str, trial: bool) -> HPacker:
    """An icon as drawn on the chart: the circle with its glyph (outline dashed on trial limits), its label."""
    icon = ICONS[kind]
    shape = DrawingArea(ICON_PX, ICON_PX)
    r = ICON_PX / 2
    shape.add_artist(Circle((r, r), r - 1, facecolor=icon.colour, edgecolor=INK, lw=1, ls="--" if trial else "-"))
    shape.add_artist(Text(r, r, icon.glyph, ha="center", va="center_baseline", color=WHITE, fontsize=10,
                          fontweight="bold"))
    return HPacker(children=[shape, TextArea(label, textprops=dict(fontsize=9, color=INK))], align="center",
                   pad=0, sep=4)


def _icons(ax, result: SPCResult) -> None:
    boxes = [_icon_box(kind, f"{what}: {icon_label(kind, trial=result.trial)}", result.trial)
             for what, kind in (("Variation", result.variation), ("Assurance", result.assurance)) if kind]
    if boxes:
        row = HPacker(children=boxes, align="center", pad=0, sep=14)
        ax.add_artist(AnchoredOffsetbox(loc="lower right", child=row, bbox_to_anchor=(1.0, 1.01),
                                        bbox_transform=ax.transAxes, frameon=False, pad=0, borderpad=0))


def _limit_lines(ax, result: SPCResult, n: int) -> list[Line2D]:
    lim = result.limits
    trial = lim.trial
    style = dict(color=GREY, lw=1.2, ls=TRIAL_DASH if trial else LIMIT_DASH)
    ax.plot([0, n - 1], [lim.upper, lim.upper], **style)
    ax.plot([0, n - 1], [lim.lower, lim.lower], **style)
    ax.plot([0, n - 1], [lim.mean, lim.mean], color=INK, lw=1.2)
    span = f"{fmt_limit(lim.lower)} and {fmt_limit(lim.upper)}"
    limits_label = (f"Trial process limits, {span} ({lim.n_points} months; {STABLE_MIN_POINTS} needed)"
                    if trial else f"Process limits, {span}")
    if trial:
        ax.text(0, lim.upper, " Trial limits", ha="left", va="bottom", fontsize=8, color=INK)
    handles = [Line2D([], [], color=INK, lw=1.2, label=f"Mean, {fmt_limit(lim.mean)}"),
               Line2D([], [], label=limits_label, **style)]
    return handles


def _target(ax, result: SPCResult) -> list[Line2D]:
    if result.target is None:
        return []
    style = dict(color=TARGET, lw=1.2, ls="-.")
    ax.plot([0, len(result.points) - 1], [result.target, result.target], **style)
    return [Line2D([], [], label=f"Target, {fmt_number(result.target)}", **style)]


def _points(ax, result: SPCResult) -> list[Line2D]:
    xs = range(len(result.points))
    ys = [math.nan if p.value is None else p.value for p in result.points]
    ax.plot(xs, ys, color=GREY, lw=1.5, zorder=2)  # NaN breaks the line at a suppressed month
    handles = []
    for signal, style in POINT_STYLES.items():
        at = [(x, p.value) for x, p in zip(xs, result.points, strict=True)
              if p.value is not None and (p.signal or COMMON_CAUSE) == signal]
        if not at:
            continue
        special = signal != COMMON_CAUSE
        kw = dict(ls="none", marker=style.marker, color=style.colour, ms=7 if special else 4,
                  mec=INK if special else style.colour, mew=0.8 if special else 0, zorder=3)
        ax.plot([x for x, _ in at], [y for _, y in at], **kw)
        meaning = style.label if result.limits is not None else "Value (no limits, so not assessed)"
        handles.append(Line2D([], [], label=f"{meaning} ({style.shape})", **kw))
    missing = [x for x, p in zip(xs, result.points, strict=True) if p.value is None]
    if missing:
        kw = dict(ls="none", marker="x", color=INK, ms=6, mew=1.2, zorder=3)
        ax.plot(missing, [0.02] * len(missing), transform=ax.get_xaxis_transform(), clip_on=False, **kw)
        handles.append(Line2D([], [], label="Month suppressed, not plotted (cross on the axis)", **kw))
    return handles


def _axes(ax, result: SPCResult, title: str | None, unit: str | None) -> None:
    labels = [p.label for p in result.points]
    step = max(1, math.ceil(len(labels) / MAX_TICKS))
    ticks = list(range(0, len(labels), step))
    ax.set_xticks(ticks, [month_abbr(labels[i]) for i in ticks], rotation=45, ha="right", fontsize=8)
    ax.set_xlim(-0.5, len(labels) - 0.5)
    if unit:
        ax.set_ylabel(unit)
    if title:
        ax.set_title(title, loc="left", pad=30, fontsize=11, color=INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color="#E5E5E5", lw=0.6, zorder=0)


def draw(ax, result: SPCResult, *, title: str | None = None, unit: str | None = None):
    """Draw ``result`` on ``ax`` and return ``ax``. The caller owns the figure (size, saving)."""
    handles = _points(ax, result)
    if result.limits is not None:
        handles = _limit_lines(ax, result, len(result.points)) + _target(ax, result) + handles
    else:
        handles = _target(ax, result) + handles
        ax.text(0.5, 0.95, f"No process limits: {result.reason}", transform=ax.transAxes, ha="center",
                va="top", fontsize=9, color=INK)
    _axes(ax, result, title, unit)
    _icons(ax, result)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False,
              fontsize=8)
    return ax
