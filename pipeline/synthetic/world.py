"""One synthetic area being drawn: its settings, the shared random stream, and what the tables drawn
so far leave for the later ones (patients, referrals, deaths, hospital spells, contacts)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..areas import Area
from .draws import table_stream


@dataclass
class World:
    area: Area
    n_referrals: int
    rng: np.random.Generator  # the shared stream (see pipeline.synthetic.build for its order)
    start: int  # extract_start and extract_end as day numbers
    end: int
    practices: pd.DataFrame  # practice_code, pcn, weight (share of the area's patients)
    # filled in by the steps of pipeline.synthetic.build, in order
    pats: pd.DataFrame = field(default=None, repr=False)  # one row per patient: covariates, practice
    ref: pd.DataFrame = field(default=None, repr=False)  # one row per referral (patient_idx into pats)
    death: np.ndarray = field(default=None, repr=False)  # day of death per patient, -1 for none
    spells: pd.DataFrame = field(default=None, repr=False)  # hospital spells (patient_idx, adm, dis, ...)
    contacts: pd.DataFrame = field(default=None, repr=False)  # sp contacts (ref_pos into ref, day, ...)

    @property
    def hospital(self) -> bool:
        """A hospital service (Norfolk & Waveney), not a PCN link-worker service."""
        return self.area.kind == "hospital"

    def stream(self, table: str) -> np.random.Generator:
        """A new table's own random stream (:func:`pipeline.synthetic.draws.table_stream`)."""
        return table_stream(self.area.slug, table)
