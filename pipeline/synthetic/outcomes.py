"""ONS4 wellbeing (outcome_measures): a baseline at first contact for 80% of referrals seen (60%
in a hospital service), a follow-up 6-26 weeks later for 20-75% (younger people complete less
often; 5% have only a too-early second assessment, under 28 days), with the planted change."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..contract import ONS4_INSTRUMENT, ONS4_ITEMS
from .draws import to_date
from .planted import ONS4_BASELINE, ONS4_DELTA, ONS4_NOISE_SD
from .world import World


def outcome_measures(w: World) -> pd.DataFrame:
    rng, ref = w.rng, w.ref
    fc = ref["first_contact_day"].to_numpy()
    has = ~np.isnan(fc) & (rng.random(len(ref)) < (0.6 if w.hospital else 0.8))
    r = ref[has]
    n = len(r)
    base_day = r["first_contact_day"].to_numpy().astype(np.int64)
    age = r["age"].to_numpy()
    p_follow = np.clip(0.45 + 0.005 * (age - 45), 0.2, 0.75)  # younger people complete less often
    follow_day = base_day + rng.integers(42, 181, size=n)
    early = rng.random(n) < 0.05  # a second assessment too soon to count as a pair
    follow_day = np.where(early, base_day + rng.integers(7, 28, size=n), follow_day)
    dth = w.death[r["patient_idx"].to_numpy()]
    follow = (rng.random(n) < p_follow) & (follow_day <= w.end) & ((dth < 0) | (follow_day <= dth))
    person = rng.normal(size=n)
    rows = []
    for item in ONS4_ITEMS:
        mu, sd = ONS4_BASELINE[item]
        z = 0.6 * person * (-1 if item == "anxiety" else 1) + 0.8 * rng.normal(size=n)
        b = np.clip(np.round(mu + sd * z), 0, 10)
        f = np.clip(np.round(b + ONS4_DELTA[item] + rng.normal(0, ONS4_NOISE_SD, size=n)), 0, 10)
        rows.append(pd.DataFrame({"referral_id": r["referral_id"].to_numpy(), "day": base_day,
                                  "item": item, "score": b}))
        rows.append(pd.DataFrame({"referral_id": r["referral_id"].to_numpy()[follow], "day": follow_day[follow],
                                  "item": item, "score": f[follow]}))
    om = pd.concat(rows, ignore_index=True)
    om["instrument"] = ONS4_INSTRUMENT
    return pd.DataFrame({
        "referral_id": om["referral_id"], "assessment_date": to_date(om["day"]),
        "instrument": om["instrument"], "item": om["item"], "score": om["score"].astype(int)})
