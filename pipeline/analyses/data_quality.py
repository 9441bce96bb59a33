"""Data quality of the whole extract (the extra ``data_quality`` section of results.json), and what
each gap does to the analyses.

The NEL dashboard shows completeness; this goes further:

- **completeness** of every contract column of every table given (% of rows filled), and of the
  referrals' optional columns by financial year of referral (is recording improving?);
- **completeness where it matters** (conditional): appointment length among *attended*
  appointments, contact type among all appointments, a first-contact date among referrals with an
  attended appointment;
- **record checks** the contract allows but an evaluator should know about: records dated outside
  the extract period, records out of order (a referral closed before its last attended appointment,
  appointments long after closure, ``first_contact_date`` not the first attended appointment),
  referrals never seen or open for over a year, duplicate appointments, and ONS4 follow-up;
- **limitations**: one plain-English sentence for each gap found, saying how it limits the
  analyses (:mod:`pipeline.analyses.data_quality_text`, written from the published figures).

Disclosure: a table's rows are records about people (referrals, appointments, measurements,
deaths), so "the share of referrals with no ethnicity recorded" is a share of people: every
completeness figure is a percentage of two counts, computed from the rounded counts, and the
number *not* filled in is a (withheld) part of the table's rows, so a column with a handful of
gaps does not show its exact number of gaps by subtraction. The same counts recur across the
section and are one cell each: a table's rows are the base of its completeness and of its checks;
the referrals with a first contact are both "filled in" and the base of two checks; the referrals
by financial year add up to the referrals (so a small edge year is hidden with the next smallest;
a column's filled cells by year are not declared to add up to its filled cell: see the comment in
:func:`compute`).
Only ``pcn_quarterly`` describes no people (its rows are PCN-quarters): its figures are facts.
Compute works in *named* counts and the sums between them; publish makes one cell per name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config import Settings
from ..contract import ONS4_INSTRUMENT, TABLES
from ..disclosure import Release
from ..extract import Extract
from ..sections import Section
from .data_quality_text import COMPLETE_ENOUGH_PCT, reading
from .inputs import financial_year
from .labels import col, dates
from .referral_index import ReferralIndex

LATE_CONTACT_DAYS = 28  # an appointment this many days after closure is "long after"
NEVER_SEEN_AFTER_DAYS = 28  # a referral without a first contact this long before the extract end
LONG_OPEN_DAYS = 365
NOT_ABOUT_PEOPLE = ("pcn_quarterly", "practices")  # tables whose rows are not records about people


@dataclass
class Check:
    """Records of ``table`` with a problem: the count named ``records`` of the count named
    ``checked``; the others checked are the count named ``rest``."""
    id: str
    kind: str  # out_of_period | order | follow_up | duplicates
    table: str
    unit: str
    description: str
    records: str
    checked: str
    rest: str
    limitation: str  # how it limits the analyses, when records > 0


@dataclass
class Tally:
    """Exact counts by name, the sums that tie them (``total = sum(parts)``), and the names of
    counts that describe no people."""
    counts: dict[str, int] = field(default_factory=dict)
    sums: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    facts: set[str] = field(default_factory=set)

    def add(self, name: str, n: int | np.integer, about_people: bool = True) -> str:
        n = int(n)
        if self.counts.setdefault(name, n) != n:
            raise ValueError(f"{name} counted twice: {self.counts[name]} and {n}")
        if not about_people:
            self.facts.add(name)
        return name

    def split(self, total: str, parts: dict[str, int], rest: str) -> None:
        """``parts`` of ``total`` (named counts), with the remainder named ``rest``."""
        people = total not in self.facts
        names = [self.add(k, v, people) for k, v in parts.items()]
        self.add(rest, self.counts[total] - sum(self.counts[k] for k in names), people)
        self.tie(total, *names, rest)

    def tie(self, total: str, *parts: str) -> None:
        if sum(self.counts[p] for p in parts) != self.counts[total]:
            raise ValueError(f"the parts of {total} do not add up to it")
        self.sums.append((total, tuple(parts)))


@dataclass
class QualityRaw:
    start: pd.Timestamp
    end: pd.Timestamp
    tally: Tally
    rows: dict[str, str]  # table -> name of its row count
    absent: list[str]
    completeness: dict[str, dict[str, tuple[str, str]]]  # table -> column -> (filled, rows) names
    by_year: dict[str, dict[str, tuple[str, str]]]  # referrals column -> financial year -> (filled, rows)
    conditional: dict[str, tuple[str, str, str, str, str]]  # name -> (table, column, among, filled, eligible)
    checks: list[Check] = field(default_factory=list)


def _filled(s: pd.Series) -> int:
    return int(s.notna().sum())


def compute(extract: Extract, settings: Settings | None = None) -> QualityRaw:
    """``extract``: the whole extract (data quality is never restricted to a reporting period)."""
    cfg = extract.config
    start, end = cfg.start, cfg.end
    tables = extract.tables
    tally = Tally()
    rows, completeness = {}, {}
    for t in TABLES:
        if t not in tables:
            continue
        rows[t] = tally.add(f"rows:{t}", len(tables[t]), t not in NOT_ABOUT_PEOPLE)
        completeness[t] = {}
        for c in TABLES[t].column_names:
            name = f"filled:{t}.{c}"
            tally.split(rows[t], {name: _filled(col(tables[t], c))}, f"empty:{t}.{c}")
            completeness[t][c] = (name, rows[t])

    ref = tables["referrals"]
    fy_code, fy_names = pd.factorize(financial_year(ref["referral_date"]))  # each year's rows, found once
    in_year = fy_code >= 0
    years = sorted(enumerate(fy_names), key=lambda x: x[1])
    year_rows = np.bincount(fy_code[in_year], minlength=len(fy_names))
    tally.split(rows["referrals"], {f"rows:referrals@{y}": year_rows[i] for i, y in years}, "rows:referrals@none")
    by_year: dict[str, dict[str, tuple[str, str]]] = {}
    for c in TABLES["referrals"].optional_columns:
        f = np.bincount(fy_code[in_year], weights=col(ref, c).notna().to_numpy()[in_year], minlength=len(fy_names))
        by_year[c] = {}
        for i, y in years:
            tally.split(f"rows:referrals@{y}", {f"filled:referrals.{c}@{y}": f[i]}, f"empty:referrals.{c}@{y}")
            by_year[c][y] = (f"filled:referrals.{c}@{y}", f"rows:referrals@{y}")
        # not declared: filled:referrals.{c} = the sum of its years (the layer's protection step cannot
        # protect a cell in that web of sums; a year's share is withheld with its year's referrals, which are)

    rd = ref["referral_date"]
    fc, cd = dates(ref, "first_contact_date"), dates(ref, "closure_date")
    refs = ReferralIndex(ref)
    conditional: dict[str, tuple[str, str, str, str, str]] = {}
    checks: list[Check] = []

    def add(id_, kind, table, unit, desc, mask, checked, limitation, rest=None):
        """A check: ``mask`` the records with the problem among those counted by ``checked``."""
        records, rest = f"records:{id_}", rest or f"ok:{id_}"
        people = checked not in tally.facts
        tally.add(records, int(mask.sum()), people)
        tally.add(rest, tally.counts[checked] - tally.counts[records], people)
        tally.tie(checked, records, rest)
        checks.append(Check(id_, kind, table, unit, desc, records, checked, rest, limitation))

    # ---- referrals
    n_ref = rows["referrals"]
    add("first_contact_after_end", "out_of_period", "referrals", "referrals",
        "have a first contact dated after the extract end", fc > end, n_ref,
        "these first contacts happened after the censoring date but still count in the waits")
    add("closure_after_end", "out_of_period", "referrals", "referrals", "have a closure dated after the extract end",
        cd > end, n_ref, "these referrals count as open at the extract end")
    open_days = (end - rd).dt.days
    add("open_over_a_year", "follow_up", "referrals", "referrals",
        f"are still open more than {LONG_OPEN_DAYS} days after referral (no closure by the extract end)",
        cd.isna() & (open_days > LONG_OPEN_DAYS), n_ref,
        "closure reasons and lengths of support are incomplete: either support is long, or closures are not "
        "being recorded")
    fc_filled, cd_filled = "filled:referrals.first_contact_date", "filled:referrals.closure_date"

    if extract.has("sp_contacts"):
        con = tables["sp_contacts"]
        cdate = con["contact_date"]
        att = con["status"] == "attended"
        con_ref = refs.codes(con["referral_id"])
        att_ref = np.where(att.to_numpy(), con_ref, -1)
        fa = refs.per_referral(att_ref, cdate, "min").set_axis(ref.index)
        la = refs.per_referral(att_ref, cdate, "max").set_axis(ref.index)
        con_closure = refs.value(cd, con_ref).set_axis(con.index)
        n_con = rows["sp_contacts"]
        # completeness where it matters, and the counts the checks below share with it
        tally.split(n_con, {"attended": att.sum()}, "not attended")
        duration = col(con, "duration_minutes").notna()
        tally.split("attended", {"duration|attended": (duration & att).sum()}, "no duration|attended")
        tally.split("filled:sp_contacts.duration_minutes", {"duration|attended": (duration & att).sum()},
                    "duration|not attended")
        conditional["sp_contacts.duration_minutes"] = ("sp_contacts", "duration_minutes", "attended appointments",
                                                       "duration|attended", "attended")
        conditional["sp_contacts.contact_type"] = ("sp_contacts", "contact_type", "all appointments",
                                                   "filled:sp_contacts.contact_type", n_con)
        tally.split(n_ref, {"attended referrals": fa.notna().sum()}, "referrals not attended")
        tally.add("first contact|attended", (fc.notna() & fa.notna()).sum())
        conditional["referrals.first_contact_date"] = ("referrals", "first_contact_date",
                                                       "referrals with an attended appointment",
                                                       "first contact|attended", "attended referrals")
        add("contacts_after_end", "out_of_period", "sp_contacts", "appointments",
            "are dated after the extract end", cdate > end, n_con,
            "appointments after the extract end are still counted in the appointment totals, which therefore "
            "run slightly beyond the period")
        add("closed_before_last_attended", "order", "referrals", "referrals",
            "were closed before their last attended appointment", cd.notna() & la.notna() & (cd < la), cd_filled,
            "lengths of support are understated for these referrals, and appointments after closure are still counted")
        add("contacts_long_after_closure", "order", "sp_contacts", "appointments",
            f"are dated more than {LATE_CONTACT_DAYS} days after their referral was closed",
            con_closure.notna() & ((cdate - con_closure).dt.days > LATE_CONTACT_DAYS), n_con,
            "these look like a new episode recorded against a closed referral: activity per referral is "
            "overstated and re-referrals are undercounted")
        both = fc.notna() & fa.notna()
        add("first_contact_not_first_attended", "order", "referrals", "referrals",
            "have a first_contact_date that is not the date of their first attended appointment", both & (fc != fa),
            "first contact|attended",
            "the wait from referral to first contact uses first_contact_date as recorded; where it disagrees with "
            "the appointments, the wait (and windows that start at first contact) may be wrong")
        add("first_contact_without_attended", "order", "referrals", "referrals",
            "have a first_contact_date but no attended appointment", fc.notna() & fa.isna(), fc_filled,
            "these people count in the waits but not among the patients seen", rest="first contact|attended")
        add("attended_without_first_contact", "order", "referrals", "referrals",
            "have an attended appointment but no first_contact_date", fc.isna() & fa.notna(), "attended referrals",
            "these people count among the patients seen but are missing from the waits and from the analyses "
            "that start at first contact", rest="first contact|attended")
        waited = tally.add("open over 28 days", (open_days > NEVER_SEEN_AFTER_DAYS).sum())
        add("never_seen", "follow_up", "referrals", "referrals",
            f"were never seen (no first contact and no attended appointment) more than {NEVER_SEEN_AFTER_DAYS} "
            "days after referral", fc.isna() & fa.isna() & (open_days > NEVER_SEEN_AFTER_DAYS), waited,
            "people referred but never seen have no outcomes: outcome sections describe the people who engaged")
        dup = con.duplicated(["referral_id", "contact_date", "status", "contact_type"], keep="first") \
            if "contact_type" in con else con.duplicated(["referral_id", "contact_date", "status"], keep="first")
        add("duplicate_contacts", "duplicates", "sp_contacts", "appointments",
            "appear twice (same referral, date, status and type)", dup, n_con,
            "possible double entry: appointment totals may be overstated")
    closed = cd.notna()
    reason = col(ref, "closure_reason").notna()
    tally.split(cd_filled, {"closure reason|closed": (reason & closed).sum()}, "no closure reason|closed")
    tally.split("filled:referrals.closure_reason", {"closure reason|closed": (reason & closed).sum()},
                "closure reason|open")
    conditional["referrals.closure_reason"] = ("referrals", "closure_reason", "closed referrals",
                                               "closure reason|closed", cd_filled)

    def child_dates(table: str, date_col: str, id_: str, unit: str, limitation: str) -> None:
        if not extract.has(table):
            return
        t = tables[table]
        d = t[date_col]
        before = d < refs.value(rd, refs.codes(t["referral_id"])).set_axis(t.index)
        add(id_, "out_of_period", table, unit, "are dated before their referral or after the extract end",
            before | (d > end), rows[table], limitation)

    child_dates("signposting", "signpost_date", "signposts_out_of_range", "signposts",
                "these signposts still count in the signposting tables")
    child_dates("unmet_needs", "recorded_date", "needs_out_of_range", "needs",
                "these needs still count in the gap report")
    child_dates("outcome_measures", "assessment_date", "assessments_out_of_range", "assessments",
                "a baseline before referral or a follow-up after the extract end stretches the ONS4 before-and-after "
                "window beyond the period of support")

    def outside(table: str, date_col: str, id_: str, unit: str, limitation: str, allow_before: bool = False) -> None:
        if not extract.has(table):
            return
        d = tables[table][date_col]
        mask = (d > end) if allow_before else ((d < start) | (d > end))
        desc = "are dated after the extract end" if allow_before else "are dated outside the extract period"
        add(id_, "out_of_period", table, unit, desc, mask, rows[table], limitation)

    outside("gp_appointments", "appointment_date", "gp_appointments_outside", "appointments",
            "GP-appointment windows only read inside the extract period: these rows are not used")
    outside("hospital_spells", "admission_date", "spells_outside", "spells",
            "readmissions after the extract end are ignored (follow-up is censored at the extract end)")
    outside("deaths", "date_of_death", "deaths_after_end", "deaths",
            "deaths after the extract end are ignored as competing events", allow_before=True)
    outside("clinical_measurements", "measurement_date", "measurements_after_end", "measurements",
            "measurements after the extract end fall outside every target window", allow_before=True)
    if extract.has("pcn_quarterly"):
        qs = tables["pcn_quarterly"]["quarter_start"]
        add("pcn_quarters_outside", "out_of_period", "pcn_quarterly", "PCN-quarters",
            "lie entirely outside the extract period", (qs > end) | (qs + pd.offsets.QuarterEnd(0) < start),
            rows["pcn_quarterly"], "these quarters have no referrals to set against their workforce")

    # ONS4 follow-up among referrals seen (with a first contact date)
    if extract.has("outcome_measures"):
        om = tables["outcome_measures"]
        ons = om[om["instrument"] == ONS4_INSTRUMENT]
        min_days = settings.wellbeing.min_days_between if settings is not None else 28
        has_ons, paired = refs.followed_up(ons, min_days)
        seen_code = refs.row_code[fc.notna().to_numpy()]
        base = np.where(seen_code >= 0, has_ons[np.maximum(seen_code, 0)], False)
        is_paired = np.where(seen_code >= 0, paired[np.maximum(seen_code, 0)], False)
        add("seen_without_ons4", "follow_up", "outcome_measures", "referrals",
            "were seen but have no ONS4 score at all", ~base, fc_filled,
            "ONS4 results describe only people who answered the questions", rest="seen with ONS4")
        add("ons4_without_followup", "follow_up", "outcome_measures", "referrals",
            f"have an ONS4 baseline but no follow-up at least {min_days} days later",
            base & ~is_paired, "seen with ONS4",
            "ONS4 change is measured only on people with a follow-up; if those who stayed in touch were the ones "
            "who felt better, the average change is biased toward completers")

    return QualityRaw(start, end, tally, rows, [t for t in TABLES if t not in tables], completeness, by_year,
                      conditional, checks)


def _cells(rel: Release, tally: Tally) -> dict[str, Any]:
    """One cell per distinct quantity, and a group per sum. A sum whose parts are all 0 but one
    says that the total *is* that part (a check that found nothing: the referrals checked are the
    referrals without the problem), so the two names share one cell: a hidden count is then hidden
    under both names, and the layer is not left with chains of equalities through zero cells."""
    root = {k: k for k in tally.counts if k not in tally.facts}

    def find(k: str) -> str:
        while root[k] != k:
            root[k] = root[root[k]]
            k = root[k]
        return k

    people_sums = [(t, [p for p in parts if tally.counts[p]]) for t, parts in tally.sums if t not in tally.facts]
    for total, nonzero in people_sums:
        if len(nonzero) == 1:
            root[find(nonzero[0])] = find(total)
    by_root = {k: rel.cell(tally.counts[k], k) for k in root if find(k) == k}
    cells = {k: by_root[find(k)] for k in root}
    for total, nonzero in people_sums:
        if len(nonzero) > 1:
            rel.group(cells[total], [cells[p] for p in nonzero])
    return cells


#: tables whose row count the activity section publishes too (over the whole extract): withheld
#: here whenever it is withheld there
ROWS_IN_ACTIVITY = {"referrals": "activity.referrals", "sp_contacts": "activity.contacts_booked",
                    "signposting": "activity.signposting.signposts", "unmet_needs": "activity.unmet_needs.needs_recorded"}


def publish(raw: QualityRaw, rel: Release) -> dict[str, Any]:
    tally = raw.tally
    cells = _cells(rel, tally)
    for table, path in ROWS_IN_ACTIVITY.items():
        if raw.rows.get(table) in cells:
            rel.same_as(cells[raw.rows[table]], path)

    def count(name: str) -> Any:
        return rel.fact(tally.counts[name]) if name in tally.facts else rel.count(cells[name])

    def pct(num: str, den: str) -> Any:
        if den not in tally.facts:
            return rel.pct(cells[num], cells[den], decimals=1)
        n, d = tally.counts[num], tally.counts[den]
        return rel.fact(n / d * 100, decimals=1) if d else rel.not_estimable("nothing to divide by (a base of 0)")

    tables: dict[str, Any] = {t: {"present": True, "rows": count(name)} for t, name in raw.rows.items()}
    tables.update({t: {"present": False, "rows": None} for t in raw.absent})
    checks = {ch.id: {"kind": ch.kind, "table": ch.table, "unit": ch.unit, "description": ch.description,
                      "records": count(ch.records), "checked": count(ch.checked), "pct": pct(ch.records, ch.checked),
                      "limitation": ch.limitation} for ch in raw.checks}
    return {
        "extract_period": {"start": raw.start.date().isoformat(), "end": raw.end.date().isoformat()},
        "counts_rounded": rel.rules.enabled,
        "tables": tables,
        "completeness": {t: {c: pct(*names) for c, names in cols.items()} for t, cols in raw.completeness.items()},
        "completeness_by_year": {c: {y: pct(*names) for y, names in ys.items()} for c, ys in raw.by_year.items()},
        "completeness_where_it_matters": {
            name: {"table": t, "column": c, "among": among, "eligible": count(eligible), "pct": pct(filled, eligible)}
            for name, (t, c, among, filled, eligible) in raw.conditional.items()},
        "complete_enough_pct": rel.fact(COMPLETE_ENOUGH_PCT),
        "checks": checks,
    }


def completeness_table(dq: dict[str, Any]) -> pd.DataFrame:
    """The numbers the completeness chart draws, from the published section: a row per table and
    column with the % of rows filled in (``None`` where withheld)."""
    rows = [(t, c, v) for t, cols in dq["completeness"].items() for c, v in cols.items()]
    return pd.DataFrame(rows, columns=["Table", "Column", "% of rows filled in"], dtype=object)


def completeness_by_year_table(dq: dict[str, Any]) -> pd.DataFrame:
    """The numbers the completeness-by-year chart draws, from the published section: a row per
    optional column of ``referrals`` and financial year with the % of referrals filled in."""
    rows = [(c, y, v) for c, ys in dq["completeness_by_year"].items() for y, v in ys.items()]
    return pd.DataFrame(rows, columns=["Column of referrals", "Financial year", "% of referrals filled in"],
                        dtype=object)


SECTION = Section(
    name="data_quality",
    title="Data quality and what it means for the findings",
    notebook="90_data_quality",
    order=90,
    required=("referrals",),
    optional=tuple(t for t in TABLES if t != "referrals"),
    needs="Data quality is checked on every table the extract provides; it needs at least `referrals`.",
    compute=lambda inputs: compute(inputs.whole, inputs.settings),
    after=("activity",),
    publish=publish,
    reading=reading,
)
