"""The chart's message in words: ``alt_text(result, name)`` and the number format shared by the labels.

One sentence says what the variation is and why (the rule behind the latest month's signal); a second,
when needed, gives the assurance against the target and the caveats (trial limits, suppressed months).
"""

from __future__ import annotations

from pipeline.spc.limits import STABLE_MIN_POINTS
from pipeline.spc.model import (
    CONCERN,
    CONSISTENT_FAIL,
    CONSISTENT_PASS,
    HIGH,
    IMPROVEMENT,
    LIMIT_DECIMALS,
    OUTSIDE_LIMITS,
    SHIFT,
    TREND,
    TWO_OF_THREE,
    Point,
    SPCResult,
)
from pipeline.spc.months import month_name

SIGNAL_WORDS = {IMPROVEMENT: "special cause improvement", CONCERN: "special cause concern"}
NEUTRAL_WORDS = "special cause variation (neither direction is better)"


def fmt_number(x: float) -> str:
    """A value for readers: whole numbers as such, others to 3 significant figures (at most 1 decimal
    from 100 up), with thousands separators."""
    if float(x).is_integer():
        return f"{int(x):,}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.3g}" if abs(x) < 10 else f"{x:,.1f}"


def fmt_limit(x: float) -> str:
    """A mean or process limit for readers, from the figure ``results.json`` publishes (rounded to
    :data:`LIMIT_DECIMALS` first), so words and chart labels never show more than it holds."""
    return fmt_number(round(x, LIMIT_DECIMALS))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _months(points: list[Point]) -> str:
    names = [month_name(p.label) for p in points]
    if len(names) > 3:
        return ", ".join(names[:3]) + f" and {len(names) - 3} more"
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]


def _run_back(shown: list[Point], rule: str, same_step) -> list[Point]:
    """The points of ``rule``'s run that ends at the latest point, walking back while ``same_step``."""
    run = [shown[-1]]
    i = len(shown) - 1
    while i > 0 and rule in shown[i - 1].rules and same_step(shown[i - 1], shown[i]):
        i -= 1
        run.insert(0, shown[i])
    return run


def _why(result: SPCResult) -> str:
    """Which rule makes the latest month special, in words (the first rule pointing the way it points)."""
    lim, shown = result.limits, list(result.plotted)
    latest = shown[-1]
    up = latest.side == HIGH
    above = latest.value > lim.mean
    if OUTSIDE_LIMITS in latest.rules and above == up:
        which = "upper" if up else "lower"
        limit = lim.upper if up else lim.lower
        return f"{month_name(latest.label)} ({fmt_number(latest.value)}) is beyond the {which} process limit " \
               f"of {fmt_limit(limit)}"
    if SHIFT in latest.rules and above == up:
        run = _run_back(shown, SHIFT, lambda a, b: (a.value > lim.mean) == above)
        return f"{len(run)} months in a row {'above' if above else 'below'} the mean from {month_name(run[0].label)}"
    if TREND in latest.rules and (latest.value > shown[-2].value) == up:
        run = _run_back(shown, TREND, lambda a, b: (b.value > a.value) == up)
        return f"{len(run)} months in a row {'rising' if up else 'falling'} from {month_name(run[0].label)}"
    if TWO_OF_THREE in latest.rules:
        return f"2 of the 3 months to {month_name(latest.label)} are close to the {'upper' if up else 'lower'} " \
               f"process limit"
    raise AssertionError(f"no rule explains {latest}")  # classify() sets the side from a flagging rule


def _variation_sentence(result: SPCResult) -> str:
    lim = result.limits
    latest = result.latest
    if not latest.special:
        outside = [p for p in result.plotted if OUTSIDE_LIMITS in p.rules]
        tail = f"{_plural(len(outside), 'month')} outside the limits ({_months(outside)})" if outside \
            else "no month outside the limits"
        return f"common cause variation around a mean of {fmt_limit(lim.mean)}; {tail}"
    words = SIGNAL_WORDS.get(latest.signal, NEUTRAL_WORDS)
    return f"{words} around a mean of {fmt_limit(lim.mean)}: {_why(result)}"


def _assurance_clause(result: SPCResult) -> str | None:
    if result.assurance is None:
        return None
    lim, t = result.limits, fmt_number(result.target)
    if result.assurance in (CONSISTENT_PASS, CONSISTENT_FAIL):
        above = result.target > lim.upper
        edge = lim.upper if above else lim.lower
        limit = f"{'upper' if above else 'lower'} process limit ({fmt_limit(edge)})"
        verdict = "met" if result.assurance == CONSISTENT_PASS else "missed"
        return f"the target of {t} is {'above' if above else 'below'} the {limit}, so it will be {verdict} " \
               f"every month unless the process changes"
    return f"the target of {t} lies between the process limits ({fmt_limit(lim.lower)} to " \
           f"{fmt_limit(lim.upper)}), so it will be hit and missed"


def alt_text(result: SPCResult, name: str) -> str:
    """One or two sentences stating the chart's message, for the image's alt text."""
    labels = [p.label for p in result.points]
    span = f"{name}, {month_name(labels[0])} to {month_name(labels[-1])}"
    if result.limits is None:
        first = f"{span}: no process limits, {result.reason}."
    else:
        first = f"{span}: {_variation_sentence(result)}."
    notes = [c for c in (_assurance_clause(result),) if c]
    if result.trial:
        notes.append(f"the limits are trial limits, from {_plural(result.limits.n_points, 'month')} "
                     f"({STABLE_MIN_POINTS} are needed for stable limits)")
    if result.missing:
        notes.append(f"{_plural(len(result.missing), 'month')} suppressed and not plotted "
                     f"({_months([p for p in result.points if p.value is None])})")
    if not notes:
        return first
    second = "; ".join(notes)
    return f"{first} {second[0].upper()}{second[1:]}."
