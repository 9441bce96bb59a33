"""The matched difference in differences: referred patients' change in GP use against their
matched comparison patients' change over the same calendar days.

**Before** is the baseline window, days -365..-183 (``baseline_window_days``), which *excludes the
six months of pre-referral rise*; **after** is days +1..+365 (``after_window_days``), cut at the
extract's end and at death (exposure offsets allow for it). The rate ratio is exp(after x
referred) from a conditional fixed-effects Poisson (patient effects, log exposure offset,
comparison patients weighted 1/number matched to that referred patient), with the sandwich
clustered by matched set. This is the **causal-leaning** estimate: it compares like with like over
the same calendar days and avoids the pre-referral peak. It still assumes that, without referral,
matched patients' GP use would have changed in the same proportion (parallel trends), and matching
cannot balance what is not recorded (why this patient was referred and that one was not).

Sensitivity analyses: a pooled negative-binomial model of the same difference in differences, and
the same matched DiD with "before" = days -365..-1, which includes the pre-referral rise and is
biased towards finding a reduction; the gap between the two shows how much the peak matters.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..poisson_fe import poisson_fe
from ..stats import Z95, FitResult
from .balance import Mean, Share
from .counter import AppointmentCounter
from .event_study import EventStudyRaw
from .matching import MatchRaw
from .negbin import nb2

if TYPE_CHECKING:
    from .trends import PreTrends

DID_METHOD = ("conditional fixed-effects Poisson (patient effects) of appointments in the baseline and after "
              "windows, log exposure offset, comparison patients weighted 1/(number matched to the same referred "
              "patient); sandwich standard errors clustered by matched set; rate ratio = exp(after x referred)")
NB_METHOD = ("pooled negative binomial (NB2, dispersion estimated by maximum likelihood), referred + after + after "
             "x referred, log exposure offset, comparison patients weighted 1/(number matched) as in the main model, "
             "sandwich standard errors clustered by matched set")
GROUPS = ((1, "referred"), (0, "comparison"))
PERIODS = ((0, "before"), (1, "after"))


def did_panel(units: pd.DataFrame, counter: AppointmentCounter, start: int, end: int,
              before: tuple[int, int], after: tuple[int, int]) -> pd.DataFrame:
    """Two rows per unit (post = 0 before, 1 after): appointments and days of exposure."""
    out = []
    d = units["index_day"].to_numpy(dtype=np.int64)
    last = np.minimum(units["end_day"].to_numpy(dtype=np.int64), end)
    y = counter.windows(counter.codes(units["patient_id"]), d, [before, after], clip_lo=start, clip_hi=last)
    # the ids as integers (numbered by first appearance, so numbering them again in the panel
    # gives the numbers the text would): the fits group and cluster on these, not on text
    patient_code = pd.factorize(units["patient_id"].to_numpy(dtype=object))[0].astype(np.int32)
    set_code = pd.factorize(units["set_id"].to_numpy(dtype=object))[0].astype(np.int32)
    for post, (w0, w1) in ((0, before), (1, after)):
        lo = np.maximum(d + w0, start)
        hi = np.minimum(d + w1, last)
        out.append(pd.DataFrame({"patient_id": units["patient_id"].to_numpy(), "set_id": units["set_id"].to_numpy(),
                                 "treated": units["treated"].to_numpy(), "weight": units["weight"].to_numpy(),
                                 "post": post, "y": y[:, post], "exposure": np.maximum(hi - lo + 1, 0),
                                 "patient_code": patient_code, "set_code": set_code}))
    p = pd.concat(out, ignore_index=True)
    return p[p["exposure"] > 0].reset_index(drop=True)


def fit_did(panel: pd.DataFrame) -> FitResult | None:
    """The main model: exp(after x referred) is the rate ratio (``post_x_referred``)."""
    if panel.empty or panel["treated"].nunique() < 2:
        return None
    X = pd.DataFrame({"post": panel["post"].astype(float),
                      "post_x_referred": (panel["post"] * panel["treated"]).astype(float)})
    return poisson_fe(panel["y"].to_numpy(), X, panel["patient_code"].to_numpy(),
                      offset=np.log(panel["exposure"].to_numpy(dtype=float)),
                      clusters=panel["set_code"].to_numpy(), weights=panel["weight"].to_numpy())


def fit_did_nb(panel: pd.DataFrame) -> dict:
    """Pooled NB2 DiD, weighted like the main model (comparison patients 1/number matched), with the
    dispersion alpha estimated by maximum likelihood and a sandwich clustered by matched set
    (:func:`.negbin.nb2`)."""
    from scipy import stats as st

    out = {"method": NB_METHOD, "status": "not_estimable", "estimate": float("nan"), "lo": float("nan"),
           "hi": float("nan"), "p": float("nan"), "alpha": float("nan")}
    if panel.empty or panel["treated"].nunique() < 2 or panel["y"].sum() == 0:
        return out
    X = np.column_stack([np.ones(len(panel)), panel["treated"].to_numpy(dtype=float),
                         panel["post"].to_numpy(dtype=float),
                         (panel["post"] * panel["treated"]).to_numpy(dtype=float)])
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            fit = nb2(panel["y"].to_numpy(dtype=float), X, panel["exposure"].to_numpy(dtype=float),
                      panel["weight"].to_numpy(dtype=float), panel["set_code"].to_numpy())
    except (np.linalg.LinAlgError, ValueError, OverflowError) as e:  # a sensitivity analysis must not stop the report
        out["reason"] = f"fit failed: {type(e).__name__}"
        return out
    b = float(fit.params[3])
    se = math.sqrt(fit.cov[3, 3]) if fit.cov[3, 3] > 0 else math.nan
    if not (fit.converged and np.isfinite(b) and np.isfinite(se)):
        out["reason"] = "did not converge"
        return out
    out.update(status="ok", estimate=math.exp(b), lo=math.exp(b - Z95 * se), hi=math.exp(b + Z95 * se),
               p=float(2 * st.norm.sf(abs(b / se))), alpha=fit.alpha)
    return out


@dataclass
class GroupSums:
    """One group's appointments and days of exposure in one window, weighted (comparison patients
    1/number matched), and the people behind them."""

    appointments: float  # weighted
    exposure_days: float  # weighted
    n: int  # people with exposure in the window


def group_sums(panel: pd.DataFrame) -> dict[tuple[str, str], GroupSums]:
    """{(group, period): weighted appointments and exposure}, for the published rates."""
    out = {}
    for t, name in GROUPS:
        for post, period in PERIODS:
            p = panel[(panel["treated"] == t) & (panel["post"] == post)]
            out[(name, period)] = GroupSums(float((p["y"] * p["weight"]).sum()),
                                            float((p["exposure"] * p["weight"]).sum()), int(len(p)))
    return out


def died_in_after_window(units: pd.DataFrame, death_day: np.ndarray, after: tuple[int, int],
                         end: int) -> dict[str, int]:
    """Matched patients, by group, who died in the after window (inside the extract): their
    follow-up, and so their exposure, ends at death, so they do not count as having no
    appointments after it."""
    d = units["index_day"].to_numpy(dtype=np.int64)
    died = (death_day >= d + after[0]) & (death_day <= np.minimum(d + after[1], end))
    treated = units["treated"].to_numpy() == 1
    return {"referred": int((died & treated).sum()), "comparison": int((died & ~treated).sum())}


@dataclass
class DidRaw:
    match: MatchRaw
    fit: FitResult | None
    nb: dict
    rates: dict[tuple[str, str], GroupSums]
    peak: FitResult | None  # "before" = days -365..-1 (includes the pre-referral rise)
    balance: dict[str, Share | Mean]
    event_comparison: EventStudyRaw | None
    before: tuple[int, int]
    after: tuple[int, int]
    placebo: FitResult | None = None  # "before" and "after" both inside the baseline window
    pre_trends: "PreTrends | None" = None
    died: dict[str, int] | None = None  # died in the after window, by group (None: no deaths table)

