"""Hospital spells and deaths: the index spell of each patient's first secondary-care referral
(every referral in a hospital service), the planted readmission and death (death competing), a
history of earlier emergency and later elective spells, and background deaths by age."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .draws import choice, inverse_cdf, to_date
from .planted import DEATH_CDF, READMIT_CDF
from .world import World


def draw_spells_and_deaths(w: World) -> None:
    """``w.spells`` and ``w.death``; referrals after their patient's death are dropped from
    ``w.ref`` (a hospital service's index outcome goes into its ``_outcome`` column)."""
    rng, ref = w.rng, w.ref
    n_pat = len(w.pats)
    death = np.full(n_pat, -1, dtype=np.int64)
    spells = []
    # the index spell: the patient's first secondary-care referral (every referral in a hospital service)
    sc = ref[ref["referral_source"].eq("secondary_care") | w.hospital].drop_duplicates("patient_idx")
    ip = sc["patient_idx"].to_numpy()
    rday = sc["referral_day"].to_numpy()
    k = len(ip)
    if w.hospital:
        avoided = rng.random(k) < 0.26
        ref.loc[sc.index, "_outcome"] = np.where(avoided, "admission_avoided", "discharge_expedited")
        adm = rday - rng.integers(0, 6, size=k)
        los_after = np.where(avoided, rng.integers(0, 2, size=k), rng.integers(1, 8, size=k))
    else:
        adm = rday - rng.integers(1, 11, size=k)
        los_after = rng.integers(0, 4, size=k)
    dis = np.minimum(rday + los_after, w.end)
    method = choice(rng, {"emergency": 0.88, "elective": 0.10, "other": 0.02}, k)
    spells.append(pd.DataFrame({"patient_idx": ip, "adm": adm, "dis": dis, "method": method, "sp_index": True}))
    # readmission (first later emergency spell) and death, from the planted day-level model
    r = inverse_cdf(rng, READMIT_CDF, k)
    dd = inverse_cdf(rng, DEATH_CDF, k)
    has_r = (r >= 0) & ((dd < 0) | (r <= dd)) & (dis + r <= w.end)
    radm = dis + r
    rlos = rng.integers(0, 9, size=k)
    spells.append(pd.DataFrame({"patient_idx": ip[has_r], "adm": radm[has_r],
                                "dis": np.minimum(radm[has_r] + rlos[has_r], w.end),
                                "method": "emergency", "sp_index": False}))
    has_d = (dd >= 0) & (dis + dd <= w.end)
    death[ip[has_d]] = (dis + dd)[has_d]
    # a readmission whose stay would outlast the death ends at the death
    # history: earlier emergency spells (before the index admission) and later elective ones
    hist = rng.random(k) < 0.2
    h_dis = adm[hist] - rng.integers(30, 300, size=int(hist.sum()))
    spells.append(pd.DataFrame({"patient_idx": ip[hist], "adm": h_dis - rng.integers(0, 6, size=len(h_dis)),
                                "dis": h_dis, "method": "emergency", "sp_index": False}))
    el = rng.random(k) < 0.05
    e_adm = dis[el] + rng.integers(20, 300, size=int(el.sum()))
    ok = (e_adm <= w.end) & ((death[ip[el]] < 0) | (e_adm <= death[ip[el]]))
    spells.append(pd.DataFrame({"patient_idx": ip[el][ok], "adm": e_adm[ok], "dis": np.minimum(e_adm[ok] + 1, w.end),
                                "method": "elective", "sp_index": False}))
    sp = pd.concat(spells, ignore_index=True)
    dpat = death[sp["patient_idx"].to_numpy()]
    sp["dis"] = np.where((dpat >= 0) & (sp["dis"].to_numpy() > dpat) & (sp["adm"].to_numpy() <= dpat),
                         dpat, sp["dis"].to_numpy())
    w.spells = sp
    # background deaths among everyone else (annual risk by age), after their referral
    age = w.pats["age"].to_numpy()
    annual = np.select([age >= 85, age >= 75, age >= 65], [0.10, 0.04, 0.015], 0.004)
    years = (w.end - w.start) / 365.25
    other = (death < 0) & ~np.isin(np.arange(n_pat), ip) & (rng.random(n_pat) < annual * years)
    first_ref = ref.groupby("patient_idx")["referral_day"].min().reindex(range(n_pat)).to_numpy()
    bd = first_ref + 30 + rng.integers(0, 1000, size=n_pat)
    put = other & (bd <= w.end)
    death[put] = bd[put]
    w.death = death
    # a patient's referrals after their death cannot exist
    rd = death[ref["patient_idx"].to_numpy()]
    w.ref = ref[(rd < 0) | (ref["referral_day"].to_numpy() <= rd)].reset_index(drop=True)


def spells_table(w: World) -> pd.DataFrame:
    """The hospital_spells table (no draws)."""
    sp = w.spells.sort_values(["patient_idx", "adm"], kind="stable")
    return pd.DataFrame({
        "patient_id": w.pats["patient_id"].to_numpy()[sp["patient_idx"].to_numpy()],
        "admission_date": to_date(sp["adm"].to_numpy()), "discharge_date": to_date(sp["dis"].to_numpy()),
        "admission_method": sp["method"].to_numpy(), "sp_index": sp["sp_index"].to_numpy(bool)})


def deaths_table(w: World) -> pd.DataFrame:
    """The deaths table (no draws)."""
    dead = np.flatnonzero(w.death >= 0)
    return pd.DataFrame({"patient_id": w.pats["patient_id"].to_numpy()[dead],
                         "date_of_death": to_date(w.death[dead])})
