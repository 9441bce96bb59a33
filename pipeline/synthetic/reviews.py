"""The caseload_reviews table: link workers' RAG rating of each case at its first attended contact
and at later attended contacts, moving from review to review by a planted transition matrix (a
drift from red towards green), with safeguarding escalations more likely at red reviews
(:data:`~pipeline.synthetic.planted.CASELOAD`). Drawn from the table's own stream, for every area
(the rating guidance comes from a hospital-based service)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .draws import choice, to_date
from .planted import CASELOAD
from .world import World

RATINGS = ("red", "amber", "green")


def _next_rating(rng: np.random.Generator, current: np.ndarray) -> np.ndarray:
    """One step of the planted transition matrix for each current rating."""
    out = current.copy()
    u = rng.random(len(current))
    for r in RATINGS:
        row = CASELOAD["transition"][r]
        cum = np.cumsum([row[t] for t in RATINGS])
        here = current == r
        out[here] = np.array(RATINGS, dtype=object)[np.searchsorted(cum, u[here] * cum[-1], side="right")]
    return out


def caseload_reviews(w: World) -> pd.DataFrame:
    rng = w.stream("caseload_reviews")
    c = w.contacts
    att = c.loc[c["status"].eq("attended"), ["ref_pos", "day"]].drop_duplicates().sort_values(
        ["ref_pos", "day"], kind="stable").reset_index(drop=True)
    first = ~att["ref_pos"].duplicated().to_numpy()
    rv = att[first | (rng.random(len(att)) < CASELOAD["review_probability"])].reset_index(drop=True)
    pos = rv.groupby("ref_pos").cumcount().to_numpy()
    rating = np.empty(len(rv), dtype=object)
    rating[pos == 0] = choice(rng, CASELOAD["first_rating"], int((pos == 0).sum()))
    for k in range(1, int(pos.max(initial=0)) + 1):
        here = np.flatnonzero(pos == k)
        rating[here] = _next_rating(rng, rating[here - 1])
    p_esc = pd.Series(rating).map(CASELOAD["escalation_probability"]).to_numpy(dtype=float)
    escalated = pd.array(rng.random(len(rv)) < p_esc, dtype="boolean")
    escalated[rng.random(len(rv)) < CASELOAD["escalation_missing"]] = pd.NA
    return pd.DataFrame({"referral_id": w.ref["referral_id"].to_numpy()[rv["ref_pos"].to_numpy()],
                         "review_date": to_date(rv["day"].to_numpy()), "rag_rating": rating,
                         "safeguarding_escalation": escalated})
