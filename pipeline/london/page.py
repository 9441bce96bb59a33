"""``reports/london/index.html``: the comparisons put into words and tables, rendered with the
Jinja2 template ``page.html.j2`` beside this module (autoescaped; the funnel plots embedded as
data URIs, so the page is self-contained)."""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from ..render import PAGE_CSS, SYNTHETIC_NOTE
from .compare import RANK_DRAWS, SEED, Comparison, outside
from .figures import MAX_LABELS
from .read import LONDON_BOROUGHS, display_name
from .readings import FLAG_TEXT, fmt_n, fmt_value, reading

TEMPLATE = Path(__file__).with_name("page.html.j2")
TITLE = "Social prescribing across London: a comparison of boroughs"


@cache
def template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE.parent), autoescape=True,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    return env.get_template(TEMPLATE.name)


def _table(comp: Comparison) -> list[dict[str, Any]]:
    ind = comp.indicator
    rows = []
    for row in comp.rows:
        p = row.point
        position = FLAG_TEXT[row.flag]
        if row.flag_adjusted is not None:
            position += f"; adjusted: {FLAG_TEXT[row.flag_adjusted]}"
        rows.append({"rank": f"{row.rank} ({row.rank_ci95[0]}–{row.rank_ci95[1]})",
                     "borough": display_name(p.borough), "value": fmt_value(ind, p.value),
                     "ci95": f"{fmt_value(ind, p.ci95[0])} to {fmt_value(ind, p.ci95[1])}",
                     "n": fmt_n(p.n), "position": position, "out": row.flag != "within"})
    return rows


def _section(comp: Comparison, png: bytes | None) -> dict[str, Any]:
    """What the template shows for one indicator."""
    ind, over = comp.indicator, comp.over
    return {
        "id": ind.key.replace("_", "-"),
        "label": ind.label,
        "describe": ind.describe,
        "caution": ind.caution,
        "png_base64": base64.b64encode(png).decode() if png else "",
        "london": fmt_value(ind, comp.target),
        "adjusted_limits": bool(over.get("tau2")),
        "phi": f"{over['phi']:.2f}" if over.get("estimated") else None,
        "overdispersed": bool(over.get("detected")),
        "overdispersion_reason": over.get("reason", ""),
        "readings": [reading(comp, r, len(comp.rows)) for r in comp.flagged if outside(r)],
        # outside the plain limits but within those allowing for overdispersion
        "explained": [display_name(r.point.borough) for r in comp.flagged if not outside(r)],
        "n_label": comp.rows[0].point.n_label if comp.rows else "n",
        "table": _table(comp),
        "skipped": [(display_name(s), why) for s, why in comp.skipped.items()],
    }


def render_html(comps: list[Comparison], figures: dict[str, bytes], meta: dict[str, Any]) -> str:
    return template().render(
        title=TITLE,
        page_css=PAGE_CSS,
        banners=[SYNTHETIC_NOTE] if meta["synthetic_data"] else [],  # never mixed with real boroughs
        scope=meta["scope"],
        sections=[_section(c, figures.get(c.indicator.key)) for c in comps],
        max_labels=MAX_LABELS,
        included=[{"name": display_name(s), "extract": meta["extracts"][s], "synthetic": meta["synthetic"][s]}
                  for s in meta["included"]],
        excluded=[(display_name(s), why) for s, why in meta["excluded"].items()],
        missing=[display_name(s) for s in LONDON_BOROUGHS if s not in meta["included"] and s not in meta["excluded"]],
        build_time=meta["build_time"],
        code_version=meta["code_version"],
        rank_draws=RANK_DRAWS,
        seed=SEED,
    )
