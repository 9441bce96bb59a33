"""Attacks d and g: event counts read off published curves, and figures at horizons past the data.

**Curve steps x n.** A cumulative incidence (Aalen-Johansen) or ``1 - Kaplan-Meier`` curve rises by
``d / n_eff`` for each of the ``d`` events at a time, where ``n_eff`` is the cohort still followed
(``n`` until the first censoring, then the people at risk over the overall survival). The
published cohort size, people at risk and the curves themselves bound ``n_eff`` over each step, so
each step of the curve, times ``n_eff``, brackets the number of events in it; a bracket holding one
whole number is that number, exactly. Cumulative counts follow by adding steps and are checked
against the published (rounded) event counts. A recovered count that is not a multiple of the
rounding base cannot have come from rounded counts: it is exact (``exact_small`` for 1..7).

**Horizons past the data.** A figure at a horizon (readmission within 90 days, GP use 12 months
after referral, an event-study quarter) published while the published number still followed at
that horizon is below the minimum base (``small_base``).
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

from .findings import SMALL_BASE, Finding, exact_class
from .published import MISSING, Published, get
from .rules import Interval, Rules, around

ATTACK_CURVE = "curve steps x n"
ATTACK_HORIZON = "horizons past the data"
SERIES = {"readmission_pct": "readmission", "death_pct": "death", "naive_1_minus_km_pct": "readmission"}
SLACK = 0.005  # relative slack on the followed cohort (ties between censoring and events)


def _points(rd: dict, name: str) -> dict[int, float | None]:
    pts: dict[int, float | None] = {}
    for day, row in (rd.get("curve") or {}).items():
        if str(day).isdigit() and isinstance(row, dict) and name in row:
            pts[int(day)] = row[name]
    for key, v in (rd.get(name) or {}).items() if isinstance(rd.get(name), dict) else ():
        if key.endswith("d") and key[:-1].isdigit():
            pts.setdefault(int(key[:-1]), v)
    return dict(sorted(pts.items()))


def _f_range(pts: dict[int, float | None], day: int, d: int) -> Interval:
    """Bounds (as a fraction) on a curve at ``day`` from its published points (it never falls)."""
    below = [v for t, v in pts.items() if t <= day and v is not None]
    above = [v for t, v in pts.items() if t >= day and v is not None]
    lo = around(below[-1], d)[0] / 100 if below else 0.0
    hi = around(above[0], d)[1] / 100 if above else 1.0
    return max(lo, 0.0), min(hi, 1.0)


class _Followed:
    """Bounds on the cohort still followed (``n_eff``) at each published at-risk day."""

    def __init__(self, rd: dict, rules: Rules, d: int, naive: bool):
        n_lo, n_hi = rules.count_range(rd.get("n_index"))
        self.n_hi = n_hi
        self.at: dict[int, Interval] = {0: (n_lo, n_hi if n_hi is not None else math.inf)}
        r_pts, d_pts = _points(rd, "readmission_pct"), _points(rd, "death_pct")
        k_pts = _points(rd, "naive_1_minus_km_pct")
        deaths = bool(rd.get("deaths_modelled")) and not naive
        for day, y in (rd.get("at_risk") or {}).items():
            if not str(day).isdigit() or int(day) == 0:
                continue
            y_lo, y_hi = rules.count_range(y)
            day = int(day)
            if naive:
                s_lo, s_hi = 1 - _f_range(k_pts, day, d)[1], 1 - _f_range(k_pts, day, d)[0]
            else:
                (r_lo, r_hi), (dd_lo, dd_hi) = _f_range(r_pts, day, d), (_f_range(d_pts, day, d) if deaths else (0, 0))
                s_lo, s_hi = 1 - r_hi - dd_hi, 1 - r_lo - dd_lo
            if s_lo <= 0 or y_hi is None:
                continue
            self.at[day] = (y_lo / s_hi, min(y_hi / s_lo, self.at[0][1]))

    def over(self, first: int, last: int) -> Interval:
        """n_eff bounds for events at times first..last (it only falls with time)."""
        lo_days = [t for t in self.at if t >= last]
        hi_days = [t for t in self.at if t <= first]
        lo = self.at[min(lo_days)][0] if lo_days else 0.0
        hi = min(self.at[t][1] for t in hi_days) if hi_days else self.at[0][1]
        return lo * (1 - SLACK), hi * (1 + SLACK)


def _recover(pts: dict[int, float | None], followed: _Followed, d: int) -> dict[int, tuple[int, int]]:
    """Cumulative event counts by each published day, as whole-number ranges."""
    days = [0] + [t for t, v in pts.items() if v is not None and t > 0]
    f = {0: (0.0, 0.0), **{t: tuple(x / 100 for x in around(pts[t], d)) for t in days[1:]}}
    cum: dict[int, list[float]] = {0: [0, 0]}
    for t in days[1:]:  # direct: every event by t weighs between 1/n_eff(t-1) and 1/n
        n_lo, _ = followed.over(0, t - 1)
        cum[t] = [math.ceil(max(f[t][0], 0) * n_lo - 1e-9), math.floor(f[t][1] * followed.over(0, 0)[1] + 1e-9)]
    steps = {}
    for a, b in pairwise(days):
        n_lo, n_hi = followed.over(a, b - 1)
        lo_step = max(0.0, f[b][0] - f[a][1]) * n_lo
        steps[b] = (math.ceil(lo_step - 1e-9), math.floor(max(0.0, f[b][1] - f[a][0]) * n_hi + 1e-9))
    for _ in range(len(days)):  # propagate steps both ways until nothing moves
        moved = False
        for a, b in pairwise(days):
            s_lo, s_hi = steps[b]
            new_b = [max(cum[b][0], cum[a][0] + s_lo), min(cum[b][1], cum[a][1] + s_hi)]
            new_a = [max(cum[a][0], new_b[0] - s_hi), min(cum[a][1], new_b[1] - s_lo)]
            if new_a != cum[a] or new_b != cum[b]:
                cum[a], cum[b], moved = new_a, new_b, True
        if not moved:
            break
    return {t: (int(c[0]), int(c[1])) for t, c in cum.items()}


def attack_curves(report: Published) -> list[Finding]:
    rules = Rules.of(report.results)
    rd = report.results.get("readmission")
    if not rules.enabled or not isinstance(rd, dict) or not rd.get("curve") and not rd.get("readmission_pct"):
        return []
    d = rules.pct_decimals
    findings = []
    for name, kind in SERIES.items():
        pts = _points(rd, name)
        if not any(v is not None for v in pts.values()):
            continue
        cum = _recover(pts, _Followed(rd, rules, d, naive=name.startswith("naive")), d)
        got: dict[str, int] = {}
        days = sorted(cum)
        for a, b in pairwise(days):
            (a_lo, a_hi), (b_lo, b_hi) = cum[a], cum[b]
            if a_lo == a_hi and b_lo == b_hi and b_lo - a_lo and (b_lo - a_lo) % rules.rounding:
                got[f"{kind}s on days {a}-{b - 1} ({name})"] = b_lo - a_lo
        for h in sorted(cum):
            lo, hi = cum[h]
            published = get(rd, ("events", kind, f"{h}d"))
            if lo == hi and lo % rules.rounding and published is not MISSING and name != "naive_1_minus_km_pct":
                got[f"{kind}s by day {h} (published as {'suppressed' if published is None else published})"] = lo
        if got:
            findings.append(Finding(
                ATTACK_CURVE, exact_class(list(got.values()), rules.min_count), report.file(),
                (f"readmission.curve.*.{name}", "readmission.n_index", "readmission.at_risk", f"readmission.events.{kind}"),
                got, f"Each step of the {name} curve times the people still followed (from n_index = "
                     f"{rd.get('n_index')} and the published at-risk numbers) holds exactly one whole number of "
                     f"{kind}s: " + "; ".join(f"{k.split(' (')[0]}: {v}" for k, v in got.items()) + "."))
    return findings


# ---------------------------------------------------------------------------------- horizons

def _published(v: Any) -> bool:
    return v is not None and not (isinstance(v, list) and not v)


def attack_horizons(report: Published) -> list[Finding]:
    rules = Rules.of(report.results)
    if not rules.enabled:
        return []
    res, out = report.results, []

    def flag(paths: tuple[str, ...], base_path: str, base: Any, what: str) -> None:
        shown = "0" if base == 0 else ("suppressed (1 to 7)" if base is None else str(base))
        out.append(Finding(ATTACK_HORIZON, SMALL_BASE, report.file(), paths + (base_path,), {base_path: base},
                           f"{what} is published, but {base_path} is {shown}: fewer than {rules.min_base} "
                           "people were followed that long."))

    def too_few(v: Any) -> bool:
        """A base count known to be fewer than min_base people. A withheld one is no evidence: it may
        hide a small count, or a large one hidden to protect another (secondary suppression)."""
        if v is None:
            return False
        hi = rules.count_range(v)[1]
        return hi is not None and hi < rules.min_base

    rd = res.get("readmission")
    if isinstance(rd, dict) and isinstance(rd.get("at_risk"), dict):
        risk = {int(k): v for k, v in rd["at_risk"].items() if str(k).isdigit()}
        figures: dict[int, list[str]] = {}
        for name in ("readmission_pct", "readmission_ci95", "death_pct", "death_ci95", "naive_1_minus_km_pct"):
            for day, row in (rd.get("curve") or {}).items():
                if str(day).isdigit() and isinstance(row, dict) and _published(row.get(name)):
                    figures.setdefault(int(day), []).append(f"readmission.curve.{day}.{name}")
            for key, v in (rd.get(name) or {}).items() if isinstance(rd.get(name), dict) else ():
                if key[:-1].isdigit() and _published(v):
                    figures.setdefault(int(key[:-1]), []).append(f"readmission.{name}.{key}")
        for key in ("cif_14d_pct", "cif_30d_pct", "cif_30d_ci95", "cif_90d_pct", "death_90d_pct"):
            h = "".join(ch for ch in key.split("_")[1] if ch.isdigit())
            if _published(rd.get(key)):
                figures.setdefault(int(h), []).append(f"readmission.{key}")
        for day, paths in sorted(figures.items()):
            known = [t for t in risk if t <= day]
            if known and too_few(risk[max(known)]):
                t = max(known)
                flag(tuple(paths), f"readmission.at_risk.{t}", risk[t], f"The figure at day {day} ({', '.join(paths[:3])})")
    gp = res.get("gp_appointments")
    detail = gp.get("variance_detail") if isinstance(gp, dict) else None
    for fy, hs in (detail.items() if isinstance(detail, dict) else ()):
        for h, row in (hs.items() if isinstance(hs, dict) else ()):
            v = get(gp, ("variance_pct", fy, h))
            if isinstance(row, dict) and (_published(v) or _published(row.get("variance_pct_ci95"))) \
                    and "n_patients" in row and too_few(row["n_patients"]):
                flag((f"gp_appointments.variance_pct.{fy}.{h}",), f"gp_appointments.variance_detail.{fy}.{h}.n_patients",
                     row["n_patients"], f"The {h} GP variance for the {fy} cohort")
    for study in (("event_study",), ("matched_did", "event_study_comparison")):
        quarters = get(gp, (*study, "quarters")) if isinstance(gp, dict) else None
        for q, row in (quarters.items() if isinstance(quarters, dict) else ()):
            if isinstance(row, dict) and "n_patients" in row and too_few(row["n_patients"]) and any(
                    _published(row.get(k)) for k in ("appointments_per_patient", "rate_ratio", "ci95")):
                base = "gp_appointments." + ".".join(study) + f".quarters.{q}"
                flag((base,), f"{base}.n_patients", row["n_patients"], f"Quarter {q} of the event study")
    return out


def attack(report: Published) -> list[Finding]:
    out = []
    for rep in report.every():
        out += attack_curves(rep) + attack_horizons(rep)
    return out

