"""Deterministic synthetic extracts for every built-in area (:mod:`pipeline.areas`).

``generate(slug)`` writes a contract-conforming extract (every contract table the area has) into
``data_raw/<slug>/``; ``ensure(slug)`` does so only when the folder is absent. The same slug always
gives byte-identical files: the random generator is seeded from the slug (CRC-32) and the
generator version, and nothing else (no clock, no hash randomisation) enters.

Shapes follow the seeds' published figures (see ``docs/synthetic-data.md``): Merton's age bands,
66% female, the top referral reasons in the published order, about 17% of booked contacts DNA or
cancelled, about 3.2 attended contacts per patient seen; Norfolk & Waveney's hospital service
(mean age 72, SD 17; 26% admission avoided / 74% discharge expedited; 5.3 bed days saved on
average, SD 6.1; 45% receiving a one-off budget averaging £129, SD £286; about 4% readmitted
within 2 weeks, 7% within 3 months and 3% dying within 3 months).

Known effects are planted so tests can check that the analyses recover them; :data:`PLANTED`
holds them (the same generating model in every area):

- ``ons4_change``: the expected observed change (follow-up minus baseline, after rounding and
  clipping to 0..10) per ONS4 item; ``ons4_change_latent`` the change before clipping.
- ``gp``: referred patients' GP appointment rate is their own baseline rate, times
  ``pre_referral_multiplier`` in the two quarters before referral (quarter -1 = days -91..-1,
  quarter -2 = days -182..-92: the peak that makes uncontrolled before/after comparisons
  overstate), times ``rate_ratio`` from the day after referral. Comparison patients keep a
  constant rate drawn from the same model given their covariates (but referred patients' rates
  are 15% higher at baseline: matching on prior GP use matters).
- ``targets``: for every clinical target, patient and window independently, the probability that
  it is measured in the window and, if measured, met.
- ``readmission``: exact cumulative incidences of emergency readmission (death competing) and of
  death, from the day-level generating model, for the contract's definitions ("within N days" is
  t <= N - 1).
- ``workforce``: the PCN-quarter slope of A&E attendances and non-elective cost per 100,000
  registered on link-worker FTE per 100,000.
"""

from __future__ import annotations

import os
import shutil
import zlib
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.stats import norm

from . import paths
from .areas import AREAS, Area

GENERATOR_VERSION = 1

# --------------------------------------------------------------------------- planted effects

ONS4_ITEMS = ("life_satisfaction", "worthwhile", "happiness", "anxiety")
_ONS4_BASELINE = {"life_satisfaction": (4.4, 2.2), "worthwhile": (4.9, 2.2), "happiness": (4.5, 2.4),
                  "anxiety": (6.1, 2.5)}
_ONS4_DELTA = {"life_satisfaction": 1.5, "worthwhile": 1.2, "happiness": 1.3, "anxiety": -1.4}
_ONS4_NOISE_SD = 1.8

# piecewise-linear CDFs over days since index discharge: (day, cumulative probability); the
# mass between day d and d + 1 falls on day d, so the value at 14 is P(t <= 13) = "within 14 days"
_READMIT_CDF = ((0, 0.0), (1, 0.006), (14, 0.041), (30, 0.053), (90, 0.072), (365, 0.13), (1100, 0.22))
_DEATH_CDF = ((0, 0.0), (1, 0.0005), (90, 0.031), (365, 0.09), (1100, 0.2))

_TARGETS = {"p_measured": {"prior": 0.45, "after": 0.70}, "p_met_if_measured": {"prior": 0.50, "after": 0.60}}
_GP = {"rate_ratio": 0.90, "pre_referral_multiplier": {"-1": 1.5, "-2": 1.2}}
_WORKFORCE = {"ae_per_100k_per_fte_per_100k": -60.0, "cost_gbp_per_100k_per_fte_per_100k": -40000.0}


def _ons4_expected_change(mu: float, sd: float, delta: float) -> float:
    """E[follow-up - baseline] when baseline = clip(round(N(mu, sd))) and follow-up =
    clip(round(baseline + delta + N(0, noise))), both clipped to 0..10 (computed exactly)."""
    edges = np.arange(-0.5, 11.0, 1.0)
    pb = np.diff(norm.cdf(np.r_[-np.inf, edges[1:-1], np.inf], mu, sd))  # P(baseline = 0..10)
    e = 0.0
    for b in range(11):
        pf = np.diff(norm.cdf(np.r_[-np.inf, edges[1:-1], np.inf], b + delta, _ONS4_NOISE_SD))
        e += pb[b] * (float(np.dot(pf, np.arange(11))) - b)
    return round(e, 4)


def _day_pmf(knots: tuple[tuple[int, float], ...], days: int) -> np.ndarray:
    d = np.arange(days + 1, dtype=float)
    cdf = np.interp(d, [k[0] for k in knots], [k[1] for k in knots])
    return np.diff(cdf)  # pmf[d] = P(t = d), d = 0..days-1


def _planted_readmission() -> dict[str, float]:
    f, g = _day_pmf(_READMIT_CDF, 400), _day_pmf(_DEATH_CDF, 400)
    F = np.r_[0.0, np.cumsum(f)]          # F[d] = P(R < d)
    G = np.r_[0.0, np.cumsum(g)]          # G[d] = P(D < d)
    cif_r = np.cumsum(f * (1 - G[:-1]))  # readmission on day d counts if death is not before d
    cif_d = np.cumsum(g * (1 - F[1:]))   # death on day d counts if no readmission by day d
    return {f"readmission_{n}d": round(float(cif_r[n - 1]), 5) for n in (14, 30, 90)} | {
        "death_90d": round(float(cif_d[89]), 5)}


PLANTED: dict = {
    "ons4_change": {i: float(_ons4_expected_change(*_ONS4_BASELINE[i], _ONS4_DELTA[i])) for i in ONS4_ITEMS},
    "ons4_change_latent": dict(_ONS4_DELTA),
    "gp": _GP,
    "targets": _TARGETS,
    "readmission": _planted_readmission(),
    "workforce": _WORKFORCE,
}

# --------------------------------------------------------------------------- shapes from the seeds

# Merton's clients by age band (000_d258227d46e8fca6.txt)
_AGE_BANDS = ((0, 14, 94), (15, 18, 76), (19, 24, 487), (25, 34, 1213), (35, 44, 1391), (45, 54, 1544),
              (55, 64, 1424), (65, 74, 1012), (75, 84, 1066), (85, 99, 746))
_GENDER = {"female": 0.66, "male": 0.338, "other": 0.001, "not_stated": 0.001}
_ETHNICITY_LONDON = {"white": 0.54, "asian": 0.19, "black": 0.14, "mixed": 0.05, "other": 0.04, "not_stated": 0.04}
_ETHNICITY_NORFOLK = {"white": 0.92, "asian": 0.02, "black": 0.01, "mixed": 0.01, "other": 0.01, "not_stated": 0.03}
# the seed's top reasons in order: mental health, isolation, financial, housing, carers
_REASONS = {"mental_health": 0.29, "social_isolation": 0.21, "financial": 0.14, "housing": 0.10,
            "carer_support": 0.07, "long_term_condition": 0.06, "physical_activity": 0.05,
            "employment": 0.03, "bereavement": 0.03, "other": 0.02}
_SOURCES = {"gp": 0.55, "nurse": 0.08, "other_primary_care": 0.12, "secondary_care": 0.05,
            "social_care": 0.06, "vcse": 0.05, "self": 0.07, "other": 0.02}
_CONTACT_TYPES = {"face_to_face": 0.45, "telephone": 0.35, "video": 0.06, "home_visit": 0.08, "group": 0.06}
_DURATION = {"face_to_face": (50, 15), "telephone": (25, 10), "video": (35, 10), "home_visit": (70, 20),
             "group": (90, 20)}
_RISK_BANDS = ("low", "medium", "high", "very_high")

_MERTON_SERVICES = (
    ("Wimbledon Guild", "befriending", 696), ("One You Merton", "physical_activity", 359),
    ("Age UK Merton", "befriending", 313), ("Citizens Advice Lambeth and Merton", "financial_advice", 257),
    ("Merton Uplift", "mental_health", 239), ("Merton Uplift - Wellbeing Workshops", "mental_health", 222),
    ("South West London Law Centre", "legal_advice", 217), ("Sunshine Recovery Cafe", "mental_health", 214),
    ("Merton Uplift - IAPT", "mental_health", 186), ("Carers Support Merton", "carer_support", 185),
    ("Merton Benefits Service", "financial_advice", 179), ("Merton Council Needs Assessment", "other", 148),
    ("Dementia Hub Merton", "carer_support", 122), ("Walk and Talk movement - Wimbledon", "physical_activity", 117),
    ("Sustainable Merton", "social_activity", 101), ("Merton Housing", "housing", 75),
    ("Wimbledon Food Bank", "food", 49), ("Merton Connected - Volunteering", "employment", 35),
    ("Cruse Bereavement", "other", 28), ("Turn2us", "financial_advice", 45),
)
_GENERIC_SERVICES = (
    ("Age UK {n}", "befriending", 300), ("Citizens Advice {n}", "financial_advice", 260),
    ("{n} Talking Therapies", "mental_health", 240), ("{n} Carers Centre", "carer_support", 180),
    ("{n} Walking for Health", "physical_activity", 150), ("{n} Foodbank", "food", 120),
    ("{n} Community Lunch Club", "social_activity", 110), ("{n} Housing Options", "housing", 90),
    ("{n} Law Centre", "legal_advice", 80), ("{n} Employment Hub", "employment", 60),
    ("{n} Men's Shed", "social_activity", 50), ("{n} Befriending Scheme", "befriending", 70),
    ("Turn2us", "financial_advice", 40), ("Cruse Bereavement Support", "other", 35),
    ("{n} Recovery College", "mental_health", 45), ("{n} Leisure Centres", "physical_activity", 55),
)
_NEEDS = ("evening befriending", "affordable counselling", "ESOL classes", "debt advice appointments",
          "men's groups", "transport to groups", "digital skills support", "carers' respite",
          "low-cost exercise classes", "housing repairs help")


# --------------------------------------------------------------------------- helpers

def seed_for(slug: str) -> int:
    return zlib.crc32(f"{slug}:v{GENERATOR_VERSION}".encode())


def _choice(rng: np.random.Generator, probs: dict[str, float], n: int) -> np.ndarray:
    keys = np.array(list(probs), dtype=object)
    p = np.array(list(probs.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


_ALPHABET = np.frombuffer(b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789", dtype=np.uint8)


def _ids(rng: np.random.Generator, prefix: str, n: int) -> np.ndarray:
    """n distinct pseudonyms like 'pt-7KQ2M9XA' (never digits only, so never NHS-number-like)."""
    nums = rng.choice(32 ** 8, size=n, replace=False)
    digits = np.empty((n, 8), dtype=np.uint8)
    for k in range(8):
        digits[:, 7 - k] = _ALPHABET[nums % 32]
        nums = nums // 32
    body = digits.view("S8").ravel().astype(str)
    return np.char.add(prefix, body).astype(object)


def _dn(d: date) -> int:
    return int(np.datetime64(d, "D").astype(np.int64))


def _to_date(days: np.ndarray) -> pd.Series:
    out = pd.Series(np.asarray(days, dtype="int64").astype("datetime64[D]").astype("datetime64[ns]"))
    return out


def _uniform_int(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Uniform integers in [lo, hi] elementwise (hi >= lo)."""
    lo, hi = np.asarray(lo, dtype=np.int64), np.asarray(hi, dtype=np.int64)
    return lo + np.floor(rng.random(lo.shape) * (hi - lo + 1)).astype(np.int64)


def _inverse_cdf(rng: np.random.Generator, knots, n: int) -> np.ndarray:
    """Integer days drawn from a piecewise-linear CDF; -1 where the event never happens."""
    u = rng.random(n)
    xs = np.array([k[0] for k in knots], dtype=float)
    ps = np.array([k[1] for k in knots], dtype=float)
    t = np.interp(u, ps, xs)
    return np.where(u < ps[-1], np.floor(t).astype(np.int64), -1)


def _bool_text(x: pd.Series) -> pd.Series:
    return x.map({True: "true", False: "false"}).astype(object)


def _age_sample(rng: np.random.Generator, area: Area, n: int) -> np.ndarray:
    if area.kind == "hospital":
        return np.clip(np.round(rng.normal(72, 17, n)), 2, 99).astype(np.int64)
    w = np.array([b[2] for b in _AGE_BANDS], dtype=float)
    band = rng.choice(len(_AGE_BANDS), size=n, p=w / w.sum())
    lo = np.array([b[0] for b in _AGE_BANDS])[band]
    hi = np.array([b[1] for b in _AGE_BANDS])[band]
    return _uniform_int(rng, lo, hi)


def _imd(rng: np.random.Generator, area: Area, n: int) -> np.ndarray:
    d = np.arange(1, 11)
    if area.kind == "hospital":  # the seed: most commonly deciles 4 and 5, more deprived than not
        w = np.exp(-((d - 4.5) ** 2) / 8.0)
    else:
        skew = (zlib.crc32(area.slug.encode()) % 1000) / 1000 * 1.6 - 0.5  # -0.5 .. 1.1
        w = np.exp(-skew * (d - 5.5) / 3.0)
    return rng.choice(d, size=n, p=w / w.sum())


def _covariates(rng: np.random.Generator, area: Area, n: int) -> pd.DataFrame:
    age = _age_sample(rng, area, n)
    gender = _choice(rng, _GENDER if area.kind != "hospital" else {"female": 0.5, "male": 0.49, "not_stated": 0.01}, n)
    eth = _choice(rng, _ETHNICITY_NORFOLK if area.kind == "hospital" else _ETHNICITY_LONDON, n)
    imd = _imd(rng, area, n).astype(float)
    imd[rng.random(n) < 0.03] = np.nan
    score = age / 100 + (10 - np.nan_to_num(imd, nan=5)) / 40 + rng.normal(0, 0.3, n)
    cuts = np.quantile(score, [0.33, 0.68, 0.90])
    band = np.array(_RISK_BANDS, dtype=object)[np.searchsorted(cuts, score)]
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


def _practices(rng: np.random.Generator, area: Area, index: int, scale: int = 1) -> pd.DataFrame:
    """The area's GP practices, 3 to 7 per PCN; ``scale`` times as many when the extract is made
    ``scale`` times the area's size (a benchmark's 1M referrals come from many practices, as they
    would: an area of 31 practices with a million referrals is not a place that exists)."""
    rows = []
    letter = "D" if area.kind == "hospital" else "F"
    k = 0
    for pcn in area.pcns:
        for _ in range(int(rng.integers(3, 8)) * scale):
            rows.append((f"{letter}{84000 + index * 120 + k:05d}"[:6], pcn))
            k += 1
    df = pd.DataFrame(rows, columns=["practice_code", "pcn"])
    w = rng.gamma(4.0, 1.0, len(df))
    df["weight"] = w / w.sum()
    return df


# --------------------------------------------------------------------------- the generator

class _Gen:
    def __init__(self, area: Area, n_referrals: int | None = None):
        self.area = area
        self.rng = np.random.default_rng(seed_for(area.slug))
        self.start, self.end = _dn(area.extract_start), _dn(area.extract_end)
        self.n_referrals = int(n_referrals or area.n_referrals)
        self.hospital = area.kind == "hospital"
        index = sorted(AREAS).index(area.slug) if area.slug in AREAS else 0
        # larger than the area (benchmarks): more practices, each about the size of the area's own
        scale = max(1, round(self.n_referrals / area.n_referrals))
        if 84000 + index * 120 + 7 * len(area.pcns) * scale > 99999:
            raise ValueError(f"n_referrals={self.n_referrals} is too large for {area.slug}'s practice codes")
        self.practices = _practices(self.rng, area, index, scale)
        self.tables: dict[str, pd.DataFrame] = {}

    # ----------------------------------------------------------------- referrals and patients
    def referral_dates(self, n: int) -> np.ndarray:
        rng = self.rng
        months = pd.period_range(self.area.extract_start, self.area.extract_end, freq="M")
        t = np.linspace(0, 1, len(months))
        season = np.where(months.month.isin([8, 12]), 0.8, 1.0)
        w = (1 + 0.35 * t) * season  # services grow (Merton: 3,224 then 3,745 a year)
        m = rng.choice(len(months), size=n, p=w / w.sum())
        first = np.array([_dn(p.start_time.date()) for p in months])
        length = np.array([p.days_in_month for p in months])
        d = first[m] + np.floor(rng.random(n) * length[m]).astype(np.int64)
        dow = (d + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday
        move = rng.random(n) < 0.9
        d = np.where(move & (dow == 5), d - 1, d)
        d = np.where(move & (dow == 6), d + 1, d)
        return np.clip(d, self.start, self.end)

    def referrals(self) -> None:
        rng, a = self.rng, self.area
        n = self.n_referrals
        repeat_share = 0.0 if self.hospital else 0.08
        n_pat = max(1, int(round(n / (1 + repeat_share))))
        pats = _covariates(rng, a, n_pat)
        pats["patient_id"] = _ids(rng, "pt-", n_pat)
        pr = self.practices.iloc[rng.choice(len(self.practices), size=n_pat, p=self.practices["weight"])]
        pats["practice_code"] = pr["practice_code"].to_numpy()
        pats["pcn"] = pr["pcn"].to_numpy()
        pats["carer"] = (rng.random(n_pat) < 0.12)
        pats["carer"] = pats["carer"].astype("boolean")
        pats.loc[rng.random(n_pat) < 0.10, "carer"] = pd.NA
        first = self.referral_dates(n_pat)
        # repeat referrals: a later referral of an earlier patient
        n_rep = max(n - n_pat, 0)
        who = rng.choice(n_pat, size=2 * n_rep, replace=True)
        later = first[who] + rng.integers(60, 700, size=len(who))
        keep = (later <= self.end) & (np.cumsum(later <= self.end) <= n_rep)
        pid = np.r_[np.arange(n_pat), who[keep]]
        rdate = np.r_[first, later[keep]]
        order = np.lexsort((pid, rdate))
        pid, rdate = pid[order], rdate[order]
        m = len(pid)
        ref = pats.iloc[pid].reset_index(drop=True)
        ref["patient_idx"] = pid
        ref["referral_id"] = _ids(rng, "rf-", m)
        ref["referral_day"] = rdate
        ref["age"] = np.minimum(ref["age"].to_numpy() + ((rdate - first[pid]) // 365), 120)
        if self.hospital:
            ref["referral_source"] = _choice(rng, {"secondary_care": 0.93, "other": 0.07}, m)
        else:
            ref["referral_source"] = _choice(rng, _SOURCES, m)
        ref["referral_reason"] = _choice(rng, _REASONS, m)
        self.pats, self.ref = pats, ref

    # ----------------------------------------------------------------- hospital spells and deaths
    def hospital_and_deaths(self) -> None:
        rng, ref = self.rng, self.ref
        n_pat = len(self.pats)
        death = np.full(n_pat, -1, dtype=np.int64)
        spells = []
        # the index spell: the patient's first secondary-care referral (every referral in a hospital service)
        sc = ref[ref["referral_source"].eq("secondary_care") | self.hospital].drop_duplicates("patient_idx")
        ip = sc["patient_idx"].to_numpy()
        rday = sc["referral_day"].to_numpy()
        k = len(ip)
        if self.hospital:
            avoided = rng.random(k) < 0.26
            ref.loc[sc.index, "_outcome"] = np.where(avoided, "admission_avoided", "discharge_expedited")
            adm = rday - rng.integers(0, 6, size=k)
            los_after = np.where(avoided, rng.integers(0, 2, size=k), rng.integers(1, 8, size=k))
        else:
            adm = rday - rng.integers(1, 11, size=k)
            los_after = rng.integers(0, 4, size=k)
        dis = np.minimum(rday + los_after, self.end)
        method = _choice(rng, {"emergency": 0.88, "elective": 0.10, "other": 0.02}, k)
        spells.append(pd.DataFrame({"patient_idx": ip, "adm": adm, "dis": dis, "method": method, "sp_index": True}))
        # readmission (first later emergency spell) and death, from the planted day-level model
        r = _inverse_cdf(rng, _READMIT_CDF, k)
        dd = _inverse_cdf(rng, _DEATH_CDF, k)
        has_r = (r >= 0) & ((dd < 0) | (r <= dd)) & (dis + r <= self.end)
        radm = dis + r
        rlos = rng.integers(0, 9, size=k)
        spells.append(pd.DataFrame({"patient_idx": ip[has_r], "adm": radm[has_r],
                                    "dis": np.minimum(radm[has_r] + rlos[has_r], self.end),
                                    "method": "emergency", "sp_index": False}))
        has_d = (dd >= 0) & (dis + dd <= self.end)
        death[ip[has_d]] = (dis + dd)[has_d]
        # a readmission whose stay would outlast the death ends at the death
        # history: earlier emergency spells (before the index admission) and later elective ones
        hist = rng.random(k) < 0.2
        h_dis = adm[hist] - rng.integers(30, 300, size=int(hist.sum()))
        spells.append(pd.DataFrame({"patient_idx": ip[hist], "adm": h_dis - rng.integers(0, 6, size=len(h_dis)),
                                    "dis": h_dis, "method": "emergency", "sp_index": False}))
        el = rng.random(k) < 0.05
        e_adm = dis[el] + rng.integers(20, 300, size=int(el.sum()))
        ok = (e_adm <= self.end) & ((death[ip[el]] < 0) | (e_adm <= death[ip[el]]))
        spells.append(pd.DataFrame({"patient_idx": ip[el][ok], "adm": e_adm[ok], "dis": np.minimum(e_adm[ok] + 1, self.end),
                                    "method": "elective", "sp_index": False}))
        sp = pd.concat(spells, ignore_index=True)
        dpat = death[sp["patient_idx"].to_numpy()]
        sp["dis"] = np.where((dpat >= 0) & (sp["dis"].to_numpy() > dpat) & (sp["adm"].to_numpy() <= dpat),
                             dpat, sp["dis"].to_numpy())
        self.spells = sp
        # background deaths among everyone else (annual risk by age), after their referral
        age = self.pats["age"].to_numpy()
        annual = np.select([age >= 85, age >= 75, age >= 65], [0.10, 0.04, 0.015], 0.004)
        years = (self.end - self.start) / 365.25
        other = (death < 0) & ~np.isin(np.arange(n_pat), ip) & (rng.random(n_pat) < annual * years)
        first_ref = ref.groupby("patient_idx")["referral_day"].min().reindex(range(n_pat)).to_numpy()
        bd = first_ref + 30 + rng.integers(0, 1000, size=n_pat)
        put = other & (bd <= self.end)
        death[put] = bd[put]
        self.death = death
        # a patient's referrals after their death cannot exist
        rd = death[ref["patient_idx"].to_numpy()]
        self.ref = ref[(rd < 0) | (ref["referral_day"].to_numpy() <= rd)].reset_index(drop=True)

    # ----------------------------------------------------------------- contacts
    def contacts(self) -> None:
        rng, ref = self.rng, self.ref
        m = len(ref)
        rday = ref["referral_day"].to_numpy()
        seen = rng.random(m) < (0.95 if self.hospital else 0.86)
        if self.hospital:
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
        non_day = _uniform_int(rng, lo, np.maximum(hi, lo))
        status = np.r_[np.full(len(ridx), "attended", dtype=object),
                       _choice(rng, {"dna": 0.55, "cancelled": 0.45}, len(nidx))]
        c = pd.DataFrame({"ref_pos": np.r_[ridx, nidx], "day": np.r_[att_day, non_day], "status": status})
        ctypes = {"face_to_face": 0.6, "telephone": 0.35, "home_visit": 0.05} if self.hospital else _CONTACT_TYPES
        c["contact_type"] = _choice(rng, ctypes, len(c))
        mu = c["contact_type"].map({k: v[0] for k, v in _DURATION.items()}).to_numpy(float)
        sd = c["contact_type"].map({k: v[1] for k, v in _DURATION.items()}).to_numpy(float)
        dur = np.clip(np.round(rng.normal(mu, sd)), 5, 240)
        c["duration_minutes"] = pd.array(np.where(c["status"].eq("attended"), dur, np.nan), dtype="Float64").astype("Int64")
        c.loc[rng.random(len(c)) < 0.05, "contact_type"] = None
        c.loc[rng.random(len(c)) < 0.04, "duration_minutes"] = pd.NA
        # nothing after the extract or a death
        dth = self.death[ref["patient_idx"].to_numpy()][c["ref_pos"].to_numpy()]
        ok = (c["day"].to_numpy() <= self.end) & ((dth < 0) | (c["day"].to_numpy() <= dth))
        c = c[ok].sort_values(["ref_pos", "day", "status"], kind="stable").reset_index(drop=True)
        self.contacts_df = c
        att = c[c["status"].eq("attended")]
        fc = att.groupby("ref_pos")["day"].min().reindex(range(m)).to_numpy()
        last = c.groupby("ref_pos")["day"].max().reindex(range(m)).to_numpy()
        ref["first_contact_day"] = fc
        ref["last_contact_day"] = last

    # ----------------------------------------------------------------- closures (and the hospital fields)
    def closures(self) -> None:
        rng, ref = self.rng, self.ref
        m = len(ref)
        fc = ref["first_contact_day"].to_numpy()
        seen = ~np.isnan(fc)
        rday = ref["referral_day"].to_numpy()
        last = np.where(np.isnan(ref["last_contact_day"].to_numpy()), rday, ref["last_contact_day"].to_numpy())
        close = np.where(seen, last + rng.integers(3, 31, size=m), rday + rng.integers(20, 61, size=m)).astype(np.int64)
        reason = np.where(seen, _choice(rng, {"completed": 0.78, "disengaged": 0.10, "moved_away": 0.03,
                                              "other": 0.05, "declined": 0.02, "not_suitable": 0.02}, m),
                          _choice(rng, {"declined": 0.4, "not_suitable": 0.2, "disengaged": 0.3, "other": 0.1}, m))
        dth = self.death[ref["patient_idx"].to_numpy()]
        died = (dth >= 0) & (dth <= close)
        close = np.where(died, dth, close)
        reason = np.where(died, "died", reason)
        open_ = close > self.end
        ref["closure_day"] = np.where(open_, np.nan, close)
        ref["closure_reason"] = np.where(open_, None, reason)
        if self.hospital:
            # referrals that did not come from a ward stay: "other"
            out = ref["_outcome"].astype(object).where(ref["_outcome"].notna(), "other")
            ref["service_outcome"] = out
            bd = 1 + np.round(rng.gamma(0.497, 8.65, size=m))
            ref["bed_days_saved"] = np.where(out.eq("other"), 0.0, np.minimum(bd, 42))
            budget = np.clip(np.round(rng.lognormal(3.97, 1.333, size=m), 2), 14.99, 1662.0)
            ref["health_budget_gbp"] = np.where(rng.random(m) < 0.45, budget, 0.0)
        self.ref = ref

    # ----------------------------------------------------------------- ONS4
    def outcome_measures(self) -> None:
        rng, ref = self.rng, self.ref
        fc = ref["first_contact_day"].to_numpy()
        has = ~np.isnan(fc) & (rng.random(len(ref)) < (0.6 if self.hospital else 0.8))
        r = ref[has]
        n = len(r)
        base_day = r["first_contact_day"].to_numpy().astype(np.int64)
        age = r["age"].to_numpy()
        p_follow = np.clip(0.45 + 0.005 * (age - 45), 0.2, 0.75)  # younger people complete less often
        follow_day = base_day + rng.integers(42, 181, size=n)
        early = rng.random(n) < 0.05  # a second assessment too soon to count as a pair
        follow_day = np.where(early, base_day + rng.integers(7, 28, size=n), follow_day)
        dth = self.death[r["patient_idx"].to_numpy()]
        follow = (rng.random(n) < p_follow) & (follow_day <= self.end) & ((dth < 0) | (follow_day <= dth))
        person = rng.normal(size=n)
        rows = []
        for item in ONS4_ITEMS:
            mu, sd = _ONS4_BASELINE[item]
            z = 0.6 * person * (-1 if item == "anxiety" else 1) + 0.8 * rng.normal(size=n)
            b = np.clip(np.round(mu + sd * z), 0, 10)
            f = np.clip(np.round(b + _ONS4_DELTA[item] + rng.normal(0, _ONS4_NOISE_SD, size=n)), 0, 10)
            rows.append(pd.DataFrame({"referral_id": r["referral_id"].to_numpy(), "day": base_day,
                                      "item": item, "score": b}))
            rows.append(pd.DataFrame({"referral_id": r["referral_id"].to_numpy()[follow], "day": follow_day[follow],
                                      "item": item, "score": f[follow]}))
        om = pd.concat(rows, ignore_index=True)
        om["instrument"] = "ons4"
        self.tables["outcome_measures"] = pd.DataFrame({
            "referral_id": om["referral_id"], "assessment_date": _to_date(om["day"]),
            "instrument": om["instrument"], "item": om["item"], "score": om["score"].astype(int)})

    # ----------------------------------------------------------------- signposting and unmet needs
    def signposting(self) -> None:
        rng, ref, a = self.rng, self.ref, self.area
        services = _MERTON_SERVICES if a.slug == "merton" else tuple(
            (s.format(n=a.name), c, w) for s, c, w in _GENERIC_SERVICES)
        fc = ref["first_contact_day"].to_numpy()
        seen = ~np.isnan(fc)
        k = np.where(seen, rng.poisson(1.05, size=len(ref)), 0)
        idx = np.repeat(np.arange(len(ref)), k)
        day = fc[idx].astype(np.int64) + rng.integers(0, 61, size=len(idx))
        w = np.array([s[2] for s in services], dtype=float)
        pick = rng.choice(len(services), size=len(idx), p=w / w.sum())
        ok = day <= self.end
        self.tables["signposting"] = pd.DataFrame({
            "referral_id": ref["referral_id"].to_numpy()[idx][ok], "signpost_date": _to_date(day[ok]),
            "service_name": np.array([s[0] for s in services], dtype=object)[pick][ok],
            "service_category": np.array([s[1] for s in services], dtype=object)[pick][ok]})

    def unmet_needs(self) -> None:
        rng, ref = self.rng, self.ref
        fc = ref["first_contact_day"].to_numpy()
        has = ~np.isnan(fc) & (rng.random(len(ref)) < 0.10)
        r = ref[has]
        pcns = list(self.area.pcns)
        weights = rng.dirichlet(np.full(len(_NEEDS), 0.8), size=len(pcns))  # gaps differ by PCN
        pi = np.array([pcns.index(p) for p in r["pcn"]], dtype=np.int64)
        cum = weights.cumsum(axis=1)[pi]
        need = (rng.random(len(r))[:, None] > cum).sum(axis=1).clip(0, len(_NEEDS) - 1)
        day = r["first_contact_day"].to_numpy().astype(np.int64) + rng.integers(0, 30, size=len(r))
        ok = day <= self.end
        self.tables["unmet_needs"] = pd.DataFrame({
            "referral_id": r["referral_id"].to_numpy()[ok], "recorded_date": _to_date(day[ok]),
            "need": np.array(_NEEDS, dtype=object)[need][ok]})

    # ----------------------------------------------------------------- GP appointments and comparison patients
    def _base_rate(self, cov: pd.DataFrame) -> np.ndarray:
        mult = cov["risk_band"].map({"very_high": 1.8, "high": 1.3, "medium": 1.0, "low": 0.7}).fillna(1.0)
        return 6.0 * np.exp(0.01 * (cov["age"].to_numpy() - 50)) * mult.to_numpy(float) * self.rng.gamma(2.0, 0.5, len(cov))

    def gp(self) -> None:
        rng = self.rng
        pats = self.pats
        n_pat = len(pats)
        first = self.ref.groupby("patient_idx").agg(r=("referral_day", "min"), src=("referral_source", "first"))
        first = first.reindex(range(n_pat))
        alive = first["r"].notna().to_numpy()
        r = np.nan_to_num(first["r"].to_numpy(), nan=self.start).astype(np.int64)
        end = np.where(self.death >= 0, np.minimum(self.death, self.end), self.end)
        lam = self._base_rate(pats) * 1.15
        g1, g2 = _GP["pre_referral_multiplier"]["-1"], _GP["pre_referral_multiplier"]["-2"]
        segs = [  # (start offset, end offset, multiplier) relative to the referral day, inclusive
            (-100000, -183, 1.0), (-182, -92, g2), (-91, -1, g1), (1, 100000, _GP["rate_ratio"])]
        pid_l, lo_l, hi_l, mu_l = [], [], [], []
        for a_off, b_off, mlt in segs:
            lo = np.maximum(r + a_off, self.start)
            hi = np.minimum(r + b_off, end)
            ok = alive & (hi >= lo)
            pid_l.append(np.flatnonzero(ok))
            lo_l.append(lo[ok])
            hi_l.append(hi[ok])
            mu_l.append(lam[ok] * mlt * (hi[ok] - lo[ok] + 1) / 365.25)
        pid, lo, hi, mu = (np.concatenate(x) for x in (pid_l, lo_l, hi_l, mu_l))
        k = rng.poisson(mu)
        rows_p = np.repeat(pid, k)
        days = _uniform_int(rng, np.repeat(lo, k), np.repeat(hi, k))
        # a referral from primary care is often made at an appointment that day (in neither window)
        same = alive & first["src"].isin(["gp", "nurse", "other_primary_care"]).to_numpy() & (rng.random(n_pat) < 0.5)
        same &= r <= end
        rows_p = np.r_[rows_p, np.flatnonzero(same)]
        days = np.r_[days, r[same]]
        ids = np.r_[pats["patient_id"].to_numpy()[rows_p]]
        # comparison pool: registered patients never referred, 1.5 per referred patient
        n_c = int(round(1.5 * n_pat))
        cov = _covariates(rng, self.area, n_c)
        cov["age"] = np.clip(cov["age"].to_numpy() + rng.integers(-5, 6, size=n_c), 0, 120)
        cov["patient_id"] = _ids(rng, "cp-", n_c)
        cov["practice_code"] = self.practices["practice_code"].to_numpy()[
            rng.choice(len(self.practices), size=n_c, p=self.practices["weight"])]
        lam_c = self._base_rate(cov)
        span = self.end - self.start + 1
        kc = rng.poisson(lam_c * span / 365.25)
        cp = np.repeat(np.arange(n_c), kc)
        cdays = _uniform_int(rng, np.full(len(cp), self.start), np.full(len(cp), self.end))
        ids = np.r_[ids, cov["patient_id"].to_numpy()[cp]]
        days = np.r_[days, cdays]
        gp = pd.DataFrame({"patient_id": ids, "day": days})
        gp["clinician_role"] = _choice(rng, {"gp": 0.6, "nurse": 0.3, "other": 0.1}, len(gp))
        gp = gp.sort_values(["patient_id", "day"], kind="stable")
        self.tables["gp_appointments"] = pd.DataFrame({
            "patient_id": gp["patient_id"].to_numpy(), "appointment_date": _to_date(gp["day"].to_numpy()),
            "clinician_role": gp["clinician_role"].to_numpy()})
        self.tables["comparison_patients"] = cov[["patient_id", "practice_code", "age", "gender", "imd_decile",
                                                  "risk_band", "diabetes", "severe_mental_illness"]].copy()

    # ----------------------------------------------------------------- clinical measurements
    def clinical(self) -> None:
        rng, ref = self.rng, self.ref
        seen = ref[ref["first_contact_day"].notna()].sort_values("referral_day", kind="stable")
        idx = seen.drop_duplicates("patient_idx")
        dia = idx["diabetes"].fillna(False).to_numpy(bool)
        smi = idx["severe_mental_illness"].fillna(False).to_numpy(bool)
        keep = dia | smi
        idx, dia, smi = idx[keep], dia[keep], smi[keep]
        pid = idx["patient_id"].to_numpy()
        fc = idx["first_contact_day"].to_numpy().astype(np.int64)
        dth = self.death[idx["patient_idx"].to_numpy()]
        last_day = np.where(dth >= 0, np.minimum(dth, self.end), self.end)
        # targets: (name, cohort mask)
        plan = [("hba1c", dia), ("total_cholesterol", dia), ("bp", dia | smi),
                ("smoking_status", smi), ("bmi", smi), ("alcohol_units_week", smi)]
        out_p, out_d, out_m, out_v = [], [], [], []

        def value(measure: str, met: np.ndarray) -> list[tuple[str, np.ndarray]]:
            n = len(met)
            if measure == "hba1c":
                return [(measure, np.where(met, rng.integers(40, 59, n), rng.integers(59, 111, n)).astype(float))]
            if measure == "total_cholesterol":
                return [(measure, np.where(met, rng.integers(30, 50, n), rng.integers(50, 81, n)) / 10)]
            if measure == "smoking_status":
                return [(measure, np.where(met, 0.0, 1.0))]
            if measure == "bmi":
                return [(measure, np.where(met, rng.integers(185, 300, n), rng.integers(300, 451, n)) / 10)]
            if measure == "alcohol_units_week":
                return [(measure, np.where(met, rng.integers(0, 15, n), rng.integers(15, 61, n)).astype(float))]
            high_sys = rng.random(n) < 0.6
            sys = np.where(met, rng.integers(105, 141, n), np.where(high_sys, rng.integers(141, 176, n), rng.integers(110, 141, n)))
            dias = np.where(met, rng.integers(60, 81, n), np.where(high_sys, rng.integers(60, 96, n), rng.integers(81, 101, n)))
            return [("systolic_bp", sys.astype(float)), ("diastolic_bp", dias.astype(float))]

        def add(p, d, pairs):
            for meas, v in pairs:
                out_p.append(p)
                out_d.append(d)
                out_m.append(np.full(len(p), meas, dtype=object))
                out_v.append(v)

        for measure, mask in plan:
            for w in ("prior", "after"):
                lo = np.where(w == "prior", fc - 365, fc + 1)
                hi = np.where(w == "prior", fc - 1, np.minimum(fc + 365, last_day))
                measured = mask & (hi >= lo) & (rng.random(len(fc)) < _TARGETS["p_measured"][w])
                met = rng.random(len(fc)) < _TARGETS["p_met_if_measured"][w]
                sel = np.flatnonzero(measured)
                day = _uniform_int(rng, lo[sel], hi[sel])
                vals = value(measure, met[sel])
                add(pid[sel], day, vals)
                # a same-day repeat: higher (or also failing) readings, so the lowest decides; for
                # blood pressure both readings higher, so the lowest pair is the deciding one
                rep = sel[rng.random(len(sel)) < 0.15]
                dpos = np.searchsorted(sel, rep)
                if measure == "bp":
                    add(pid[rep], day[dpos], [(m, v[dpos] + rng.integers(1, 16, len(rep))) for m, v in vals])
                else:
                    add(pid[rep], day[dpos], value(measure, np.zeros(len(rep), dtype=bool)))
                # an earlier reading in the window, of either kind
                ear = np.flatnonzero(rng.random(len(sel)) < 0.4)
                ear = ear[day[ear] > lo[sel][ear]]
                eday = _uniform_int(rng, lo[sel][ear], day[ear] - 1)
                add(pid[sel][ear], eday, value(measure, rng.random(len(ear)) < 0.5))
                if measure == "bp":
                    # a later systolic-only reading: ignored (blood pressure needs a same-day pair)
                    lat = np.flatnonzero(rng.random(len(sel)) < 0.1)
                    lat = lat[day[lat] < hi[sel][lat]]
                    lday = _uniform_int(rng, day[lat] + 1, hi[sel][lat])
                    add(pid[sel][lat], lday, [("systolic_bp", rng.integers(100, 180, len(lat)).astype(float))])
            # readings on the first-contact day itself count in neither window
            onday = np.flatnonzero(mask & (rng.random(len(fc)) < 0.1))
            add(pid[onday], fc[onday], value(measure, rng.random(len(onday)) < 0.5))
        cm = pd.DataFrame({"patient_id": np.concatenate(out_p) if out_p else [],
                           "day": np.concatenate(out_d) if out_d else [],
                           "measure": np.concatenate(out_m) if out_m else [],
                           "value": np.concatenate(out_v) if out_v else []})
        cm = cm.sort_values(["patient_id", "day", "measure"], kind="stable")
        self.tables["clinical_measurements"] = pd.DataFrame({
            "patient_id": cm["patient_id"].to_numpy(), "measurement_date": _to_date(cm["day"].to_numpy()),
            "measure": cm["measure"].to_numpy(), "value": cm["value"].to_numpy()})

    # ----------------------------------------------------------------- PCN quarterly panel
    def pcn_quarterly(self) -> None:
        rng, a = self.rng, self.area
        if self.hospital:  # the seed's panel: 17 PCNs over three financial years
            q = pd.period_range("2021Q2", "2024Q1", freq="Q")
        else:
            q = pd.period_range(pd.Timestamp(a.extract_start).to_period("Q"), pd.Timestamp(a.extract_end).to_period("Q"), freq="Q")
        pcn_pop = self.practices.groupby("pcn", sort=False)["weight"].sum().reindex(list(a.pcns)).to_numpy() * a.population
        rows = []
        t = np.linspace(0, 1, len(q))
        season = np.where(q.quarter == 1, 500.0, np.where(q.quarter == 4, 300.0, 0.0))  # winter pressure
        for i, pcn in enumerate(a.pcns):
            pop = pcn_pop[i] * (1 + 0.003 * np.arange(len(q)))
            fte0 = rng.uniform(0.4, 1.2) * pop[0] / 50_000
            fte = np.round(np.maximum(fte0 * (1 + 1.2 * t) + rng.normal(0, 0.15, len(q)), 0), 1)
            per = fte / pop * 100_000
            ae_rate = rng.normal(7000, 600) + season + _WORKFORCE["ae_per_100k_per_fte_per_100k"] * per + rng.normal(0, 250, len(q))
            cost_rate = (rng.normal(6.5e6, 5e5) + season * 2000
                         + _WORKFORCE["cost_gbp_per_100k_per_fte_per_100k"] * per + rng.normal(0, 2e5, len(q)))
            rows.append(pd.DataFrame({
                "pcn": pcn, "quarter_start": q.start_time, "registered_population": np.round(pop).astype(int),
                "splw_fte": fte, "ae_attendances": np.round(np.maximum(ae_rate, 0) * pop / 100_000).astype(int),
                "nonelective_cost_gbp": np.round(np.maximum(cost_rate, 0) * pop / 100_000, 0)}))
        self.tables["pcn_quarterly"] = pd.concat(rows, ignore_index=True)

    # ----------------------------------------------------------------- assemble
    def build(self) -> dict[str, pd.DataFrame]:
        self.referrals()
        self.hospital_and_deaths()
        self.contacts()
        self.closures()
        ref, c = self.ref, self.contacts_df
        out = pd.DataFrame({
            "referral_id": ref["referral_id"], "patient_id": ref["patient_id"],
            "practice_code": ref["practice_code"], "pcn": ref["pcn"],
            "referral_date": _to_date(ref["referral_day"].to_numpy()),
            "referral_source": ref["referral_source"], "referral_reason": ref["referral_reason"],
            "first_contact_date": _to_date(np.nan_to_num(ref["first_contact_day"].to_numpy(), nan=0)).where(
                ref["first_contact_day"].notna()),
            "closure_date": _to_date(np.nan_to_num(ref["closure_day"].to_numpy(), nan=0)).where(ref["closure_day"].notna()),
            "closure_reason": ref["closure_reason"], "age": ref["age"], "gender": ref["gender"],
            "ethnicity": ref["ethnicity"], "imd_decile": ref["imd_decile"], "risk_band": ref["risk_band"],
            "diabetes": ref["diabetes"], "severe_mental_illness": ref["severe_mental_illness"], "carer": ref["carer"],
        })
        if self.hospital:
            out["service_outcome"] = ref["service_outcome"]
            out["bed_days_saved"] = ref["bed_days_saved"]
            out["health_budget_gbp"] = ref["health_budget_gbp"]
        self.tables["referrals"] = out
        self.tables["sp_contacts"] = pd.DataFrame({
            "referral_id": ref["referral_id"].to_numpy()[c["ref_pos"].to_numpy()],
            "contact_date": _to_date(c["day"].to_numpy()), "status": c["status"].to_numpy(),
            "contact_type": c["contact_type"].to_numpy(), "duration_minutes": c["duration_minutes"].to_numpy()})
        self.outcome_measures()
        self.signposting()
        if not self.hospital:
            self.unmet_needs()
            self.gp()
            self.clinical()
        sp = self.spells.sort_values(["patient_idx", "adm"], kind="stable")
        self.tables["hospital_spells"] = pd.DataFrame({
            "patient_id": self.pats["patient_id"].to_numpy()[sp["patient_idx"].to_numpy()],
            "admission_date": _to_date(sp["adm"].to_numpy()), "discharge_date": _to_date(sp["dis"].to_numpy()),
            "admission_method": sp["method"].to_numpy(), "sp_index": sp["sp_index"].to_numpy(bool)})
        dead = np.flatnonzero(self.death >= 0)
        self.tables["deaths"] = pd.DataFrame({"patient_id": self.pats["patient_id"].to_numpy()[dead],
                                              "date_of_death": _to_date(self.death[dead])})
        self.pcn_quarterly()
        return {k: v for k, v in self.tables.items() if k not in self.area.omit}

    def config(self) -> dict:
        a = self.area
        months = (a.extract_end.year - a.extract_start.year) * 12 + a.extract_end.month - a.extract_start.month + 1
        per_month = len(self.tables["referrals"]) / months
        cfg = {"borough": a.name, "ons_code": a.ons_code, "extract_start": a.extract_start.isoformat(),
               "extract_end": a.extract_end.isoformat(), "registered_population": int(a.population)}
        if not self.hospital:
            lo, hi = 5 * round(per_month * 0.85 / 5), 5 * round(per_month * 1.15 / 5)
            cfg["referral_target_monthly"] = [max(lo, 1), max(hi, max(lo, 1) + 5)]
        cfg["readmission_benchmark_30d_pct"] = 12.6
        cfg["synthetic"] = True
        return cfg


# --------------------------------------------------------------------------- writing

def _csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_bool_dtype(s) or str(s.dtype) == "boolean":
            out[col] = s.astype("boolean").map({True: "true", False: "false"}).astype(object)
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_float_dtype(s):
            vals = s.to_numpy(dtype=float)
            whole = np.isfinite(vals) & (vals == np.round(vals))
            txt = np.where(whole, np.char.mod("%d", np.nan_to_num(vals).astype(np.int64)),
                           np.char.mod("%.2f", np.nan_to_num(vals)))
            out[col] = np.where(np.isnan(vals), "", txt).astype(object)
    return out


def _header(area: Area) -> str:
    return (f"# Synthetic extract for {area.name}, generated by pipeline.synthetic (generator v{GENERATOR_VERSION},\n"
            f"# seed {seed_for(area.slug)}). Not real patients: see docs/synthetic-data.md for its shapes and the\n"
            "# effects planted in it. Replace this folder with your own extract (keep synthetic: false).\n")


def write_extract(tables: dict[str, pd.DataFrame], cfg: dict, folder: Path, fmt: str = "csv", header: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if fmt == "parquet":
            df.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            _csv_frame(df).to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    (folder / "extract.yml").write_text(header + yaml.safe_dump(cfg, sort_keys=False, default_flow_style=None))


class RefusedError(RuntimeError):
    """The target folder holds an extract that is not synthetic (never overwritten)."""


def _is_synthetic(folder: Path) -> bool:
    f = folder / "extract.yml"
    if not f.exists():
        return False
    try:
        return (yaml.safe_load(f.read_text()) or {}).get("synthetic") is True
    except yaml.YAMLError:
        return False


def build_tables(slug: str, n_referrals: int | None = None) -> tuple[dict[str, pd.DataFrame], dict]:
    """The area's tables and extract.yml contents, in memory."""
    if slug not in AREAS:
        raise KeyError(f"no built-in synthetic area '{slug}'; known: {', '.join(sorted(AREAS))}")
    g = _Gen(AREAS[slug], n_referrals)
    tables = g.build()
    return tables, g.config()


def generate(slug: str, out_dir: Path | str | None = None, force: bool = False, *,
             n_referrals: int | None = None, fmt: str = "csv") -> Path:
    """Write the area's synthetic extract into ``out_dir`` (default ``data_raw/<slug>/``), atomically.

    An existing folder is replaced only when ``force`` is set and its extract.yml says
    ``synthetic: true``; a folder holding anything else is never touched (:class:`RefusedError`).
    ``n_referrals`` overrides the area's size (benchmarks); ``fmt`` is ``csv`` or ``parquet``.
    """
    out = Path(out_dir) if out_dir is not None else paths.raw_dir(slug)
    if out.exists() and any(out.iterdir()):
        if not _is_synthetic(out):
            raise RefusedError(f"{out} already holds data that is not marked 'synthetic: true' in its "
                               "extract.yml; refusing to overwrite it.")
        if not force:
            return out
    tables, cfg = build_tables(slug, n_referrals)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        write_extract(tables, cfg, tmp, fmt, _header(AREAS[slug]))
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.rename(out, old)
            os.rename(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def ensure(slug: str) -> Path:
    """``data_raw/<slug>/``, generated when it has no extract.yml yet."""
    out = paths.raw_dir(slug)
    if (out / "extract.yml").exists():
        return out
    return generate(slug, out)
