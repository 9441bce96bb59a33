"""Link-worker appointments: booked, attended, missed (did not attend) or cancelled, by contact
type and by month, the length of attended ones, and the people seen.

The type x status counts are one two-way table whose margins are the types' booked counts and
the contract's ``contacts_booked`` / ``contacts_attended`` cells; the months' booked and missed appointments
are splits of the booked and missed totals; people seen are part of the people referred.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ...contract import CATEGORIES
from ...disclosure import Release
from ...disclosure.cells import Cell
from ...extract import Extract
from ..labels import NOT_RECORDED, col, label_values, value_counts
from .figures import cross, part_of, split, statistic, sum_of
from .referrals import Core, by_month

STATUSES = ("attended", "dna", "cancelled")
NO_MINUTES = "no attended appointment of this type has a recorded length"
NOTHING_BOOKED = "no appointment was booked"


@dataclass
class ContactsRaw:
    booked: int
    status: dict[str, int]  # attended, dna, cancelled
    patients_seen: int
    type_status: dict[str, dict[str, int]] = field(default_factory=dict)  # type -> status -> booked
    type_minutes: dict[str, pd.Series] = field(default_factory=dict)  # type -> minutes of attended contacts
    attended_by_type: dict[str, int] = field(default_factory=dict)  # the types with attended contacts
    by_month: dict[str, dict[str, int]] = field(default_factory=dict)  # month -> booked, missed

    @property
    def missed(self) -> int:
        return self.status["dna"] + self.status["cancelled"]


def compute_contacts(extract: Extract, months: list[str]) -> ContactsRaw:
    ref = extract["referrals"]
    con = extract["sp_contacts"]
    status = con["status"].value_counts()
    attended = (con["status"] == "attended").to_numpy()
    # people seen: the patients of the referrals with an attended contact (referral ids are unique
    # in referrals, so this is what joining the contacts to the referrals would count)
    seen = ref.loc[ref["referral_id"].isin(con.loc[attended, "referral_id"]), "patient_id"].nunique()
    ctype = label_values(col(con, "contact_type"))
    minutes = pd.to_numeric(col(con, "duration_minutes"), errors="coerce").astype("float64")
    type_code, used = pd.factorize(ctype)  # each row's type compared once, not once per type
    has_status = {s: (con["status"] == s).to_numpy() for s in STATUSES}
    type_status: dict[str, dict[str, int]] = {}
    type_minutes: dict[str, pd.Series] = {}
    for t in CATEGORIES["contact_type"] + [NOT_RECORDED]:
        if t not in used:  # only the types in use (a type never used is not a zero worth a row)
            continue
        m = type_code == used.get_loc(t)
        type_status[t] = {s: int((m & has_status[s]).sum()) for s in STATUSES}
        type_minutes[t] = minutes[m & attended].dropna()
    missed = ~attended
    booked_m = by_month(con["contact_date"], months)
    missed_m = by_month(con["contact_date"][missed], months)
    return ContactsRaw(
        booked=len(con),
        status={s: int(status.get(s, 0)) for s in STATUSES},
        patients_seen=int(seen),
        type_status=type_status,
        type_minutes=type_minutes,
        attended_by_type=value_counts(ctype[attended]) if "contact_type" in con else {},
        by_month={m: {"booked": booked_m[m], "missed": missed_m[m]} for m in months},
    )


def _by_type(raw: ContactsRaw, rel: Release, booked: Cell, status: dict[str, Cell]) -> dict:
    """The type x status table: its margins are the types' booked cells and the status cells."""
    types = split(rel, booked, {t: sum(v.values()) for t, v in raw.type_status.items()}, "contacts_by_type")
    cells = cross(rel, types, status, {(t, s): v[s] for t, v in raw.type_status.items() for s in STATUSES},
                  "contacts_by_type")
    rows = {}
    for t in raw.type_status:
        booked_t, attended_t = rel.count(types[t]), rel.count(cells[(t, "attended")])
        mins = raw.type_minutes.get(t, pd.Series(dtype="float64"))
        recorded = part_of(rel, cells[(t, "attended")], len(mins), f"contacts_by_type[{t},minutes_recorded]")
        rows[t] = {
            "booked": booked_t,
            "attended": attended_t,
            "dna": rel.count(cells[(t, "dna")]),
            "cancelled": rel.count(cells[(t, "cancelled")]),
            # the booked that were not attended, from the published (rounded) counts
            "dna_or_cancelled_pct": rel.derived(lambda b, a: (b - a) / b * 100 if b else None, booked_t, attended_t,
                                                decimals=rel.rules.pct_decimals, reason=NOTHING_BOOKED),
            "minutes_recorded": rel.count(recorded),
            "median_minutes": statistic(rel, float(mins.median()) if len(mins) else None, recorded, NO_MINUTES),
            "mean_minutes": statistic(rel, float(mins.mean()) if len(mins) else None, recorded, NO_MINUTES,
                                      mean=True),
        }
    return rows


def publish_contacts(raw: ContactsRaw, rel: Release, core: Core) -> tuple[dict, dict]:
    """(the contact figures, each month's booked appointments and % missed for the monthly series)."""
    booked = rel.cell(raw.booked, "contacts_booked")
    status = split(rel, booked, raw.status, "contacts_by_status")
    missed = sum_of(rel, [status["dna"], status["cancelled"]], "contacts_missed")
    by_type = _by_type(raw, rel, booked, status)
    seen = part_of(rel, core.patients, raw.patients_seen, "patients_seen")
    # contacts may fall after the last month (a contact date has no upper bound): not closed
    booked_m = split(rel, booked, {m: v["booked"] for m, v in raw.by_month.items()}, "monthly.contacts_booked",
                     closed=False)
    missed_m = split(rel, missed, {m: v["missed"] for m, v in raw.by_month.items()}, "monthly.missed", closed=False)
    for m in raw.by_month:
        part_of(rel, booked_m[m], missed_m[m], f"monthly[{m}].missed")
    tree = {
        "patients_seen": rel.count(seen),
        "contacts_booked": rel.count(booked),
        "contacts_attended": rel.count(status["attended"]),
        "dna_or_cancelled_pct": rel.pct(missed, booked),
        "mean_attended_contacts_per_patient_seen": rel.ratio(status["attended"], seen, decimals=2),
        "patients_seen_pct": rel.pct(seen, core.patients),
        "contacts_by_type": by_type,
        # the attended column of the table, as the types with attended appointments
        "attended_contacts_by_type": {t: by_type[t]["attended"] for t in raw.attended_by_type},
    }
    monthly = {m: {"contacts_booked": rel.count(booked_m[m]), "dna_or_cancelled_pct": rel.pct(missed_m[m], booked_m[m])}
               for m in raw.by_month}
    return tree, monthly
