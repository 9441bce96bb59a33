"""An area's synthetic extract in memory: the order its tables are drawn in, and where a new
table's generator goes.

Every table made so far draws from the area's one shared stream (``World.rng``), in the order of
:func:`_draw_shared`: the practices, the patients and referrals, hospital spells and deaths,
contacts, closures, ONS4, signposting, then for a PCN service unmet needs, GP appointments with the
comparison pool and clinical measurements, and last the PCN panel. Each draw moves every later
one, so that order, and every draw inside each step, is part of every extract's bytes: change
neither (``tests/test_synthetic.py`` pins the files' hashes).

**Adding a table.** Write its generator in a module of its own, ``def <table>(w: World) ->
pd.DataFrame | None`` (``None``: this area's kind has no such table), reading what it builds on
from ``w`` (``w.pats``, ``w.ref``, ``w.death``, ``w.spells``, ``w.contacts``, ``w.practices``)
without changing it, and drawing only from its own stream, ``rng = w.stream("<table>")``, never
from ``w.rng``; then add it to :data:`OWN_STREAM_TABLES`. Its values then depend on the slug and its own draws alone, and
adding, changing or removing it leaves every other table's files as they were.

**Adding rows to a table of the shared stream** (e.g. new instruments in ``outcome_measures``): a
generator of the new rows alone, drawing from its own stream, in :data:`OWN_STREAM_ROWS`; they are
appended after the table's rows, which stay as they were, and an area it gives no rows (``None``)
keeps the table's file byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..areas import AREAS, Area
from .clinical import clinical_measurements
from .contacts import contacts_table, draw_closures, draw_contacts
from .draws import day_number, seed_for
from .gp import gp_appointments_and_comparison
from .hospital import deaths_table, draw_spells_and_deaths, spells_table
from .instruments import instrument_rows
from .outcomes import outcome_measures
from .pcn import pcn_quarterly
from .people import draw_referrals, practice_codes_fit, practices, referrals_table
from .practice_lists import practice_lists
from .reviews import caseload_reviews
from .signposting import signposting, unmet_needs
from .surveys import survey_responses
from .world import World

#: table name -> generator drawing from its own stream (see the module's docstring), in the order
#: they are added to the extract, after the tables of the shared stream
OWN_STREAM_TABLES: dict[str, Callable[[World], pd.DataFrame | None]] = {
    "survey_responses": survey_responses,
    "practices": practice_lists,
    "caseload_reviews": caseload_reviews,
}
#: table name -> generator of rows appended, from their own stream, after the rows a shared-stream
#: table already has (``None``: none for this area), so those rows stay byte for byte as they were
OWN_STREAM_ROWS: dict[str, Callable[[World], pd.DataFrame | None]] = {"outcome_measures": instrument_rows}


def new_world(area: Area, n_referrals: int | None = None) -> World:
    """The area ready to draw: its shared stream seeded, its practices drawn (the stream's first
    draws). ``n_referrals`` overrides the area's size; a larger area gets more practices, each about
    the size of the area's own."""
    rng = np.random.default_rng(seed_for(area.slug))
    n = int(n_referrals or area.n_referrals)
    index = sorted(AREAS).index(area.slug) if area.slug in AREAS else 0
    scale = max(1, round(n / area.n_referrals))
    if not practice_codes_fit(area, index, scale):
        raise ValueError(f"n_referrals={n} is too large for {area.slug}'s practice codes")
    return World(area=area, n_referrals=n, rng=rng, start=day_number(area.extract_start),
                 end=day_number(area.extract_end), practices=practices(rng, area, index, scale))


def _draw_shared(w: World) -> dict[str, pd.DataFrame]:
    """The tables drawn from the shared stream, in its order (never reorder: see above)."""
    draw_referrals(w)
    draw_spells_and_deaths(w)
    draw_contacts(w)
    draw_closures(w)
    tables = {"referrals": referrals_table(w), "sp_contacts": contacts_table(w),
              "outcome_measures": outcome_measures(w), "signposting": signposting(w)}
    if not w.hospital:
        tables["unmet_needs"] = unmet_needs(w)
        tables["gp_appointments"], tables["comparison_patients"] = gp_appointments_and_comparison(w)
        tables["clinical_measurements"] = clinical_measurements(w)
    tables["hospital_spells"] = spells_table(w)
    tables["deaths"] = deaths_table(w)
    tables["pcn_quarterly"] = pcn_quarterly(w)
    return tables


def _extract_yml(area: Area, n_rows: int) -> dict:
    """extract.yml's settings: the area's, a monthly referral target band around the extract's
    own rate (a PCN service), the readmission benchmark, ``synthetic: true``."""
    a = area
    months = (a.extract_end.year - a.extract_start.year) * 12 + a.extract_end.month - a.extract_start.month + 1
    per_month = n_rows / months
    cfg = {"borough": a.name, "ons_code": a.ons_code, "extract_start": a.extract_start.isoformat(),
           "extract_end": a.extract_end.isoformat(), "registered_population": int(a.population)}
    if a.kind != "hospital":
        lo, hi = 5 * round(per_month * 0.85 / 5), 5 * round(per_month * 1.15 / 5)
        cfg["referral_target_monthly"] = [max(lo, 1), max(hi, max(lo, 1) + 5)]
    cfg["readmission_benchmark_30d_pct"] = 12.6
    cfg["synthetic"] = True
    return cfg


def build_tables(slug: str, n_referrals: int | None = None) -> tuple[dict[str, pd.DataFrame], dict]:
    """The area's tables (those it does not omit) and extract.yml contents, in memory."""
    if slug not in AREAS:
        raise KeyError(f"no built-in synthetic area '{slug}'; known: {', '.join(sorted(AREAS))}")
    area = AREAS[slug]
    w = new_world(area, n_referrals)
    tables = _draw_shared(w)
    for name, make in OWN_STREAM_ROWS.items():
        df = make(w)
        if df is not None and name in tables:
            tables[name] = pd.concat([tables[name], df], ignore_index=True)
    for name, make in OWN_STREAM_TABLES.items():
        df = make(w)
        if df is not None:
            tables[name] = df
    cfg = _extract_yml(area, len(tables["referrals"]))
    return {k: v for k, v in tables.items() if k not in area.omit}, cfg
