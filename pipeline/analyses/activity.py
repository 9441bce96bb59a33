"""Activities, outputs and participants: the contract's ``activity`` section and who was reached.

Definitions are the contract's (section 2, *Activity*): referrals are rows of ``referrals``;
patients are distinct ``patient_id``; patients seen have at least one attended contact;
contacts booked are rows of ``sp_contacts``; DNA/cancelled % is (dna + cancelled) / booked;
the mean attended contacts per patient seen is attended / patients seen; the median wait is over
referrals with a first contact; referrals by month use the ``YYYY-MM`` of ``referral_date``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..config import Settings
from ..disclosure import SDC
from ..extract import Extract

SECTION = "activity"
REQUIRED = ("referrals", "sp_contacts")

# Age bands as the Merton dashboard shows them (seed 000, "Age (on referral date)").
AGE_BANDS = [(0, 14, "0-14"), (15, 18, "15-18"), (19, 24, "19-24"), (25, 34, "25-34"), (35, 44, "35-44"),
             (45, 54, "45-54"), (55, 64, "55-64"), (65, 74, "65-74"), (75, 84, "75-84"), (85, 200, "85+")]
PARTICIPANT_COLUMNS = ("age_band", "gender", "ethnicity", "imd_decile", "referral_source", "referral_reason")


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
    contacts_by_type: dict[str, int] = field(default_factory=dict)


def age_band(age: pd.Series) -> pd.Series:
    bins = [lo for lo, _, _ in AGE_BANDS] + [AGE_BANDS[-1][1] + 1]
    labels = [name for _, _, name in AGE_BANDS]
    return pd.cut(age.astype("float64"), bins=bins, labels=labels, right=False).astype("object")


def month_range(start: pd.Timestamp, end: pd.Timestamp) -> list[str]:
    return [p.strftime("%Y-%m") for p in pd.period_range(start, end, freq="M")]


def compute(extract: Extract, settings: Settings | None = None) -> ActivityRaw:
    ref = extract["referrals"]
    con = extract["sp_contacts"]
    status = con["status"].value_counts()
    attended = con.loc[con["status"] == "attended", ["referral_id"]]
    seen = attended.merge(ref[["referral_id", "patient_id"]], on="referral_id", how="left")["patient_id"].nunique()
    has_contact = ref["first_contact_date"].notna()
    waits = (ref.loc[has_contact, "first_contact_date"] - ref.loc[has_contact, "referral_date"]).dt.days

    months = ref["referral_date"].dt.strftime("%Y-%m").value_counts()
    by_month = {m: int(months.get(m, 0)) for m in month_range(extract.config.start, extract.config.end)}

    parts: dict[str, dict[str, int]] = {}
    frame = ref.assign(age_band=age_band(ref["age"]))
    for col in PARTICIPANT_COLUMNS:
        vc = frame[col].astype("object").where(frame[col].notna(), "not_recorded")
        vc = vc.map(lambda v: str(int(v)) if isinstance(v, (int, float, np.integer)) and not isinstance(v, bool) else str(v))
        parts[col] = {str(k): int(v) for k, v in vc.value_counts().sort_index().items()}
    by_type = {}
    if "contact_type" in con:
        ct = con.loc[con["status"] == "attended", "contact_type"].fillna("not_recorded")
        by_type = {str(k): int(v) for k, v in ct.value_counts().sort_index().items()}

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
        participants=parts,
        contacts_by_type=by_type,
    )


def publish(raw: ActivityRaw, sdc: SDC) -> dict:
    """The contract's ``activity`` section after disclosure control, plus ``participants``."""
    dna_canc = raw.contacts_dna + raw.contacts_cancelled
    mean_att = raw.contacts_attended / raw.patients_seen if raw.patients_seen else None
    median_wait = float(raw.waits_days.median()) if len(raw.waits_days) else None
    out = {
        "referrals": sdc.count(raw.referrals, "referrals"),
        "patients": sdc.count(raw.patients, "patients"),
        "patients_seen": sdc.count(raw.patients_seen, "patients_seen"),
        "contacts_booked": sdc.count(raw.contacts_booked, "contacts_booked"),
        "contacts_attended": sdc.count(raw.contacts_attended, "contacts_attended"),
        "dna_or_cancelled_pct": sdc.pct(dna_canc, raw.contacts_booked, "dna_or_cancelled_pct"),
        "mean_attended_contacts_per_patient_seen": sdc.stat(
            mean_att, raw.patients_seen, "mean_attended_contacts_per_patient_seen", decimals=2),
        "median_days_referral_to_first_contact": sdc.stat(
            median_wait, len(raw.waits_days), "median_days_referral_to_first_contact", decimals=1),
        "referrals_by_month": sdc.counts(raw.referrals_by_month, "referrals_by_month"),
        # extra keys (the contract allows additions)
        "participants": {col: sdc.counts(cells, f"participants.{col}") for col, cells in raw.participants.items()},
        "attended_contacts_by_type": sdc.counts(raw.contacts_by_type, "attended_contacts_by_type"),
    }
    return out
