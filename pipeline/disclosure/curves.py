"""Survival and cumulative-incidence curves that are safe by construction.

A curve published to 0.1% gives away every step: the jump times the cohort size is the number of
events that day. Trusted research environments publish curves computed from rounded counts
instead; this follows OpenSAFELY's Kaplan–Meier action (``kaplan-meier-function``, "constant"
method), extended to competing risks:

1. at every distinct time, the cumulative number of events of each cause, and of censorings, is
   rounded *up* to the next multiple of the curve step (:attr:`Rules.step`, 10 by default: the
   smallest multiple of the rounding base that is at least the minimum count), less half a step
   (0 stays 0). Each cumulative count then moves in whole steps, so no step of the published
   curve holds fewer than ``min_count`` events, and a cumulative count is never an exact one;
2. the number at risk is the cohort's rounded size less the rounded exits before that time;
3. the Aalen–Johansen cumulative incidence (and its delta-method interval), the overall survival
   and the naive ``1 - Kaplan–Meier`` are computed from these rounded counts only
   (:func:`pipeline.survival.aj_estimates`), so a reader who back-solves the curve recovers the
   rounded counts and nothing finer.

A figure at time ``t`` is *not estimable* when ``t`` is past the longest follow-up, or when
fewer than ``min_base`` people (rounded) are still at risk at ``t``; a figure of a cause with
1..min_count-1 events by ``t`` is withheld (rounded up to half a step, a handful of events would
show as a much higher rate).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np
import pandas as pd

from ..survival import aj_estimates, km_estimates, risk_table
from .cells import Cell
from .figures import CURVE, NOT_ESTIMABLE, SMALL_BASE, SMALL_COUNT, SMALL_EVENTS, Fixed, Outcome, Resolver, withheld
from .rules import Rules, rounded

CURVE_METHOD = ("cumulative events of each cause and censorings rounded up to the next multiple of {step}, less "
                "{half} (OpenSAFELY's Kaplan-Meier method, 'constant'), numbers at risk from the rounded cohort "
                "less the rounded exits, and every estimate computed from those rounded counts")


class SafeCurve:
    """Aalen–Johansen curves of ``causes`` (and the naive 1 - KM of the first) for a cohort of
    ``n`` people (a cell: the cohort's size as published elsewhere), from rounded counts.

    ``time``: days to the first event or censoring (>= 0); ``status``: 0 censored, else the cause;
    ``follow_up``: how long each person could have been followed (to the end of the extract), when
    it is longer than ``time`` for people with an event; it decides the longest follow-up.
    Every method returns a figure for the section's tree."""

    def __init__(self, rules: Rules, time: Sequence[float], status: Sequence[int], causes: tuple[int, ...],
                 n: Cell, alpha: float = 0.05, follow_up: Sequence[float] | None = None):
        t = np.asarray(time, dtype="float64")
        e = np.asarray(status, dtype="int64")
        if len(t) != n.value:
            raise ValueError(f"the cohort has {n.value} people but {len(t)} times")
        self.rules, self.causes, self.n, self.alpha = rules, tuple(causes), n, alpha
        self.exact = risk_table(t, e, self.causes)
        reach = t if follow_up is None else np.maximum(t, np.asarray(follow_up, dtype="float64"))
        self.longest = float(reach.max()) if len(reach) else -1.0

    @property
    def method(self) -> str:
        step = self.rules.step
        return CURVE_METHOD.format(step=step, half=step // 2)

    # ------------------------------------------------------------------ the rounded table
    @cached_property
    def _n_pub(self) -> int:
        return self.rules.round_count(self.n.value)

    @cached_property
    def table(self) -> pd.DataFrame:
        """Per distinct time where a rounded count moves: ``n_risk``, ``d_k``, ``n_censored``, and
        the estimates (``cif_k``, ``lo_k``, ``hi_k``, ``surv``; naive ``km_surv``)."""
        ex = self.exact
        r = self.rules
        cum = {k: np.array([r.round_cumulative(x) for x in np.cumsum(ex[f"d_{k}"].to_numpy())], dtype="int64")
               for k in self.causes}
        cum_c = np.array([r.round_cumulative(x) for x in np.cumsum(ex["n_censored"].to_numpy())], dtype="int64")
        tab = pd.DataFrame(index=ex.index)
        removed = np.zeros(len(ex), dtype="int64")
        for k in self.causes:
            tab[f"d_{k}"] = np.diff(cum[k], prepend=0)
            removed += tab[f"d_{k}"].to_numpy()
        tab["n_censored"] = np.diff(cum_c, prepend=0)
        removed += tab["n_censored"].to_numpy()
        tab["n_risk"] = self._n_pub - np.concatenate([[0], np.cumsum(removed)[:-1]])
        tab["d"] = removed - tab["n_censored"].to_numpy()
        tab = tab[removed > 0]
        short = np.flatnonzero(tab["n_risk"].to_numpy() < np.maximum(tab["d"].to_numpy(), 1))
        if len(short):  # the rounded exits have used up the rounded cohort: the curve stops there
            tab = tab.iloc[: short[0]]
        tab = aj_estimates(tab, self.causes, self.alpha)
        km = km_estimates(tab, self.alpha, cause=self.causes[0])
        tab["km_surv"], tab["km_lo"], tab["km_hi"] = km["surv"], km["lo"], km["hi"]
        return tab

    def _row(self, t: float) -> int:
        return int(np.searchsorted(self.table.index.to_numpy(dtype="float64"), float(t), side="right")) - 1

    def _at_risk(self, t: float) -> int:
        """Rounded number still at risk at the start of ``t``: the cohort less exits before ``t``."""
        tab = self.table
        before = tab.index.to_numpy(dtype="float64") < float(t)
        exits = int((tab["d"].to_numpy()[before] + tab["n_censored"].to_numpy()[before]).sum())
        return self._n_pub - exits

    # ------------------------------------------------------------------ gates
    def _exact_events(self, cause: int, t: float) -> int:
        ex = self.exact
        return int(ex[f"d_{cause}"].to_numpy()[ex.index.to_numpy(dtype="float64") <= float(t)].sum())

    def _gate(self, r: Resolver, t: float | None, cause: int | None = None) -> Outcome | None:
        n = r.count(self.n)
        if not n.published:
            return withheld(n.rule)
        if not self.rules.base_ok(self.n.value):
            return withheld(SMALL_BASE)
        if t is None:
            return None
        if cause is not None and self.rules.is_small(self._exact_events(cause, t)):
            # 1..min_count-1 events: rounded up to half a step they would overstate the rate badly
            return withheld(SMALL_EVENTS)
        if t > self.longest:
            return withheld(NOT_ESTIMABLE, f"day {t:g} is past the longest follow-up")
        if not self.rules.base_ok(self._at_risk(t)):
            return withheld(NOT_ESTIMABLE, f"fewer than {self.rules.min_base} people still followed at day {t:g}")
        return None

    def _figure(self, t: float | None, value, cause: int | None = None) -> Fixed:
        def decide(r: Resolver) -> Outcome:
            gate = self._gate(r, t, cause)
            return gate if gate is not None else Outcome(value(), CURVE)
        return Fixed(decide, (self.n,))

    def _value(self, col: str, t: float, before: float) -> float:
        i = self._row(t)
        return float(before) if i < 0 else float(self.table[col].iloc[i])

    # ------------------------------------------------------------------ figures
    def cif(self, cause: int, t: float, scale: float = 100, decimals: int | None = None) -> Fixed:
        """Cumulative incidence of ``cause`` by time ``t`` (events at ``t`` included)."""
        d = self.rules.pct_decimals if decimals is None else decimals
        return self._figure(t, lambda: rounded(self._value(f"cif_{cause}", t, 0.0) * scale, d), cause)

    def ci(self, cause: int, t: float, scale: float = 100, decimals: int | None = None) -> Fixed:
        d = self.rules.pct_decimals if decimals is None else decimals

        def value():
            lo, hi = self._value(f"lo_{cause}", t, np.nan), self._value(f"hi_{cause}", t, np.nan)
            if np.isnan(lo) or np.isnan(hi):  # no event yet: the interval is [0, one-sided bound]
                return [0.0, rounded(self.upper_if_none(t) * scale, d)]
            return [rounded(lo * scale, d), rounded(hi * scale, d)]
        return self._figure(t, value, cause)

    def upper_if_none(self, t: float) -> float:
        """With no event by ``t``, the interval is [0, u]: u is the exact (Clopper–Pearson) upper
        bound for 0 events among the people still followed at ``t``, 1 - (alpha/2)^(1/n)."""
        n = max(self._at_risk(t), 1)
        return 1.0 - (self.alpha / 2) ** (1.0 / n)

    def naive(self, t: float, scale: float = 100, decimals: int | None = None) -> Fixed:
        """``1 - Kaplan–Meier`` of the first cause, every other exit treated as censoring."""
        d = self.rules.pct_decimals if decimals is None else decimals
        return self._figure(t, lambda: rounded((1.0 - self._value("km_surv", t, 1.0)) * scale, d), self.causes[0])

    def events(self, cause: int, t: float) -> Fixed:
        """Cumulative (rounded) events of ``cause`` by time ``t``: a curve count, not estimable
        past the longest follow-up."""
        def value():
            i = self._row(t)
            return 0 if i < 0 else int(self.table[f"d_{cause}"].iloc[: i + 1].sum())
        return self._figure(t, value, cause)

    def at_risk(self, t: float) -> Fixed:
        """Rounded number still followed and event-free at the start of ``t``."""
        def decide(r: Resolver) -> Outcome:
            gate = self._gate(r, None)
            if gate is not None:
                return gate
            n = max(self._at_risk(t), 0)
            return withheld(SMALL_COUNT) if self.rules.is_small(n) else Outcome(n, CURVE)
        return Fixed(decide, (self.n,))
