"""The built-in areas: the 33 London local authorities and Norfolk & Waveney.

Each area has a synthetic extract that :mod:`pipeline.synthetic` generates on first use. The
figures here are the *shape* parameters of that generator (population, number of PCNs, size of
the service), loosely based on public figures (ONS mid-2021 resident populations; the seeds'
published service sizes), not real service data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Area:
    slug: str
    name: str
    ons_code: str
    population: int               # GP-registered population (approximate)
    n_referrals: int              # referrals in the synthetic extract
    pcns: tuple[str, ...]
    kind: str = "community"       # "community" (PCN link workers) or "hospital" (secondary care)
    extract_start: date = date(2021, 4, 1)
    extract_end: date = date(2024, 3, 31)
    # optional tables this area's extract leaves out (to show the report adapting to its data)
    omit: tuple[str, ...] = field(default_factory=tuple)


# (slug, name, ONS code, registered population in thousands, referrals over the 3-year extract)
_LONDON = [
    ("city-of-london", "City of London", "E09000001", 10, 300),
    ("barking-and-dagenham", "Barking and Dagenham", "E09000002", 232, 4200),
    ("barnet", "Barnet", "E09000003", 412, 7800),
    ("bexley", "Bexley", "E09000004", 255, 2600),
    ("brent", "Brent", "E09000005", 362, 5600),
    ("bromley", "Bromley", "E09000006", 338, 5100),
    ("camden", "Camden", "E09000007", 262, 4400),
    ("croydon", "Croydon", "E09000008", 407, 9600),
    ("ealing", "Ealing", "E09000009", 385, 6900),
    ("enfield", "Enfield", "E09000010", 343, 5300),
    ("greenwich", "Greenwich", "E09000011", 301, 4800),
    ("hackney", "Hackney", "E09000012", 312, 6200),
    ("hammersmith-and-fulham", "Hammersmith and Fulham", "E09000013", 211, 3100),
    ("haringey", "Haringey", "E09000014", 298, 4500),
    ("harrow", "Harrow", "E09000015", 268, 2900),
    ("havering", "Havering", "E09000016", 265, 3300),
    ("hillingdon", "Hillingdon", "E09000017", 320, 4100),
    ("hounslow", "Hounslow", "E09000018", 305, 3900),
    ("islington", "Islington", "E09000019", 251, 5200),
    ("kensington-and-chelsea", "Kensington and Chelsea", "E09000020", 170, 1900),
    ("kingston-upon-thames", "Kingston upon Thames", "E09000021", 180, 2700),
    ("lambeth", "Lambeth", "E09000022", 395, 8100),
    ("lewisham", "Lewisham", "E09000023", 330, 6600),
    ("merton", "Merton", "E09000024", 215, 9000),
    ("newham", "Newham", "E09000025", 410, 6400),
    ("redbridge", "Redbridge", "E09000026", 320, 3700),
    ("richmond-upon-thames", "Richmond upon Thames", "E09000027", 205, 2400),
    ("southwark", "Southwark", "E09000028", 370, 7200),
    ("sutton", "Sutton", "E09000029", 212, 3400),
    ("tower-hamlets", "Tower Hamlets", "E09000030", 375, 7400),
    ("waltham-forest", "Waltham Forest", "E09000031", 295, 4700),
    ("wandsworth", "Wandsworth", "E09000032", 360, 6800),
    ("westminster", "Westminster", "E09000033", 260, 3600),
]

# Merton's six PCNs as the seed lists them; other boroughs get generic names
_NAMED_PCNS = {
    "merton": ("East Merton PCN", "North Merton PCN", "West Merton PCN", "North West Merton PCN",
               "South West PCN", "Morden PCN"),
    "city-of-london": ("City and Hackney PCN 1",),
}
_DIRECTIONS = ("Central", "North", "South", "East", "West", "North East", "North West",
               "South East", "South West", "Riverside", "Park", "Valley")

# boroughs whose synthetic extracts lack some optional tables, so the report's adaptation to the
# data it is given is exercised: Bexley is an activity-only service; Harrow has no GP data
_OMIT = {
    "bexley": ("outcome_measures", "unmet_needs", "gp_appointments", "comparison_patients",
               "clinical_measurements", "hospital_spells", "deaths", "pcn_quarterly", "practices", "caseload_reviews"),
    "harrow": ("gp_appointments", "comparison_patients"),
}


def _pcns(slug: str, name: str, population_k: int) -> tuple[str, ...]:
    if slug in _NAMED_PCNS:
        return _NAMED_PCNS[slug]
    n = max(1, min(len(_DIRECTIONS), round(population_k / 45)))
    return tuple(f"{name} {d} PCN" for d in _DIRECTIONS[:n])


AREAS: dict[str, Area] = {}
for _slug, _name, _code, _pop, _n in _LONDON:
    AREAS[_slug] = Area(_slug, _name, _code, _pop * 1000, _n, _pcns(_slug, _name, _pop),
                        omit=_OMIT.get(_slug, ()))

AREAS["norfolk-and-waveney"] = Area(
    "norfolk-and-waveney", "Norfolk and Waveney", "E54000022", 1_100_000, 380,
    tuple(f"Norfolk and Waveney PCN {i:02d}" for i in range(1, 18)),
    kind="hospital", extract_start=date(2022, 11, 1), extract_end=date(2024, 3, 31),
    omit=("unmet_needs", "gp_appointments", "comparison_patients", "clinical_measurements"))

LONDON = tuple(s for s, a in AREAS.items() if a.ons_code.startswith("E09"))
