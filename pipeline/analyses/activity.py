"""Activities, outputs and participants: the contract's ``activity`` section and who was reached.

Definitions are the contract's (section 2, *Activity*): referrals are rows of ``referrals``;
patients are distinct ``patient_id``; patients seen have at least one attended contact;
contacts booked are rows of ``sp_contacts``; DNA/cancelled % is (dna + cancelled) / booked;
the mean attended contacts per patient seen is attended / patients seen; the median wait is over
referrals with a first contact; referrals by month use the ``YYYY-MM`` of ``referral_date``.

The contract keys are published exactly as the contract names them. Extra keys (the contract
allows additions), all after disclosure control:

- ``period_covered``: the first and last day the figures cover (a reporting period, or the extract);
- ``referral_target``: months below / within / above the monthly target band of ``extract.yml``,
  judged on the *published* monthly counts (a suppressed month is "below" when the band's lower
  edge is at least the suppression threshold, otherwise "unknown");
- ``referrals_by_practice``, ``referrals_by_pcn``, ``referrals_by_source``, ``referrals_by_reason``;
- ``referral_rates``: referrals per 1,000 registered (``registered_population`` of ``extract.yml``)
  over the period and per year, and by PCN where ``pcn_quarterly`` gives PCN populations (the
  mean population of the quarters overlapping the period). Rates are computed from the rounded
  counts, so a rate and a population cannot give back an exact count;
- ``new_vs_rereferrals``: a re-referral is a patient's second or later referral, judged against the
  patient's whole referral history in the extract (not only the period);
- ``contacts_by_type``: booked / attended / dna / cancelled by contact type (a two-way table with
  secondary suppression across rows and columns), the DNA-or-cancelled % and the median and mean
  minutes of attended contacts, by type;
- ``wait``: referral to first contact: median, quartiles, % within 14 days and a distribution;
- ``closures``: closed by the end of the period, still open, closure reasons, median days open;
- ``signposting``: signposts, referrals signposted, by category, top services (names grouped
  ignoring case and spacing; only services with enough signposts to publish are named);
- ``unmet_needs``: the Barnet "weighted gap report": referrals tagged with each need, by PCN, and
  needs per 1,000 referrals by PCN and need;
- ``participants`` (counts of referrals by characteristic), ``participants_pct``,
  ``participants_summary`` (Core20) and ``participants_vs_registered`` (referred people against the
  ``comparison_patients`` pool, a proxy for the registered list).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config import Settings
from ..contract import CATEGORIES
from ..disclosure import SDC
from ..extract import Extract
from .order import REFERRAL_ORDER, first_positions

SECTION = "activity"
REQUIRED = ("referrals", "sp_contacts")

# Age bands as the Merton dashboard shows them (seed 000, "Age (on referral date)").
AGE_BANDS = [(0, 14, "0-14"), (15, 18, "15-18"), (19, 24, "19-24"), (25, 34, "25-34"), (35, 44, "35-44"),
             (45, 54, "45-54"), (55, 64, "55-64"), (65, 74, "65-74"), (75, 84, "75-84"), (85, 200, "85+")]
PARTICIPANT_COLUMNS = ("age_band", "gender", "ethnicity", "imd_decile", "referral_source", "referral_reason",
                       "risk_band", "carer", "diabetes", "severe_mental_illness")
BOOLEAN_COLUMNS = ("carer", "diabetes", "severe_mental_illness")
#: characteristics that ``comparison_patients`` also holds (no ethnicity or carer status there)
POOL_COLUMNS = ("age_band", "gender", "imd_decile", "risk_band", "diabetes", "severe_mental_illness")
NOT_RECORDED = "not_recorded"
STATUSES = ("attended", "dna", "cancelled")
# Referral to first contact, in days: (label, lowest, highest) inclusive.
WAIT_BINS = [("0-7", 0, 7), ("8-14", 8, 14), ("15-28", 15, 28), ("29-56", 29, 56), ("57+", 57, math.inf)]
WAIT_TARGET_DAYS = 14
LONG_OPEN_DAYS = 365
TOP_N = 10
OTHER = "all other"


# ============================================================================ helpers (shared)

def col(df: pd.DataFrame, name: str) -> pd.Series:
    """A column, or an all-missing one when an optional column is absent."""
    if name in df.columns:
        return df[name]
    return pd.Series([pd.NA] * len(df), index=df.index, dtype="object")


def dates(df: pd.DataFrame, name: str) -> pd.Series:
    return pd.to_datetime(col(df, name), errors="coerce")


def _label(v: Any, boolean: bool = False) -> str:
    """One value's category label (see :func:`label_values`)."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return NOT_RECORDED
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if boolean and isinstance(v, str):
        return {"true": "yes", "1": "yes", "false": "no", "0": "no"}.get(v.lower(), v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return str(int(v))
    return str(v)


_ONE_KIND = ("string", "boolean", "integer", "floating", "empty")


def label_values(s: pd.Series, boolean: bool = False) -> pd.Series:
    """Category labels as strings: numbers as whole numbers, booleans as yes/no, missing as not_recorded."""
    def one(v: Any) -> str:
        return _label(v, boolean)
    obj = s.astype("object")
    if pd.api.types.infer_dtype(obj, skipna=True) not in _ONE_KIND:
        return obj.map(one)
    # one kind of value (missing values aside): label each distinct value once, then look the rows up
    present = obj.notna()
    out = pd.Series(NOT_RECORDED, index=obj.index, dtype="object", name=obj.name)
    if present.any():
        vals = obj[present]
        out[present] = vals.map({u: one(u) for u in pd.unique(vals.to_numpy())})
    return out


def _per_value(s: pd.Series, f: Callable[[Any], Any]) -> pd.Series:
    """``s.map(f)``, with ``f`` called once per distinct value when every value is text."""
    obj = s.astype("object")
    if pd.api.types.infer_dtype(obj, skipna=False) != "string":
        return obj.map(f)
    codes, uniques = pd.factorize(obj)
    return pd.Series(np.array([f(u) for u in uniques], dtype=object)[codes], index=obj.index, name=obj.name,
                     dtype="object")


def value_counts(s: pd.Series, order: list[str] | None = None) -> dict[str, int]:
    """Counts by value; with ``order`` every listed value appears (zeros included), then any other."""
    vc = s.value_counts()
    if order is None:
        return {str(k): int(v) for k, v in vc.sort_index().items()}
    out = {k: int(vc.get(k, 0)) for k in order}
    out.update({str(k): int(v) for k, v in vc.sort_index().items() if k not in out})
    return out


def label_counts(s: pd.Series, order: list[str] | None = None, boolean: bool = False) -> dict[str, int]:
    """``value_counts(label_values(s, boolean), order)``, counting the raw values first: each
    distinct value is labelled once and no column of labels is built (a million-row column of
    a few categories is one counting pass)."""
    obj = s.astype("object")
    if pd.api.types.infer_dtype(obj, skipna=True) not in _ONE_KIND:
        return value_counts(label_values(s, boolean), order)
    counts: dict[str, int] = {}
    vc = obj.value_counts(dropna=True)
    for v, n in vc.items():
        k = _label(v, boolean)
        counts[k] = counts.get(k, 0) + int(n)
    if len(obj) > int(vc.sum()):
        counts[NOT_RECORDED] = counts.get(NOT_RECORDED, 0) + len(obj) - int(vc.sum())
    return _ordered_counts(counts, order)


def _ordered_counts(counts: dict[str, int], order: list[str] | None) -> dict[str, int]:
    """As :func:`value_counts` lays counts out: ``order``'s values first (zeros included), then
    the rest by value."""
    out = {k: counts.get(k, 0) for k in order} if order is not None else {}
    out.update({k: counts[k] for k in sorted(counts) if k not in out})
    return out


def stat(sdc: SDC, value: float | None, base_n: int | None, key: str, decimals: int = 2,
         events: int | None = None) -> float | None:
    """:meth:`SDC.stat`, except that a figure with nothing to estimate (no value, or a base of 0) is
    ``None`` without being listed as suppressed: disclosure control did not remove it."""
    if value is None or base_n in (None, 0) or (isinstance(value, float) and math.isnan(value)):
        return None
    return sdc.stat(float(value), base_n, key, decimals=decimals, events=events)


def share(sdc: SDC, count_pub: int | None, total_raw: int, total_pub: int | None, key: str,
          decimals: int | None = None) -> float | None:
    """A percentage from *published* (rounded) counts; suppressed when the count is, or when the
    total rests on fewer than ``min_base`` people; ``None`` unrecorded when the total is 0."""
    if not total_raw:
        return None
    if count_pub is None or total_pub in (None, 0) or not sdc.base_ok(total_raw):
        return sdc.stat(None, None, key)  # records the suppression, returns None
    d = sdc.rules.pct_decimals if decimals is None else decimals
    return float(round(count_pub / total_pub * 100, d)) + 0.0


def rate(sdc: SDC, count_pub: int | None, count_raw: int, denominator: float | None, per: float, key: str,
         decimals: int = 2) -> float | None:
    """A rate per ``per`` from a published (rounded) count; suppressed with the count."""
    if denominator in (None, 0) or (isinstance(denominator, float) and math.isnan(denominator)):
        return None
    if count_raw == 0:
        return 0.0
    if count_pub is None:
        return sdc.stat(None, None, key)
    return sdc.stat(count_pub / denominator * per, count_raw, key, decimals=decimals)


def not_about_people(sdc: SDC, value: float | None, key: str, decimals: int = 2) -> float | None:
    """A figure that describes the service, not people (an FTE, a registered population, the share
    of a column filled in): passed through :meth:`SDC.stat` with a base that never suppresses."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return sdc.stat(float(value), sdc.rules.min_base, key, decimals=decimals)


def _complete_hidden(sdc: SDC, cells: Mapping[Any, int], hidden: set[Any]) -> set[Any]:
    """The SDC secondary-suppression rule for one group, starting from cells already hidden."""
    hidden = set(hidden)
    if not sdc.enabled or not hidden:
        return hidden
    candidates = sorted((v, str(k), k) for k, v in cells.items() if k not in hidden and v > 0)
    while candidates and (len(hidden) == 1 or sum(cells[k] for k in hidden) < sdc.rules.min_count):
        hidden.add(candidates.pop(0)[2])
    return hidden


def counts_table(sdc: SDC, table: Mapping[Any, Mapping[Any, int]], key: str, row_totals: bool = True,
                 col_totals: bool = False) -> dict[Any, dict[Any, int | None]]:
    """A two-way table of counts with secondary suppression across rows *and* columns.

    Every row and every column is a group that adds up to a published margin; suppression is
    repeated until no group lets a hidden cell be recovered. With ``row_totals`` each row gains a
    ``total`` cell and the row totals form one more group (adding up to the grand total); with
    ``col_totals`` a ``total`` row is added the same way. Publish margins *from this table*, never
    from a separate call, or the two suppression patterns could be combined.
    """
    rows = list(table)
    cols: list[Any] = []
    for r in rows:
        cols += [c for c in table[r] if c not in cols]
    cell = {(r, c): int(table[r].get(c, 0)) for r in rows for c in cols}
    all_rows = rows + (["total"] if col_totals else [])
    all_cols = cols + (["total"] if row_totals else [])
    if col_totals:
        for c in cols:
            cell[("total", c)] = sum(cell[(r, c)] for r in rows)
    if row_totals:
        for r in all_rows:
            cell[(r, "total")] = sum(cell[(r, c)] for c in cols)
    hidden = {k for k, v in cell.items() if sdc.is_small(v)}
    hidden.discard(("total", "total"))  # the grand total is published (or not) on its own
    groups = [[(r, c) for c in cols] for r in all_rows] + [[(r, c) for r in rows] for c in all_cols]
    changed = True
    while changed:
        changed = False
        for g in groups:
            new = _complete_hidden(sdc, {k: cell[k] for k in g}, hidden & set(g))
            if not new <= hidden:
                hidden |= new
                changed = True
    out: dict[Any, dict[Any, int | None]] = {}
    for r in all_rows:
        out[r] = {}
        for c in all_cols:
            if (r, c) == ("total", "total"):
                out[r][c] = sdc.count(cell[(r, c)], f"{key}.total.total")
            elif (r, c) in hidden:
                out[r][c] = sdc.stat(None, None, f"{key}.{r}.{c}")
            else:
                out[r][c] = sdc.round_count(cell[(r, c)])
    return out


def normalise_name(s: pd.Series) -> pd.Series:
    """Group free-text names ignoring case, punctuation at the ends and repeated spaces."""
    return _per_value(s, lambda v: re.sub(r"\s+", " ", str(v)).strip(" .,;:-").casefold())


def display_names(raw: pd.Series, key: pd.Series) -> dict[str, str]:
    """For each normalised key, its most common spelling (ties: alphabetical)."""
    df = pd.DataFrame({"key": key, "name": _per_value(raw, lambda v: re.sub(r"\s+", " ", str(v)).strip())})
    vc = df.groupby(["key", "name"]).size().reset_index(name="n").sort_values(["key", "n", "name"],
                                                                              ascending=[True, False, True])
    return dict(vc.drop_duplicates("key")[["key", "name"]].itertuples(index=False, name=None))


def top_items(counts: Mapping[str, int], sdc: SDC, n: int = TOP_N) -> dict[str, int]:
    """The ``n`` largest items that can be named (at least ``min_count`` each under control), largest
    first, then ``all other`` for the rest when there is any."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    named = [(k, v) for k, v in ranked if not sdc.is_small(v)][:n]
    rest = sum(counts.values()) - sum(v for _, v in named)
    # a small "all other" would be suppressed and take a named item with it: fold the smallest named
    # items into "all other" instead, until it can be published
    while named and sdc.is_small(rest):
        rest += named.pop()[1]
    out = dict(named)
    if rest:
        out[OTHER] = rest
    return out


# ============================================================================ raw results

@dataclass
class ActivityRaw:
    referrals: int
    patients: int
    patients_seen: int
    contacts_booked: int
    contacts_attended: int
    contacts_dna: int
    contacts_cancelled: int
    waits_days: pd.Series  # per referral with a first contact
    referrals_by_month: dict[str, int]
    # participant breakdowns: column -> {category: referrals}
    participants: dict[str, dict[str, int]] = field(default_factory=dict)
    contacts_by_type: dict[str, int] = field(default_factory=dict)  # attended contacts
    # --- extras
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    target: tuple[int, int] | None = None
    registered_population: int | None = None
    by_practice: dict[str, int] = field(default_factory=dict)
    by_pcn: dict[str, int] = field(default_factory=dict)
    by_source: dict[str, int] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)
    pcn_population: dict[str, float] = field(default_factory=dict)  # mean over overlapping quarters
    new_referrals: int = 0
    re_referrals: int = 0
    type_status: dict[str, dict[str, int]] = field(default_factory=dict)  # type -> status -> booked
    type_minutes: dict[str, pd.Series] = field(default_factory=dict)  # type -> minutes of attended contacts
    closed: int = 0
    closure_reasons: dict[str, int] = field(default_factory=dict)
    days_to_closure: pd.Series = field(default_factory=lambda: pd.Series(dtype="float64"))
    long_open: int = 0
    signposting: dict[str, Any] | None = None
    unmet_needs: dict[str, Any] | None = None
    participants_extra: "ParticipantsRaw | None" = None


@dataclass
class ParticipantsRaw:
    referrals: int
    by: dict[str, dict[str, int]]  # column -> {category: referrals}
    imd_recorded: int
    core20: int  # referrals from IMD deciles 1-2
    people: int  # referred people (index referrals)
    people_by: dict[str, dict[str, int]]  # the same characteristics for people, at the index referral
    pool: int | None = None  # comparison_patients rows, when given
    pool_by: dict[str, dict[str, int]] = field(default_factory=dict)


def age_band(age: pd.Series) -> pd.Series:
    bins = [lo for lo, _, _ in AGE_BANDS] + [AGE_BANDS[-1][1] + 1]
    labels = [name for _, _, name in AGE_BANDS]
    return pd.cut(age.astype("float64"), bins=bins, labels=labels, right=False).astype("object")


def month_range(start: pd.Timestamp, end: pd.Timestamp) -> list[str]:
    return [p.strftime("%Y-%m") for p in pd.period_range(start, end, freq="M")]


def _characteristics(df: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, dict[str, int]]:
    return {c: label_counts(age_band(col(df, "age")) if c == "age_band" else col(df, c), boolean=c in BOOLEAN_COLUMNS)
            for c in columns}


def compute_participants(extract: Extract) -> ParticipantsRaw:
    """Who was referred (counts of referrals), and referred people against the comparison pool."""
    ref = extract["referrals"]
    imd = pd.to_numeric(col(ref, "imd_decile"), errors="coerce")
    # each person's index referral, with only the columns described (a copy of every column is slow)
    index = ref[[c for c in ref.columns if c in POOL_COLUMNS or c == "age"]].take(first_positions(ref, REFERRAL_ORDER))
    raw = ParticipantsRaw(
        referrals=len(ref),
        by=_characteristics(ref, PARTICIPANT_COLUMNS),
        imd_recorded=int(imd.notna().sum()),
        core20=int(imd.isin([1, 2]).sum()),
        people=len(index),
        people_by=_characteristics(index, POOL_COLUMNS),
    )
    if extract.has("comparison_patients"):
        pool = extract["comparison_patients"]
        raw.pool = len(pool)
        raw.pool_by = _characteristics(pool, POOL_COLUMNS)
    return raw


def _signposting(sp: pd.DataFrame, referrals: int) -> dict[str, Any]:
    key = normalise_name(col(sp, "service_name"))
    names = display_names(col(sp, "service_name"), key)
    by_service = {names[k]: int(v) for k, v in key.value_counts().items()}
    return {
        "signposts": len(sp),
        "referrals_signposted": int(sp["referral_id"].nunique()),
        "referrals": referrals,
        "by_category": label_counts(col(sp, "service_category"),
                                    CATEGORIES["service_category"]),
        "by_service": by_service,
    }


def _unmet(needs: pd.DataFrame, ref: pd.DataFrame) -> dict[str, Any]:
    key = normalise_name(col(needs, "need"))
    names = display_names(col(needs, "need"), key)
    tagged = pd.DataFrame({"referral_id": needs["referral_id"].to_numpy(), "need": key.map(names).to_numpy()})
    tagged = tagged.drop_duplicates()  # a referral counts once per need
    tagged = tagged.merge(ref[["referral_id", "pcn"]], on="referral_id", how="left")
    pcns = sorted(ref["pcn"].dropna().astype(str).unique())
    by_need = {str(k): int(v) for k, v in tagged["need"].value_counts().items()}
    by_pcn_need: dict[str, dict[str, int]] = {}
    for need, g in tagged.groupby("need"):
        by_pcn_need[str(need)] = {p: int((g["pcn"] == p).sum()) for p in pcns}
    return {
        "needs_recorded": len(needs),
        "tags": len(tagged),
        "referrals_with_need": int(tagged["referral_id"].nunique()),
        "referrals": len(ref),
        "referrals_by_pcn": {p: int((ref["pcn"] == p).sum()) for p in pcns},
        "referrals_with_need_by_pcn": {p: int(tagged.loc[tagged["pcn"] == p, "referral_id"].nunique()) for p in pcns},
        "tags_by_pcn": {p: int((tagged["pcn"] == p).sum()) for p in pcns},
        "by_need": by_need,
        "by_pcn_need": by_pcn_need,
    }


def compute(extract: Extract, settings: Settings | None = None, history: Extract | None = None) -> ActivityRaw:
    """Raw activity figures for ``extract`` (the period's extract in a period report).

    ``history``: the whole extract, to tell a patient's first referral from a re-referral when
    ``extract`` is restricted to a period (default: ``extract`` itself).
    """
    cfg = extract.config
    ref = extract["referrals"]
    con = extract["sp_contacts"]
    status = con["status"].value_counts()
    attended_mask = con["status"] == "attended"
    # people seen: the patients of the referrals with an attended contact (referral ids are unique
    # in referrals, so this is what joining the contacts to the referrals would count)
    attended_ids = con.loc[attended_mask, "referral_id"]
    seen = ref.loc[ref["referral_id"].isin(attended_ids), "patient_id"].nunique()
    fc, rd = dates(ref, "first_contact_date"), ref["referral_date"]
    has_contact = fc.notna()
    waits = (fc[has_contact] - rd[has_contact]).dt.days

    ym = (rd.dt.year * 100 + rd.dt.month).value_counts()  # one integer per date, not a formatted string
    months = {f"{int(k) // 100:04d}-{int(k) % 100:02d}": int(v) for k, v in ym.items()}
    by_month = {m: int(months.get(m, 0)) for m in month_range(cfg.start, cfg.end)}

    parts = compute_participants(extract)
    # the contract section's participants: the original six breakdowns plus the new ones
    by_type = {}
    ctype = label_values(col(con, "contact_type"))
    if "contact_type" in con:
        by_type = value_counts(ctype[attended_mask])

    # PCN populations from pcn_quarterly: mean over the quarters overlapping the period
    pcn_pop: dict[str, float] = {}
    if extract.has("pcn_quarterly"):
        pq = extract["pcn_quarterly"]
        qs = pd.to_datetime(pq["quarter_start"])
        qe = qs + pd.offsets.QuarterEnd(0)
        overlap = (qs <= cfg.end) & (qe >= cfg.start)
        use = pq[overlap] if overlap.any() else pq
        pcn_pop = {str(k): float(v) for k, v in use.groupby("pcn")["registered_population"].mean().items()}

    # first referral or re-referral, over the patient's whole history
    hist = (history or extract)["referrals"]
    later = hist["patient_id"].notna().to_numpy(copy=True)  # a referral after the patient's first
    later[first_positions(hist, REFERRAL_ORDER)] = False
    re_ids = set(hist["referral_id"].to_numpy()[later])
    re_n = int(ref["referral_id"].isin(re_ids).sum())

    # contacts by type and status, durations of attended contacts
    type_order = CATEGORIES["contact_type"] + [NOT_RECORDED]
    type_status: dict[str, dict[str, int]] = {}
    type_minutes: dict[str, pd.Series] = {}
    minutes = pd.to_numeric(col(con, "duration_minutes"), errors="coerce").astype("float64")
    type_code, used_types = pd.factorize(ctype)  # each row's type compared once, not once per type
    has_status = {s: (con["status"] == s).to_numpy() for s in STATUSES}
    for t in type_order:
        if t not in used_types:  # only the types in use (a type never used is not a zero worth a row)
            continue
        m = type_code == used_types.get_loc(t)
        type_status[t] = {s: int((m & has_status[s]).sum()) for s in STATUSES}
        type_minutes[t] = minutes[m & attended_mask.to_numpy()].dropna()

    # closures by the end of the period
    cd = dates(ref, "closure_date")
    closed = cd.notna() & (cd <= cfg.end)
    reasons = label_values(col(ref, "closure_reason")[closed])
    open_days = (cfg.end - rd[~closed]).dt.days

    sp = _signposting(extract["signposting"], len(ref)) if extract.has("signposting") else None
    un = _unmet(extract["unmet_needs"], ref) if extract.has("unmet_needs") else None

    return ActivityRaw(
        referrals=len(ref),
        patients=int(ref["patient_id"].nunique()),
        patients_seen=int(seen),
        contacts_booked=len(con),
        contacts_attended=int(status.get("attended", 0)),
        contacts_dna=int(status.get("dna", 0)),
        contacts_cancelled=int(status.get("cancelled", 0)),
        waits_days=waits.astype("float64"),
        referrals_by_month=by_month,
        participants={c: parts.by[c] for c in PARTICIPANT_COLUMNS},
        contacts_by_type=by_type,
        start=cfg.start,
        end=cfg.end,
        target=tuple(cfg.referral_target_monthly) if cfg.referral_target_monthly else None,
        registered_population=cfg.registered_population,
        by_practice=label_counts(col(ref, "practice_code")),
        by_pcn=label_counts(col(ref, "pcn")),
        by_source=label_counts(col(ref, "referral_source"), CATEGORIES["referral_source"]),
        by_reason=label_counts(col(ref, "referral_reason"), CATEGORIES["referral_reason"]),
        pcn_population=pcn_pop,
        new_referrals=len(ref) - re_n,
        re_referrals=re_n,
        type_status=type_status,
        type_minutes=type_minutes,
        closed=int(closed.sum()),
        closure_reasons=value_counts(reasons, CATEGORIES["closure_reason"]),
        days_to_closure=(cd[closed] - rd[closed]).dt.days.astype("float64"),
        long_open=int((open_days > LONG_OPEN_DAYS).sum()),
        signposting=sp,
        unmet_needs=un,
        participants_extra=parts,
    )


# ============================================================================ publishing

def _not_available(table: str) -> dict[str, str]:
    return {"status": "not_available", "reason": f"this extract has no `{table}` table"}


def _target(by_month_pub: dict[str, int | None], target: tuple[int, int] | None, sdc: SDC) -> dict | None:
    if not target:
        return None
    lo, hi = target
    below = within = above = unknown = 0
    for v in by_month_pub.values():
        if v is None:
            # a suppressed month holds 1..min_count-1 referrals
            if sdc.rules.min_count - 1 < lo:
                below += 1
            else:
                unknown += 1
        elif v < lo:
            below += 1
        elif v > hi:
            above += 1
        else:
            within += 1
    return {"lower": int(lo), "upper": int(hi), "months_below": below, "months_within": within,
            "months_above": above, "months_unknown": unknown, "judged_on": "published (rounded) monthly counts"}


def _rates(raw: ActivityRaw, pub_referrals: int | None, by_pcn_pub: dict[str, int | None], sdc: SDC) -> dict:
    days = (raw.end - raw.start).days + 1 if raw.start is not None and raw.end is not None else None
    years = days / 365.25 if days else None
    pop = raw.registered_population
    pop_pub = not_about_people(sdc, pop, "referral_rates.registered_population", 0) if pop else None
    out: dict[str, Any] = {
        "registered_population": None if pop_pub is None else int(pop_pub),
        "years": round(years, 3) if years else None,
        "per_1000_registered": rate(sdc, pub_referrals, raw.referrals, pop, 1000,
                                    "referral_rates.per_1000_registered"),
        "per_1000_registered_per_year": rate(sdc, pub_referrals, raw.referrals, pop * years if pop and years else None,
                                             1000, "referral_rates.per_1000_registered_per_year"),
        "by_pcn": None,
        "pcn_population_source": None,
    }
    if raw.pcn_population:
        out["pcn_population_source"] = "pcn_quarterly: mean registered_population of the quarters overlapping the period"
        by = {}
        for pcn, n in raw.by_pcn.items():
            p = raw.pcn_population.get(pcn)
            k = f"referral_rates.by_pcn.{pcn}"
            by[pcn] = {
                "registered_population": None if p is None else int(round(p)),
                "referrals": by_pcn_pub.get(pcn),
                "per_1000": rate(sdc, by_pcn_pub.get(pcn), n, p, 1000, f"{k}.per_1000"),
                "per_1000_per_year": rate(sdc, by_pcn_pub.get(pcn), n, p * years if p and years else None, 1000,
                                          f"{k}.per_1000_per_year"),
            }
        out["by_pcn"] = by
    return out


def _contacts_by_type(raw: ActivityRaw, sdc: SDC) -> tuple[dict, dict]:
    """(contacts_by_type, attended_contacts_by_type): the second is the attended column of the
    first, so the two cannot be played against each other."""
    if not raw.type_status:
        return {}, {}
    table = counts_table(sdc, raw.type_status, "contacts_by_type", row_totals=True)
    attended = {}
    for t in raw.contacts_by_type:
        v = table[t]["attended"] if t in table else None
        attended[t] = sdc.stat(None, None, f"attended_contacts_by_type.{t}") if v is None else v
    out = {}
    for t, cells in table.items():
        booked_raw = sum(raw.type_status[t].values())
        missed_raw = raw.type_status[t]["dna"] + raw.type_status[t]["cancelled"]
        missed_pub = None if cells["dna"] is None or cells["cancelled"] is None else cells["dna"] + cells["cancelled"]
        mins = raw.type_minutes.get(t, pd.Series(dtype="float64"))
        k = f"contacts_by_type.{t}"
        out[t] = {
            "booked": cells["total"],
            "attended": cells["attended"],
            "dna": cells["dna"],
            "cancelled": cells["cancelled"],
            "dna_or_cancelled_pct": (0.0 if booked_raw and missed_raw == 0 and cells["total"] is not None
                                     else share(sdc, missed_pub, booked_raw, cells["total"],
                                                f"{k}.dna_or_cancelled_pct")),
            # every attended contact may have a duration: hide the count with the attended cell
            "minutes_recorded": (sdc.count(len(mins), f"{k}.minutes_recorded") if cells["attended"] is not None
                                 else sdc.stat(None, None, f"{k}.minutes_recorded")),
            "median_minutes": stat(sdc, float(mins.median()) if len(mins) else None, len(mins),
                                   f"{k}.median_minutes", 1),
            "mean_minutes": stat(sdc, float(mins.mean()) if len(mins) else None, len(mins), f"{k}.mean_minutes", 1),
        }
    return out, attended


def _wait(raw: ActivityRaw, sdc: SDC) -> dict:
    w = raw.waits_days
    n = len(w)
    bins = {lab: int(((w >= lo) & (w <= hi)).sum()) for lab, lo, hi in WAIT_BINS}
    state = sdc.counts({"with_first_contact": n, "not_seen": raw.referrals - n}, "wait.state")
    n_pub = state["with_first_contact"]
    pub = sdc.counts(bins, "wait.distribution")
    # within 14 days = the first two bins: built from them, so it cannot reveal a hidden one
    assert WAIT_BINS[1][2] == WAIT_TARGET_DAYS
    within_pub = None if pub["0-7"] is None or pub["8-14"] is None else pub["0-7"] + pub["8-14"]
    return {
        "referrals_with_first_contact": n_pub,
        "referrals_not_seen": state["not_seen"],
        "median_days": stat(sdc, float(w.median()) if n else None, n, "wait.median_days", 1),
        "q1_days": stat(sdc, float(w.quantile(0.25)) if n else None, n, "wait.q1_days", 1),
        "q3_days": stat(sdc, float(w.quantile(0.75)) if n else None, n, "wait.q3_days", 1),
        "within_14_days_pct": share(sdc, within_pub, n, n_pub, "wait.within_14_days_pct"),
        "distribution": pub,
        "bins": [lab for lab, _, _ in WAIT_BINS],
    }


def _closures(raw: ActivityRaw, sdc: SDC) -> dict:
    state = sdc.counts({"closed": raw.closed, "open": raw.referrals - raw.closed}, "closures.state")
    reasons = sdc.counts(raw.closure_reasons, "closures.reasons")
    d = raw.days_to_closure
    return {
        "closed": state["closed"],
        "open_at_end": state["open"],
        "open_longer_than_365_days": sdc.count(raw.long_open, "closures.open_longer_than_365_days"),
        "reasons": reasons,
        "reasons_pct": sdc.distribution(raw.closure_reasons, "closures.reasons_pct") if raw.closed else
        {k: None for k in raw.closure_reasons},
        "median_days_referral_to_closure": stat(sdc, float(d.median()) if len(d) else None, len(d),
                                                "closures.median_days_referral_to_closure", 1),
    }


def _publish_signposting(s: dict[str, Any] | None, sdc: SDC, ref_pub: int | None) -> dict:
    if s is None:
        return _not_available("signposting")
    total = s["signposts"]
    total_pub = sdc.count(total, "signposting.signposts")
    refs = sdc.count(s["referrals_signposted"], "signposting.referrals_signposted")
    top = top_items(s["by_service"], sdc)
    top_pub = sdc.counts(top, "signposting.top_services") if top else {}
    by_cat = sdc.counts(s["by_category"], "signposting.by_category")
    return {
        "signposts": total_pub,
        "referrals_signposted": refs,
        "referrals_signposted_pct": share(sdc, refs, s["referrals"], ref_pub, "signposting.referrals_signposted_pct"),
        # a number of services, not of people
        "services": int(not_about_people(sdc, len(s["by_service"]), "signposting.services", 0)),
        "by_category": by_cat,
        "by_category_pct": {k: share(sdc, v, total, total_pub, f"signposting.by_category_pct.{k}") if total else None
                            for k, v in by_cat.items()},
        "top_services": [{"service": k, "signposts": v,
                          "pct": share(sdc, v, total, total_pub, f"signposting.top_services_pct.{k}")}
                         for k, v in top_pub.items()],
    }


def _publish_unmet(u: dict[str, Any] | None, sdc: SDC) -> dict:
    """The weighted gap report. Needs by PCN come from one two-way table (need x PCN, with both
    margins), so the top needs, the needs by PCN and the cells share one suppression pattern."""
    if u is None:
        return _not_available("unmet_needs")
    ref_n = u["referrals"]
    with_need = sdc.count(u["referrals_with_need"], "unmet_needs.referrals_with_need")
    ref_pub = None if sdc.is_small(ref_n) else sdc.round_count(ref_n)
    pcns = list(u["referrals_by_pcn"])
    pcn_ref_pub = sdc.counts(u["referrals_by_pcn"], "unmet_needs.referrals_by_pcn")
    pcn_need_pub = sdc.counts(u["referrals_with_need_by_pcn"], "unmet_needs.referrals_with_need_by_pcn")
    top = top_items(u["by_need"], sdc)
    table: dict[str, dict[str, int]] = {}
    for need in top:
        if need == OTHER:
            rest = [k for k in u["by_pcn_need"] if k not in top]
            table[OTHER] = {p: sum(u["by_pcn_need"][k][p] for k in rest) for p in pcns}
        else:
            table[need] = dict(u["by_pcn_need"][need])
    grid = counts_table(sdc, table, "unmet_needs.by_need_pcn", row_totals=True, col_totals=True) if table else {}
    needs_pub = grid["total"]["total"] if grid else 0
    totals_by_pcn = grid.get("total", {})
    by_pcn = {}
    for p in pcns:
        n = u["referrals_by_pcn"][p]
        by_pcn[p] = {
            "referrals": pcn_ref_pub[p],
            "referrals_with_need": pcn_need_pub[p],
            "needs": totals_by_pcn.get(p, 0),
            "needs_per_1000_referrals": _per_1000(sdc, totals_by_pcn.get(p, 0), u["tags_by_pcn"][p], n,
                                                  pcn_ref_pub[p], f"unmet_needs.by_pcn.{p}.needs_per_1000_referrals"),
        }
    top_pub = {need: grid[need]["total"] for need in table}
    cells = {need: {p: grid[need][p] for p in pcns} for need in table}
    per_1000 = {need: {p: _per_1000(sdc, cells[need][p], table[need][p], u["referrals_by_pcn"][p], pcn_ref_pub[p],
                                    f"unmet_needs.by_need_pcn_per_1000_referrals.{need}.{p}") for p in pcns}
                for need in table}
    return {
        "needs_recorded": needs_pub,
        "referrals_with_need": with_need,
        "referrals_with_need_pct": share(sdc, with_need, ref_n, ref_pub, "unmet_needs.referrals_with_need_pct"),
        "distinct_needs": int(not_about_people(sdc, len(u["by_need"]), "unmet_needs.distinct_needs", 0)),
        "top_needs": top_pub,
        "top_needs_per_1000_referrals": {k: _per_1000(sdc, v, top[k], ref_n, ref_pub,
                                                      f"unmet_needs.top_needs_per_1000_referrals.{k}")
                                         for k, v in top_pub.items()},
        "by_pcn": by_pcn,
        "by_need_pcn": cells,
        "by_need_pcn_per_1000_referrals": per_1000,
        "counting": "a referral counts once for each need it is tagged with; needs are grouped ignoring case and spacing",
    }


def _per_1000(sdc: SDC, count_pub: int | None, count_raw: int, ref_raw: int, ref_pub: int | None, key: str):
    """Needs per 1,000 referrals, from published counts; needs a base of min_base referrals."""
    if not ref_raw:
        return None
    if count_raw == 0 and sdc.base_ok(ref_raw):
        return 0.0
    if count_pub is None or not ref_pub or not sdc.base_ok(ref_raw):
        return sdc.stat(None, None, key)
    return sdc.stat(count_pub / ref_pub * 1000, ref_raw, key, decimals=1)


def publish_participants(p: ParticipantsRaw, sdc: SDC) -> dict:
    """Who was referred, after disclosure control (paths under ``participants...``)."""
    counts = {c: sdc.counts(p.by[c], f"participants.{c}") for c in PARTICIPANT_COLUMNS}
    ref_pub = None if sdc.is_small(p.referrals) else sdc.round_count(p.referrals)
    pct = {c: {k: share(sdc, v, p.referrals, ref_pub, f"participants_pct.{c}.{k}") for k, v in counts[c].items()}
           for c in PARTICIPANT_COLUMNS}
    imd_pub = sdc.count(p.imd_recorded, "participants_summary.imd_recorded")
    core_pub = sdc.count(p.core20, "participants_summary.core20_referrals") if p.core20 else 0
    summary = {
        "imd_recorded": imd_pub,
        "core20_referrals": core_pub,
        "core20_pct": share(sdc, core_pub, p.imd_recorded, imd_pub, "participants_summary.core20_pct"),
        "core20_definition": "IMD deciles 1-2 (the most deprived fifth of neighbourhoods), of referrals with an IMD decile",
        "unit": "referrals",
    }
    vs: dict[str, Any] = {
        "pool": "comparison_patients" if p.pool is not None else None,
        "note": ("Referred people (each at their earliest referral) against the comparison_patients pool, "
                 "registered patients never referred: a proxy for the registered list's profile, not the list itself."
                 if p.pool is not None else "No comparison_patients table: no registered-population profile to compare with."),
        "referred_people": sdc.count(p.people, "participants_vs_registered.referred_people"),
        "pool_people": sdc.count(p.pool, "participants_vs_registered.pool_people") if p.pool is not None else None,
        "columns": {},
    }
    if p.pool is not None:
        for c in POOL_COLUMNS:
            keys = list(dict.fromkeys(list(p.people_by[c]) + list(p.pool_by[c])))
            ref_cells = {k: p.people_by[c].get(k, 0) for k in keys}
            pool_cells = {k: p.pool_by[c].get(k, 0) for k in keys}
            vs["columns"][c] = {
                "referred_pct": _dist(sdc, ref_cells, f"participants_vs_registered.columns.{c}.referred_pct"),
                "pool_pct": _dist(sdc, pool_cells, f"participants_vs_registered.columns.{c}.pool_pct"),
            }
    return {"participants": counts, "participants_pct": pct, "participants_summary": summary,
            "participants_vs_registered": vs}


def _dist(sdc: SDC, cells: dict[str, int], key: str) -> dict[str, float | None]:
    if not sum(cells.values()):
        return {k: None for k in cells}
    return sdc.distribution(cells, key)


def publish(raw: ActivityRaw, sdc: SDC) -> dict:
    """The contract's ``activity`` section after disclosure control, plus the extra keys."""
    dna_canc = raw.contacts_dna + raw.contacts_cancelled
    mean_att = raw.contacts_attended / raw.patients_seen if raw.patients_seen else None
    median_wait = float(raw.waits_days.median()) if len(raw.waits_days) else None
    out = {
        "referrals": sdc.count(raw.referrals, "referrals"),
        "patients": sdc.count(raw.patients, "patients"),
        "patients_seen": sdc.count(raw.patients_seen, "patients_seen"),
        "contacts_booked": sdc.count(raw.contacts_booked, "contacts_booked"),
        "contacts_attended": sdc.count(raw.contacts_attended, "contacts_attended"),
        "dna_or_cancelled_pct": (sdc.pct(dna_canc, raw.contacts_booked, "dna_or_cancelled_pct")
                                 if raw.contacts_booked else None),
        "mean_attended_contacts_per_patient_seen": stat(
            sdc, mean_att, raw.patients_seen, "mean_attended_contacts_per_patient_seen", decimals=2),
        "median_days_referral_to_first_contact": stat(
            sdc, median_wait, len(raw.waits_days), "median_days_referral_to_first_contact", decimals=1),
        "referrals_by_month": sdc.counts(raw.referrals_by_month, "referrals_by_month"),
    }
    # ---- extra keys (the contract allows additions)
    out["period_covered"] = {"start": raw.start.date().isoformat() if raw.start is not None else None,
                             "end": raw.end.date().isoformat() if raw.end is not None else None}
    out["referral_target"] = _target(out["referrals_by_month"], raw.target, sdc)
    out["referrals_by_practice"] = sdc.counts(raw.by_practice, "referrals_by_practice")
    out["referrals_by_pcn"] = sdc.counts(raw.by_pcn, "referrals_by_pcn")
    out["referrals_by_source"] = sdc.counts(raw.by_source, "referrals_by_source")
    out["referrals_by_reason"] = sdc.counts(raw.by_reason, "referrals_by_reason")
    out["referral_rates"] = _rates(raw, out["referrals"], out["referrals_by_pcn"], sdc)
    out["new_vs_rereferrals"] = sdc.counts({"new": raw.new_referrals, "re_referral": raw.re_referrals},
                                           "new_vs_rereferrals")
    out["contacts_by_type"], out["attended_contacts_by_type"] = _contacts_by_type(raw, sdc)
    out["wait"] = _wait(raw, sdc)
    out["closures"] = _closures(raw, sdc)
    out["signposting"] = _publish_signposting(raw.signposting, sdc, out["referrals"])
    out["unmet_needs"] = _publish_unmet(raw.unmet_needs, sdc)
    parts = raw.participants_extra
    if parts is None:  # an ActivityRaw built by hand: participants from the six breakdowns only
        out["participants"] = {c: sdc.counts(cells, f"participants.{c}") for c, cells in raw.participants.items()}
    else:
        out.update(publish_participants(parts, sdc))
    return out
