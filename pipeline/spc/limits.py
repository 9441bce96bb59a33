"""XmR (individuals) process limits in the NHS England "Making Data Count" way.

- centre line: the mean of the values;
- moving ranges: |x_i - x_(i-1)| between consecutive values *with a value* (a suppressed month is skipped,
  as MDC asks: "empty dates are skipped", so the moving range is taken across it);
- process limits: mean ± 2.66 × mean moving range;
- sigma: mean moving range / 1.128, for the 1σ and 2σ lines.

No moving range is screened out: the MDC Excel tools keep every moving range (screening those above
3.267 × the mean moving range is an NHSRplotthedots default that the MDC tools do not apply).
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.spc.model import Limits

LIMIT_FACTOR = 2.66  # 3 / d2, rounded as the MDC tools round it
D2 = 1.128  # the bias constant d2 for ranges of two consecutive values
# The fewest values for limits that are not "trial": MDC's Single Chart Tool (v5.0) shows limits from 13
# points and its XmR testing guide says a stricter minimum "such as 15" may be required; we require 15.
STABLE_MIN_POINTS = 15
MIN_POINTS = 2  # one moving range: the fewest values from which any limits can be computed


def too_few(n_values: int) -> str | None:
    """Why no limits can be computed from ``n_values`` values, or None if they can."""
    if n_values >= MIN_POINTS:
        return None
    return (f"{n_values} month{'' if n_values == 1 else 's'} with a value; "
            f"XmR limits need at least {MIN_POINTS}")


def xmr_limits(values: Sequence[float], baseline: tuple[str, str] | None = None) -> Limits:
    """Limits from ``values`` (in time order, suppressed months already left out).

    Raises ValueError when there are fewer than MIN_POINTS values: callers check ``too_few`` first.
    """
    if len(values) < MIN_POINTS:
        raise ValueError(too_few(len(values)))
    mean = sum(values) / len(values)
    ranges = [abs(b - a) for a, b in zip(values, values[1:], strict=False)]
    mr = sum(ranges) / len(ranges)
    return Limits(
        mean=mean,
        mean_moving_range=mr,
        sigma=mr / D2,
        lower=mean - LIMIT_FACTOR * mr,
        upper=mean + LIMIT_FACTOR * mr,
        n_points=len(values),
        n_moving_ranges=len(ranges),
        trial=len(values) < STABLE_MIN_POINTS,
        baseline=baseline,
    )
