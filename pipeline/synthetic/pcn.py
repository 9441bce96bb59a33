"""The PCN-quarter panel (pcn_quarterly) for the workforce regressions: each PCN's registered
population, link-worker FTE growing over the extract, and A&E attendances and non-elective cost
with the planted workforce slopes, PCN effects, winter peaks and noise. A hospital service gets
the seed's panel: its PCNs over three financial years (2021Q2 to 2024Q1)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .planted import WORKFORCE
from .world import World


def pcn_quarterly(w: World) -> pd.DataFrame:
    rng, a = w.rng, w.area
    if w.hospital:  # the seed's panel: 17 PCNs over three financial years
        q = pd.period_range("2021Q2", "2024Q1", freq="Q")
    else:
        q = pd.period_range(pd.Timestamp(a.extract_start).to_period("Q"), pd.Timestamp(a.extract_end).to_period("Q"), freq="Q")
    pcn_pop = w.practices.groupby("pcn", sort=False)["weight"].sum().reindex(list(a.pcns)).to_numpy() * a.population
    rows = []
    t = np.linspace(0, 1, len(q))
    season = np.where(q.quarter == 1, 500.0, np.where(q.quarter == 4, 300.0, 0.0))  # winter pressure
    for i, pcn in enumerate(a.pcns):
        pop = pcn_pop[i] * (1 + 0.003 * np.arange(len(q)))
        fte0 = rng.uniform(0.4, 1.2) * pop[0] / 50_000
        fte = np.round(np.maximum(fte0 * (1 + 1.2 * t) + rng.normal(0, 0.15, len(q)), 0), 1)
        per = fte / pop * 100_000
        ae_rate = rng.normal(7000, 600) + season + WORKFORCE["ae_per_100k_per_fte_per_100k"] * per + rng.normal(0, 250, len(q))
        cost_rate = (rng.normal(6.5e6, 5e5) + season * 2000
                     + WORKFORCE["cost_gbp_per_100k_per_fte_per_100k"] * per + rng.normal(0, 2e5, len(q)))
        rows.append(pd.DataFrame({
            "pcn": pcn, "quarter_start": q.start_time, "registered_population": np.round(pop).astype(int),
            "splw_fte": fte, "ae_attendances": np.round(np.maximum(ae_rate, 0) * pop / 100_000).astype(int),
            "nonelective_cost_gbp": np.round(np.maximum(cost_rate, 0) * pop / 100_000, 0)}))
    return pd.concat(rows, ignore_index=True)
