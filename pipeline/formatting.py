"""Published figures as text: one way to show a withheld value, a p-value, an interval."""

from __future__ import annotations

from typing import Any

SUPPRESSED_MARK = "[c]"  # the ONS convention for a confidential cell


def fmt(value: Any, decimals: int | None = None, suffix: str = "") -> str:
    """Format a published value for a table or sentence; ``None`` shows as ``[c]``."""
    if value is None:
        return SUPPRESSED_MARK
    if isinstance(value, float) and decimals is not None:
        return f"{value:,.{decimals}f}{suffix}"
    if isinstance(value, int):
        return f"{value:,}{suffix}"
    return f"{value}{suffix}"


def p_text(p: float | None) -> str:
    """A published p-value: ``[c]`` when withheld, ``<0.001`` below that, else 3 decimals."""
    if p is None:
        return SUPPRESSED_MARK
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def ci_text(ci: list[float] | None, decimals: int = 2, suffix: str = "", signed: bool = False) -> str:
    """A published interval as ``lo to hi`` (``[c]`` when withheld)."""
    if ci is None:
        return SUPPRESSED_MARK
    sign = "+" if signed else ""
    return f"{ci[0]:{sign}.{decimals}f}{suffix} to {ci[1]:{sign}.{decimals}f}{suffix}"


def money(value: float | None, decimals: int = 0) -> str:
    """A published amount in pounds: ``£1,234``, ``−£56`` when negative, ``[c]`` when withheld."""
    if value is None:
        return SUPPRESSED_MARK
    return ("−" if value < 0 else "") + f"£{abs(value):,.{decimals}f}"
