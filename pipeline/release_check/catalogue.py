"""What a careful reader learns from the documentation about how the published numbers hang
together: which counts add up to which totals, which figure is a percentage of which count, which
mean is over which count. Every attack works from this catalogue and from the published values;
none of it comes from the code that made the report.

Patterns are dotted JSON paths (see :mod:`.published`): ``*`` is summed over, ``{name}`` is any key,
bound consistently across a relation. A term written ``-path`` is subtracted. A relation whose
paths are absent from a report is skipped; one that the published values contradict is set aside
and noted (the catalogue, not the report, is then out of date).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from .published import MISSING, Path_, get, match, one

Spec = str | tuple[str, ...]


@dataclass(frozen=True)
class Sum:
    """The parts add up to the total (``at_most``: to no more than the total). With ``pct`` the
    parts are percentages of the total and stand for the counts behind them."""

    parts: Spec
    total: Spec
    why: str
    at_most: bool = False
    pct: bool = False
    when: Callable[[dict], bool] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Same:
    """Two names for one count (a percentage path stands for the count behind it: ``base``)."""

    a: str
    b: str
    why: str
    b_pct_of: str | None = None


@dataclass(frozen=True)
class Share:
    """A percentage (or, with ``scale`` 1000, a rate per 1,000) of a base count; ``numerator``
    when its count is published too; ``part``: the numerator is part of the base, so the rest
    (base - numerator) is a count as well."""

    value: str
    base: Spec
    why: str
    numerator: Spec | None = None
    scale: float = 100.0
    part: bool = True
    decimals: int | None = None


@dataclass(frozen=True)
class Mean:
    """A mean over a count: of whole numbers between ``low`` and ``high`` (the sum is then a whole
    number), or the published ``total`` divided by the count.

    The rules promise two shapes that tell a reader nothing more than the published counts: a
    ``total`` that is the published mean times the published (rounded) count, and a mean that is
    the published count ``of`` (a numerator) over the published count (a ratio of rounded counts).
    A figure that fits its promise is no evidence; one that does not is attacked as above."""

    value: str
    base: Spec
    why: str
    low: int | None = 0
    high: int | None = None
    total: str | None = None
    decimals: int | None = None
    of: str | None = None


@dataclass(frozen=True)
class Ratio:
    """``(numerator / denominator - 1) x 100``, with an optional interval that is symmetric on the
    log scale of the ratio (its centre is the ratio)."""

    value: str
    numerator: str
    denominator: str
    why: str
    ci: str | None = None


Relation = Sum | Same | Share | Mean | Ratio


# ---------------------------------------------------------------------------------- expansion

def terms(spec: Spec | None) -> list[tuple[int, str]]:
    if spec is None:
        return []
    return [(-1, s[1:]) if s.startswith("-") else (1, s) for s in ((spec,) if isinstance(spec, str) else spec)]


def _names(pattern: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", pattern))


def bindings(results: dict, rel: Relation) -> list[dict[str, Any]]:
    """Every consistent binding of the relation's ``{name}`` placeholders in ``results``."""
    patterns = [p for _, p in _all_terms(rel)]
    needed = set().union(*(_names(p) for p in patterns)) if patterns else set()
    if not needed:
        return [{}]
    driver = next(p for p in patterns if _names(p) >= needed)
    seen, out = set(), []
    for b, _, _ in match(results, driver):
        key = tuple(sorted((k, v) for k, v in b.items() if k != "*"))
        if key not in seen:
            seen.add(key)
            out.append(dict(key))
    return out


def _all_terms(rel: Relation) -> list[tuple[int, str]]:
    if isinstance(rel, Sum):
        return terms(rel.total) + terms(rel.parts)
    if isinstance(rel, Same):
        return [(1, rel.a), (1, rel.b)] + ([(1, rel.b_pct_of)] if rel.b_pct_of else [])
    if isinstance(rel, Share):
        return [(1, rel.value)] + terms(rel.base) + terms(rel.numerator)
    if isinstance(rel, Mean):
        return [(1, rel.value)] + terms(rel.base) + ([(1, rel.total)] if rel.total else [])
    return [(1, rel.value), (1, rel.numerator), (1, rel.denominator)] + ([(1, rel.ci)] if rel.ci else [])


def resolve(results: dict, spec: Spec | None, bound: dict[str, Any]) -> list[tuple[int, Path_, Any]] | None:
    """(sign, path, value) of every term, wildcards expanded; None when a named path is absent."""
    out = []
    for sign, pattern in terms(spec):
        if "*" in pattern.split("."):
            out += [(sign, p, v) for _, p, v in match(results, pattern, bound)]
            continue
        path, value = one(results, pattern, bound)
        if value is MISSING:
            return None
        out.append((sign, path, value))
    return out


# ---------------------------------------------------------------------------------- the catalogue

A = "activity"
DQ = "data_quality"
PARTICIPANT_DIMS = "activity.participants.{dim}"


def _all_needs_listed(r: dict) -> bool:
    u = get(r, ("activity", "unmet_needs"))
    return isinstance(u, dict) and isinstance(u.get("top_needs"), dict) and len(u["top_needs"]) == u.get("distinct_needs")


RELATIONS: list[Relation] = [
    # ---- referrals and their breakdowns (every referral once)
    *[Sum(f"{A}.{g}.*", f"{A}.referrals", f"referrals by {g.split('_')[-1]} add up to all referrals")
      for g in ("referrals_by_month", "referrals_by_pcn", "referrals_by_practice", "referrals_by_source",
                "referrals_by_reason", "new_vs_rereferrals")],
    Sum(f"{PARTICIPANT_DIMS}.*", f"{A}.referrals", "each participants table covers every referral"),
    Same(f"{A}.participants.referral_source.{{k}}", f"{A}.referrals_by_source.{{k}}", "the same count in two tables"),
    Same(f"{A}.participants.referral_reason.{{k}}", f"{A}.referrals_by_reason.{{k}}", "the same count in two tables"),
    NEW_IS_FIRST := Same(f"{A}.new_vs_rereferrals.new", f"{A}.patients", "a new referral is a patient's first"),
    Sum(f"{A}.patients_seen", f"{A}.patients", "people seen are among people referred", at_most=True),
    Share(f"{A}.participants_pct.{{dim}}.{{k}}", f"{A}.referrals", "share of referrals",
          numerator=f"{A}.participants.{{dim}}.{{k}}"),
    Sum((f"{A}.participants.imd_decile.1", f"{A}.participants.imd_decile.2"),
        f"{A}.participants_summary.core20_referrals", "Core20: IMD deciles 1-2"),
    Sum((f"{A}.participants_summary.imd_recorded", f"{A}.participants.imd_decile.not_recorded"), f"{A}.referrals",
        "referrals with and without an IMD decile"),
    Share(f"{A}.participants_summary.core20_pct", f"{A}.participants_summary.imd_recorded", "Core20 share",
          numerator=f"{A}.participants_summary.core20_referrals"),
    Same(f"{A}.participants_vs_registered.referred_people", f"{A}.patients", "referred people are the patients"),
    *[Sum(f"{A}.participants_vs_registered.columns.{{dim}}.{side}_pct.*", f"{A}.participants_vs_registered.{side}_people",
          f"{side} people by characteristic", pct=True) for side in ("referred", "pool")],
    *[Share(f"{A}.participants_vs_registered.columns.{{dim}}.{side}_pct.{{k}}",
            f"{A}.participants_vs_registered.{side}_people", f"share of {side} people") for side in ("referred", "pool")],
    Same(f"{A}.referral_rates.by_pcn.{{p}}.referrals", f"{A}.referrals_by_pcn.{{p}}", "the same count in two tables"),
    Share(f"{A}.referral_rates.by_pcn.{{p}}.per_1000", f"{A}.referral_rates.by_pcn.{{p}}.registered_population",
          "referrals per 1,000 registered", numerator=f"{A}.referral_rates.by_pcn.{{p}}.referrals", scale=1000, part=False),
    Share(f"{A}.referral_rates.per_1000_registered", f"{A}.referral_rates.registered_population",
          "referrals per 1,000 registered", numerator=f"{A}.referrals", scale=1000, part=False),
    # ---- appointments
    Sum(f"{A}.attended_contacts_by_type.*", f"{A}.contacts_attended", "attended appointments by type"),
    Same(f"{A}.attended_contacts_by_type.{{t}}", f"{A}.contacts_by_type.{{t}}.attended", "the same count in two tables"),
    Sum(f"{A}.contacts_by_type.*.booked", f"{A}.contacts_booked", "booked appointments by type"),
    Sum(f"{A}.contacts_by_type.*.attended", f"{A}.contacts_attended", "attended appointments by type"),
    Sum((f"{A}.contacts_by_type.{{t}}.attended", f"{A}.contacts_by_type.{{t}}.dna", f"{A}.contacts_by_type.{{t}}.cancelled"),
        f"{A}.contacts_by_type.{{t}}.booked", "every booked appointment was attended, missed or cancelled"),
    Sum(f"{A}.contacts_by_type.{{t}}.minutes_recorded", f"{A}.contacts_by_type.{{t}}.attended",
        "durations are recorded for attended appointments", at_most=True),
    Share(f"{A}.contacts_by_type.{{t}}.dna_or_cancelled_pct", f"{A}.contacts_by_type.{{t}}.booked", "missed or cancelled",
          numerator=(f"{A}.contacts_by_type.{{t}}.dna", f"{A}.contacts_by_type.{{t}}.cancelled")),
    Share(f"{A}.dna_or_cancelled_pct", f"{A}.contacts_booked", "missed or cancelled",
          numerator=(f"{A}.contacts_booked", f"-{A}.contacts_attended")),
    Mean(f"{A}.contacts_by_type.{{t}}.mean_minutes", f"{A}.contacts_by_type.{{t}}.minutes_recorded",
         "durations are whole minutes, 0 to 480", low=0, high=480),
    Mean(f"{A}.mean_attended_contacts_per_patient_seen", f"{A}.patients_seen", "attended appointments per person seen",
         low=0, decimals=2, of=f"{A}.contacts_attended"),
    # ---- closures, waits, signposting
    Sum(f"{A}.closures.reasons.*", f"{A}.closures.closed", "closures by reason"),
    Sum((f"{A}.closures.closed", f"{A}.closures.open_at_end"), f"{A}.referrals", "every referral is closed or open"),
    Share(f"{A}.closures.reasons_pct.{{k}}", f"{A}.closures.closed", "share of closures",
          numerator=f"{A}.closures.reasons.{{k}}"),
    Sum(f"{A}.wait.distribution.*", f"{A}.wait.referrals_with_first_contact", "waits by band"),
    Sum((f"{A}.wait.referrals_with_first_contact", f"{A}.wait.referrals_not_seen"), f"{A}.referrals",
        "every referral was seen or not"),
    Share(f"{A}.wait.within_14_days_pct", f"{A}.wait.referrals_with_first_contact", "seen within 14 days",
          numerator=(f"{A}.wait.distribution.0-7", f"{A}.wait.distribution.8-14")),
    Sum(f"{A}.signposting.by_category.*", f"{A}.signposting.signposts", "signposts by category"),
    Sum(f"{A}.signposting.top_services.*.signposts", f"{A}.signposting.signposts", "signposts by service"),
    Share(f"{A}.signposting.by_category_pct.{{k}}", f"{A}.signposting.signposts", "share of signposts",
          numerator=f"{A}.signposting.by_category.{{k}}"),
    Share(f"{A}.signposting.top_services.{{i}}.pct", f"{A}.signposting.signposts", "share of signposts",
          numerator=f"{A}.signposting.top_services.{{i}}.signposts"),
    Share(f"{A}.signposting.referrals_signposted_pct", f"{A}.referrals", "share of referrals",
          numerator=f"{A}.signposting.referrals_signposted"),
    # ---- unmet needs: a two-way table (need x PCN) with both margins
    Sum(f"{A}.unmet_needs.by_need_pcn.{{need}}.*", f"{A}.unmet_needs.top_needs.{{need}}", "a need's PCNs"),
    Sum(f"{A}.unmet_needs.by_need_pcn.*.{{pcn}}", f"{A}.unmet_needs.by_pcn.{{pcn}}.needs", "a PCN's needs", at_most=True),
    Sum(f"{A}.unmet_needs.by_need_pcn.*.{{pcn}}", f"{A}.unmet_needs.by_pcn.{{pcn}}.needs", "a PCN's needs (all listed)",
        when=_all_needs_listed),
    Sum(f"{A}.unmet_needs.top_needs.*", f"{A}.unmet_needs.needs_recorded", "needs", at_most=True),
    Sum(f"{A}.unmet_needs.top_needs.*", f"{A}.unmet_needs.needs_recorded", "needs (all listed)", when=_all_needs_listed),
    Sum(f"{A}.unmet_needs.by_pcn.*.needs", f"{A}.unmet_needs.needs_recorded", "needs by PCN"),
    Sum(f"{A}.unmet_needs.by_pcn.*.referrals_with_need", f"{A}.unmet_needs.referrals_with_need", "by PCN"),
    Sum(f"{A}.unmet_needs.referrals_with_need", f"{A}.unmet_needs.needs_recorded", "a referral has 1+ needs", at_most=True),
    Same(f"{A}.unmet_needs.by_pcn.{{p}}.referrals", f"{A}.referrals_by_pcn.{{p}}", "the same count in two tables"),
    Share(f"{A}.unmet_needs.referrals_with_need_pct", f"{A}.referrals", "share of referrals",
          numerator=f"{A}.unmet_needs.referrals_with_need"),
    Share(f"{A}.unmet_needs.top_needs_per_1000_referrals.{{n}}", f"{A}.referrals", "needs per 1,000 referrals",
          numerator=f"{A}.unmet_needs.top_needs.{{n}}", scale=1000, part=False),
    Share(f"{A}.unmet_needs.by_pcn.{{p}}.needs_per_1000_referrals", f"{A}.unmet_needs.by_pcn.{{p}}.referrals",
          "needs per 1,000 referrals", numerator=f"{A}.unmet_needs.by_pcn.{{p}}.needs", scale=1000, part=False),
    Share(f"{A}.unmet_needs.by_need_pcn_per_1000_referrals.{{n}}.{{p}}", f"{A}.unmet_needs.by_pcn.{{p}}.referrals",
          "needs per 1,000 referrals", numerator=f"{A}.unmet_needs.by_need_pcn.{{n}}.{{p}}", scale=1000, part=False),
    # ---- wellbeing (ONS4): per item, pairs split by band and by direction of change
    *[Sum(f"wellbeing.ons4_detail.{{i}}.{t}.*", "wellbeing.ons4.{i}.n_pairs", f"pairs by {t}", pct=True)
      for t in ("baseline_band_pct", "followup_band_pct", "change_pct")],
    *[Share(f"wellbeing.ons4_detail.{{i}}.{t}.{{b}}", "wellbeing.ons4.{i}.n_pairs", "share of pairs")
      for t in ("baseline_band_pct", "followup_band_pct", "change_pct")],
    Share("wellbeing.ons4_detail.{i}.moved_out_of_worst_band_pct", "wellbeing.ons4_detail.{i}.n_started_in_worst_band",
          "share of those who started in the worst band"),
    Share("wellbeing.ons4_detail.{i}.completion_pct", "wellbeing.ons4_detail.{i}.n_with_baseline", "share followed up",
          numerator="wellbeing.ons4.{i}.n_pairs"),
    Sum("wellbeing.ons4.{i}.n_pairs", "wellbeing.completion.n_completers", "a pair makes a completer", at_most=True),
    Sum("wellbeing.completion.n_completers", "wellbeing.completion.n_with_baseline", "completers had a baseline",
        at_most=True),
    Share("wellbeing.completion.completion_pct", "wellbeing.completion.n_with_baseline", "share followed up",
          numerator="wellbeing.completion.n_completers"),
    *[Mean(f"wellbeing.ons4.{{i}}.{m}", "wellbeing.ons4.{i}.n_pairs", "ONS4 scores are whole numbers 0 to 10",
           low=lo, high=10, decimals=2)
      for m, lo in (("mean_baseline", 0), ("mean_followup", 0), ("mean_change", -10))],
    # ---- clinical targets: per cohort and risk band, patients by number of targets met
    *[Sum(f"targets.{{c}}.{{b}}.{t}.*", "targets.{c}.{b}.n", f"patients by {t}", pct=True)
      for t in ("prior_pct", "after_pct", "change_pct")],
    *[Share(f"targets.{{c}}.{{b}}.{t}.{{k}}", "targets.{c}.{b}.n", "share of the band") for t in ("prior_pct", "after_pct", "change_pct")],
    Sum(("targets.{c}.*.n", "targets.detail.{c}.flow.missing_risk_band"), "targets.detail.{c}.flow.eligible",
        "eligible patients by risk band"),
    Sum(("targets.detail.{c}.flow.eligible", "targets.detail.{c}.flow.excluded_short_follow_up"),
        "targets.detail.{c}.flow.index_patients_in_cohort", "the cohort's flow"),
    Same("targets.detail.{c}.by_target.{t}.{w}.n", "targets.detail.{c}.flow.eligible", "every eligible patient"),
    *[Share(f"targets.detail.{{c}}.by_target.{{t}}.{{w}}.{m}", "targets.detail.{c}.by_target.{t}.{w}.n", "share of eligible")
      for m in ("measured_pct", "met_pct")],
    # ---- GP appointments
    Ratio("gp_appointments.variance_pct.{fy}.{h}", "gp_appointments.variance_detail.{fy}.{h}.appointments_after",
          "gp_appointments.variance_detail.{fy}.{h}.appointments_before", "(after - before) / before x 100",
          ci="gp_appointments.variance_detail.{fy}.{h}.variance_pct_ci95"),
    Share("gp_appointments.matched_did.matching.matched_pct", "gp_appointments.matched_did.matching.n_referred_eligible",
          "share matched", numerator="gp_appointments.matched_did.matching.n_referred_matched"),
    Sum(("gp_appointments.matched_did.matching.n_referred_eligible",
         "gp_appointments.matched_did.matching.excluded.history_before_extract_start",
         "gp_appointments.matched_did.matching.excluded.too_little_follow_up"),
        "gp_appointments.n_index_patients", "index patients: eligible or excluded"),
    # gender is always recorded, so the share female is of every matched referred person (the risk
    # bands are shares of those with a band: their base is not published)
    Share("gp_appointments.matched_did.balance.female.referred", "gp_appointments.matched_did.matching.n_referred_matched",
          "share of matched referred people"),
    Mean("gp_appointments.matched_did.balance.age.referred", "gp_appointments.matched_did.matching.n_referred_matched",
         "ages are whole years, 0 to 120", low=0, high=120, decimals=2),
    # ---- readmission
    Same("readmission.at_risk.0", "readmission.n_index", "everyone is at risk at day 0"),
    # ---- data quality: checks and completeness
    Share(f"{DQ}.checks.{{c}}.pct", f"{DQ}.checks.{{c}}.checked", "share of records checked",
          numerator=f"{DQ}.checks.{{c}}.records"),
    Sum(f"{DQ}.checks.{{c}}.records", f"{DQ}.checks.{{c}}.checked", "records among those checked", at_most=True),
    Share(f"{DQ}.completeness.{{t}}.{{col}}", f"{DQ}.tables.{{t}}.rows", "share of the table's rows filled in"),
    Share(f"{DQ}.completeness_where_it_matters.{{t}}.{{col}}.pct", f"{DQ}.completeness_where_it_matters.{{t}}.{{col}}.eligible",
          "share of the rows that need it"),
    *[Same(f"{DQ}.tables.{t}.rows", p, "the table's rows") for t, p in (
        ("referrals", f"{A}.referrals"), ("sp_contacts", f"{A}.contacts_booked"),
        ("signposting", f"{A}.signposting.signposts"), ("unmet_needs", f"{A}.unmet_needs.needs_recorded"),
        ("referrals", f"{DQ}.checks.closure_after_end.checked"), ("referrals", f"{DQ}.checks.first_contact_after_end.checked"),
        ("sp_contacts", f"{DQ}.checks.contacts_after_end.checked"), ("sp_contacts", f"{DQ}.checks.duplicate_contacts.checked"),
        ("deaths", f"{DQ}.checks.deaths_after_end.checked"), ("gp_appointments", f"{DQ}.checks.gp_appointments_outside.checked"),
        ("clinical_measurements", f"{DQ}.checks.measurements_after_end.checked"),
        ("outcome_measures", f"{DQ}.checks.assessments_out_of_range.checked"),
        ("hospital_spells", f"{DQ}.checks.spells_outside.checked"), ("pcn_quarterly", f"{DQ}.checks.pcn_quarters_outside.checked"),
        ("signposting", f"{DQ}.checks.signposts_out_of_range.checked"), ("unmet_needs", f"{DQ}.checks.needs_out_of_range.checked"))],
    Same(f"{DQ}.completeness_where_it_matters.sp_contacts.contact_type.eligible", f"{A}.contacts_booked", "all appointments"),
    Same(f"{DQ}.completeness_where_it_matters.sp_contacts.duration_minutes.eligible", f"{A}.contacts_attended",
         "attended appointments"),
    Same(f"{DQ}.completeness_where_it_matters.referrals.closure_reason.eligible", f"{A}.closures.closed", "closed referrals"),
    # ---- hospital-based services
    Sum("hospital.service_outcome.counts.*", "hospital.n_referrals", "hospital referrals by outcome"),
    Sum("hospital.service_outcome.pct.*", "hospital.n_referrals", "hospital referrals by outcome", pct=True),
    Share("hospital.service_outcome.pct.{k}", "hospital.n_referrals", "share of hospital referrals",
          numerator="hospital.service_outcome.counts.{k}"),
    Same("hospital.health_budget.referrals", "hospital.n_referrals", "every hospital referral"),
    Sum("hospital.health_budget.bins.*", "hospital.health_budget.recipients", "recipients by amount"),
    Share("hospital.health_budget.recipients_pct", "hospital.health_budget.referrals", "share receiving a budget",
          numerator="hospital.health_budget.recipients"),
    Same("hospital.health_budget.by_outcome.{o}.referrals", "hospital.service_outcome.counts.{o}", "the same count"),
    Sum("hospital.health_budget.by_outcome.*.recipients", "hospital.health_budget.recipients", "recipients by outcome"),
    Share("hospital.health_budget.by_outcome.{o}.recipients_pct", "hospital.health_budget.by_outcome.{o}.referrals",
          "share receiving a budget", numerator="hospital.health_budget.by_outcome.{o}.recipients"),
    *[Mean(f"hospital.{s}.mean{u}", n, "a mean is the published total over the count", total=f"hospital.{s}.total{u}")
      for s, u, n in (("bed_days_saved", "", "hospital.bed_days_saved.n"),
                      ("bed_days_saved.by_outcome.{o}", "", "hospital.bed_days_saved.by_outcome.{o}.n"),
                      ("health_budget", "_gbp", "hospital.health_budget.recipients"),
                      ("health_budget.by_outcome.{o}", "_gbp", "hospital.health_budget.by_outcome.{o}.recipients"),
                      ("cost_benefit", "_gbp", "hospital.cost_benefit.n"),
                      ("cost_benefit.by_outcome.{o}", "_gbp", "hospital.cost_benefit.by_outcome.{o}.n"),
                      ("cost_benefit.net_of_budget", "_gbp", "hospital.cost_benefit.net_of_budget.n"))],
]


def worst_band_aliases(results: dict) -> Iterator[Same]:
    """ONS4: the people who started in the worst band are that band's cell of the baseline table."""
    detail = get(results, ("wellbeing", "ons4_detail"))
    for item, d in detail.items() if isinstance(detail, dict) else ():
        band = d.get("worst_band") if isinstance(d, dict) else None
        if isinstance(band, str) and "n_started_in_worst_band" in d:
            yield Same(f"wellbeing.ons4_detail.{item}.n_started_in_worst_band",
                       f"wellbeing.ons4_detail.{item}.baseline_band_pct.{band}",
                       f"the people who started in the worst band ('{band}') are that cell of the baseline bands",
                       b_pct_of=f"wellbeing.ons4.{item}.n_pairs")


def readmission_counts(results: dict) -> Iterator[Sum]:
    """Readmission: at a horizon, the people still at risk, readmitted and dead are at most the
    cohort (the rest were censored); events only accumulate."""
    rd = get(results, ("readmission",))
    if not isinstance(rd, dict) or not isinstance(rd.get("events"), dict):
        return
    horizons = sorted(int(h[:-1]) for h in (rd["events"].get("readmission") or {}) if h[:-1].isdigit())
    for h in horizons:
        parts = tuple(p for p in (f"readmission.at_risk.{h}", f"readmission.events.readmission.{h}d",
                                  f"readmission.events.death.{h}d") if get(results, tuple(p.split("."))) is not MISSING)
        yield Sum(parts, "readmission.n_index", "at a horizon: at risk + readmitted + died <= cohort", at_most=True)
    for kind in ("readmission", "death"):
        for a, b in pairwise(horizons):
            yield Sum(f"readmission.events.{kind}.{a}d", f"readmission.events.{kind}.{b}d", "events accumulate",
                      at_most=True)


def _whole_extract_only(rel: Relation) -> bool:
    """Relations a period report does not keep: its data-quality section describes the whole
    extract, and "new" referrals are judged against the whole history."""
    return any(p.startswith(DQ) for _, p in _all_terms(rel)) or rel == NEW_IS_FIRST


def relations(results: dict) -> list[Relation]:
    """The catalogue for one report (the fixed list and those that depend on published values)."""
    from .catalogue_practices_caseload import PRACTICE_CASELOAD  # they build on this module's types
    from .catalogue_tools_surveys import TOOLS_SURVEYS

    rels = [r for r in (*RELATIONS, *PRACTICE_CASELOAD, *TOOLS_SURVEYS) if not (isinstance(r, Sum) and r.when is not None and not r.when(results))
            and not ("period" in results and _whole_extract_only(r))]
    return rels + list(worst_band_aliases(results)) + list(readmission_counts(results))
