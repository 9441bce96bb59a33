"""The area's practices, its patients (covariates) and their referrals, shaped like the seeds:
Merton's age bands, 66% female and top referral reasons in the published order; Norfolk &
Waveney's hospital service (mean age 72, SD 17; referred from secondary care)."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from ..areas import Area
from .draws import choice, day_number, ids, to_date, uniform_int
from .world import World

# Merton's clients by age band (000_d258227d46e8fca6.txt)
AGE_BANDS = ((0, 14, 94), (15, 18, 76), (19, 24, 487), (25, 34, 1213), (35, 44, 1391), (45, 54, 1544),
             (55, 64, 1424), (65, 74, 1012), (75, 84, 1066), (85, 99, 746))
GENDER = {"female": 0.66, "male": 0.338, "other": 0.001, "not_stated": 0.001}
GENDER_HOSPITAL = {"female": 0.5, "male": 0.49, "not_stated": 0.01}
ETHNICITY_LONDON = {"white": 0.54, "asian": 0.19, "black": 0.14, "mixed": 0.05, "other": 0.04, "not_stated": 0.04}
ETHNICITY_NORFOLK = {"white": 0.92, "asian": 0.02, "black": 0.01, "mixed": 0.01, "other": 0.01, "not_stated": 0.03}
# the seed's top reasons in order: mental health, isolation, financial, housing, carers
REASONS = {"mental_health": 0.29, "social_isolation": 0.21, "financial": 0.14, "housing": 0.10,
           "carer_support": 0.07, "long_term_condition": 0.06, "physical_activity": 0.05,
           "employment": 0.03, "bereavement": 0.03, "other": 0.02}
SOURCES = {"gp": 0.55, "nurse": 0.08, "other_primary_care": 0.12, "secondary_care": 0.05,
           "social_care": 0.06, "vcse": 0.05, "self": 0.07, "other": 0.02}
SOURCES_HOSPITAL = {"secondary_care": 0.93, "other": 0.07}
RISK_BANDS = ("low", "medium", "high", "very_high")
#: practice codes: a letter, then 84000 + 120 x the area's index + the practice's number (to 99999)
_FIRST_CODE, _CODES_PER_AREA, _LAST_CODE = 84000, 120, 99999
_MAX_PRACTICES_PER_PCN = 7


def practice_codes_fit(area: Area, index: int, scale: int) -> bool:
    """Whether :func:`practices` can number the area's practices at ``scale`` times its size."""
    return _FIRST_CODE + index * _CODES_PER_AREA + _MAX_PRACTICES_PER_PCN * len(area.pcns) * scale <= _LAST_CODE


def practices(rng: np.random.Generator, area: Area, index: int, scale: int = 1) -> pd.DataFrame:
    """The area's GP practices, 3 to 7 per PCN; ``scale`` times as many when the extract is made
    ``scale`` times the area's size (a benchmark's 1M referrals come from many practices, as they
    would: an area of 31 practices with a million referrals is not a place that exists)."""
    rows = []
    letter = "D" if area.kind == "hospital" else "F"
    k = 0
    for pcn in area.pcns:
        for _ in range(int(rng.integers(3, _MAX_PRACTICES_PER_PCN + 1)) * scale):
            rows.append((f"{letter}{_FIRST_CODE + index * _CODES_PER_AREA + k:05d}"[:6], pcn))
            k += 1
    df = pd.DataFrame(rows, columns=["practice_code", "pcn"])
    w = rng.gamma(4.0, 1.0, len(df))
    df["weight"] = w / w.sum()
    return df


def _age_sample(rng: np.random.Generator, area: Area, n: int) -> np.ndarray:
    if area.kind == "hospital":
        return np.clip(np.round(rng.normal(72, 17, n)), 2, 99).astype(np.int64)
    w = np.array([b[2] for b in AGE_BANDS], dtype=float)
    band = rng.choice(len(AGE_BANDS), size=n, p=w / w.sum())
    lo = np.array([b[0] for b in AGE_BANDS])[band]
    hi = np.array([b[1] for b in AGE_BANDS])[band]
    return uniform_int(rng, lo, hi)


def _imd(rng: np.random.Generator, area: Area, n: int) -> np.ndarray:
    d = np.arange(1, 11)
    if area.kind == "hospital":  # the seed: most commonly deciles 4 and 5, more deprived than not
        w = np.exp(-((d - 4.5) ** 2) / 8.0)
    else:
        skew = (zlib.crc32(area.slug.encode()) % 1000) / 1000 * 1.6 - 0.5  # -0.5 .. 1.1
        w = np.exp(-skew * (d - 5.5) / 3.0)
    return rng.choice(d, size=n, p=w / w.sum())


def covariates(rng: np.random.Generator, area: Area, n: int) -> pd.DataFrame:
    """n people's age, gender, ethnicity, IMD decile, risk band and registers (some missing)."""
    age = _age_sample(rng, area, n)
    gender = choice(rng, GENDER if area.kind != "hospital" else GENDER_HOSPITAL, n)
    eth = choice(rng, ETHNICITY_NORFOLK if area.kind == "hospital" else ETHNICITY_LONDON, n)
    imd = _imd(rng, area, n).astype(float)
    imd[rng.random(n) < 0.03] = np.nan
    score = age / 100 + (10 - np.nan_to_num(imd, nan=5)) / 40 + rng.normal(0, 0.3, n)
    cuts = np.quantile(score, [0.33, 0.68, 0.90])
    band = np.array(RISK_BANDS, dtype=object)[np.searchsorted(cuts, score)]
    band[rng.random(n) < 0.05] = None
    diabetes = rng.random(n) < np.clip(0.02 + 0.004 * (age - 25), 0.02, 0.32)
    smi = rng.random(n) < np.where((age >= 18) & (age <= 75), 0.08, 0.02)
    out = pd.DataFrame({"age": age, "gender": gender, "ethnicity": eth, "imd_decile": imd,
                        "risk_band": band, "diabetes": diabetes, "severe_mental_illness": smi})
    out["imd_decile"] = out["imd_decile"].astype("Int64")
    for col, p in (("diabetes", 0.02), ("severe_mental_illness", 0.02)):
        out[col] = out[col].astype("boolean")
        out.loc[rng.random(n) < p, col] = pd.NA
    return out


def _referral_dates(w: World, n: int) -> np.ndarray:
    rng = w.rng
    months = pd.period_range(w.area.extract_start, w.area.extract_end, freq="M")
    t = np.linspace(0, 1, len(months))
    season = np.where(months.month.isin([8, 12]), 0.8, 1.0)
    weight = (1 + 0.35 * t) * season  # services grow (Merton: 3,224 then 3,745 a year)
    m = rng.choice(len(months), size=n, p=weight / weight.sum())
    first = np.array([day_number(p.start_time.date()) for p in months])
    length = np.array([p.days_in_month for p in months])
    d = first[m] + np.floor(rng.random(n) * length[m]).astype(np.int64)
    dow = (d + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday
    move = rng.random(n) < 0.9
    d = np.where(move & (dow == 5), d - 1, d)
    d = np.where(move & (dow == 6), d + 1, d)
    return np.clip(d, w.start, w.end)


def draw_referrals(w: World) -> None:
    """The patients (``w.pats``) and their referrals (``w.ref``): 8% are repeat referrals of an
    earlier patient (none in a hospital service)."""
    rng, a = w.rng, w.area
    n = w.n_referrals
    repeat_share = 0.0 if w.hospital else 0.08
    n_pat = max(1, int(round(n / (1 + repeat_share))))
    pats = covariates(rng, a, n_pat)
    pats["patient_id"] = ids(rng, "pt-", n_pat)
    pr = w.practices.iloc[rng.choice(len(w.practices), size=n_pat, p=w.practices["weight"])]
    pats["practice_code"] = pr["practice_code"].to_numpy()
    pats["pcn"] = pr["pcn"].to_numpy()
    pats["carer"] = (rng.random(n_pat) < 0.12)
    pats["carer"] = pats["carer"].astype("boolean")
    pats.loc[rng.random(n_pat) < 0.10, "carer"] = pd.NA
    first = _referral_dates(w, n_pat)
    # repeat referrals: a later referral of an earlier patient
    n_rep = max(n - n_pat, 0)
    who = rng.choice(n_pat, size=2 * n_rep, replace=True)
    later = first[who] + rng.integers(60, 700, size=len(who))
    keep = (later <= w.end) & (np.cumsum(later <= w.end) <= n_rep)
    pid = np.r_[np.arange(n_pat), who[keep]]
    rdate = np.r_[first, later[keep]]
    order = np.lexsort((pid, rdate))
    pid, rdate = pid[order], rdate[order]
    m = len(pid)
    ref = pats.iloc[pid].reset_index(drop=True)
    ref["patient_idx"] = pid
    ref["referral_id"] = ids(rng, "rf-", m)
    ref["referral_day"] = rdate
    ref["age"] = np.minimum(ref["age"].to_numpy() + ((rdate - first[pid]) // 365), 120)
    ref["referral_source"] = choice(rng, SOURCES_HOSPITAL if w.hospital else SOURCES, m)
    ref["referral_reason"] = choice(rng, REASONS, m)
    w.pats, w.ref = pats, ref


def referrals_table(w: World) -> pd.DataFrame:
    """The referrals table, once contacts and closures are drawn (no draws of its own)."""
    ref = w.ref
    out = pd.DataFrame({
        "referral_id": ref["referral_id"], "patient_id": ref["patient_id"],
        "practice_code": ref["practice_code"], "pcn": ref["pcn"],
        "referral_date": to_date(ref["referral_day"].to_numpy()),
        "referral_source": ref["referral_source"], "referral_reason": ref["referral_reason"],
        "first_contact_date": to_date(np.nan_to_num(ref["first_contact_day"].to_numpy(), nan=0)).where(
            ref["first_contact_day"].notna()),
        "closure_date": to_date(np.nan_to_num(ref["closure_day"].to_numpy(), nan=0)).where(ref["closure_day"].notna()),
        "closure_reason": ref["closure_reason"], "age": ref["age"], "gender": ref["gender"],
        "ethnicity": ref["ethnicity"], "imd_decile": ref["imd_decile"], "risk_band": ref["risk_band"],
        "diabetes": ref["diabetes"], "severe_mental_illness": ref["severe_mental_illness"], "carer": ref["carer"],
    })
    if w.hospital:
        out["service_outcome"] = ref["service_outcome"]
        out["bed_days_saved"] = ref["bed_days_saved"]
        out["health_budget_gbp"] = ref["health_budget_gbp"]
    return out
