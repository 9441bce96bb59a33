"""The models across risk bands: a proportional-odds (cumulative logit) model of the number of
targets met on period and risk band, with and without the period x band interaction, a logit of
"at least one target met", and the check of the proportional-odds assumption
(:mod:`.proportional_odds`); two rows per patient, patient-clustered standard errors."""

from __future__ import annotations

import pandas as pd

from ..stats import FitResult, logit_cluster, ordinal_logit_cluster
from .method import BANDS
from .proportional_odds import POCheck, brant_check

REFERENCE_BAND = "low"
MODEL_METHOD = (
    "Proportional-odds (cumulative logit) model of the number of targets met on period (after vs "
    "prior) and risk band, two rows per patient, statsmodels OrderedModel with no constant; "
    "patient-clustered sandwich standard errors (cov_type='cluster' on the per-observation scores "
    "summed by patient). Interaction model for per-band odds ratios; Wald test of heterogeneity."
)


def band_design(df: pd.DataFrame, bands: list[str], ref: str, interaction: bool) -> pd.DataFrame:
    """Columns ``after``, ``band_<b>`` (every band but ``ref``) and, with ``interaction``,
    ``after_x_<b>``."""
    X = pd.DataFrame({"after": df["after"].astype(float)})
    for b in bands:
        if b != ref:
            X[f"band_{b}"] = (df["risk_band"] == b).astype(float)
    if interaction:
        for b in bands:
            if b != ref:
                X[f"after_x_{b}"] = X["after"] * X[f"band_{b}"]
    return X


def long_format(patients: pd.DataFrame) -> pd.DataFrame:
    """Two rows per patient with a risk band: ``met`` (targets met) with ``after`` 0 and 1."""
    p = patients[patients["risk_band"].isin(BANDS)]
    a = p[["patient_id", "risk_band", "met_prior"]].rename(columns={"met_prior": "met"}).assign(after=0)
    b = p[["patient_id", "risk_band", "met_after"]].rename(columns={"met_after": "met"}).assign(after=1)
    return pd.concat([a, b], ignore_index=True)


def _bands(long: pd.DataFrame) -> tuple[list[str], str]:
    """The bands with patients, and the reference band (``low``, or else the largest)."""
    present = [b for b in BANDS if (long["risk_band"] == b).any()]
    return present, REFERENCE_BAND if REFERENCE_BAND in present else long["risk_band"].value_counts().index[0]


def fit_models(patients: pd.DataFrame) -> tuple[FitResult | None, FitResult | None, FitResult | None, str | None]:
    """Ordinal main-effects and interaction models, the '>= 1 target met' logit, and the
    reference band."""
    long = long_format(patients)
    if long.empty:
        return None, None, None, None
    present, ref = _bands(long)
    groups = long["patient_id"].to_numpy()
    y = long["met"].to_numpy()
    main = ordinal_logit_cluster(y, band_design(long, present, ref, False), groups)
    inter = ordinal_logit_cluster(y, band_design(long, present, ref, True), groups) if len(present) > 1 else None
    anyt = logit_cluster((y > 0).astype(float), band_design(long, present, ref, False), groups)
    return main, inter, anyt, ref


def fit_main(patients: pd.DataFrame) -> FitResult | None:
    """The ordinal main-effects model alone (a sensitivity analysis on a subset of patients)."""
    long = long_format(patients)
    if long.empty:
        return None
    present, ref = _bands(long)
    return ordinal_logit_cluster(long["met"].to_numpy(), band_design(long, present, ref, False),
                                 long["patient_id"].to_numpy())


def proportional_odds_check(patients: pd.DataFrame) -> POCheck | None:
    """The Brant-type check of the main model's proportional-odds assumption (same terms)."""
    long = long_format(patients)
    if long.empty:
        return None
    present, ref = _bands(long)
    return brant_check(long["met"].to_numpy(), band_design(long, present, ref, False), long["patient_id"].to_numpy())
