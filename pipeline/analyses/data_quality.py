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
  analyses (e.g. risk band missing -> excluded from the targets by band).

Disclosure control: the share of a column filled in describes recording, not people, but it still
rests on the table's rows, so it is published only for tables of at least ``min_base`` rows (and
for a financial year with at least ``min_base`` referrals). Counts of records with a problem are
counts: they go through :meth:`SDC.count`, and their percentages are computed from the rounded
counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config import Settings
from ..contract import ONS4_INSTRUMENT, TABLES
from ..disclosure import SDC, fmt
from ..extract import Extract
from .activity import col, dates, share, stat
from .inputs import financial_year

SECTION = "data_quality"
REQUIRED = ("referrals",)
COMPLETE_ENOUGH_PCT = 95.0  # a column filled in for fewer rows than this gets a limitation sentence
LATE_CONTACT_DAYS = 28  # an appointment this many days after closure is "long after"
NEVER_SEEN_AFTER_DAYS = 28  # a referral without a first contact this long before the extract end
LONG_OPEN_DAYS = 365
TREND_POINTS = 10.0  # a change in a column's completeness between the first and last year worth a sentence

#: how a gap in an optional column limits the analyses (table.column -> consequence)
CONSEQUENCES: dict[str, str] = {
    "referrals.first_contact_date": "the wait from referral to first contact covers only referrals with a first "
    "contact date, and the GP-appointment and clinical-target analyses that start at first contact lose the rest",
    "referrals.closure_date": "closure reasons and lengths of support describe only the referrals that were closed",
    "referrals.closure_reason": "closure reasons describe only the referrals that record one",
    "referrals.imd_decile": "deprivation breakdowns and the Core20 share leave these referrals out, and a "
    "matched comparison on deprivation cannot use them",
    "referrals.risk_band": "these referrals are excluded from the clinical targets by risk band",
    "referrals.diabetes": "people with no diabetes flag are left out of the diabetes target cohort, so it is "
    "undercounted",
    "referrals.severe_mental_illness": "people with no SMI flag are left out of the severe mental illness target "
    "cohort, so it is undercounted",
    "referrals.carer": "the share of carers is a minimum: an empty cell may be a carer not recorded as one",
    "referrals.service_outcome": "hospital outcomes (admissions avoided, discharges expedited) cover only the "
    "referrals that record one; an empty cell is not evidence that nothing was achieved",
    "referrals.bed_days_saved": "bed days saved and their cost cover only the referrals with an estimate",
    "referrals.health_budget_gbp": "personal health budget totals cover only referrals with a recorded amount; an "
    "empty cell cannot be told apart from no budget",
    "sp_contacts.contact_type": "appointments with no type appear as 'not recorded' in the tables by type",
    "sp_contacts.duration_minutes": "appointment lengths describe only appointments with a duration",
    "comparison_patients.imd_decile": "the comparison pool's deprivation profile, and matching on deprivation, "
    "leave these patients out",
    "comparison_patients.risk_band": "matching on risk band leaves these comparison patients out",
    "comparison_patients.diabetes": "matching on the diabetes register treats these comparison patients as unknown",
    "comparison_patients.severe_mental_illness": "matching on the SMI register treats these comparison patients "
    "as unknown",
    "gp_appointments.clinician_role": "GP-practice appointments cannot be split by clinician for these rows",
}
#: columns that are empty by design for some rows: judged by the conditional completeness instead
CONDITIONAL_ONLY = {"sp_contacts.duration_minutes", "referrals.closure_reason", "referrals.closure_date",
                    "referrals.first_contact_date"}


SINGULAR = {"are": "is", "were": "was", "have": "has", "appear": "appears", "lie": "lies"}


@dataclass
class Check:
    """Records of ``table`` with a problem: ``records`` of ``checked``."""
    id: str
    kind: str  # out_of_period | order | follow_up | duplicates
    table: str
    unit: str
    description: str
    records: int
    checked: int
    limitation: str  # how it limits the analyses, when records > 0


@dataclass
class QualityRaw:
    start: pd.Timestamp
    end: pd.Timestamp
    rows: dict[str, int]
    absent: list[str]
    completeness: dict[str, dict[str, tuple[int, int]]]  # table -> column -> (filled, rows)
    by_year: dict[str, dict[str, tuple[int, int]]]  # referrals column -> financial year -> (filled, rows)
    conditional: dict[str, tuple[str, str, str, int, int]]  # name -> (table, column, among, filled, eligible)
    checks: list[Check] = field(default_factory=list)


def _filled(s: pd.Series) -> int:
    return int(s.notna().sum())


class _Referrals:
    """The referrals' ids hashed once, so rows of other tables find their referral by position
    (one look-up each) rather than by a dict or ``Series.map`` per question. An id given twice
    stands for its last row, as a dict of the ids would."""

    def __init__(self, ref: pd.DataFrame):
        self.row_code, uniques = pd.factorize(ref["referral_id"].to_numpy(dtype=object))
        self.index = pd.Index(uniques, dtype=object)
        ok = self.row_code >= 0
        self.last_row = np.full(len(uniques), -1, dtype=np.int64)
        np.maximum.at(self.last_row, self.row_code[ok], np.flatnonzero(ok))

    def codes(self, ids: pd.Series) -> np.ndarray:
        """Each id's referral (a code), -1 when it is not a referral."""
        return self.index.get_indexer(ids.to_numpy(dtype=object))

    def value(self, column: pd.Series, codes: np.ndarray) -> pd.Series:
        """``column`` (a referrals date column) of the referral at each code; NaT for -1."""
        v = column.to_numpy()[self.last_row][np.maximum(codes, 0)]
        v[codes < 0] = np.datetime64("NaT")
        return pd.Series(v, dtype=column.dtype)

    def per_referral(self, codes: np.ndarray, days: pd.Series, how: str) -> pd.Series:
        """The earliest (``min``) or latest (``max``) of ``days`` (a date column of another table,
        aligned with ``codes``) for each referral row, NaT when it has none; as ``groupby(id)``
        and ``map`` would give."""
        v = days.to_numpy().view(np.int64)
        ok = (codes >= 0) & (v != _NAT)
        out = np.full(len(self.index), _NAT if how == "max" else np.iinfo(np.int64).max, dtype=np.int64)
        (np.maximum if how == "max" else np.minimum).at(out, codes[ok], v[ok])
        out[(out == np.iinfo(np.int64).max)] = _NAT
        rows = np.where(self.row_code >= 0, out[np.maximum(self.row_code, 0)], _NAT)
        return pd.Series(rows.view(days.dtype))

    def followed_up(self, ons: pd.DataFrame, min_days: int) -> tuple[np.ndarray, np.ndarray]:
        """For each referral (code): whether ``ons`` (ONS4 rows) has any row for it, and whether
        some item was answered on two dates at least ``min_days`` apart (the earliest and latest
        answer of the item, as ``groupby([id, item])`` min and max would give)."""
        n = len(self.index)
        codes = self.codes(ons["referral_id"])
        has = np.zeros(n, dtype=bool)
        has[codes[codes >= 0]] = True
        item, items = pd.factorize(ons["item"].to_numpy(dtype=object))
        day = ons["assessment_date"].to_numpy().view(np.int64)
        ok = (codes >= 0) & (item >= 0) & (day != _NAT)
        key = codes[ok] * len(items) + item[ok]
        first = np.full(n * len(items), np.iinfo(np.int64).max, dtype=np.int64)
        last = np.full(n * len(items), _NAT, dtype=np.int64)
        np.minimum.at(first, key, day[ok])
        np.maximum.at(last, key, day[ok])
        answered = last != _NAT
        gap = np.zeros(len(first), dtype=np.int64)
        unit = np.datetime_data(ons["assessment_date"].dtype)[0]
        gap[answered] = (last[answered] - first[answered]).view(f"m8[{unit}]") // np.timedelta64(1, "D")
        paired = np.zeros(n, dtype=bool)
        paired[np.flatnonzero(answered & (gap >= min_days)) // len(items)] = True
        return has, paired


_NAT = np.iinfo(np.int64).min


def compute(extract: Extract, settings: Settings | None = None) -> QualityRaw:
    """``extract``: the whole extract (data quality is never restricted to a reporting period)."""
    cfg = extract.config
    start, end = cfg.start, cfg.end
    tables = extract.tables
    rows = {t: len(tables[t]) for t in TABLES if t in tables}
    completeness = {t: {c: (_filled(col(tables[t], c)), len(tables[t])) for c in TABLES[t].column_names}
                    for t in TABLES if t in tables}

    ref = tables["referrals"]
    fy_code, fy_names = pd.factorize(financial_year(ref["referral_date"]))  # each year's rows, found once
    in_year = fy_code >= 0
    n_years = len(fy_names)
    year_rows = np.bincount(fy_code[in_year], minlength=n_years)

    def filled_by_year(s: pd.Series) -> np.ndarray:
        return np.bincount(fy_code[in_year], weights=s.notna().to_numpy()[in_year], minlength=n_years)

    by_year = {}
    for c in TABLES["referrals"].optional_columns:
        f = filled_by_year(col(ref, c))
        by_year[c] = {y: (int(f[i]), int(year_rows[i])) for i, y in sorted(enumerate(fy_names), key=lambda x: x[1])}

    rd = ref["referral_date"]
    fc, cd = dates(ref, "first_contact_date"), dates(ref, "closure_date")
    refs = _Referrals(ref)
    conditional: dict[str, tuple[str, str, str, int, int]] = {}
    checks: list[Check] = []

    def add(id_, kind, table, unit, desc, mask, checked, limitation):
        checks.append(Check(id_, kind, table, unit, desc, int(mask.sum()), int(checked), limitation))

    # ---- referrals
    add("first_contact_after_end", "out_of_period", "referrals", "referrals",
        "have a first contact dated after the extract end", fc > end, len(ref),
        "these first contacts happened after the censoring date but still count in the waits")
    add("closure_after_end", "out_of_period", "referrals", "referrals", "have a closure dated after the extract end",
        cd > end, len(ref), "these referrals count as open at the extract end")
    open_days = (end - rd).dt.days
    add("open_over_a_year", "follow_up", "referrals", "referrals",
        f"are still open more than {LONG_OPEN_DAYS} days after referral (no closure by the extract end)",
        cd.isna() & (open_days > LONG_OPEN_DAYS), len(ref),
        "closure reasons and lengths of support are incomplete: either support is long, or closures are not "
        "being recorded")

    if extract.has("sp_contacts"):
        con = tables["sp_contacts"]
        cdate = con["contact_date"]
        att = con["status"] == "attended"
        con_ref = refs.codes(con["referral_id"])
        att_ref = np.where(att.to_numpy(), con_ref, -1)
        fa = refs.per_referral(att_ref, cdate, "min").set_axis(ref.index)
        la = refs.per_referral(att_ref, cdate, "max").set_axis(ref.index)
        con_closure = refs.value(cd, con_ref).set_axis(con.index)
        add("contacts_after_end", "out_of_period", "sp_contacts", "appointments",
            "are dated after the extract end", cdate > end, len(con),
            "appointments after the extract end are still counted in the appointment totals, which therefore "
            "run slightly beyond the period")
        add("closed_before_last_attended", "order", "referrals", "referrals",
            "were closed before their last attended appointment", cd.notna() & la.notna() & (cd < la), int(cd.notna().sum()),
            "lengths of support are understated for these referrals, and appointments after closure are still counted")
        add("contacts_long_after_closure", "order", "sp_contacts", "appointments",
            f"are dated more than {LATE_CONTACT_DAYS} days after their referral was closed",
            con_closure.notna() & ((cdate - con_closure).dt.days > LATE_CONTACT_DAYS), len(con),
            "these look like a new episode recorded against a closed referral: activity per referral is "
            "overstated and re-referrals are undercounted")
        both = fc.notna() & fa.notna()
        add("first_contact_not_first_attended", "order", "referrals", "referrals",
            "have a first_contact_date that is not the date of their first attended appointment", both & (fc != fa), int(both.sum()),
            "the wait from referral to first contact uses first_contact_date as recorded; where it disagrees with "
            "the appointments, the wait (and windows that start at first contact) may be wrong")
        add("first_contact_without_attended", "order", "referrals", "referrals",
            "have a first_contact_date but no attended appointment", fc.notna() & fa.isna(), int(fc.notna().sum()),
            "these people count in the waits but not among the patients seen")
        add("attended_without_first_contact", "order", "referrals", "referrals",
            "have an attended appointment but no first_contact_date", fc.isna() & fa.notna(), int(fa.notna().sum()),
            "these people count among the patients seen but are missing from the waits and from the analyses "
            "that start at first contact")
        never = fc.isna() & fa.isna() & (open_days > NEVER_SEEN_AFTER_DAYS)
        add("never_seen", "follow_up", "referrals", "referrals",
            f"were never seen (no first contact and no attended appointment) more than {NEVER_SEEN_AFTER_DAYS} "
            "days after referral", never, int((open_days > NEVER_SEEN_AFTER_DAYS).sum()),
            "people referred but never seen have no outcomes: outcome sections describe the people who engaged")
        dup = con.duplicated(["referral_id", "contact_date", "status", "contact_type"], keep="first") \
            if "contact_type" in con else con.duplicated(["referral_id", "contact_date", "status"], keep="first")
        add("duplicate_contacts", "duplicates", "sp_contacts", "appointments",
            "appear twice (same referral, date, status and type)", dup, len(con),
            "possible double entry: appointment totals may be overstated")
        # completeness where it matters
        conditional["sp_contacts.duration_minutes"] = ("sp_contacts", "duration_minutes", "attended appointments",
                                                       _filled(col(con, "duration_minutes")[att]), int(att.sum()))
        conditional["sp_contacts.contact_type"] = ("sp_contacts", "contact_type", "all appointments",
                                                   _filled(col(con, "contact_type")), len(con))
        conditional["referrals.first_contact_date"] = ("referrals", "first_contact_date",
                                                       "referrals with an attended appointment",
                                                       int((fc.notna() & fa.notna()).sum()), int(fa.notna().sum()))
    seen = fc.notna()
    closed = cd.notna()
    conditional["referrals.closure_reason"] = ("referrals", "closure_reason", "closed referrals",
                                               _filled(col(ref, "closure_reason")[closed]), int(closed.sum()))

    def child_dates(table: str, date_col: str, id_: str, unit: str, limitation: str) -> None:
        if not extract.has(table):
            return
        t = tables[table]
        d = t[date_col]
        before = d < refs.value(rd, refs.codes(t["referral_id"])).set_axis(t.index)
        add(id_, "out_of_period", table, unit, "are dated before their referral or after the extract end",
            before | (d > end), len(t), limitation)

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
        t = tables[table]
        d = t[date_col]
        mask = (d > end) if allow_before else ((d < start) | (d > end))
        desc = "are dated after the extract end" if allow_before else "are dated outside the extract period"
        add(id_, "out_of_period", table, unit, desc, mask, len(t), limitation)

    outside("gp_appointments", "appointment_date", "gp_appointments_outside", "appointments",
            "GP-appointment windows only read inside the extract period: these rows are not used")
    outside("hospital_spells", "admission_date", "spells_outside", "spells",
            "readmissions after the extract end are ignored (follow-up is censored at the extract end)")
    outside("deaths", "date_of_death", "deaths_after_end", "deaths",
            "deaths after the extract end are ignored as competing events", allow_before=True)
    outside("clinical_measurements", "measurement_date", "measurements_after_end", "measurements",
            "measurements after the extract end fall outside every target window", allow_before=True)
    if extract.has("pcn_quarterly"):
        pq = tables["pcn_quarterly"]
        qs = pq["quarter_start"]
        add("pcn_quarters_outside", "out_of_period", "pcn_quarterly", "PCN-quarters",
            "lie entirely outside the extract period", (qs > end) | (qs + pd.offsets.QuarterEnd(0) < start),
            len(pq), "these quarters have no referrals to set against their workforce")

    # ONS4 follow-up among referrals seen
    if extract.has("outcome_measures"):
        om = tables["outcome_measures"]
        ons = om[om["instrument"] == ONS4_INSTRUMENT]
        min_days = settings.wellbeing.min_days_between if settings is not None else 28
        has_ons, paired = refs.followed_up(ons, min_days)
        seen_code = refs.row_code[seen.to_numpy()]
        base = np.where(seen_code >= 0, has_ons[np.maximum(seen_code, 0)], False)
        is_paired = np.where(seen_code >= 0, paired[np.maximum(seen_code, 0)], False)
        add("seen_without_ons4", "follow_up", "outcome_measures", "referrals",
            "were seen but have no ONS4 score at all", ~base, len(seen_code),
            "ONS4 results describe only people who answered the questions")
        add("ons4_without_followup", "follow_up", "outcome_measures", "referrals",
            f"have an ONS4 baseline but no follow-up at least {min_days} days later",
            base & ~is_paired, int(base.sum()),
            "ONS4 change is measured only on people with a follow-up; if those who stayed in touch were the ones "
            "who felt better, the average change is biased toward completers")

    return QualityRaw(start, end, rows, [t for t in TABLES if t not in tables], completeness, by_year,
                      conditional, checks)


def publish(raw: QualityRaw, sdc: SDC) -> dict[str, Any]:
    tables: dict[str, Any] = {t: {"present": True, "rows": sdc.count(n, f"tables.{t}.rows")} for t, n in raw.rows.items()}
    tables.update({t: {"present": False, "rows": None} for t in raw.absent})
    completeness = {t: {c: stat(sdc, f / n * 100, n, f"completeness.{t}.{c}", 1) if n else None
                        for c, (f, n) in cols.items()} for t, cols in raw.completeness.items()}
    by_year = {c: {y: stat(sdc, f / n * 100, n, f"completeness_by_year.{c}.{y}", 1) if n else None
                   for y, (f, n) in ys.items()} for c, ys in raw.by_year.items()}
    conditional = {}
    for name, (t, c, among, f, n) in raw.conditional.items():
        conditional[name] = {"table": t, "column": c, "among": among,
                             "eligible": sdc.count(n, f"completeness_where_it_matters.{name}.eligible"),
                             "pct": stat(sdc, f / n * 100, n, f"completeness_where_it_matters.{name}.pct", 1)
                             if n else None}
    checks = {}
    for ch in raw.checks:
        k = f"checks.{ch.id}"
        checked = sdc.count(ch.checked, f"{k}.checked")
        records = sdc.count(ch.records, f"{k}.records")
        checks[ch.id] = {
            "kind": ch.kind, "table": ch.table, "unit": ch.unit, "description": ch.description,
            "records": records, "checked": checked,
            "pct": (0.0 if ch.records == 0 and ch.checked and sdc.base_ok(ch.checked)
                    else share(sdc, records, ch.checked, checked, f"{k}.pct")),
            "limitation": ch.limitation,
        }
    out = {
        "extract_period": {"start": raw.start.date().isoformat(), "end": raw.end.date().isoformat()},
        "tables": tables,
        "completeness": completeness,
        "completeness_by_year": by_year,
        "completeness_where_it_matters": conditional,
        "complete_enough_pct": COMPLETE_ENOUGH_PCT,
        "checks": checks,
    }
    out["limitations"] = limitations(out, raw, sdc.enabled)
    return out


def limitations(pub: dict[str, Any], raw: QualityRaw, sdc_on: bool = True) -> list[str]:
    """One sentence per gap found, written from the published figures only."""
    out: list[str] = []
    for name, cond in pub["completeness_where_it_matters"].items():
        p = cond["pct"]
        if p is not None and p < COMPLETE_ENOUGH_PCT and name in CONSEQUENCES:
            out.append(f"`{cond['column']}` is filled in for {p:.1f}% of {cond['among']} (`{cond['table']}`): "
                       f"{CONSEQUENCES[name]}.")
    for t, cols in pub["completeness"].items():
        for c, p in cols.items():
            key = f"{t}.{c}"
            if key in CONDITIONAL_ONLY:
                continue
            if key in CONSEQUENCES and p is not None and p < COMPLETE_ENOUGH_PCT:
                what = "empty in this extract" if p == 0 else f"filled in for {p:.1f}% of rows"
                out.append(f"`{c}` in `{t}` is {what}: {CONSEQUENCES[key]}.")
    for ch_id, ch in pub["checks"].items():
        raw_n = next(c.records for c in raw.checks if c.id == ch_id)
        if raw_n == 0:
            continue
        desc = ch["description"]
        if ch["records"] is None:
            n = f"A small number of {ch['unit']}"
        else:
            unit = ch["unit"]
            if ch["records"] == 1:
                unit = unit[:-1] if unit.endswith("s") else unit
                verb, _, rest = desc.partition(" ")
                desc = f"{SINGULAR.get(verb, verb)} {rest}"
            n = f"{'About ' if sdc_on else ''}{fmt(ch['records'])} {unit}"
        pct = "" if ch["pct"] is None else f" ({ch['pct']:.1f}% of those checked)"
        lim = ch["limitation"]
        out.append(f"{n}{pct} in `{ch['table']}` {desc}. {lim[0].upper()}{lim[1:]}.")
    for c, years in pub["completeness_by_year"].items():
        shown = [(y, v) for y, v in years.items() if v is not None]
        if f"referrals.{c}" in CONDITIONAL_ONLY or len(shown) < 2:
            continue
        (y0, v0), (y1, v1) = shown[0], shown[-1]
        if abs(v1 - v0) >= TREND_POINTS:
            way = "improved" if v1 > v0 else "fell"
            out.append(f"Recording of `{c}` {way} from {v0:.0f}% of referrals in {y0} to {v1:.0f}% in {y1}: "
                       "comparisons between years partly reflect recording, not only the service.")
    absent = [t for t, v in pub["tables"].items() if not v["present"]]
    if absent:
        out.append("Not provided: " + ", ".join(f"`{t}`" for t in absent) + ". The sections that need them say "
                   "so and are not run.")
    return out
