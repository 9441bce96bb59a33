"""Link-worker contacts and the referrals' closures (with a hospital service's outcome, bed days
saved and one-off budget). About 17% of booked contacts are missed or cancelled and about 3.2
attended contacts per patient seen (the seeds); nothing happens after the extract or a death."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .draws import choice, to_date, uniform_int
from .world import World

CONTACT_TYPES = {"face_to_face": 0.45, "telephone": 0.35, "video": 0.06, "home_visit": 0.08, "group": 0.06}
CONTACT_TYPES_HOSPITAL = {"face_to_face": 0.6, "telephone": 0.35, "home_visit": 0.05}
#: minutes (mean, SD) by contact type
DURATION = {"face_to_face": (50, 15), "telephone": (25, 10), "video": (35, 10), "home_visit": (70, 20),
            "group": (90, 20)}


def draw_contacts(w: World) -> None:
    """``w.contacts`` (one row per booking: ref_pos, day, status, type, minutes), and each
    referral's first attended and last contact day in ``w.ref``."""
    rng, ref = w.rng, w.ref
    m = len(ref)
    rday = ref["referral_day"].to_numpy()
    seen = rng.random(m) < (0.95 if w.hospital else 0.86)
    if w.hospital:
        wait = rng.integers(0, 3, size=m)
        n_att = 1 + rng.poisson(1.0, size=m)
    else:
        wait = np.round(rng.gamma(1.5, 9.0, size=m)).astype(np.int64)
        n_att = 1 + rng.negative_binomial(2, 2 / (2 + 2.25), size=m)
    n_att = np.where(seen, n_att, 0)
    ridx = np.repeat(np.arange(m), n_att)
    pos = np.arange(len(ridx)) - np.repeat(np.cumsum(n_att) - n_att, n_att)
    gaps = np.where(pos == 0, wait[ridx], 7 + np.round(rng.exponential(14, size=len(ridx))).astype(np.int64))
    csum = np.cumsum(gaps)
    st = np.repeat(np.cumsum(n_att) - n_att, n_att)  # each row's group start
    att_day = rday[ridx] + (csum - csum[st] + gaps[st] if len(ridx) else np.zeros(0, dtype=np.int64))
    last_att = np.full(m, -1, dtype=np.int64)
    np.maximum.at(last_att, ridx, att_day)
    # did-not-attend and cancelled bookings (~17% of all bookings)
    n_non = np.where(seen, rng.poisson(0.165 * n_att), rng.poisson(0.8, size=m))
    nidx = np.repeat(np.arange(m), n_non)
    hi = np.where(seen, last_att + 14, rday + 40)[nidx]
    lo = np.where(seen, rday, rday + 3)[nidx]
    non_day = uniform_int(rng, lo, np.maximum(hi, lo))
    status = np.r_[np.full(len(ridx), "attended", dtype=object),
                   choice(rng, {"dna": 0.55, "cancelled": 0.45}, len(nidx))]
    c = pd.DataFrame({"ref_pos": np.r_[ridx, nidx], "day": np.r_[att_day, non_day], "status": status})
    c["contact_type"] = choice(rng, CONTACT_TYPES_HOSPITAL if w.hospital else CONTACT_TYPES, len(c))
    mu = c["contact_type"].map({k: v[0] for k, v in DURATION.items()}).to_numpy(float)
    sd = c["contact_type"].map({k: v[1] for k, v in DURATION.items()}).to_numpy(float)
    dur = np.clip(np.round(rng.normal(mu, sd)), 5, 240)
    c["duration_minutes"] = pd.array(np.where(c["status"].eq("attended"), dur, np.nan), dtype="Float64").astype("Int64")
    c.loc[rng.random(len(c)) < 0.05, "contact_type"] = None
    c.loc[rng.random(len(c)) < 0.04, "duration_minutes"] = pd.NA
    # nothing after the extract or a death
    dth = w.death[ref["patient_idx"].to_numpy()][c["ref_pos"].to_numpy()]
    ok = (c["day"].to_numpy() <= w.end) & ((dth < 0) | (c["day"].to_numpy() <= dth))
    c = c[ok].sort_values(["ref_pos", "day", "status"], kind="stable").reset_index(drop=True)
    w.contacts = c
    att = c[c["status"].eq("attended")]
    fc = att.groupby("ref_pos")["day"].min().reindex(range(m)).to_numpy()
    last = c.groupby("ref_pos")["day"].max().reindex(range(m)).to_numpy()
    ref["first_contact_day"] = fc
    ref["last_contact_day"] = last


def draw_closures(w: World) -> None:
    """Each referral's closure day and reason in ``w.ref`` (open at the extract's end: none); a
    hospital service's referrals also get service_outcome, bed_days_saved and health_budget_gbp."""
    rng, ref = w.rng, w.ref
    m = len(ref)
    fc = ref["first_contact_day"].to_numpy()
    seen = ~np.isnan(fc)
    rday = ref["referral_day"].to_numpy()
    last = np.where(np.isnan(ref["last_contact_day"].to_numpy()), rday, ref["last_contact_day"].to_numpy())
    close = np.where(seen, last + rng.integers(3, 31, size=m), rday + rng.integers(20, 61, size=m)).astype(np.int64)
    reason = np.where(seen, choice(rng, {"completed": 0.78, "disengaged": 0.10, "moved_away": 0.03,
                                         "other": 0.05, "declined": 0.02, "not_suitable": 0.02}, m),
                      choice(rng, {"declined": 0.4, "not_suitable": 0.2, "disengaged": 0.3, "other": 0.1}, m))
    dth = w.death[ref["patient_idx"].to_numpy()]
    died = (dth >= 0) & (dth <= close)
    close = np.where(died, dth, close)
    reason = np.where(died, "died", reason)
    open_ = close > w.end
    ref["closure_day"] = np.where(open_, np.nan, close)
    ref["closure_reason"] = np.where(open_, None, reason)
    if w.hospital:
        # referrals that did not come from a ward stay: "other"
        out = ref["_outcome"].astype(object).where(ref["_outcome"].notna(), "other")
        ref["service_outcome"] = out
        bd = 1 + np.round(rng.gamma(0.497, 8.65, size=m))
        ref["bed_days_saved"] = np.where(out.eq("other"), 0.0, np.minimum(bd, 42))
        budget = np.clip(np.round(rng.lognormal(3.97, 1.333, size=m), 2), 14.99, 1662.0)
        ref["health_budget_gbp"] = np.where(rng.random(m) < 0.45, budget, 0.0)
    w.ref = ref


def contacts_table(w: World) -> pd.DataFrame:
    """The sp_contacts table (no draws)."""
    ref, c = w.ref, w.contacts
    return pd.DataFrame({
        "referral_id": ref["referral_id"].to_numpy()[c["ref_pos"].to_numpy()],
        "contact_date": to_date(c["day"].to_numpy()), "status": c["status"].to_numpy(),
        "contact_type": c["contact_type"].to_numpy(), "duration_minutes": c["duration_minutes"].to_numpy()})
