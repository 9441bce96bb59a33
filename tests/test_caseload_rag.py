"""Caseload RAG ratings and safeguarding escalations: the analysis by hand on the tiny extract with a
``caseload_reviews`` table, disclosure where it bites (checked with the release check's own
attack), and the planted drift from red to green and escalations recovered from synthetic Merton.

The reviews of tests/fixtures/tiny (caseload_reviews.csv), against tests/fixtures/tiny/referrals.csv (closures: R001
2022-08-30, R004 2022-09-30, R006 2023-05-31; R002 and R005 open):

| referral | reviews |
|---|---|
| R001 | 2022-04-19 red (escalated), 2022-05-20 amber, 2022-07-01 green |
| R002 | 2022-05-10 amber (escalation not recorded), 2022-06-10 red (escalated) |
| R004 | 2022-07-05 green, 2022-10-15 amber (after its closure) |
| R005 | 2022-09-22 red, 2022-10-01 green |
| R006 | 2023-01-16 green |

Open rated cases at each month's end, by latest rating: 2022-04 red 1 (R001); 2022-05 amber 2
(R001, R002); 2022-06 red 1 (R002), amber 1 (R001); 2022-07 red 1 (R002), green 2 (R001, R004);
2022-08 red 1, green 1 (R001 closed on the 30th); 2022-09 red 2 (R002, R005; R004 closed on the
30th); 2022-10 to 2022-12 red 1, green 1 (R005); 2023-01 to 2023-04 red 1, green 2 (R006 until
its closure in May); 2023-05 to 2024-03 red 1, green 1. R004's review after its closure counts in
the movement tables, not in the caseload.

Consecutive pairs (5): red->amber, amber->green (R001), amber->red (R002), green->amber (R004),
red->green (R005). First to latest (4 cases rated twice): R001 red->green, R002 amber->red, R004
green->amber, R005 red->green: 2 improved, 2 worsened; both first rated red left red. Cases rated
5, rated again 4 (80%). Reviews 10: red 3, amber 3, green 4. Escalations 2, both at red reviews
(2 of 3, 66.7%), in 2022-04 and 2022-06; 2 of 5 cases (40%); 1 review with no value.
"""

import json

import pandas as pd
import pytest

from pipeline.analyses import caseload_rag as C
from pipeline.config import DisclosureSettings
from pipeline.disclosure import release
from pipeline.extract import Extract
from pipeline.load import load_extract
from pipeline.release_check import differencing, from_results
from pipeline.synthetic import PLANTED, generate

OFF = DisclosureSettings(enabled=False)
RULES = {"enabled": True, "min_count": 8, "rounding": 5, "min_base": 8, "pct_decimals": 1}


@pytest.fixture(scope="module")
def exact(tiny):
    return release(C.publish, C.compute(tiny), OFF).data


def rgb(red, amber, green):
    return {"red": red, "amber": amber, "green": green}


def test_caseload_by_month_by_hand(exact):
    cm = exact["caseload_by_month"]
    assert list(cm["counts"]) == [str(p) for p in pd.period_range("2022-04", "2024-03", freq="M")]
    expected = {"2022-04": rgb(1, 0, 0), "2022-05": rgb(0, 2, 0), "2022-06": rgb(1, 1, 0), "2022-07": rgb(1, 0, 2),
                "2022-08": rgb(1, 0, 1), "2022-09": rgb(2, 0, 0), "2022-10": rgb(1, 0, 1), "2022-12": rgb(1, 0, 1),
                "2023-01": rgb(1, 0, 2), "2023-04": rgb(1, 0, 2), "2023-05": rgb(1, 0, 1), "2024-03": rgb(1, 0, 1)}
    for m, counts in expected.items():
        assert cm["counts"][m] == counts, m
        assert cm["open_rated_cases"][m] == sum(counts.values())
    assert cm["pct"]["2023-01"] == {"red": 33.3, "amber": 0.0, "green": 66.7}


def test_movement_between_ratings_by_hand(exact):
    t = exact["transitions"]
    assert t["counts"] == {"red": rgb(0, 1, 1), "amber": rgb(1, 0, 1), "green": rgb(0, 1, 0)}
    assert (t["from_total"], t["to_total"], t["total"]) == (rgb(2, 2, 1), rgb(1, 2, 2), 5)
    assert t["row_pct"]["amber"] == rgb(50.0, 0.0, 50.0)
    fl = exact["first_to_latest"]
    assert fl["counts"] == {"red": rgb(0, 0, 2), "amber": rgb(1, 0, 0), "green": rgb(0, 1, 0)}
    assert fl["direction"] == {"improved": 2, "unchanged": 0, "worsened": 2}
    assert fl["direction_pct"] == {"improved": 50.0, "unchanged": 0.0, "worsened": 50.0}
    assert (fl["first_red_left_red"], fl["first_red_left_red_pct"]) == (2, 100.0)
    assert (exact["cases_reviewed"], fl["cases_reviewed_again"], fl["cases_reviewed_again_pct"]) == (5, 4, 80.0)
    assert (exact["reviews"], exact["reviews_by_rating"]) == (10, rgb(3, 3, 4))


def test_escalations_by_hand(exact):
    e = exact["escalations"]
    assert (e["status"], e["escalations"], e["by_rating_at_review"]) == ("ok", 2, rgb(2, 0, 0))
    assert e["pct_of_reviews_at_rating"] == rgb(66.7, 0.0, 0.0)
    assert {m: n for m, n in e["by_month"].items() if n} == {"2022-04": 1, "2022-06": 1}
    assert (e["cases_escalated"], e["cases_escalated_pct"], e["reviews_with_no_value"]) == (2, 40.0, 1)


def test_escalations_not_recorded(tiny):
    rv = tiny["caseload_reviews"].assign(safeguarding_escalation=pd.array([pd.NA] * 10, dtype="boolean"))
    ex = Extract(tiny.config, dict(tiny.tables, caseload_reviews=rv), tiny.sha256)
    e = release(C.publish, C.compute(ex), OFF).data["escalations"]
    assert e["status"] == "not_recorded" and "safeguarding_escalation" in e["reason"]


def cases(tiny, groups: list[tuple[int, str, str | None]]) -> Extract:
    """For each (n, first, later): n copies of R002 (open), rated ``first`` on 2022-05-10 and
    ``later`` on 2022-06-10 (escalated at a red first rating)."""
    n = sum(g[0] for g in groups)
    ref = tiny["referrals"].iloc[[1] * n].copy()
    ref["referral_id"] = [f"X{i:04d}" for i in range(n)]
    rows, i = [], 0
    for k, first, later in groups:
        for rid in ref["referral_id"].iloc[i:i + k]:
            rows.append((rid, "2022-05-10", first, first == "red"))
            if later:
                rows.append((rid, "2022-06-10", later, False))
        i += k
    rv = pd.DataFrame(rows, columns=["referral_id", "review_date", "rag_rating", "safeguarding_escalation"])
    rv["review_date"] = pd.to_datetime(rv["review_date"])
    rv["safeguarding_escalation"] = rv["safeguarding_escalation"].astype("boolean")
    return Extract(tiny.config, {"referrals": ref, "caseload_reviews": rv}, tiny.sha256)


def test_disclosure_hides_a_small_transition_with_its_neighbours_and_nothing_is_recoverable(tiny):
    ex = cases(tiny, [(58, "red", "amber"), (3, "red", "green"), (40, "amber", "green"), (50, "green", "green"),
                      (20, "amber", None)])
    out = release(C.publish, C.compute(ex), DisclosureSettings())
    t = out.data["transitions"]
    assert t["counts"]["red"]["green"] is None and t["row_pct"]["red"]["green"] is None  # 3: small
    assert t["counts"]["red"]["amber"] is None  # and its neighbour, so the red row does not give it away
    assert t["from_total"]["red"] == 60 and out.data["cases_reviewed"] == 170  # which others go is the layer's choice
    rep = from_results({"disclosure_control": RULES, "caseload_rag": json.loads(json.dumps(out.data))})
    assert differencing.attack(rep) == []
    # publishing the neighbour gives the small cell away: 60 (58..62) from red, 0 to red and
    # 60 (58..62) to amber leave 1 to 4 to green
    leaky = json.loads(json.dumps(out.data))
    leaky["transitions"]["counts"]["red"]["amber"] = 60
    found = differencing.attack(from_results({"disclosure_control": RULES, "caseload_rag": leaky}))
    assert "caseload_rag.transitions.counts.red.green" in {f.paths[0] for f in found}


# ---------------------------------------------------------------------------------- planted
@pytest.fixture(scope="module")
def merton(tmp_path_factory):
    ex = load_extract(generate("merton", tmp_path_factory.mktemp("m") / "merton"))
    return release(C.publish, C.compute(ex), DisclosureSettings()).data


def test_the_planted_drift_and_escalations_are_recovered(merton):
    """Merton's reviews move between consecutive reviews by the planted transition matrix (a drift
    from red towards green) and escalate by the planted probability per rating; the published
    shares (from rounded counts, over about 11,000 pairs) recover each within 4 points."""
    planted = PLANTED["caseload"]
    t = merton["transitions"]
    for a in C.RATINGS:
        for b in C.RATINGS:
            assert t["row_pct"][a][b] == pytest.approx(100 * planted["transition"][a][b], abs=4), (a, b)
    esc = merton["escalations"]["pct_of_reviews_at_rating"]
    for r in C.RATINGS:
        assert esc[r] == pytest.approx(100 * planted["escalation_probability"][r], abs=4), r
    fl = merton["first_to_latest"]
    assert fl["direction_pct"]["improved"] > fl["direction_pct"]["worsened"]
    assert fl["first_red_left_red_pct"] > 50
