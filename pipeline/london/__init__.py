"""The London-wide comparison: funnel plots and ranked tables built from every borough's
published ``reports/<borough>/results.json`` (data contract section 3), never from patient rows.

What is compared (one funnel plot and one ranked table per indicator):

- **referral rate** per 1,000 registered patients a year: a Poisson rate, referrals
  (``activity.referrals``) over person-years registered (``activity.referral_rates``:
  ``registered_population`` x ``years``);
- **missed or cancelled appointments** (``activity.dna_or_cancelled_pct`` of
  ``activity.contacts_booked``): a binomial proportion;
- **ONS4 change**, one indicator per item (``wellbeing.ons4.<item>``): a mean change over
  ``n_pairs`` people, its standard error taken from the published 95% CI (a t-interval);
- **30-day readmission** (``readmission.cif_30d_pct`` over ``n_index`` people): treated as a
  binomial proportion (the Aalen-Johansen estimate allows for censoring; the funnel does not);
- **GP appointment variance** as a ratio, appointments after / before referral
  (``1 + variance_pct / 100``) over 12 months for one financial-year cohort, on the log scale.
  Its precision comes from a published 95% CI (``variance_pct_ci95`` or ``ratio_ci95``) or from
  the before and after appointment totals (``appointments_before`` / ``appointments_after``,
  Poisson) published beside ``variance_pct`` (``gp_appointments.variance_detail[<cohort>][<window>]``);
  a borough that publishes only ``variance_pct`` cannot be placed on a funnel and is skipped
  with a note.

Funnel limits (Spiegelhalter 2005, *Funnel plots for comparing institutional performance*):
the target is the pooled London value; 95% and 99.8% limits are exact binomial / Poisson
quantiles with Spiegelhalter's interpolation for proportions and rates, and the target +/- z x
the pooled standard deviation / sqrt(n) for means (on the log scale: +/- z x SE for ratios).
When the boroughs vary more than chance allows (overdispersion, estimated from 10%-winsorised
z-scores), additive random-effects limits are also drawn and a borough is read against both.

Every figure here is already disclosure-controlled in the borough's results.json: a ``null``
(suppressed) value or base skips the borough for that indicator with a note, and no count
below the publication threshold is ever derived or printed. Boroughs built with disclosure
control switched off are left out entirely.

The modules: :mod:`.read` (the boroughs' results.json files, and which are compared),
:mod:`.indicators` (each borough's point for each indicator), :mod:`pipeline.funnel` (limits, intervals,
overdispersion), :mod:`.compare` (one indicator across boroughs: London's value, positions,
ranks), :mod:`.readings` (the words), :mod:`.figures` (funnel plots), :mod:`.results`
(results.json), :mod:`.page` with ``page.html.j2`` (index.html) and :mod:`.report` (the build,
published atomically).
"""

from __future__ import annotations

from .. import paths
from ..funnel import binomial_limits, overdispersion, poisson_interval, poisson_limits, wilson_interval
from .compare import Comparison, Row, compare, limits_at
from .indicators import Indicator, Point, gp_ratio, indicators
from .read import LONDON_BOROUGHS, LondonError, display_name, read_all
from .report import build

__all__ = ["LONDON_BOROUGHS", "Comparison", "Indicator", "LondonError", "Point", "Row", "binomial_limits", "build",
           "compare", "display_name", "gp_ratio", "indicators", "limits_at", "overdispersion", "paths",
           "poisson_interval", "poisson_limits", "read_all", "wilson_interval"]
