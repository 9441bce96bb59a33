"""Clinical measurements of patients on the diabetes or SMI register (index referral with a first
contact): every target measured and met with the planted probabilities in the year before and the
year after first contact, plus readings that exercise the rules (earlier readings in the window,
same-day repeats that fail, a later systolic-only reading, readings on the first-contact day)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .draws import to_date, uniform_int
from .planted import TARGETS
from .world import World


def _values(rng: np.random.Generator, measure: str, met: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Readings of ``measure`` that meet its target where ``met`` (blood pressure: a pair)."""
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


def clinical_measurements(w: World) -> pd.DataFrame:
    rng, ref = w.rng, w.ref
    seen = ref[ref["first_contact_day"].notna()].sort_values("referral_day", kind="stable")
    idx = seen.drop_duplicates("patient_idx")
    dia = idx["diabetes"].fillna(False).to_numpy(bool)
    smi = idx["severe_mental_illness"].fillna(False).to_numpy(bool)
    keep = dia | smi
    idx, dia, smi = idx[keep], dia[keep], smi[keep]
    pid = idx["patient_id"].to_numpy()
    fc = idx["first_contact_day"].to_numpy().astype(np.int64)
    dth = w.death[idx["patient_idx"].to_numpy()]
    last_day = np.where(dth >= 0, np.minimum(dth, w.end), w.end)
    # targets: (name, cohort mask)
    plan = [("hba1c", dia), ("total_cholesterol", dia), ("bp", dia | smi),
            ("smoking_status", smi), ("bmi", smi), ("alcohol_units_week", smi)]
    out_p, out_d, out_m, out_v = [], [], [], []

    def add(p, d, pairs):
        for meas, v in pairs:
            out_p.append(p)
            out_d.append(d)
            out_m.append(np.full(len(p), meas, dtype=object))
            out_v.append(v)

    for measure, mask in plan:
        for win in ("prior", "after"):
            lo = np.where(win == "prior", fc - 365, fc + 1)
            hi = np.where(win == "prior", fc - 1, np.minimum(fc + 365, last_day))
            measured = mask & (hi >= lo) & (rng.random(len(fc)) < TARGETS["p_measured"][win])
            met = rng.random(len(fc)) < TARGETS["p_met_if_measured"][win]
            sel = np.flatnonzero(measured)
            day = uniform_int(rng, lo[sel], hi[sel])
            vals = _values(rng, measure, met[sel])
            add(pid[sel], day, vals)
            # a same-day repeat: higher (or also failing) readings, so the lowest decides; for
            # blood pressure both readings higher, so the lowest pair is the deciding one
            rep = sel[rng.random(len(sel)) < 0.15]
            dpos = np.searchsorted(sel, rep)
            if measure == "bp":
                add(pid[rep], day[dpos], [(m, v[dpos] + rng.integers(1, 16, len(rep))) for m, v in vals])
            else:
                add(pid[rep], day[dpos], _values(rng, measure, np.zeros(len(rep), dtype=bool)))
            # an earlier reading in the window, of either kind
            ear = np.flatnonzero(rng.random(len(sel)) < 0.4)
            ear = ear[day[ear] > lo[sel][ear]]
            eday = uniform_int(rng, lo[sel][ear], day[ear] - 1)
            add(pid[sel][ear], eday, _values(rng, measure, rng.random(len(ear)) < 0.5))
            if measure == "bp":
                # a later systolic-only reading: ignored (blood pressure needs a same-day pair)
                lat = np.flatnonzero(rng.random(len(sel)) < 0.1)
                lat = lat[day[lat] < hi[sel][lat]]
                lday = uniform_int(rng, day[lat] + 1, hi[sel][lat])
                add(pid[sel][lat], lday, [("systolic_bp", rng.integers(100, 180, len(lat)).astype(float))])
        # readings on the first-contact day itself count in neither window
        onday = np.flatnonzero(mask & (rng.random(len(fc)) < 0.1))
        add(pid[onday], fc[onday], _values(rng, measure, rng.random(len(onday)) < 0.5))
    cm = pd.DataFrame({"patient_id": np.concatenate(out_p) if out_p else [],
                       "day": np.concatenate(out_d) if out_d else [],
                       "measure": np.concatenate(out_m) if out_m else [],
                       "value": np.concatenate(out_v) if out_v else []})
    cm = cm.sort_values(["patient_id", "day", "measure"], kind="stable")
    return pd.DataFrame({
        "patient_id": cm["patient_id"].to_numpy(), "measurement_date": to_date(cm["day"].to_numpy()),
        "measure": cm["measure"].to_numpy(), "value": cm["value"].to_numpy()})
