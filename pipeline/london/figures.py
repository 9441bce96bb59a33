"""The funnel plot of one indicator, as PNG bytes: every borough's point against its precision,
the London line, the 95% and 99.8% limits (and those allowing for overdispersion when drawn),
and the boroughs furthest out named."""

from __future__ import annotations

import io

import numpy as np

from ..funnel import LEVELS
from .compare import Comparison, limits_at, outside
from .read import display_name
from .readings import fmt_value

MAX_LABELS = 12  # boroughs named on a funnel plot (the furthest out)


def funnel_png(comp: Comparison) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    ind = comp.indicator
    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=100)
    xs = np.array([r.point.n for r in comp.rows])
    if ind.kind == "ratio":
        prec = np.array([1 / r.point.se ** 2 for r in comp.rows])
        grid = np.linspace(max(prec.min() * 0.5, 1e-9), prec.max() * 1.1, 200)
        gse = 1 / np.sqrt(grid)
        xs_plot, x_label = prec, "precision (1 / SE² of the log ratio)"
    else:
        grid = np.linspace(max(xs.min() * 0.5, 1.0), xs.max() * 1.1, 200)
        gse = None
        xs_plot, x_label = xs, ind.x_label
    tau2 = float(comp.over.get("tau2") or 0.0)
    for name, style in (("95", "--"), ("99.8", ":")):
        lo, hi = limits_at(ind, comp.target, grid, LEVELS[name], comp.pooled_sd, gse)
        ax.plot(grid, lo, style, color="#2b6a99", lw=1.2, label=f"{name}% limits")
        ax.plot(grid, hi, style, color="#2b6a99", lw=1.2)
        if tau2 > 0:
            alo, ahi = limits_at(ind, comp.target, grid, LEVELS[name], comp.pooled_sd, gse, tau2=tau2)
            ax.plot(grid, alo, style, color="#f2b134", lw=1.2,
                    label=f"{name}% limits allowing for overdispersion")
            ax.plot(grid, ahi, style, color="#f2b134", lw=1.2)
    ax.axhline(comp.target, color="#1d2731", lw=1, label=f"London: {fmt_value(ind, comp.target)}")
    # red: outside the limits that count (those allowing for overdispersion when drawn);
    # amber: outside the plain limits only; grey: within
    colours = ["#9a3412" if outside(r) else "#d97706" if r.flag != "within" else "#5b6770" for r in comp.rows]
    ax.scatter(xs_plot, [r.point.value for r in comp.rows], c=colours, s=28, zorder=3)
    offsets = [(5, 4), (5, -10), (-5, 10), (-5, -12)]
    named = sorted(((x, r) for x, r in zip(xs_plot, comp.rows, strict=True) if outside(r)),
                   key=lambda t: -abs(t[1].z))[:MAX_LABELS]
    for i, (x, r) in enumerate(sorted(named, key=lambda t: (t[0], t[1].point.value))):
        dx, dy = offsets[i % len(offsets)]
        ax.annotate(display_name(r.point.borough), (x, r.point.value), textcoords="offset points",
                    xytext=(dx, dy), ha="left" if dx > 0 else "right", fontsize=8, color="#9a3412")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}" if v >= 10 else f"{v:g}"))
    ax.set_xlabel(x_label)
    ax.set_ylabel(ind.y_label)
    ax.set_title(ind.label, fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best", frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()
