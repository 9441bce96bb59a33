"""GP appointments before and after referral: the contract's ``gp_appointments`` section (data
contract section 2, *GP appointment variance*), reproducing the Merton evaluation's "% activity
variance" by financial-year cohort, then a patient-level model and a matched comparison.

Why the published figure is not an effect: people are referred *because* something is going
on, and their GP use rises in the months before referral (in the synthetic data by 20% in the
second quarter before and 50% in the quarter before). Comparing the year after with the
months just before mixes any effect of social prescribing with that peak falling back
(regression to the mean), so the published variance overstates any reduction.

The modules, in the order the analysis runs:

- :mod:`.counter`      the appointments, held once and counted in many windows
- :mod:`.patients`     index referrals, the extract's days, days of death
- :mod:`.variance`     the published method: % variance by cohort, as a ratio of sums
- :mod:`.event_study`  GP use quarter by quarter around referral
- :mod:`.matching`     the matched comparison group
- :mod:`.did`          the matched difference in differences and its sensitivity analyses
- :mod:`.negbin`       the weighted negative-binomial check
- :mod:`.trends`       checks of the parallel-trends assumption
- :mod:`.balance`      how alike the matched groups are
- :mod:`.analysis`     the extract to the raw (patient-level) result
- :mod:`.publish`      the published figures, through the disclosure layer
- :mod:`.prose`        the reading and the executive summary's rows
- :mod:`.charts`       the numbers each chart draws, as tables
"""

from __future__ import annotations

from ...sections import Section
from .analysis import GPRaw, compute, matched_did
from .charts import event_study_table, variance_chart_table, window_label
from .patients import COMPARISON
from .prose import headlines, reading, trends_reading
from .publish import publish

__all__ = ["SECTION", "GPRaw", "compute", "event_study_table", "headlines", "matched_did", "publish", "reading",
           "trends_reading", "variance_chart_table", "window_label"]

SECTION = Section(
    name="gp_appointments",
    title="GP appointments before and after referral",
    notebook="60_gp_appointments",
    order=60,
    required=("referrals", "gp_appointments"),
    optional=(COMPARISON, "deaths"),
    needs="This section needs the `referrals` and `gp_appointments` tables (and, for the matched comparison, "
          "`comparison_patients`).",
    contract=True,
    compute=lambda inputs: compute(inputs.whole, inputs.settings),
    publish=publish,
    reading=reading,
    headlines=headlines,
)
