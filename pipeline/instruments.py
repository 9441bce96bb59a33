"""The outcome instruments beyond ONS4 that ``outcome_measures`` may carry, as data: their items,
the range of each item's score, and the published scoring rules (``docs/methods-outcome-tools.md``
gives the sources).

- **SWEMWBS** (``swemwbs``): 7 items scored 1..5; the raw total 7..35 is converted to the Rasch
  metric score by the published conversion table (:data:`SWEMWBS_METRIC`, Stewart-Brown et al. 2009,
  Warwick Medical School).
- **EQ-5D-5L** (``eq5d5l``): 5 dimensions at levels 1..5 (1 = no problems) and the EQ VAS 0..100;
  the index from the England 5L value set (:data:`EQ5D5L_ENGLAND`, Devlin et al. 2018).
- **PAM** (``pam``): the 0..100 activation score and/or the level 1..4; a score's level by the
  published cut-points (:data:`PAM_LEVEL_CUTS`, Hibbard et al. 2005).
- **WSAS** (``wsas``): 5 items scored 0..8, total 0..40, in the published bands (:data:`WSAS_BANDS`,
  Mundt et al. 2002); higher is worse.
- **Well-being Star** (``wellbeing_star``): 8 areas scored 1..10 (Triangle's Outcomes Star for
  people self-managing a health condition).

Other instruments in ``outcome_measures`` are carried unchecked; ONS4's rules live in
:mod:`pipeline.contract` and are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Item:
    name: str
    low: float
    high: float
    whole: bool = True  # only whole numbers are valid scores
    label: str = ""


@dataclass(frozen=True)
class Instrument:
    name: str  # the value of outcome_measures.instrument
    title: str
    items: tuple[Item, ...]

    @property
    def item_names(self) -> list[str]:
        return [i.name for i in self.items]

    def item(self, name: str) -> Item:
        return next(i for i in self.items if i.name == name)


def _items(names_labels: tuple[tuple[str, str], ...], low: int, high: int) -> tuple[Item, ...]:
    return tuple(Item(n, low, high, True, label) for n, label in names_labels)


SWEMWBS = Instrument("swemwbs", "SWEMWBS (mental wellbeing)", _items((
    ("optimistic", "Feeling optimistic about the future"), ("useful", "Feeling useful"),
    ("relaxed", "Feeling relaxed"), ("dealing_with_problems", "Dealing with problems well"),
    ("thinking_clearly", "Thinking clearly"), ("close_to_others", "Feeling close to other people"),
    ("own_mind", "Able to make up my own mind about things")), 1, 5))

EQ5D_DIMENSIONS = (("mobility", "Mobility"), ("self_care", "Self-care"), ("usual_activities", "Usual activities"),
                   ("pain_discomfort", "Pain / discomfort"), ("anxiety_depression", "Anxiety / depression"))
EQ5D5L = Instrument("eq5d5l", "EQ-5D-5L (health-related quality of life)",
                    _items(EQ5D_DIMENSIONS, 1, 5) + (Item("vas", 0, 100, True, "EQ VAS (0 worst - 100 best health)"),))

PAM = Instrument("pam", "Patient Activation Measure", (
    Item("score", 0, 100, False, "PAM score (0-100)"), Item("level", 1, 4, True, "PAM level (1-4)")))

WSAS = Instrument("wsas", "Work and Social Adjustment Scale", _items((
    ("work", "Work"), ("home_management", "Home management"), ("social_leisure", "Social leisure activities"),
    ("private_leisure", "Private leisure activities"), ("close_relationships", "Close relationships")), 0, 8))

WELLBEING_STAR = Instrument("wellbeing_star", "Well-being Star", _items((
    ("lifestyle", "Lifestyle"), ("looking_after_yourself", "Looking after yourself"),
    ("managing_symptoms", "Managing symptoms"), ("work_volunteering", "Work, volunteering and other activities"),
    ("money", "Money"), ("where_you_live", "Where you live"), ("family_and_friends", "Family and friends"),
    ("feeling_positive", "Feeling positive")), 1, 10))

#: instrument name -> its definition, in the report's order
INSTRUMENTS: dict[str, Instrument] = {i.name: i for i in (SWEMWBS, EQ5D5L, PAM, WSAS, WELLBEING_STAR)}

# ------------------------------------------------------------------------------------ SWEMWBS
#: raw total (7..35) -> metric score: the SWEMWBS conversion table (Stewart-Brown et al. 2009,
#: Health Qual Life Outcomes 7:15; Warwick Medical School's scoring guidance)
SWEMWBS_METRIC: dict[int, float] = {
    7: 7.00, 8: 9.51, 9: 11.25, 10: 12.40, 11: 13.33, 12: 14.08, 13: 14.75, 14: 15.32, 15: 15.84,
    16: 16.36, 17: 16.88, 18: 17.43, 19: 17.98, 20: 18.59, 21: 19.25, 22: 19.98, 23: 20.73, 24: 21.54,
    25: 22.35, 26: 23.21, 27: 24.11, 28: 25.03, 29: 26.02, 30: 27.03, 31: 28.13, 32: 29.31, 33: 30.70,
    34: 32.55, 35: 35.00,
}
#: the change on the metric scale counted as meaningful: the upper end of the 1-3 points at which
#: individual change is statistically important (Shah et al. 2018, Health Qual Life Outcomes 16:239;
#: Maheswaran et al. 2012 for WEMWBS), so the share improving is not flattered
SWEMWBS_MEANINGFUL_CHANGE = 3.0


def swemwbs_metric(raw_total: pd.Series | np.ndarray) -> np.ndarray:
    """Metric scores of raw totals (NaN where the total is missing or not 7..35)."""
    raw = np.asarray(raw_total, dtype="float64")
    table = np.full(36, np.nan)
    for k, v in SWEMWBS_METRIC.items():
        table[k] = v
    ok = np.isfinite(raw) & (raw >= 7) & (raw <= 35) & (raw == np.round(raw))
    out = np.full(raw.shape, np.nan)
    out[ok] = table[raw[ok].astype(np.int64)]
    return out


# ------------------------------------------------------------------------------------ EQ-5D-5L
#: decrements per dimension at levels 2..5 of the England EQ-5D-5L value set (Devlin et al. 2018,
#: Health Economics 27:7-22, doi:10.1002/hec.3564); index = 1 - the sum of the five decrements, so
#: 11111 is 1 and 55555 is -0.285
EQ5D5L_ENGLAND: dict[str, tuple[float, float, float, float]] = {
    "mobility": (0.058, 0.076, 0.207, 0.274),
    "self_care": (0.050, 0.080, 0.164, 0.203),
    "usual_activities": (0.050, 0.063, 0.162, 0.184),
    "pain_discomfort": (0.063, 0.084, 0.276, 0.335),
    "anxiety_depression": (0.078, 0.104, 0.285, 0.289),
}


def eq5d5l_index(levels: pd.DataFrame) -> np.ndarray:
    """The England 5L index of each row of ``levels`` (one column per dimension, levels 1..5);
    NaN where a dimension is missing or not 1..5."""
    total = np.zeros(len(levels))
    for dim, dec in EQ5D5L_ENGLAND.items():
        lv = pd.to_numeric(levels[dim], errors="coerce").to_numpy(dtype="float64")
        ok = np.isfinite(lv) & (lv >= 1) & (lv <= 5) & (lv == np.round(lv))
        d = np.full(len(lv), np.nan)
        d[ok] = np.r_[0.0, dec][lv[ok].astype(np.int64) - 1]
        total = total + d
    return np.round(1.0 - total, 3)


# ------------------------------------------------------------------------------------ PAM
#: upper bound of levels 1..3 on the 0..100 score (level 1 <= 47.0, level 2 47.1-55.1, level 3
#: 55.2-67.0, level 4 >= 67.1; Hibbard et al. 2005, Health Serv Res 40:1918-30)
PAM_LEVEL_CUTS = (47.0, 55.1, 67.0)


def pam_level(score: pd.Series | np.ndarray) -> np.ndarray:
    """PAM level (1..4) of scores 0..100 (NaN where missing); scores are reported to one decimal."""
    s = np.round(np.asarray(score, dtype="float64"), 1)
    out = np.full(s.shape, np.nan)
    ok = np.isfinite(s)
    out[ok] = 1 + np.searchsorted(np.array(PAM_LEVEL_CUTS), s[ok], side="left")
    return out


# ------------------------------------------------------------------------------------ WSAS
#: total score bands (Mundt et al. 2002, Br J Psychiatry 180:461-4): below 10 subclinical,
#: 10-20 significant impairment, above 20 moderately severe or worse
WSAS_BANDS = (("below_10", 0, 9), ("10_to_20", 10, 20), ("above_20", 21, 40))


def wsas_band(total: pd.Series | np.ndarray) -> np.ndarray:
    """Band index (0, 1, 2 in :data:`WSAS_BANDS` order) of totals 0..40; -1 where missing."""
    t = np.asarray(total, dtype="float64")
    out = np.full(t.shape, -1, dtype=np.int64)
    ok = np.isfinite(t)
    out[ok] = np.searchsorted(np.array([9.5, 20.5]), t[ok])
    return out


# ------------------------------------------------------------------------------------ Well-being Star
#: one stage of the Star's five-stage Journey of Change spans two points of the 1..10 scale; a
#: change of at least this much is counted as meaningful (there is no published minimal
#: important difference for the Star)
STAR_MEANINGFUL_CHANGE = 2.0
