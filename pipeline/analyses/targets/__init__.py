"""Clinical targets met before and after first contact, by risk band: the contract's ``targets``
section (data contract section 2, *Clinical targets by risk band*), reproducing the Merton
evaluation's tables, then the analyses the published method lacks.

The published method, exactly (:mod:`.method`):

- **Index referral**: each patient's earliest referral *with a first_contact_date* (ties: the
  earlier first contact, then referral_id). Cohort membership (``diabetes`` /
  ``severe_mental_illness`` register flag) and the risk band are read from that referral; a
  missing register flag counts as "not on the register".
- **Eligible**: in the cohort, with a first contact, and ``first_contact_date + window_days <=
  extract_end`` (``window_days`` = 365 by default).
- **Windows**: prior = first contact - 365 .. first contact - 1 day; after = first contact + 1 ..
  first contact + 365 days. A measurement on the contact day is in neither.
- **Met**: the *latest* measurement of the target's measure in the window meets the target.
  Several readings of a measure on that latest date: the lowest counts (QOF's rule, which the
  contract states for blood pressure; applied to every measure so that ties never depend on file
  order). Blood pressure: the latest date in the window with *both* a systolic and a diastolic
  reading, the lowest of each on that date; met when systolic <= 140 and diastolic <= 80. No
  measurement in the window counts as *not met*.
- The table is, per risk band, the % of eligible patients meeting 0, 1, ..., T targets in each
  window. Targets and cohorts come from ``settings.targets`` (``config/defaults.yml``).
- Eligible patients without a risk band are not in any band's row; they are counted and
  reported (``detail.<cohort>.flow.missing_risk_band``).

Beyond the published method:

- **Not met vs not measured**, per target and window: measurement rises after first contact,
  and the published method counts "not measured" as "not met", so part of any apparent
  improvement is simply more testing.
- **Paired test per band**: Stuart–Maxwell test of marginal homogeneity on the prior x after
  table of the number of targets met. Chosen over the Wilcoxon signed-rank test because the
  published figures *are* the two marginal distributions of the same patients, the outcome is a
  short ordinal scale with heavy ties at 0 (Wilcoxon discards zero differences and leans on an
  interval reading of the scale), and Stuart–Maxwell tests exactly "did the distribution
  change?". The direction is shown by the share of patients who met more / fewer targets.
  Holm's correction across the bands of a cohort whose p-value is published.
- **Ordinal model across bands** (:mod:`.models`): proportional-odds logit of the number of
  targets met on period (after vs prior) and risk band (main effects: one common period odds
  ratio), plus a model with the period x band interaction (per-band odds ratios; joint Wald test
  of heterogeneity). Two rows per patient, so the standard errors are a patient-clustered
  sandwich (OrderedModel's observation scores summed by patient); no constant (OrderedModel's
  thresholds replace it). A cluster-robust logit of "at least one target met" is a robustness
  check.
- **Proportional-odds check** (:mod:`.proportional_odds`): a Brant-type test, one logit per
  cut-point with its own constant, slopes compared by clustered Wald tests (all terms, and the
  period alone), with the period's odds ratio at each cut-point.
- **Deaths in the after window** (optional ``deaths`` table): counted; the published method's
  "no measurement = not met" is kept for the contract figures, and the main model is refitted
  without those who died as a sensitivity analysis.
- **Checks** raised before the tables are read (:func:`.prose.flags`, judged on published
  figures): no patient in any band met all targets (as the Merton evaluation found and queried),
  small or empty bands, eligible patients with no risk band, and a rise in measurement after
  first contact of 10 percentage points or more for a target.

All of this is descriptive and uncontrolled: there is no comparison group, so a change cannot be
attributed to social prescribing, and people referred when their numbers are bad would show some
improvement anyway (regression to the mean).

The modules: :mod:`.method` (the published method's rules), :mod:`.models` (the models across
bands) and :mod:`.proportional_odds` (their check), :mod:`.cohorts` (``compute``: the raw, patient-level result), :mod:`.publication`
(``publish``: the section through the disclosure layer) and :mod:`.prose` (tables, checks,
reading and headlines from the published section).
"""

from __future__ import annotations

from ...sections import Section
from .cohorts import CohortRaw, TargetsRaw, compute
from .method import BAND_LABELS, BANDS, COHORT_LABELS, COHORTS, WINDOWS, describe
from .prose import band_table, flags, headlines, ran, reading
from .publication import publish

__all__ = ["BANDS", "BAND_LABELS", "COHORTS", "COHORT_LABELS", "CohortRaw", "SECTION", "TargetsRaw", "WINDOWS",
           "band_table", "compute", "describe", "flags", "headlines", "publish", "ran", "reading"]

SECTION = Section(
    name="targets",
    title="Clinical targets by risk band",
    notebook="50_targets",
    order=50,
    required=("referrals", "clinical_measurements"),
    needs="This section needs the `referrals` table (with the diabetes and SMI register flags, first contact dates "
          "and risk bands) and the `clinical_measurements` table.",
    contract=True,
    compute=lambda inputs: compute(inputs.whole, inputs.settings),
    publish=publish,
    reading=reading,
    headlines=headlines,
)
