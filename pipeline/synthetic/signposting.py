"""Signposting (about one onward service per patient seen: Merton's named services for Merton,
generic local ones elsewhere) and unmet needs (10% of referrals seen; the gaps differ by PCN)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .draws import to_date
from .world import World

#: (service, category, weight): Merton's published signposting counts
MERTON_SERVICES = (
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
#: the same for every other area, ``{n}`` its name
GENERIC_SERVICES = (
    ("Age UK {n}", "befriending", 300), ("Citizens Advice {n}", "financial_advice", 260),
    ("{n} Talking Therapies", "mental_health", 240), ("{n} Carers Centre", "carer_support", 180),
    ("{n} Walking for Health", "physical_activity", 150), ("{n} Foodbank", "food", 120),
    ("{n} Community Lunch Club", "social_activity", 110), ("{n} Housing Options", "housing", 90),
    ("{n} Law Centre", "legal_advice", 80), ("{n} Employment Hub", "employment", 60),
    ("{n} Men's Shed", "social_activity", 50), ("{n} Befriending Scheme", "befriending", 70),
    ("Turn2us", "financial_advice", 40), ("Cruse Bereavement Support", "other", 35),
    ("{n} Recovery College", "mental_health", 45), ("{n} Leisure Centres", "physical_activity", 55),
)
NEEDS = ("evening befriending", "affordable counselling", "ESOL classes", "debt advice appointments",
         "men's groups", "transport to groups", "digital skills support", "carers' respite",
         "low-cost exercise classes", "housing repairs help")


def signposting(w: World) -> pd.DataFrame:
    rng, ref, a = w.rng, w.ref, w.area
    services = MERTON_SERVICES if a.slug == "merton" else tuple(
        (s.format(n=a.name), c, wt) for s, c, wt in GENERIC_SERVICES)
    fc = ref["first_contact_day"].to_numpy()
    seen = ~np.isnan(fc)
    k = np.where(seen, rng.poisson(1.05, size=len(ref)), 0)
    idx = np.repeat(np.arange(len(ref)), k)
    day = fc[idx].astype(np.int64) + rng.integers(0, 61, size=len(idx))
    weight = np.array([s[2] for s in services], dtype=float)
    pick = rng.choice(len(services), size=len(idx), p=weight / weight.sum())
    ok = day <= w.end
    return pd.DataFrame({
        "referral_id": ref["referral_id"].to_numpy()[idx][ok], "signpost_date": to_date(day[ok]),
        "service_name": np.array([s[0] for s in services], dtype=object)[pick][ok],
        "service_category": np.array([s[1] for s in services], dtype=object)[pick][ok]})


def unmet_needs(w: World) -> pd.DataFrame:
    rng, ref = w.rng, w.ref
    fc = ref["first_contact_day"].to_numpy()
    has = ~np.isnan(fc) & (rng.random(len(ref)) < 0.10)
    r = ref[has]
    pcns = list(w.area.pcns)
    weights = rng.dirichlet(np.full(len(NEEDS), 0.8), size=len(pcns))  # gaps differ by PCN
    pi = np.array([pcns.index(p) for p in r["pcn"]], dtype=np.int64)
    cum = weights.cumsum(axis=1)[pi]
    need = (rng.random(len(r))[:, None] > cum).sum(axis=1).clip(0, len(NEEDS) - 1)
    day = r["first_contact_day"].to_numpy().astype(np.int64) + rng.integers(0, 30, size=len(r))
    ok = day <= w.end
    return pd.DataFrame({
        "referral_id": r["referral_id"].to_numpy()[ok], "recorded_date": to_date(day[ok]),
        "need": np.array(NEEDS, dtype=object)[need][ok]})
