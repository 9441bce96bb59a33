"""Activities, outputs and participants: the contract's ``activity`` section and who was reached.

Definitions are the contract's (section 2, *Activity*): referrals are rows of ``referrals``;
patients are distinct ``patient_id``; patients seen have at least one attended contact;
contacts booked are rows of ``sp_contacts``; DNA/cancelled % is (dna + cancelled) / booked;
the mean attended contacts per patient seen is attended / patients seen (from the rounded
counts); the median wait is over referrals with a first contact; referrals by month use the
``YYYY-MM`` of ``referral_date``.

The section is built by concept, each module computing its raw figures and publishing them
through the section's :class:`~pipeline.disclosure.Release`, tied to the same cells:

- :mod:`.referrals`: counts by month, practice within PCN, source and reason; rates per 1,000
  registered; the monthly target band; first referrals and re-referrals;
- :mod:`.pathway`: the wait to first contact and closures;
- :mod:`.contacts`: appointments by type and status, their length, by month; people seen;
- :mod:`.participants`: who was referred, Core20, referred people against the comparison pool;
- :mod:`.signposting`: signposting and the unmet-needs gap report;
- :mod:`.figures`: the ties and figures the section needs beyond the Release's own;
- :mod:`.prose`: the reading and the executive summary's rows.

Extra keys (the contract allows additions): ``period_covered``, ``referral_target`` (months below /
within / above the band of ``extract.yml``, judged on the published monthly counts),
``referrals_by_practice``, ``referrals_by_pcn``, ``referrals_by_source``, ``referrals_by_reason``,
``referral_rates`` (per 1,000 registered over the period and a year; by PCN from
``pcn_quarterly``), ``new_vs_rereferrals`` (a re-referral is a patient's second or later referral
in the whole extract), ``patients_seen_pct``, ``contacts_by_type``, ``attended_contacts_by_type``,
``spc`` (each monthly series as a Making Data Count XmR chart: limits, variation and assurance icons,
the months special causes flag, derived from the published months; :mod:`.spc`), ``monthly`` (per
month: referrals, appointments booked, % missed or cancelled, median days to
first contact), ``wait``, ``closures``, ``signposting``, ``unmet_needs``, ``participants``,
``participants_pct``, ``participants_summary`` (Core20) and ``participants_vs_registered``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ...config import Settings
from ...contract import CATEGORIES  # noqa: F401  (re-exported: tests and notebooks order by it)
from ...disclosure import Release
from ...disclosure.release import OTHER  # noqa: F401  (re-exported for notebooks)
from ...extract import Extract
from ...sections import Section
from .contacts import ContactsRaw, compute_contacts, publish_contacts
from .participants import (  # noqa: F401  (re-exported for notebooks)
    AGE_BANDS,
    BOOLEAN_COLUMNS,
    PARTICIPANT_COLUMNS,
    POOL_COLUMNS,
    ParticipantsRaw,
    age_band,
    compute_participants,
    publish_participants,
)
from .pathway import PathwayRaw, compute_pathway, publish_closures, publish_wait
from .prose import LABELS, headlines, participants_reading, reading  # noqa: F401
from .referrals import ReferralsRaw, compute_referrals, month_range, publish_referrals
from .signposting import (
    SignpostingRaw,
    UnmetRaw,
    compute_signposting,
    compute_unmet,
    publish_signposting,
    publish_unmet,
)
from .spc import publish as publish_spc

CONTRACT_KEYS = ("referrals", "patients", "patients_seen", "contacts_booked", "contacts_attended",
                 "dna_or_cancelled_pct", "mean_attended_contacts_per_patient_seen",
                 "median_days_referral_to_first_contact", "referrals_by_month")


@dataclass
class ActivityRaw:
    """Raw (exact, never published) activity figures, by concept."""

    refs: ReferralsRaw
    pathway: PathwayRaw
    contacts: ContactsRaw
    participants: ParticipantsRaw
    signposting: SignpostingRaw | None = None
    unmet_needs: UnmetRaw | None = None

    # the contract's figures
    @property
    def referrals(self) -> int:
        return self.refs.referrals

    @property
    def patients(self) -> int:
        return self.refs.patients

    @property
    def patients_seen(self) -> int:
        return self.contacts.patients_seen

    @property
    def contacts_booked(self) -> int:
        return self.contacts.booked

    @property
    def contacts_attended(self) -> int:
        return self.contacts.status["attended"]

    @property
    def contacts_dna(self) -> int:
        return self.contacts.status["dna"]

    @property
    def contacts_cancelled(self) -> int:
        return self.contacts.status["cancelled"]

    @property
    def waits_days(self) -> pd.Series:
        return self.pathway.waits_days

    @property
    def referrals_by_month(self) -> dict[str, int]:
        return self.refs.by_month


def compute(extract: Extract, settings: Settings | None = None, history: Extract | None = None) -> ActivityRaw:
    """Raw activity figures for ``extract`` (the period's extract in a period report).

    ``history``: the whole extract, to tell a patient's first referral from a re-referral when
    ``extract`` is restricted to a period (default: ``extract`` itself)."""
    months = month_range(extract.config.start, extract.config.end)
    refs = compute_referrals(extract, history)
    return ActivityRaw(
        refs=refs,
        pathway=compute_pathway(extract, months),
        contacts=compute_contacts(extract, months),
        participants=compute_participants(extract),
        signposting=compute_signposting(extract),
        unmet_needs=compute_unmet(extract, list(refs.by_pcn)),
    )


def publish(raw: ActivityRaw, rel: Release) -> dict:
    """The contract's ``activity`` section (its keys first), then the extra keys."""
    refs, core = publish_referrals(raw.refs, rel)
    contacts, contacts_monthly = publish_contacts(raw.contacts, rel, core)
    wait, wait_monthly = publish_wait(raw.pathway, rel, core)
    extra = {**refs, **contacts, "median_days_referral_to_first_contact": wait["median_days"]}
    out = {k: extra.pop(k) for k in CONTRACT_KEYS}
    out.update(extra)
    out["monthly"] = {m: {"referrals": rel.count(core.months[m]), **contacts_monthly[m],
                          "median_days_to_first_contact": wait_monthly[m]} for m in core.months}
    out["spc"] = publish_spc(out["monthly"], raw.refs.target, rel)
    out["wait"] = wait
    out["closures"] = publish_closures(raw.pathway, rel, core)
    out["signposting"] = publish_signposting(raw.signposting, rel, core)
    out["unmet_needs"] = publish_unmet(raw.unmet_needs, rel, core)
    out.update(publish_participants(raw.participants, rel, core))
    return out


SECTION = Section(
    name="activity",
    title="Activities and outputs",
    notebook="20_activity",
    order=20,
    required=("referrals", "sp_contacts"),
    optional=("signposting", "unmet_needs", "comparison_patients", "pcn_quarterly"),
    needs="This section needs the `referrals` and `sp_contacts` tables.",
    follows_period=True,
    contract=True,
    compute=lambda inputs: compute(inputs.extract, inputs.settings, history=inputs.whole),
    publish=publish,
    reading=reading,
    headlines=headlines,
)
