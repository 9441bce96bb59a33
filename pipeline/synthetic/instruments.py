"""Outcome instruments beyond ONS4 (rows appended to ``outcome_measures``): SWEMWBS, EQ-5D-5L, PAM,
WSAS and the Well-being Star for the documented subset of areas in :data:`AREA_INSTRUMENTS`, with
the improvements planted in :data:`pipeline.synthetic.planted.INSTRUMENT_MODEL`.

The ONS4 rows of ``outcome_measures`` come from the shared stream and stay byte for byte as they
were: these rows are drawn from their own stream (``w.stream("outcome_measures:instruments")``)
and appended after them (:data:`pipeline.synthetic.build.OWN_STREAM_ROWS`). An area not listed
gets none, so its files do not change at all.

Per listed instrument, 70% of the referrals seen are assessed at (or up to 14 days after) first
contact; a follow-up 8-26 weeks later for 35-75% of them (younger people complete less often),
never after extract_end or a death."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instruments import EQ5D5L_ENGLAND, PAM, SWEMWBS, SWEMWBS_METRIC, WELLBEING_STAR, WSAS
from .draws import to_date
from .planted import INSTRUMENT_MODEL as M
from .world import World

#: the areas given each instrument (a documented subset: none of the areas whose files are pinned)
AREA_INSTRUMENTS: dict[str, tuple[str, ...]] = {
    "kensington-and-chelsea": ("swemwbs", "eq5d5l", "pam", "wsas", "wellbeing_star"),
    "sutton": ("swemwbs", "eq5d5l", "wsas"),
    "hackney": ("swemwbs", "pam", "wellbeing_star"),
}

_RAW = np.array(sorted(SWEMWBS_METRIC), dtype=float)
_METRIC = np.array([SWEMWBS_METRIC[int(r)] for r in _RAW])


def swemwbs_raw_from_metric(m: np.ndarray) -> np.ndarray:
    """The raw total (7..35) whose metric score is nearest to each latent metric value."""
    mid = (_METRIC[1:] + _METRIC[:-1]) / 2
    return _RAW[np.searchsorted(mid, m)]


def split_total(rng: np.random.Generator, total: np.ndarray, k: int, low: int, high: int) -> np.ndarray:
    """``k`` item scores in low..high adding up to each ``total`` (a random spread of the excess
    over ``k * low``, one point at a time onto items not yet full)."""
    n = len(total)
    out = np.full((n, k), low, dtype=np.int64)
    left = (np.asarray(total, dtype=np.int64) - k * low).copy()
    while (left > 0).any():
        rows = np.flatnonzero(left > 0)
        pick = rng.integers(0, k, size=len(rows))
        room = out[rows, pick] < high
        out[rows[room], pick[room]] += 1
        left[rows[room]] -= 1
    return out


def _swemwbs(rng, n):
    mu, sd = M["swemwbs"]["baseline"]
    b = np.clip(rng.normal(mu, sd, n), 7, 35)
    f = np.clip(b + M["swemwbs"]["change"] + rng.normal(0, M["swemwbs"]["noise_sd"], n), 7, 35)
    names = SWEMWBS.item_names
    return ({k: v for k, v in zip(names, split_total(rng, swemwbs_raw_from_metric(b), 7, 1, 5).T, strict=True)},
            {k: v for k, v in zip(names, split_total(rng, swemwbs_raw_from_metric(f), 7, 1, 5).T, strict=True)})


def _eq5d5l(rng, n):
    p = M["eq5d5l"]
    base, fol = {}, {}
    for dim in EQ5D5L_ENGLAND:
        lv = 1 + rng.choice(5, size=n, p=p["baseline_levels"])
        u = rng.random(n)
        step = np.where(u < p["p_better"], -1, np.where(u < p["p_better"] + p["p_worse"], 1, 0))
        base[dim], fol[dim] = lv, np.clip(lv + step, 1, 5)
    mu, sd = p["vas_baseline"]
    vb = np.clip(np.round(rng.normal(mu, sd, n)), 0, 100)
    base["vas"] = vb
    fol["vas"] = np.clip(np.round(vb + p["vas_change"] + rng.normal(0, p["vas_noise_sd"], n)), 0, 100)
    return base, fol


def _pam(rng, n):
    mu, sd = M["pam"]["baseline"]
    b = np.clip(np.round(rng.normal(mu, sd, n), 1), 0, 100)
    f = np.clip(np.round(b + M["pam"]["change"] + rng.normal(0, M["pam"]["noise_sd"], n), 1), 0, 100)
    return {"score": b}, {"score": f}


def _wsas(rng, n):
    mu, sd = M["wsas"]["severity"]
    s = rng.normal(mu, sd, n)
    noise = M["wsas"]["item_noise_sd"]
    base = {it: np.clip(np.round(s + rng.normal(0, noise, n)), 0, 8) for it in WSAS.item_names}
    fol = {it: np.clip(np.round(s + M["wsas"]["item_change"] + rng.normal(0, noise, n)), 0, 8) for it in WSAS.item_names}
    return base, fol


def _star(rng, n):
    mu, sd = M["wellbeing_star"]["baseline"]
    base, fol = {}, {}
    for it in WELLBEING_STAR.item_names:
        b = np.clip(np.round(rng.normal(mu, sd, n)), 1, 10)
        base[it] = b
        fol[it] = np.clip(np.round(b + M["wellbeing_star"]["change"] + rng.normal(0, M["wellbeing_star"]["noise_sd"], n)),
                          1, 10)
    return base, fol


DRAW = {"swemwbs": _swemwbs, "eq5d5l": _eq5d5l, "pam": _pam, "wsas": _wsas, "wellbeing_star": _star}


def instrument_rows(w: World) -> pd.DataFrame | None:
    """The area's rows of the instruments it is given (None for an area not in the subset)."""
    listed = AREA_INSTRUMENTS.get(w.area.slug)
    if not listed:
        return None
    rng = w.stream("outcome_measures:instruments")
    ref = w.ref
    fc = ref["first_contact_day"].to_numpy()
    frames = []
    for name in listed:
        has = ~np.isnan(fc) & (rng.random(len(ref)) < M["uptake"])
        r = ref[has]
        n = len(r)
        day = r["first_contact_day"].to_numpy().astype(np.int64) + rng.integers(0, 15, size=n)
        p_follow = np.clip(0.45 + 0.006 * (r["age"].to_numpy() - 45), 0.35, 0.75)
        follow_day = day + rng.integers(56, 183, size=n)
        dth = w.death[r["patient_idx"].to_numpy()]
        follow = (rng.random(n) < p_follow) & (follow_day <= w.end) & ((dth < 0) | (follow_day <= dth)) & (day <= w.end)
        base, fol = DRAW[name](rng, n)
        ids = r["referral_id"].to_numpy()
        for item in base:
            keep = day <= w.end
            frames.append(pd.DataFrame({"referral_id": ids[keep], "day": day[keep], "instrument": name, "item": item,
                                        "score": np.asarray(base[item], dtype=float)[keep]}))
            frames.append(pd.DataFrame({"referral_id": ids[follow], "day": follow_day[follow], "instrument": name,
                                        "item": item, "score": np.asarray(fol[item], dtype=float)[follow]}))
    om = pd.concat(frames, ignore_index=True)
    whole = om["instrument"] != PAM.name
    score = om["score"].astype(object)
    score[whole] = om.loc[whole, "score"].astype(int)
    return pd.DataFrame({"referral_id": om["referral_id"], "assessment_date": to_date(om["day"]),
                         "instrument": om["instrument"], "item": om["item"], "score": score})
