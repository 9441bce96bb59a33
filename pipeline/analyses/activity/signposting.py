"""Where link workers signposted people, and the needs no local service could meet (the Barnet
"weighted gap report": referrals tagged with each need, by PCN, per 1,000 referrals).

Signposts by category and by named service are two splits of the signposts cell that cross (a
reader knows which category a named service is in); only services with enough signposts to
publish are named (``rel.top``), the rest pooled as "all other". The needs x PCN table's margins
are the needs by PCN and the referrals tagged with each need; referrals with a need are part of
the referrals, and in each PCN part of that PCN's referrals cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ...contract import CATEGORIES
from ...disclosure import Release
from ...disclosure.release import OTHER
from ...extract import Extract
from ..labels import col, display_names, label, label_counts, label_pairs, normalise_name
from .figures import cross, part_of, split
from .referrals import Core

TOP_N = 10
COUNTING = "a referral counts once for each need it is tagged with; needs are grouped ignoring case and spacing"


@dataclass
class SignpostingRaw:
    signposts: int
    referrals_signposted: int
    by_category: dict[str, int]
    by_service: dict[str, int]  # display name -> signposts
    category_service: dict[tuple[str, str], int]  # (category, display name) -> signposts


@dataclass
class UnmetRaw:
    referrals_with_need: int
    with_need_by_pcn: dict[str, int]  # PCN -> referrals with at least one need
    by_need_pcn: dict[str, dict[str, int]]  # need -> PCN -> referrals tagged with it

    @property
    def by_need(self) -> dict[str, int]:
        return {k: sum(v.values()) for k, v in self.by_need_pcn.items()}


def _names(s: pd.Series) -> pd.Series:
    """Each row's name, grouped ignoring case and spacing, shown as its most common spelling."""
    key = normalise_name(s)
    return key.map(display_names(s, key))


def compute_signposting(extract: Extract) -> SignpostingRaw | None:
    if not extract.has("signposting"):
        return None
    sp = extract["signposting"]
    name = _names(col(sp, "service_name"))
    return SignpostingRaw(
        signposts=len(sp),
        referrals_signposted=int(sp["referral_id"].nunique()),
        by_category=label_counts(col(sp, "service_category"), CATEGORIES["service_category"]),
        by_service={str(k): int(v) for k, v in name.value_counts().items()},
        category_service=label_pairs(col(sp, "service_category"), name),
    )


def compute_unmet(extract: Extract, pcns: list[str]) -> UnmetRaw | None:
    if not extract.has("unmet_needs"):
        return None
    needs, ref = extract["unmet_needs"], extract["referrals"]
    tagged = pd.DataFrame({"referral_id": needs["referral_id"].to_numpy(), "need": _names(col(needs, "need")).to_numpy()})
    tagged = tagged.drop_duplicates()  # a referral counts once per need
    tagged = tagged.merge(ref[["referral_id", "pcn"]], on="referral_id", how="inner")
    tagged["pcn"] = tagged["pcn"].map(label)
    by_need_pcn: dict[str, dict[str, int]] = {}
    for (need, pcn), n in label_pairs(tagged["need"], tagged["pcn"]).items():
        by_need_pcn.setdefault(need, dict.fromkeys(pcns, 0))[pcn] = n
    with_need = tagged.drop_duplicates("referral_id")
    counts = with_need["pcn"].value_counts()
    return UnmetRaw(
        referrals_with_need=len(with_need),
        with_need_by_pcn={p: int(counts.get(p, 0)) for p in pcns},
        by_need_pcn=dict(sorted(by_need_pcn.items())),
    )


def publish_signposting(s: SignpostingRaw | None, rel: Release, core: Core) -> dict:
    if s is None:
        return not_available("signposting")
    total = rel.cell(s.signposts, "signposting.signposts")
    cats = split(rel, total, s.by_category, "signposting.by_category")
    top = rel.top(s.by_service, TOP_N)
    services = split(rel, total, top, "signposting.top_services")
    pairs: dict[tuple[str, str], int] = {}
    for (cat, name), n in s.category_service.items():
        key = (cat, name if name in top and name != OTHER else OTHER)
        pairs[key] = pairs.get(key, 0) + n
    cross(rel, cats, services, pairs, "signposting.category_service", open_cols=(OTHER,))
    signposted = part_of(rel, core.referrals, s.referrals_signposted, "signposting.referrals_signposted")
    return {
        "signposts": rel.count(total),
        "referrals_signposted": rel.count(signposted),
        "referrals_signposted_pct": rel.pct(signposted, core.referrals),
        "services": rel.fact(len(s.by_service)),  # a number of services, not of people
        "by_category": rel.counts(cats),
        "by_category_pct": rel.pcts(cats, total),
        "top_services": [{"service": k, "signposts": rel.count(c), "pct": rel.pct(c, total)}
                         for k, c in services.items()],
    }


def publish_unmet(u: UnmetRaw | None, rel: Release, core: Core) -> dict:
    """The weighted gap report: needs x PCN as one two-way table whose margins are the referrals
    tagged with each need and the needs of each PCN, so they share one suppression pattern."""
    if u is None:
        return not_available("unmet_needs")
    n, pcn = core.referrals, core.pcn
    top = rel.top(u.by_need, TOP_N)
    table: dict[tuple[str, str], int] = {}
    for need in top:
        rest = [k for k in u.by_need_pcn if k not in top] if need == OTHER else [need]
        for p in pcn:
            table[(need, p)] = sum(u.by_need_pcn[k][p] for k in rest)
    tags = rel.cell(sum(table.values()), "unmet_needs.needs_recorded")
    needs = split(rel, tags, {k: sum(v for (a, _), v in table.items() if a == k) for k in top}, "unmet_needs.top_needs")
    needs_in = split(rel, tags, {p: sum(v for (_, b), v in table.items() if b == p) for p in pcn}, "unmet_needs.by_pcn")
    cells = cross(rel, needs, needs_in, table, "unmet_needs.by_need_pcn")
    with_need = part_of(rel, n, u.referrals_with_need, "unmet_needs.referrals_with_need")
    with_need_in = split(rel, with_need, u.with_need_by_pcn, "unmet_needs.referrals_with_need_by_pcn")
    for p, cell in with_need_in.items():
        part_of(rel, pcn[p], cell, f"unmet_needs.referrals_with_need[{p}]")
    return {
        "needs_recorded": rel.count(tags),
        "referrals_with_need": rel.count(with_need),
        "referrals_with_need_pct": rel.pct(with_need, n),
        "distinct_needs": rel.fact(len(u.by_need_pcn)),  # a number of needs, not of people
        "top_needs": rel.counts(needs),
        "top_needs_per_1000_referrals": {k: rel.ratio(c, n, decimals=1, scale=1000) for k, c in needs.items()},
        "by_pcn": {p: {"referrals": rel.count(pcn[p]),
                       "referrals_with_need": rel.count(with_need_in[p]),
                       "needs": rel.count(needs_in[p]),
                       "needs_per_1000_referrals": rel.ratio(needs_in[p], pcn[p], decimals=1, scale=1000)}
                   for p in pcn},
        "by_need_pcn": {k: {p: rel.count(cells[(k, p)]) for p in pcn} for k in needs},
        "by_need_pcn_per_1000_referrals": {k: {p: rel.ratio(cells[(k, p)], pcn[p], decimals=1, scale=1000)
                                               for p in pcn} for k in needs},
        "counting": COUNTING,
    }


def not_available(table: str) -> dict[str, str]:
    return {"status": "not_available", "reason": f"this extract has no `{table}` table"}
