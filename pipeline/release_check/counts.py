"""The published counts of a report (and of its period sub-reports) as one linear model: a
variable per count, the range the rules allow it, and the sums and identities the catalogue
knows. The differencing attacks bound hidden counts on it.

A variable is a published count (its rounding window), a suppressed count (at least 1: a zero is
published as 0; unbounded above), the count behind a published percentage (every
count that could give that percentage, whether computed from rounded counts as promised or from
exact ones), or an unpublished difference (referrals outside a period).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .catalogue import Relation, Same, Share, Sum, bindings, relations, resolve, terms
from .published import Path_, Published, get, show
from .rules import Rules, around, decimals

Key = tuple[str, Path_]  # (report label, path); derived variables have a first path part "~..."

#: referral-level breakdowns a period report restricts, so a period's cells are part of the whole's
PERIOD_ADDITIVE = ("activity.referrals_by_pcn", "activity.referrals_by_practice", "activity.referrals_by_source",
                   "activity.referrals_by_reason", *(f"activity.participants.{d}" for d in (
                       "age_band", "gender", "ethnicity", "imd_decile", "risk_band", "referral_reason",
                       "referral_source", "diabetes", "severe_mental_illness", "carer")))


@dataclass
class Var:
    key: Key
    value: Any  # the published value (None when suppressed; a float for a percentage)
    kind: str  # "count", "pct" (the count behind a percentage) or "derived"
    lo: float = 0.0
    hi: float | None = None
    base: Key | None = None  # for "pct": the count it is a percentage of
    scale: float = 100.0
    hidden_in_table: bool = False  # a null percentage among published cells of its table (so its count is >= 1)
    in_table: bool = False  # a cell of a published table (a wildcard sum), not a count published on its own

    @property
    def hidden(self) -> bool:
        return self.value is None and self.kind != "derived"

    def name(self) -> str:
        label, path = self.key
        text = show(path) if not (path and str(path[0]).startswith("~")) else " ".join(map(str, path))[1:]
        return f"{label}/{text}" if label else text


@dataclass
class Equation:
    coef: dict[Key, float]
    at_most: bool  # sum(coef * x) <= 0 instead of == 0
    why: str
    file: str


@dataclass
class Model:
    rules: Rules
    vars: dict[Key, Var] = field(default_factory=dict)
    equations: list[Equation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def var(self, label: str, path: Path_, value: Any, kind: str = "count", base: Key | None = None,
            scale: float = 100.0) -> Key:
        key = (label, path)
        if key not in self.vars:
            self.vars[key] = Var(key, value, kind, base=base, scale=scale)
        elif kind == "pct" and self.vars[key].base is None:
            self.vars[key].base = base
        return key

    def add(self, coef: dict[Key, float], at_most: bool, why: str, file: str) -> None:
        coef = {k: c for k, c in coef.items() if c}
        if coef:
            self.equations.append(Equation(coef, at_most, why, file))


def _is_count(v: Any) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() and v >= 0)


def _is_pct(v: Any) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


def _terms(model: Model, report: Published, spec, bound, kind="count", base: Key | None = None,
           scale: float = 100.0) -> list[tuple[float, Key]] | None:
    got = resolve(report.results, spec, bound)
    if got is None or not all((_is_pct if kind == "pct" else _is_count)(v) for _, _, v in got):
        return None
    return [(s, model.var(report.label, p, v, kind, base, scale)) for s, p, v in got]


def _add_relation(model: Model, report: Published, rel: Relation) -> None:
    file = report.file()
    for b in bindings(report.results, rel):
        if isinstance(rel, Sum):
            total = _terms(model, report, rel.total, b)
            if not total:
                continue
            base = total[0][1] if rel.pct and len(total) == 1 else None
            if rel.pct and base is None:
                continue
            parts = _terms(model, report, rel.parts, b, "pct" if rel.pct else "count", base)
            if not parts:
                continue
            coef: dict[Key, float] = {}
            for s, k in parts:
                coef[k] = coef.get(k, 0) + s
            for s, k in total:
                coef[k] = coef.get(k, 0) - s
            model.add(coef, rel.at_most, rel.why, file)
            if any("*" in p.split(".") for _, p in terms(rel.parts)):
                for _, k in parts:
                    model.vars[k].in_table = True
            if any(model.vars[k].value is not None for _, k in parts):
                for _, k in parts:
                    model.vars[k].hidden_in_table = model.vars[k].value is None
        elif isinstance(rel, Same):
            a = _terms(model, report, rel.a, b)
            base = _terms(model, report, rel.b_pct_of, b) if rel.b_pct_of else None
            bb = _terms(model, report, rel.b, b, "pct" if base else "count", base[0][1] if base else None)
            if a and bb and len(a) == len(bb) == 1:
                model.add({a[0][1]: 1, bb[0][1]: -1}, False, rel.why, file)
        elif isinstance(rel, Share) and rel.numerator is not None:
            base = _terms(model, report, rel.base, b)
            num = _terms(model, report, rel.numerator, b)
            if not base or len(base) != 1 or not num:
                continue
            pct = _terms(model, report, rel.value, b, "pct", base[0][1], rel.scale)
            if pct:
                coef = {pct[0][1]: -1.0}
                for s, k in num:
                    coef[k] = coef.get(k, 0) + s
                model.add(coef, False, rel.why, file)


def _period_links(model: Model, whole: Published, period: Published) -> None:
    """A period report restricts referrals to those received in the period: its monthly counts
    are the whole report's, and each referral-level cell is part of the whole's cell."""
    file = period.file()
    months = get(period.results, ("activity", "referrals_by_month"))
    for m, v in (months.items() if isinstance(months, dict) else ()):
        w = get(whole.results, ("activity", "referrals_by_month", m))
        if _is_count(v) and _is_count(w):
            model.add({model.var(period.label, ("activity", "referrals_by_month", m), v): 1,
                       model.var(whole.label, ("activity", "referrals_by_month", m), w): -1}, False,
                      "a month in the period is the same month in the whole report", file)
    for group in ("activity.referrals", *PERIOD_ADDITIVE):
        gp = tuple(group.split("."))
        pw, pp = get(whole.results, gp), get(period.results, gp)
        cells = ([((), pw, pp)] if not isinstance(pw, dict) else
                 [((k,), pw[k], pp.get(k)) for k in pw if isinstance(pp, dict) and k in pp])
        for sub, w, p in cells:
            if not (_is_count(w) and _is_count(p)):
                continue
            rest = model.var(whole.label, ("~outside", period.label, *gp, *sub), None, "derived")
            model.add({model.var(whole.label, gp + sub, w): 1, model.var(period.label, gp + sub, p): -1, rest: -1},
                      False, f"the whole report's cell is the period's plus referrals outside {period.label}", file)


def bound_vars(model: Model) -> None:
    """Each variable's range from its published value and the rules."""
    r = model.rules
    for v in model.vars.values():
        if v.kind == "derived":
            v.lo, v.hi = 0.0, None
        elif v.kind == "count":
            lo, hi = r.count_range(v.value)
            v.lo, v.hi = float(lo), None if hi is None else float(hi)
    for v in model.vars.values():
        if v.kind == "pct":
            v.lo, v.hi = _count_behind(v, model.vars.get(v.base) if v.base else None, r)


def _count_behind(v: Var, base: Var | None, r: Rules) -> tuple[float, float | None]:
    """Every count a published percentage of ``base`` can stand for (as promised, from rounded
    counts, or from exact ones)."""
    b_lo, b_hi = (base.lo, base.hi) if base else (0.0, None)
    if v.value is None:
        return (1.0 if v.hidden_in_table else 0.0), b_hi
    d = r.pct_decimals if v.scale == 100 else decimals(v.value)
    d = max(d, decimals(v.value))
    lo_p, hi_p = around(float(v.value), d)
    lo = max(0.0, lo_p / v.scale * b_lo)
    hi = None if b_hi is None else hi_p / v.scale * b_hi
    if base is not None and isinstance(base.value, int) and base.value > 0 and hi is not None:
        for k in range(0, int(hi) + 3 * r.rounding, r.rounding):
            if r.is_publishable(k) and lo_p <= round(v.scale * k / base.value, d) <= hi_p:
                k_lo, k_hi = r.count_range(k)
                lo, hi = min(lo, k_lo), max(hi, k_hi)
    return float(int(lo)), None if hi is None else float(int(hi) + 1)


def build(report: Published) -> Model:
    """The model of a report and its period sub-reports, with the period links."""
    model = Model(Rules.of(report.results))
    for rep in report.every():
        for rel in relations(rep.results):
            _add_relation(model, rep, rel)
    for p in report.periods:
        if isinstance(p.results.get("period"), dict):
            _period_links(model, report, p)
    bound_vars(model)
    return model
