"""Attacks b and c: back-solving percentages, rates, ratios and means to the whole numbers behind
them.

**Percentages and rates.** The rules promise percentages computed from rounded counts. If some
rounded numerator over the published (rounded) base gives the published percentage, nothing is
learned. If none does, the percentage was computed from exact counts, and the attacker lists every
base within the base's rounding window and every whole numerator that gives the percentage at its
published decimals. Percentages of the same base must agree on it, so the candidate bases are
intersected. A single candidate is an exact value behind a rounded one; so is the rest of the
base (``base - numerator``) when the numerator is a part of it.

**Ratios of published totals** (GP % variance, ``(after / before - 1) x 100``): the same with both
counts in their windows; a log-symmetric confidence interval adds its centre (the geometric mean
of its bounds) as a second reading of the ratio, and recovers it when the estimate is suppressed.

**Means** of whole numbers (ONS4 scores 0..10, minutes, ages): for each base in the rounding
window, is there a whole-number sum that gives every published mean over that base at its
decimals? A single base left is the exact count behind the rounded one. A mean next to a
published total gives the count as total / mean.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .catalogue import Mean, Ratio, Share, bindings, relations, resolve
from .findings import NOT_FROM_ROUNDED, SUPPRESSED_RECOVERED, Finding, exact_class
from .published import Published, match, show
from .rules import Interval, Rules, around, decimals, integers_in, within

ATTACK_PCT = "back-solving percentages"
ATTACK_MEAN = "back-solving means"
#: a base whose window is wider than this is not enumerated (nothing unique can come of it)
MAX_CANDIDATES = 2000


@dataclass
class _Share:
    file: str
    path: str
    value: float
    d: int
    scale: float
    part: bool
    base: tuple[str, ...]  # the base's paths (its identity for grouping)
    base_range: tuple[int, int | None]
    base_published: int | None
    num_range: tuple[int, int | None]
    num_published: int | None


def field_decimals(results: dict, pattern: str, value: float) -> int:
    """Decimals a field is published to: the most any of its values shows (trailing zeros drop)."""
    generic = ".".join("*" if s.startswith("{") else s for s in pattern.split("."))
    shown = [decimals(v) for _, _, v in match(results, generic) if isinstance(v, float)]
    return max([decimals(value), *shown])


def _window(rules: Rules, terms: list[tuple[int, Any, Any]] | None) -> tuple[tuple[int, int | None], int | None] | None:
    """The range of a signed sum of published counts, and its published value when it is one
    published count."""
    if not terms or not all(v is None or (isinstance(v, (int, float)) and float(v).is_integer()) for _, _, v in terms):
        return None
    lo, hi = 0, 0
    for sign, _, v in terms:
        a, b = rules.count_range(v)
        if sign > 0:
            lo, hi = lo + a, None if hi is None or b is None else hi + b
        else:
            lo, hi = lo - (b if b is not None else math.inf), None if hi is None else hi - a
    lo = max(0, lo) if lo != -math.inf else 0
    single = int(terms[0][2]) if len(terms) == 1 and terms[0][2] is not None and terms[0][0] > 0 else None
    return (int(lo), hi), single


def _shares(report: Published, rules: Rules) -> Iterator[_Share]:
    res = report.results
    for rel in relations(res):
        if not isinstance(rel, Share):
            continue
        for b in bindings(res, rel):
            val = resolve(res, rel.value, b)
            base = resolve(res, rel.base, b)
            num = resolve(res, rel.numerator, b) if rel.numerator else []
            if not val or base is None or num is None or not isinstance(val[0][2], (int, float)) \
                    or isinstance(val[0][2], bool):
                continue
            if all(show(p) in rules.facts for _, p, _ in base):
                continue  # a share of things that are not people (the report lists them as facts)
            bw, nw = _window(rules, base), (_window(rules, num) if num else ((0, None), None))
            if bw is None or nw is None:
                continue
            d = rel.decimals if rel.decimals is not None else (
                max(rules.pct_decimals, decimals(val[0][2])) if rel.scale == 100 else field_decimals(res, rel.value, val[0][2]))
            yield _Share(report.file(), show(val[0][1]), float(val[0][2]), d, rel.scale, rel.part,
                         tuple(show(p) for _, p, _ in base), bw[0], bw[1], nw[0], nw[1])


def _from_rounded(s: _Share, rules: Rules) -> bool | None:
    """Could the published figure have come from rounded counts? None when it cannot be told."""
    if not s.base_published:
        return None
    iv = around(s.value, s.d)
    if s.num_published is not None:
        return within(round(s.scale * s.num_published / s.base_published, s.d), iv)
    hi = s.value / s.scale * s.base_published + 3 * rules.rounding
    return any(within(round(s.scale * k / s.base_published, s.d), iv)
               for k in range(0, int(hi) + 1, rules.rounding) if rules.is_publishable(k))


def _numerators(s: _Share, base: int) -> list[int]:
    lo_p, hi_p = around(s.value, s.d)
    lo, hi = lo_p * base / s.scale, hi_p * base / s.scale
    top = base if s.part else math.inf
    n_hi = s.num_range[1] if s.num_range[1] is not None else math.inf
    return [n for n in integers_in(max(lo, s.num_range[0], 0), min(hi, n_hi, top))
            if within(s.scale * n / base, (lo_p, hi_p))]


def attack_shares(report: Published) -> list[Finding]:
    rules = Rules.of(report.results)
    findings: list[Finding] = []
    if not rules.enabled:
        return findings
    groups: dict[tuple[str, tuple[str, ...]], list[_Share]] = {}
    for rep in report.every():
        for s in _shares(rep, rules):
            if _from_rounded(s, rules) is False and s.base_range[1] is not None \
                    and s.base_range[1] - s.base_range[0] <= MAX_CANDIDATES:
                groups.setdefault((s.file, s.base), []).append(s)
    for (file, base), shares in groups.items():
        lo, hi = shares[0].base_range
        bases = [d for d in range(max(lo, 1), hi + 1) if all(_numerators(s, d) for s in shares)]
        if not bases:
            continue  # the catalogue's base is not this figure's: nothing to say
        solved = False
        for s in shares:
            nums = sorted({n for d in bases for n in _numerators(s, d)})
            rest = sorted({d - n for d in bases for n in _numerators(s, d)}) if s.part else []
            got = {}
            if len(nums) == 1 and s.num_published != nums[0]:
                got[f"{s.path} (numerator)"] = nums[0]
            if len(rest) == 1 and rest[0]:
                got[f"{s.path} (rest of the base)"] = rest[0]
            if len(bases) == 1:
                got[" + ".join(base)] = bases[0]
            if got:
                solved = True
                findings.append(Finding(
                    ATTACK_PCT, exact_class([v for v in got.values()], rules.min_count), file, (s.path, *base), got,
                    f"{s.path} = {s.value} is not what any rounded count over the published "
                    f"{' + '.join(base)} = {s.base_published} gives, so it was computed from exact counts; "
                    f"of the bases {lo}..{hi} and whole numerators, only "
                    + ", ".join(f"{k} = {v}" for k, v in got.items()) + " fit."))
        if not solved:
            findings.append(Finding(
                ATTACK_PCT, NOT_FROM_ROUNDED, file, tuple(s.path for s in shares) + base,
                {" + ".join(base): (bases[0], bases[-1])},
                f"{len(shares)} figure(s) over {' + '.join(base)} ({', '.join(s.path for s in shares[:3])}"
                f"{'...' if len(shares) > 3 else ''}) were computed from exact counts, not the rounded ones the rules "
                f"promise; no single count follows from them (the base stays within {bases[0]}..{bases[-1]})."))
    return findings


# ---------------------------------------------------------------------------------- ratios

def _centre(ci: list[float], d: int) -> Interval:
    """The ratio at the centre of a % interval that is symmetric on the log scale of the ratio."""
    (a_lo, a_hi), (b_lo, b_hi) = around(ci[0], d), around(ci[1], d)
    lo = math.sqrt(max(0.0, (1 + a_lo / 100) * (1 + b_lo / 100)))
    hi = math.sqrt(max(0.0, (1 + a_hi / 100) * (1 + b_hi / 100)))
    return (lo - 1) * 100, (hi - 1) * 100


def attack_ratios(report: Published) -> list[Finding]:
    findings: list[Finding] = []
    for rep in report.every():
        res, rules = rep.results, Rules.of(report.results)
        if not rules.enabled:
            return findings
        for rel in relations(res):
            if isinstance(rel, Ratio):
                for b in bindings(res, rel):
                    f = _ratio(rep, rules, rel, b)
                    if f:
                        findings.append(f)
        findings += _ratio_estimates(rep)
    return findings


def _ratio(rep: Published, rules: Rules, rel: Ratio, b: dict) -> Finding | None:
    res = rep.results
    (v,), a, bb = resolve(res, rel.value, b) or [None], resolve(res, rel.numerator, b), resolve(res, rel.denominator, b)
    ci = resolve(res, rel.ci, b) if rel.ci else None
    if not a or not bb or v is None:
        return None
    value, ci_val = v[2], (ci[0][2] if ci else None)
    d = max(rules.pct_decimals, field_decimals(res, rel.value, value) if isinstance(value, float) else 0)
    reads: list[Interval] = []
    if isinstance(value, (int, float)):
        reads.append(around(float(value), d))
    if isinstance(ci_val, list) and len(ci_val) == 2 and all(isinstance(x, (int, float)) for x in ci_val):
        reads.append(_centre(ci_val, max(d, *(decimals(x) for x in ci_val))))
    if not reads:
        return None
    lo, hi = max(r[0] for r in reads), min(r[1] for r in reads)
    if lo > hi:
        return None
    (a_lo, a_hi), a_pub = rules.count_range(a[0][2]), a[0][2]
    (b_lo, b_hi), b_pub = rules.count_range(bb[0][2]), bb[0][2]
    paths = (show(v[1]), show(a[0][1]), show(bb[0][1])) + ((show(ci[0][1]),) if ci else ())
    if value is None:
        return Finding(ATTACK_PCT, SUPPRESSED_RECOVERED, rep.file(), paths, {show(v[1]): (round(lo, 2), round(hi, 2))},
                       f"{show(v[1])} is suppressed, but its interval {ci_val} is symmetric about it on the log "
                       f"scale: its centre puts it between {lo:.2f} and {hi:.2f}.")
    if a_pub is not None and b_pub:
        rv = (a_pub / b_pub - 1) * 100
        if within(round(rv, d), around(float(value), d)) and (len(reads) == 1 or within(rv, reads[1])):
            return None  # as promised: from the rounded totals
    if b_hi is None or b_hi - b_lo > MAX_CANDIDATES:
        return None
    pairs = [(n, den) for den in range(max(b_lo, 1), b_hi + 1)
             for n in integers_in(max(a_lo, den * (1 + lo / 100)), min(a_hi if a_hi is not None else math.inf,
                                                                       den * (1 + hi / 100)))]
    got = {}
    if len({n for n, _ in pairs}) == 1:
        got[show(a[0][1])] = pairs[0][0]
    if len({den for _, den in pairs}) == 1:
        got[show(bb[0][1])] = pairs[0][1]
    if not got:
        return None
    return Finding(ATTACK_PCT, exact_class(list(got.values()), rules.min_count), rep.file(), paths, got,
                   f"{show(v[1])} = {value}% is not (after / before - 1) x 100 of the published rounded totals "
                   f"{a_pub} and {b_pub}, so it came from exact ones; within their rounding windows only "
                   + " and ".join(f"{k} = {x}" for k, x in got.items()) + f" give {value}%"
                   + (f" (and the centre of {ci_val})" if len(reads) > 1 else "") + ".")


ESTIMATES = ("hr", "odds_ratio", "rate_ratio")


def _ratio_estimates(rep: Published) -> list[Finding]:
    """A suppressed ratio estimate whose log-symmetric interval is published: its centre."""
    out = []

    def walk(o: Any, path: tuple) -> None:
        if isinstance(o, dict):
            for est in ESTIMATES:
                ci = o.get("ci95")
                if est in o and o[est] is None and isinstance(ci, list) and len(ci) == 2 \
                        and all(isinstance(x, (int, float)) and x > 0 for x in ci):
                    d = max(decimals(x) for x in ci)
                    (a, _), (_, b2) = around(ci[0], d), around(ci[1], d)
                    lo, hi = math.sqrt(max(a, 0) * ci[1]), math.sqrt(ci[0] * b2)
                    out.append(Finding(ATTACK_PCT, SUPPRESSED_RECOVERED, rep.file(), (show(path + (est,)), show(path + ("ci95",))),
                                       {show(path + (est,)): (round(lo, 3), round(hi, 3))},
                                       f"{show(path + (est,))} is suppressed but its interval {ci} is published: the "
                                       f"estimate is the interval's geometric centre, {math.sqrt(ci[0] * ci[1]):.3f}."))
            for k, v in o.items():
                walk(v, path + (k,))
        elif isinstance(o, list):
            for i, v in enumerate(o):
                walk(v, path + (i,))

    walk(rep.results, ())
    return out


# ---------------------------------------------------------------------------------- means

def attack_means(report: Published) -> list[Finding]:
    rules = Rules.of(report.results)
    findings: list[Finding] = []
    if not rules.enabled:
        return findings
    for rep in report.every():
        res = rep.results
        groups: dict[tuple, list[tuple[str, float, set[int]]]] = {}
        windows: dict[tuple, tuple[int, int, Any]] = {}
        for rel in relations(res):
            if not isinstance(rel, Mean):
                continue
            for b in bindings(res, rel):
                val, base = resolve(res, rel.value, b), resolve(res, rel.base, b)
                total = resolve(res, rel.total, b) if rel.total else None
                w = _window(rules, base) if base else None
                if not val or not isinstance(val[0][2], (int, float)) or w is None or w[0][1] is None \
                        or w[0][1] - w[0][0] > MAX_CANDIDATES or (rel.total and not total):
                    continue
                m = float(val[0][2])
                d = rel.decimals if rel.decimals is not None else field_decimals(res, rel.value, m)
                allowed = rules.mean_decimals(w[0][0])  # as the rules promise: 59.2 over 33..37 people
                if rules.mean_decimals_by_base and rel.total is None and rel.of is None and decimals(m) <= allowed:
                    d = min(d, allowed)
                if _as_promised(res, rel, b, m, d, w[1], total[0][2] if total else None):
                    continue
                key = tuple(show(p) for _, p, _ in base)
                lo_b, hi_b = max(w[0][0], 1), w[0][1]
                fits = _mean_bases(m, d, lo_b, hi_b, rel, total[0][2] if total else None, res, rel.total)
                groups.setdefault(key, []).append((show(val[0][1]), m, fits))
                windows[key] = (lo_b, hi_b, w[1])
        for key, means in groups.items():
            lo_b, hi_b, pub = windows[key]
            left = set(range(lo_b, hi_b + 1)).intersection(*(f for _, _, f in means))
            if len(left) == 1:
                n = left.pop()
                findings.append(Finding(
                    ATTACK_MEAN, exact_class([n], rules.min_count), rep.file(), tuple(p for p, _, _ in means) + key,
                    {" + ".join(key): n},
                    f"{' + '.join(key)} is published as {pub}, i.e. {lo_b}..{hi_b}; of those, only {n} gives "
                    + ", ".join(f"{p} = {m}" for p, m, _ in means[:4])
                    + " (a mean of whole numbers, or a published total over the count): it is exactly " + f"{n}."))
    return findings


def _as_promised(res: dict, rel: Mean, b: dict, m: float, d: int, base: Any, total: Any) -> bool:
    """Does the mean fit the rules' promise (computed from, or giving, only published rounded
    counts)? Then the count it is read against is the published one, and nothing more is learned."""
    if not isinstance(base, (int, float)) or not base:
        return False
    if rel.of is not None:
        num = resolve(res, rel.of, b)
        if num and isinstance(num[0][2], (int, float)) and abs(round(num[0][2] / base, d) - m) < 1e-9:
            return True
    if isinstance(total, (int, float)):  # the published mean (as rounded) times the published count
        lo_m, hi_m = around(m, d)
        t_lo, t_hi = _total_window(res, rel.total, total)
        return t_lo <= hi_m * base and lo_m * base <= t_hi
    return False


def _total_window(res: dict, pattern: str | None, total: int | float) -> Interval:
    """Everything a published total can stand for, at the decimals its field is published to."""
    return around(float(total), field_decimals(res, pattern, float(total)) if isinstance(total, float) else 0)


def _mean_bases(m: float, d: int, lo_b: int, hi_b: int, rel: Mean, total: Any, res: dict, total_pattern: str | None) -> set[int]:
    """The bases that can give mean ``m`` (at ``d`` decimals)."""
    lo_m, hi_m = around(m, d)
    if total is not None:
        if not isinstance(total, (int, float)) or lo_m <= 0:
            return set(range(lo_b, hi_b + 1))
        t_lo, t_hi = _total_window(res, total_pattern, total)
        return set(integers_in(max(lo_b, t_lo / hi_m), min(hi_b, t_hi / lo_m)))
    out = set()
    for n in range(lo_b, hi_b + 1):
        s_lo, s_hi = lo_m * n, hi_m * n
        if rel.low is not None:
            s_lo = max(s_lo, rel.low * n)
        if rel.high is not None:
            s_hi = min(s_hi, rel.high * n)
        if len(integers_in(s_lo, s_hi)):
            out.add(n)
    return out


def attack(report: Published) -> list[Finding]:
    return attack_shares(report) + attack_ratios(report) + attack_means(report)

