"""The disclosure statement a report carries: the rules applied and how many figures each
rule decided, for the person who signs the report off."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .figures import (
    COUNT,
    CURVE,
    DERIVED,
    ESTIMATE,
    FACT,
    NOT_APPLICABLE,
    NOT_ESTIMABLE,
    SECONDARY_CELL,
    SMALL_BASE,
    SMALL_COUNT,
    SMALL_EVENTS,
    SUPPRESSED,
    WITHHELD_ELSEWHERE,
)
from .rules import Rules

LABELS = {
    COUNT: "counts, rounded to the nearest {rounding}",
    DERIVED: "percentages, rates and ratios computed from rounded counts (or from other published figures)",
    ESTIMATE: "means, medians, tests and model estimates resting on at least {min_base} people",
    CURVE: "survival and cumulative-incidence figures computed from rounded counts (steps of {step} events)",
    FACT: "figures that do not describe people (settings, registered populations)",
    SMALL_COUNT: "withheld: a count of 1 to {small_max}",
    SECONDARY_CELL: "withheld: secondary suppression (a hidden count could be worked out from a total)",
    WITHHELD_ELSEWHERE: "withheld: the same count is withheld in another section of the report",
    SMALL_BASE: "withheld: resting on fewer than {min_base} people",
    SMALL_EVENTS: "withheld: resting on 1 to {small_max} events",
    NOT_ESTIMABLE: "not estimable from these data (a reason is given for each)",
    NOT_APPLICABLE: "not applicable to this extract",
}


def _fill(text: str, rules: Rules) -> str:
    return text.format(rounding=rules.rounding, min_base=rules.min_base, step=rules.step,
                       small_max=rules.min_count - 1)


def statement(rules: Rules, by_rule: Mapping[str, int], facts: list[str] | None = None) -> dict[str, Any]:
    """The machine-readable statement for ``results.json``; ``facts``: the paths published as they
    are because they do not describe people, for the person who signs the report off to check."""
    figures = {rule: int(by_rule.get(rule, 0)) for rule in LABELS}
    return {
        "enabled": rules.enabled,
        "rules": rules_sentence(rules),
        "figures": figures,
        "figures_published": sum(v for k, v in figures.items() if k not in SUPPRESSED + (NOT_ESTIMABLE, NOT_APPLICABLE)),
        "figures_withheld": sum(figures[k] for k in SUPPRESSED),
        "labels": {k: _fill(v, rules) for k, v in LABELS.items()},
        "facts": list(facts or []),
        # a mean of whole numbers resting on a published count n carries at most
        # floor(log10(n - rounding window)) decimals (Rules.mean_decimals): for a release checker
        "mean_decimals_by_base": rules.enabled,
    }


def rules_sentence(rules: Rules) -> str:
    if not rules.enabled:
        return "switched OFF: exact small numbers are shown. NOT FOR PUBLICATION."
    return (f"counts of 1 to {rules.min_count - 1} are suppressed (shown as [c]), other counts are rounded to the "
            f"nearest {rules.rounding}, percentages, rates and ratios are computed from the rounded counts, means "
            f"of whole numbers carry no more decimals than their base can hide, and figures resting on fewer than "
            f"{rules.min_base} people are suppressed, with secondary suppression across every table that shares a "
            f"count; survival and cumulative-incidence curves are computed from counts rounded to steps of "
            f"{rules.step} events.")


def markdown(stmt: Mapping[str, Any]) -> str:
    """The statement as a short paragraph and table for the report's methods section."""
    lines = [f"**Disclosure control.** {stmt['rules']}", ""]
    if not stmt["enabled"]:
        return "\n".join(lines)
    for rule, n in stmt["figures"].items():
        if n:
            lines.append(f"- {stmt['labels'][rule][:1].upper() + stmt['labels'][rule][1:]}: {n:,} figure{'s' * (n != 1)}")
    lines.append("")
    lines.append(f"{stmt['figures_published']:,} figures were published and {stmt['figures_withheld']:,} withheld "
                 "by disclosure control.")
    return "\n".join(lines)
