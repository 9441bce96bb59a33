"""Data quality: completeness, record checks and the limitation sentences.

Facts about tests/fixtures/tiny used here (hand-computed from the CSV files):

- referrals (12 rows): first_contact_date 11 filled (91.7%), closure_date and closure_reason 4
  (33.3%), risk_band / diabetes / severe_mental_illness / carer 11 (91.7%), service_outcome and
  bed_days_saved 2 (16.7%), health_budget_gbp 1 (8.3%); by financial year risk_band is 7/7 in
  2022/23 and 4/5 (80%) in 2023/24 (R012 empty).
- sp_contacts (32 rows): contact_type 31 (96.9%; R006's cancelled one is empty); duration 23
  (71.9%), i.e. every one of the 23 attended appointments (100%).
- checks: nothing after the extract end; no closure before the last attended appointment; every
  first_contact_date is the first attended appointment; R003 never seen (1 of 12); 4 referrals
  open more than 365 days at 2024-03-31 (R002, R003, R005, R007); gp_appointments: P001's
  2022-02-10 and 2022-03-15 are before extract_start (2 of 12); 11 referrals seen, 3 with an
  ONS4 score (R001, R005, R010): 8 without; of the 3, R005 has no follow-up (1).
- deaths has 1 row, so its completeness is suppressed under disclosure control.
"""

import json

import pandas as pd
import pytest
from notebook_runs import TINY, run_notebook

from pipeline import nb
from pipeline.analyses import data_quality as dq
from pipeline.analyses.data_quality_text import limitations
from pipeline.analyses.referral_index import ReferralIndex
from pipeline.config import DisclosureSettings
from pipeline.disclosure import release
from pipeline.extract import Extract
from pipeline.load import load_extract

OFF = DisclosureSettings(enabled=False)


def publish(ex, rules=OFF):
    return release(dq.publish, dq.compute(ex), rules)


@pytest.fixture(scope="module")
def exact(tiny):
    out = publish(tiny)
    assert out.suppressed == []
    return out.data


def test_completeness_of_every_column(exact):
    ref = exact["completeness"]["referrals"]
    assert list(ref) == ["referral_id", "patient_id", "practice_code", "pcn", "referral_date", "referral_source",
                         "referral_reason", "first_contact_date", "closure_date", "closure_reason", "age", "gender",
                         "ethnicity", "imd_decile", "risk_band", "diabetes", "severe_mental_illness", "carer",
                         "service_outcome", "bed_days_saved", "health_budget_gbp"]
    assert (ref["referral_id"], ref["first_contact_date"], ref["closure_date"], ref["risk_band"]) == \
        (100.0, 91.7, 33.3, 91.7)
    assert (ref["service_outcome"], ref["health_budget_gbp"]) == (16.7, 8.3)
    con = exact["completeness"]["sp_contacts"]
    assert (con["contact_type"], con["duration_minutes"]) == (96.9, 71.9)
    assert set(exact["completeness"]) == set(exact["tables"])
    assert all(v["present"] for v in exact["tables"].values())
    assert exact["completeness_by_year"]["risk_band"] == {"2022/23": 100.0, "2023/24": 80.0}


def test_completeness_where_it_matters(exact):
    c = exact["completeness_where_it_matters"]
    assert c["sp_contacts.duration_minutes"]["pct"] == 100.0 and c["sp_contacts.duration_minutes"]["eligible"] == 23
    assert c["referrals.closure_reason"]["pct"] == 100.0 and c["referrals.closure_reason"]["eligible"] == 4
    assert c["referrals.first_contact_date"]["pct"] == 100.0


def test_record_checks_on_tiny(exact):
    ch = {k: (v["records"], v["checked"]) for k, v in exact["checks"].items()}
    for zero in ("contacts_after_end", "first_contact_after_end", "closure_after_end", "closed_before_last_attended",
                 "contacts_long_after_closure", "first_contact_not_first_attended", "duplicate_contacts",
                 "signposts_out_of_range", "needs_out_of_range", "assessments_out_of_range", "deaths_after_end"):
        assert ch[zero][0] == 0, zero
    assert ch["never_seen"] == (1, 12)
    assert ch["open_over_a_year"] == (4, 12)
    assert ch["gp_appointments_outside"] == (2, 12)
    assert ch["seen_without_ons4"] == (8, 11)
    assert ch["ons4_without_followup"] == (1, 3)
    assert exact["checks"]["open_over_a_year"]["pct"] == 33.3


def test_limitations_say_how_each_gap_limits_the_analyses(exact):
    text = "\n".join(limitations(exact))
    assert "excluded from the clinical targets by risk band" in text
    assert "biased toward completers" in text
    assert "1 referral (8.3% of those checked) in `referrals` was never seen" in text
    # closure_date is empty by design for open referrals: judged only where it is due
    assert "`closure_date` in `referrals`" not in text
    assert "Not provided" not in text  # every table is given


def test_problems_are_found(tiny):
    ref = tiny["referrals"].copy()
    con = tiny["sp_contacts"].copy()
    ref.loc[ref["referral_id"] == "R001", "closure_date"] = pd.Timestamp("2022-08-01")  # last attended 2022-08-30
    ref.loc[ref["referral_id"] == "R002", "first_contact_date"] = pd.Timestamp("2022-05-12")  # attended 05-10
    extra = pd.DataFrame({"referral_id": ["R012"], "contact_date": [pd.Timestamp("2024-04-10")],
                          "status": ["attended"], "contact_type": ["telephone"],
                          "duration_minutes": pd.array([20], dtype="Int64")})
    con = pd.concat([con, extra, con.iloc[[0]]], ignore_index=True)  # one after the end, one duplicate
    ex = Extract(tiny.config, dict(tiny.tables, referrals=ref, sp_contacts=con), tiny.sha256)
    out = publish(ex).data
    ch = {k: v["records"] for k, v in out["checks"].items()}
    assert ch["closed_before_last_attended"] == 1
    assert ch["contacts_long_after_closure"] == 1  # 2022-08-30 is 29 days after 2022-08-01
    assert ch["first_contact_not_first_attended"] == 1
    assert ch["contacts_after_end"] == 1
    assert ch["duplicate_contacts"] == 1


def test_disclosure_control(tiny):
    pub = publish(tiny, DisclosureSettings())
    out = pub.data
    assert out["tables"]["deaths"]["rows"] is None
    assert all(v is None for v in out["completeness"]["deaths"].values())  # 1 row: too few to describe
    assert out["checks"]["never_seen"]["records"] is None and out["checks"]["never_seen"]["pct"] is None
    # 8 of 10 seen (11, published 10) have no ONS4: a published 10 would put the 3 with one at 1..4,
    # a small count pinned tighter than "small", so the bounds audit withholds it too
    assert out["checks"]["seen_without_ons4"]["records"] is None
    assert "checks.seen_without_ons4.records" in pub.suppressed
    assert "checks.never_seen.records" in pub.suppressed
    text = "\n".join(limitations(out))
    assert "Some referrals (a number withheld by disclosure control) in `referrals` were never seen" in text
    for v in (c["records"] for c in out["checks"].values()):
        assert v is None or v == 0 or (v >= 8 and v % 5 == 0)


def test_a_share_of_a_column_filled_in_is_a_share_of_people():
    """The old section published each column's share filled in from exact counts whenever the table
    had 8 rows: 11 of 12 referrals with a risk band (91.7%) told a reader that exactly one referral
    has none. A share is now computed from rounded counts and withheld when the number filled in or
    left empty is small (the empty count is a hidden part of the table's rows)."""
    out = publish(tiny_extract(), DisclosureSettings()).data
    ref = out["completeness"]["referrals"]
    assert ref["risk_band"] is None  # 1 of 12 empty
    assert ref["referral_id"] == 100.0  # 12 of 12: nothing small
    big = publish(grown({"R001": 40, "R012": 20, "R003": 10}), DisclosureSettings()).data
    ref = big["completeness"]["referrals"]
    rows = big["tables"]["referrals"]["rows"]
    assert rows == 80  # 82 referrals, 61 with a risk band
    assert ref["risk_band"] == round(60 / 80 * 100, 1) != round(61 / 82 * 100, 1)  # from the rounded counts


def tiny_extract():

    return load_extract(TINY)


def grown(copies):
    """The tiny fixture with more referrals copied from some of its own: {referral_id: copies}."""
    ex = tiny_extract()
    ref = ex["referrals"]
    extra = pd.concat([ref[ref["referral_id"] == r] for r, k in copies.items() for _ in range(k)], ignore_index=True)
    extra["referral_id"] = [f"X{i:03d}" for i in range(len(extra))]
    extra["patient_id"] = [f"Q{i:03d}" for i in range(len(extra))]
    return Extract(ex.config, dict(ex.tables, referrals=pd.concat([ref, extra], ignore_index=True)), ex.sha256)


def test_a_check_and_its_base_share_one_count():
    """Referrals with a first contact are the filled-in count of first_contact_date, the base of
    'seen but no ONS4' and, with those that have an attended appointment, of two order checks: one
    cell, hidden under every name when it is hidden under one."""
    pub = publish(tiny_extract(), DisclosureSettings()).data
    seen = {pub["checks"]["seen_without_ons4"]["checked"], pub["checks"]["first_contact_without_attended"]["checked"]}
    assert len(seen) == 1  # the same value (withheld or not) under both names


def test_only_referrals_and_contacts(tiny):
    ex = Extract(tiny.config, {"referrals": tiny["referrals"], "sp_contacts": tiny["sp_contacts"]}, tiny.sha256)
    out = publish(ex).data
    assert set(out["completeness"]) == {"referrals", "sp_contacts"}
    assert out["tables"]["outcome_measures"] == {"present": False, "rows": None}
    assert "seen_without_ons4" not in out["checks"]
    assert any(s.startswith("Not provided: `outcome_measures`") for s in limitations(out))
    json.dumps(out, allow_nan=False)


def test_notebook_uses_the_whole_extract_in_a_period_report(tiny, tmp_path):
    frag, _ = run_notebook("90_data_quality", tiny, tmp_path, period="2023-Q2", section="data_quality")
    assert frag["status"] == "ok"
    assert frag["data"]["extract_period"] == {"start": "2022-04-01", "end": "2024-03-31"}
    assert frag["data"]["tables"]["referrals"]["rows"] == 10  # all 12 referrals, rounded


def test_a_change_in_recording_between_years_is_a_limitation(tiny):
    ref = tiny["referrals"].copy()
    late = ref["referral_date"] >= pd.Timestamp("2023-04-01")
    ref.loc[late, "imd_decile"] = pd.NA  # 2022/23: 7 of 7 recorded; 2023/24: none
    ex = Extract(tiny.config, dict(tiny.tables, referrals=ref), tiny.sha256)
    out = publish(ex).data
    assert out["completeness_by_year"]["imd_decile"] == {"2022/23": 100.0, "2023/24": 0.0}
    assert "Recording of `imd_decile` fell from 100% of referrals in 2022/23 to 0% in 2023/24" in \
        "\n".join(limitations(out))


def test_referral_lookups_match_dict_and_groupby_semantics():
    """The positional look-ups give what ``dict(zip(ids, dates))``, ``Series.map`` and
    ``groupby(id).min()/max()`` gave: a repeated id stands for its last row, ids that are not
    referrals and missing dates give NaT."""
    d = pd.to_datetime
    ref = pd.DataFrame({"referral_id": ["r1", "r2", "r1", "r3"],
                        "closure_date": d(["2024-01-05", None, "2024-02-01", "2024-03-01"])})
    con = pd.DataFrame({"referral_id": ["r1", "r2", "rX", "r2", "r1", "r3"],
                        "contact_date": d(["2024-01-02", "2024-01-03", "2024-01-04", None, "2024-01-09", None])})
    refs = ReferralIndex(ref)
    codes = refs.codes(con["referral_id"])
    closure_of = dict(zip(ref["referral_id"], ref["closure_date"], strict=True))
    pd.testing.assert_series_equal(refs.value(ref["closure_date"], codes), con["referral_id"].map(closure_of),
                                   check_names=False)
    for how in ("min", "max"):
        by_id = con.groupby("referral_id")["contact_date"].agg(how)
        pd.testing.assert_series_equal(refs.per_referral(codes, con["contact_date"], how),
                                       ref["referral_id"].map(by_id), check_names=False)


def test_ons4_follow_up_matches_groupby_by_referral_and_item():
    d = pd.to_datetime
    ref = pd.DataFrame({"referral_id": ["r1", "r2", "r3", "r4", "r5"]})
    ons = pd.DataFrame({
        "referral_id": ["r1", "r1", "r2", "r2", "r3", "r3", "r4", "rX", "rX", "r5", "r5"],
        "item": ["happy", "happy", "happy", "anxious", "happy", "happy", None, "happy", "happy", "happy", "happy"],
        "assessment_date": d(["2024-01-01", "2024-01-29", "2024-01-01", "2024-03-01", "2024-01-01", "2024-01-28",
                              "2024-01-01", "2024-01-01", "2024-06-01", "2024-01-01", None]),
    })
    has, paired = ReferralIndex(ref).followed_up(ons, 28)
    span = ons.groupby(["referral_id", "item"])["assessment_date"].agg(["min", "max"])
    want = set(span[(span["max"] - span["min"]).dt.days >= 28].reset_index()["referral_id"])
    assert has.tolist() == ref["referral_id"].isin(set(ons["referral_id"])).tolist() == [True] * 5
    assert paired.tolist() == ref["referral_id"].isin(want).tolist() == [True, False, False, False, False]


def test_completeness_tables_hold_the_published_shares(exact):
    t = dq.completeness_table(exact)
    assert list(t.columns) == ["Table", "Column", "% of rows filled in"]
    assert t.values.tolist() == [[tb, c, v] for tb, cols in exact["completeness"].items() for c, v in cols.items()]
    ref = t[t["Table"] == "referrals"].set_index("Column")["% of rows filled in"]
    assert (ref["first_contact_date"], ref["closure_date"]) == (91.7, 33.3)
    y = dq.completeness_by_year_table(exact)
    assert list(y.columns) == ["Column of referrals", "Financial year", "% of referrals filled in"]
    assert y[y["Column of referrals"] == "risk_band"].values.tolist() == [["risk_band", "2022/23", 100.0],
                                                                          ["risk_band", "2023/24", 80.0]]


def test_completeness_tables_keep_withheld_shares_withheld(tiny):
    pub = publish(tiny, DisclosureSettings())
    withheld = [(t, c) for t, cols in pub.data["completeness"].items() for c, v in cols.items() if v is None]
    assert withheld, "the tiny extract has shares resting on few rows"
    text = nb.csv_text(dq.completeness_table(pub.data))
    for t, c in withheld:
        assert f"{t},{c},[c]" in text.splitlines()
    years = [(c, y) for c, ys in pub.data["completeness_by_year"].items() for y, v in ys.items() if v is None]
    text = nb.csv_text(dq.completeness_by_year_table(pub.data))
    assert years and all(f"{c},{y},[c]" in text.splitlines() for c, y in years)
