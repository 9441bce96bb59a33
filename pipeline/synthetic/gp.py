"""GP appointments of referred patients (the planted pre-referral peak and rate ratio) and of a
comparison pool of registered patients never referred (1.5 per referred patient, a constant rate
from the same model given their covariates)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .draws import choice, ids, to_date, uniform_int
from .people import covariates
from .planted import GP, GP_BASE_RATE, GP_REFERRED_LEVEL, GP_RISK_BAND_RATE
from .world import World


def _base_rate(rng: np.random.Generator, cov: pd.DataFrame) -> np.ndarray:
    mult = cov["risk_band"].map(GP_RISK_BAND_RATE).fillna(1.0)
    return GP_BASE_RATE * np.exp(0.01 * (cov["age"].to_numpy() - 50)) * mult.to_numpy(float) * rng.gamma(2.0, 0.5, len(cov))


def gp_appointments_and_comparison(w: World) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The gp_appointments and comparison_patients tables."""
    rng = w.rng
    pats = w.pats
    n_pat = len(pats)
    first = w.ref.groupby("patient_idx").agg(r=("referral_day", "min"), src=("referral_source", "first"))
    first = first.reindex(range(n_pat))
    alive = first["r"].notna().to_numpy()
    r = np.nan_to_num(first["r"].to_numpy(), nan=w.start).astype(np.int64)
    end = np.where(w.death >= 0, np.minimum(w.death, w.end), w.end)
    lam = _base_rate(rng, pats) * GP_REFERRED_LEVEL
    g1, g2 = GP["pre_referral_multiplier"]["-1"], GP["pre_referral_multiplier"]["-2"]
    segs = [  # (start offset, end offset, multiplier) relative to the referral day, inclusive
        (-100000, -183, 1.0), (-182, -92, g2), (-91, -1, g1), (1, 100000, GP["rate_ratio"])]
    pid_l, lo_l, hi_l, mu_l = [], [], [], []
    for a_off, b_off, mlt in segs:
        lo = np.maximum(r + a_off, w.start)
        hi = np.minimum(r + b_off, end)
        ok = alive & (hi >= lo)
        pid_l.append(np.flatnonzero(ok))
        lo_l.append(lo[ok])
        hi_l.append(hi[ok])
        mu_l.append(lam[ok] * mlt * (hi[ok] - lo[ok] + 1) / 365.25)
    pid, lo, hi, mu = (np.concatenate(x) for x in (pid_l, lo_l, hi_l, mu_l))
    k = rng.poisson(mu)
    rows_p = np.repeat(pid, k)
    days = uniform_int(rng, np.repeat(lo, k), np.repeat(hi, k))
    # a referral from primary care is often made at an appointment that day (in neither window)
    same = alive & first["src"].isin(["gp", "nurse", "other_primary_care"]).to_numpy() & (rng.random(n_pat) < 0.5)
    same &= r <= end
    rows_p = np.r_[rows_p, np.flatnonzero(same)]
    days = np.r_[days, r[same]]
    patient_ids = np.r_[pats["patient_id"].to_numpy()[rows_p]]
    # comparison pool: registered patients never referred, 1.5 per referred patient
    n_c = int(round(1.5 * n_pat))
    cov = covariates(rng, w.area, n_c)
    cov["age"] = np.clip(cov["age"].to_numpy() + rng.integers(-5, 6, size=n_c), 0, 120)
    cov["patient_id"] = ids(rng, "cp-", n_c)
    cov["practice_code"] = w.practices["practice_code"].to_numpy()[
        rng.choice(len(w.practices), size=n_c, p=w.practices["weight"])]
    lam_c = _base_rate(rng, cov)
    span = w.end - w.start + 1
    kc = rng.poisson(lam_c * span / 365.25)
    cp = np.repeat(np.arange(n_c), kc)
    cdays = uniform_int(rng, np.full(len(cp), w.start), np.full(len(cp), w.end))
    patient_ids = np.r_[patient_ids, cov["patient_id"].to_numpy()[cp]]
    days = np.r_[days, cdays]
    gp = pd.DataFrame({"patient_id": patient_ids, "day": days})
    gp["clinician_role"] = choice(rng, {"gp": 0.6, "nurse": 0.3, "other": 0.1}, len(gp))
    gp = gp.sort_values(["patient_id", "day"], kind="stable")
    appointments = pd.DataFrame({
        "patient_id": gp["patient_id"].to_numpy(), "appointment_date": to_date(gp["day"].to_numpy()),
        "clinician_role": gp["clinician_role"].to_numpy()})
    comparison = cov[["patient_id", "practice_code", "age", "gender", "imd_decile",
                      "risk_band", "diabetes", "severe_mental_illness"]].copy()
    return appointments, comparison
