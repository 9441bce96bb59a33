"""Activity and participants on the hand-checked tiny extract (tests/fixtures/tiny/README.md)."""

import pytest
from notebook_runs import TINY, run_notebook

from pipeline.analyses import activity, labels
from pipeline.config import DisclosureSettings
from pipeline.disclosure import release
from pipeline.load import load_extract

OFF = DisclosureSettings(enabled=False)
ON = DisclosureSettings()


def published(raw, rules=ON):
    return release(activity.publish, raw, rules)


@pytest.fixture(scope="module")
def raw():
    return activity.compute(load_extract(TINY))


def test_raw_activity_matches_hand_counts(raw):
    assert (raw.referrals, raw.patients, raw.patients_seen) == (12, 11, 10)
    assert (raw.contacts_booked, raw.contacts_attended, raw.contacts_dna, raw.contacts_cancelled) == (32, 23, 5, 4)
    assert sorted(raw.waits_days.tolist()) == [0, 2, 4, 7, 7, 7, 7, 8, 14, 14, 14]
    assert len(raw.referrals_by_month) == 24 and sum(raw.referrals_by_month.values()) == 12
    assert raw.referrals_by_month["2022-08"] == 0 and raw.referrals_by_month["2024-02"] == 1


def test_participants_breakdowns(raw):
    assert raw.participants["gender"] == {"female": 6, "male": 4, "not_stated": 1, "other": 1}
    assert raw.participants["age_band"]["25-34"] == 1  # R008, age 29
    assert raw.participants["age_band"]["75-84"] == 1 and "85+" not in raw.participants["age_band"]
    assert raw.participants["imd_decile"]["1"] == 2
    assert sum(raw.participants["referral_reason"].values()) == 12


def test_published_exact_when_control_is_off(raw):
    out = published(raw, OFF).data
    assert out["dna_or_cancelled_pct"] == 28.1
    assert out["mean_attended_contacts_per_patient_seen"] == 2.3
    assert out["median_days_referral_to_first_contact"] == 7.0


def test_published_with_default_control_hides_small_numbers(raw):
    pub = published(raw)
    out = pub.data
    # 12 referrals, each month's count withheld (1 or 0): under a published 10 (8..12), twelve months
    # that are each at least 1 would each be exactly 1, so the total is withheld too
    assert out["referrals"] is None and out["patients_seen"] == 10
    # 11 patients of 12 referrals: the one re-referral is a small count, and in the whole extract the
    # patients are the new referrals, so the patient count goes with the hidden new-referral count
    assert out["patients"] is None and out["new_vs_rereferrals"] == {"new": None, "re_referral": None}
    # 32 booked: 23 attended, 5 not attended, 4 cancelled. Published 10 missed would squeeze the two
    # small counts under it, so the missed total, the attended total and what rests on them go
    assert out["contacts_booked"] == 30 and out["contacts_attended"] is None
    assert out["dna_or_cancelled_pct"] is None and out["mean_attended_contacts_per_patient_seen"] is None
    assert all(v in (0, None) for v in out["referrals_by_month"].values())
    assert "referrals_by_month.2022-04" in pub.suppressed
    assert out["participants"]["gender"]["female"] is None


def test_age_bands_follow_the_merton_dashboard():
    import pandas as pd

    bands = activity.age_band(pd.Series([0, 14, 15, 18, 19, 24, 25, 54, 84, 85, 120], dtype="Int64"))
    assert bands.tolist() == ["0-14", "0-14", "15-18", "15-18", "19-24", "19-24", "25-34", "45-54", "75-84", "85+", "85+"]


# ============================================================================ the logic-model extras
"""Extra facts about tests/fixtures/tiny used below (hand-computed from the CSV files):

- practices: F84001 4 referrals (R001, R002, R006, R011), F84002 3, F84003 3, F84004 2;
  PCN North 7 (R001-R003, R006, R007, R010, R011), PCN South 5.
- PCN populations (mean of the 4 quarters in pcn_quarterly): North 6016.25, South 3988.75.
  Rates per 1,000: borough 12 / 10,000 * 1,000 = 1.2 over 731 days (2.0014 years) = 0.6 a year;
  North 7 / 6016.25 * 1000 = 1.16, South 5 / 3988.75 * 1000 = 1.25.
- re-referrals: R006 (P001's second) is the only one.
- face_to_face: booked 13, attended 11, dna 2 (R004, R007), cancelled 0; attended minutes
  40,45,45,50,50,55,60,60,60,60,60: median 55, mean 53.2. telephone: booked 12, attended 7,
  dna 2, cancelled 3 (41.7% missed); minutes 20,20,25,30,30,30,35: median 30, mean 27.1.
  R006's cancelled contact has no type ("not_recorded").
- waits (days) 0,2,4,7,7,7,7,8,14,14,14: quartiles 5.5 and 11 (linear), all 11 within 14 days,
  7 in 0-7 days, 4 in 8-14; R003 never seen.
- closures by 2024-03-31: R001 (141 days), R004 (91), R006 (142), R010 (148): median 141.5;
  completed 3, disengaged 1; 8 open, 4 of them referred more than 365 days before the end
  (R002, R003, R005, R007).
- signposting: 4 signposts, 4 referrals (R001, R002, R004, R010, 33.3% of 12), one each to
  social_activity, mental_health, financial_advice, physical_activity.
- unmet needs: R003 (North), R011 (North), R004 (South): North 2 per 7 referrals = 285.7 per
  1,000, South 1 per 5 = 200.0; each need 1 per 12 referrals = 83.3 per 1,000.
- participants: carer yes 4 (R003, R005, R011, R012), no 7, empty 1 (R009); diabetes yes 5, no 6,
  empty 1; risk_band high 4, very_high 3, medium 2, low 2, empty 1 (R012); Core20 (IMD 1-2)
  R002, R003, R010, R012 = 4 of 12 = 33.3%.
- referred people at their index referral: female 5, male 4, other 1, not_stated 1 (of 11);
  comparison pool: female 2, male 1, not_stated 1 (of 4).
- FY 2022/23 (R001-R007): R006 is a re-referral; closed by 2023-03-31: R001, R004 (R006 closes
  2023-05-31, after the period).
"""

import json  # noqa: E402
from dataclasses import replace  # noqa: E402

import pandas as pd  # noqa: E402

from pipeline.extract import Extract  # noqa: E402
from pipeline.periods import parse_period, restrict  # noqa: E402


@pytest.fixture(scope="module")
def exact(raw):
    pub = published(raw, OFF)
    assert pub.suppressed == []  # nothing is recorded as suppressed when control is off
    return pub.data


@pytest.fixture(scope="module")
def controlled(raw):
    pub = published(raw)
    return pub.data, pub


def test_contract_keys_are_unchanged(exact):
    contract = ["referrals", "patients", "patients_seen", "contacts_booked", "contacts_attended",
                "dna_or_cancelled_pct", "mean_attended_contacts_per_patient_seen",
                "median_days_referral_to_first_contact", "referrals_by_month"]
    assert list(exact)[:9] == contract
    assert exact["period_covered"] == {"start": "2022-04-01", "end": "2024-03-31"}
    assert exact["patients_seen_pct"] == 90.9  # 10 of 11: the executive summary quotes it


def test_monthly_series(exact):
    """README: R001 referred 2022-04-11, first contact 04-19 (8 days); April's contacts are R001's dna
    on 04-15 and attendance on 04-19."""
    m = exact["monthly"]
    assert list(m) == list(exact["referrals_by_month"])
    assert m["2022-04"] == {"referrals": 1, "contacts_booked": 2, "dna_or_cancelled_pct": 50.0,
                            "median_days_to_first_contact": 8.0}
    assert all(m[k]["referrals"] == exact["referrals_by_month"][k] for k in m)
    assert sum(v["contacts_booked"] for v in m.values()) == exact["contacts_booked"]
    assert m["2022-08"]["referrals"] == 0 and m["2022-08"]["median_days_to_first_contact"] is None
    assert m["2022-12"]["contacts_booked"] == 0 and m["2022-12"]["dna_or_cancelled_pct"] is None


def test_referrals_by_practice_pcn_target_and_rates(exact):
    assert exact["referrals_by_practice"] == {"F84001": 4, "F84002": 3, "F84003": 3, "F84004": 2}
    assert exact["referrals_by_pcn"] == {"PCN North": 7, "PCN South": 5}
    assert exact["referrals_by_source"]["gp"] == 5 and sum(exact["referrals_by_source"].values()) == 12
    assert list(exact["referrals_by_reason"]) == activity.CATEGORIES["referral_reason"]
    t = exact["referral_target"]
    assert (t["lower"], t["upper"], t["months_below"], t["months_within"], t["months_above"]) == (5, 10, 24, 0, 0)
    r = exact["referral_rates"]
    assert r["registered_population"] == 10000
    assert r["per_1000_registered"] == 1.2 and r["per_1000_registered_per_year"] == 0.6
    assert r["by_pcn"]["PCN North"]["per_1000"] == 1.16 and r["by_pcn"]["PCN South"]["per_1000"] == 1.25
    assert r["by_pcn"]["PCN North"]["registered_population"] == 6016
    assert exact["new_vs_rereferrals"] == {"new": 11, "re_referral": 1}


def test_contacts_by_type_and_duration(exact):
    f2f, tel = exact["contacts_by_type"]["face_to_face"], exact["contacts_by_type"]["telephone"]
    assert (f2f["booked"], f2f["attended"], f2f["dna"], f2f["cancelled"]) == (13, 11, 2, 0)
    assert (f2f["median_minutes"], f2f["mean_minutes"], f2f["dna_or_cancelled_pct"]) == (55.0, 53.2, 15.4)
    assert (tel["booked"], tel["attended"], tel["dna"], tel["cancelled"]) == (12, 7, 2, 3)
    assert (tel["median_minutes"], tel["mean_minutes"], tel["dna_or_cancelled_pct"]) == (30.0, 27.1, 41.7)
    assert exact["contacts_by_type"]["not_recorded"]["cancelled"] == 1
    assert sum(r["booked"] for r in exact["contacts_by_type"].values()) == 32
    assert exact["attended_contacts_by_type"] == {"face_to_face": 11, "group": 2, "home_visit": 1,
                                                  "telephone": 7, "video": 2}


def test_wait_closures(exact):
    w = exact["wait"]
    assert (w["median_days"], w["q1_days"], w["q3_days"], w["within_14_days_pct"]) == (7.0, 5.5, 11.0, 100.0)
    assert w["distribution"] == {"0-7": 7, "8-14": 4, "15-28": 0, "29-56": 0, "57+": 0}
    assert (w["referrals_with_first_contact"], w["referrals_not_seen"]) == (11, 1)
    c = exact["closures"]
    assert (c["closed"], c["open_at_end"], c["open_longer_than_365_days"]) == (4, 8, 4)
    assert c["reasons"]["completed"] == 3 and c["reasons"]["disengaged"] == 1
    assert c["reasons_pct"]["completed"] == 75.0
    assert c["median_days_referral_to_closure"] == 141.5


def test_signposting_and_unmet_needs(exact):
    s = exact["signposting"]
    assert (s["signposts"], s["referrals_signposted"], s["referrals_signposted_pct"]) == (4, 4, 33.3)
    assert s["by_category"]["social_activity"] == 1 and s["by_category"]["food"] == 0
    assert [t["service"] for t in s["top_services"]] == ["Citizens Advice", "Talking Therapies",
                                                        "Tuesday Lunch Club", "Walking Group"]
    assert s["top_services"][0]["pct"] == 25.0
    u = exact["unmet_needs"]
    assert (u["needs_recorded"], u["referrals_with_need"], u["referrals_with_need_pct"]) == (3, 3, 25.0)
    assert u["by_pcn"]["PCN North"]["needs_per_1000_referrals"] == 285.7
    assert u["by_pcn"]["PCN South"]["needs_per_1000_referrals"] == 200.0
    assert u["top_needs_per_1000_referrals"]["emergency housing"] == 83.3
    assert u["by_need_pcn"]["emergency housing"] == {"PCN North": 0, "PCN South": 1}
    assert u["by_need_pcn_per_1000_referrals"]["evening befriending"]["PCN North"] == 142.9


def test_participants_extra(exact):
    p = exact["participants"]
    assert p["carer"] == {"no": 7, "not_recorded": 1, "yes": 4}
    assert p["diabetes"] == {"no": 6, "not_recorded": 1, "yes": 5}
    assert p["risk_band"] == {"high": 4, "low": 2, "medium": 2, "not_recorded": 1, "very_high": 3}
    assert exact["participants_pct"]["gender"]["female"] == 50.0
    assert exact["participants_summary"]["core20_pct"] == 33.3
    vs = exact["participants_vs_registered"]
    assert vs["pool"] == "comparison_patients" and (vs["referred_people"], vs["pool_people"]) == (11, 4)
    assert vs["columns"]["gender"]["referred_pct"] == {"female": 45.5, "male": 36.4, "not_stated": 9.1, "other": 9.1}
    assert vs["columns"]["gender"]["pool_pct"] == {"female": 50.0, "male": 25.0, "not_stated": 25.0, "other": 0.0}


def test_names_are_grouped_ignoring_case_and_spacing():
    s = pd.Series(["AGE UK MERTON", "Age UK Merton", "Age  UK Merton ", "Wimbledon Guild"])
    key = labels.normalise_name(s)
    assert key.nunique() == 2
    assert labels.display_names(s, key)["age uk merton"] in ("AGE UK MERTON", "Age UK Merton")


# ---------------------------------------------------------------------------- disclosure

def _is_published_count(v):
    return v is None or v == 0 or (v >= 8 and v % 5 == 0)


def test_every_count_table_is_rounded_or_suppressed(controlled):
    out, pub = controlled
    for key in ("referrals_by_practice", "referrals_by_pcn", "referrals_by_source", "referrals_by_reason",
                "new_vs_rereferrals", "attended_contacts_by_type"):
        assert all(_is_published_count(v) for v in out[key].values()), key
    for row in out["contacts_by_type"].values():
        assert all(_is_published_count(row[k]) for k in ("booked", "attended", "dna", "cancelled"))
    for col_cells in out["participants"].values():
        assert all(_is_published_count(v) for v in col_cells.values())
    assert all(_is_published_count(v) for v in out["wait"]["distribution"].values())
    assert all(_is_published_count(v) for v in out["closures"]["reasons"].values())
    assert all(_is_published_count(v["contacts_booked"]) for v in out["monthly"].values())
    assert "referrals_by_practice.F84004" in pub.suppressed


def test_secondary_suppression_in_the_contacts_table(controlled):
    out, _ = controlled
    for t, row in out["contacts_by_type"].items():
        cells = [row["attended"], row["dna"], row["cancelled"]]
        if row["booked"] is not None:  # a published total: never exactly one hidden cell
            assert sum(v is None for v in cells) != 1, t
        # the attended column is published the same way in both keys
        if t in out["attended_contacts_by_type"]:
            assert out["attended_contacts_by_type"][t] == row["attended"]
    f2f = out["contacts_by_type"]["face_to_face"]
    # 2 did not attend: hidden, and a neighbour or the row's total with it
    assert f2f["dna"] is None and (f2f["booked"] is None or
                                   sum(f2f[s] is None for s in ("attended", "dna", "cancelled")) >= 2)
    assert f2f["median_minutes"] == 55.0  # resting on 11 attended contacts: publishable
    assert f2f["mean_minutes"] == 53.0  # 53.2 from 11 contacts: whole minutes below about 100


def test_rates_and_percentages_rest_on_rounded_counts(controlled):
    out, pub = controlled
    # the rate would be 10 (12 rounded) per 10,000, but the referral count it rests on is withheld
    # (twelve months of 1 under it), so the rate goes with it: a hidden cell is hidden everywhere
    assert out["referrals"] is None and out["referral_rates"]["per_1000_registered"] is None
    assert "referral_rates.per_1000_registered" in pub.suppressed
    assert out["referral_rates"]["by_pcn"]["PCN North"]["per_1000"] is None  # 7 referrals: suppressed
    assert "referral_rates.by_pcn.PCN North.per_1000" in pub.suppressed
    assert out["wait"]["within_14_days_pct"] is None  # the 0-7 and 8-14 bins are hidden
    assert out["signposting"]["top_services"] == [{"service": activity.OTHER, "signposts": None, "pct": None}]
    assert out["unmet_needs"]["by_pcn"]["PCN North"]["needs_per_1000_referrals"] is None
    # a suppressed month of 1..7 cannot be judged against a band starting at 5
    assert out["referral_target"]["months_unknown"] == 12 and out["referral_target"]["months_below"] == 12


# ---------------------------------------------------------------------------- periods and thin extracts

def test_a_period_report_counts_rereferrals_against_the_whole_history(tiny):
    fy = restrict(tiny, parse_period("2022-23"))
    raw = activity.compute(fy, history=tiny)
    out = published(raw, OFF).data
    assert out["referrals"] == 7 and len(out["referrals_by_month"]) == 12
    assert out["new_vs_rereferrals"] == {"new": 6, "re_referral": 1}
    assert out["closures"]["closed"] == 2 and out["closures"]["open_at_end"] == 5
    assert out["period_covered"] == {"start": "2022-04-01", "end": "2023-03-31"}
    later = published(activity.compute(restrict(tiny, parse_period("2023-24")), history=tiny), OFF).data
    assert later["new_vs_rereferrals"] == {"new": 5, "re_referral": 0}


def _thin(tiny, drop_columns=False):
    ref, con = tiny["referrals"].copy(), tiny["sp_contacts"].copy()
    if drop_columns:
        ref = ref.drop(columns=["first_contact_date", "closure_date", "closure_reason", "imd_decile", "risk_band",
                                "diabetes", "severe_mental_illness", "carer", "service_outcome", "bed_days_saved",
                                "health_budget_gbp"])
        con = con.drop(columns=["contact_type", "duration_minutes"])
    cfg = replace(tiny.config, referral_target_monthly=None)
    return Extract(cfg, {"referrals": ref, "sp_contacts": con}, "0" * 64)


@pytest.mark.parametrize("drop_columns", [False, True])
def test_only_referrals_and_contacts(tiny, drop_columns):
    ex = _thin(tiny, drop_columns)
    pub = published(activity.compute(ex), OFF)
    out = pub.data
    assert out["referrals"] == 12 and out["contacts_booked"] == 32
    assert out["signposting"]["status"] == "not_available" and out["unmet_needs"]["status"] == "not_available"
    assert out["referral_target"] is None and out["referral_rates"]["by_pcn"] is None
    assert out["participants_vs_registered"]["pool"] is None
    json.dumps(out, allow_nan=False)
    if drop_columns:
        assert out["median_days_referral_to_first_contact"] is None
        assert pub.not_estimable["median_days_referral_to_first_contact"] == "no referral had a first contact"
        assert out["participants"]["risk_band"] == {"not_recorded": 12}
        assert list(out["contacts_by_type"]) == ["not_recorded"]
    assert pub.suppressed == []
    # with control on, a median over no one is not estimable, not withheld
    assert "median_days_referral_to_first_contact" not in published(activity.compute(ex)).suppressed


# ---------------------------------------------------------------------------- the notebooks, end to end

def test_activity_notebook_with_only_referrals_and_contacts(tiny, tmp_path):
    frags, text = run_notebook("20_activity", _thin(tiny), tmp_path, enabled=False)
    frag = json.loads((frags / "activity.json").read_text())
    assert frag["status"] == "ok" and frag["data"]["referrals"] == 12
    assert "no `signposting` table" in text and "Not available" not in text
    assert "Traceback" not in text


def test_participants_notebook_runs_for_a_period(tiny, tmp_path):
    frags, text = run_notebook("30_participants", tiny, tmp_path, enabled=True, period="2023-24")
    assert "financial year 2023/24" in text
    assert not (frags / "participants.json").exists()  # published in the activity section
    frag = json.loads((frags / "activity.json").read_text())
    assert frag["data"]["period_covered"] == {"start": "2023-04-01", "end": "2024-03-31"}


def test_participants_notebook_reads_the_fragment_the_activity_notebook_saved(tiny, tmp_path):
    frags, _ = run_notebook("20_activity", tiny, tmp_path)
    saved = frags / "activity.json"
    frag = json.loads(saved.read_text())
    frag["data"]["participants_summary"]["core20_pct"] = 99.9  # a marker: only the saved fragment has it
    saved.write_text(json.dumps(frag))
    _, text = run_notebook("30_participants", tiny, tmp_path)
    assert json.loads(saved.read_text()) == frag  # not published a second time
    assert "99.9% of referrals with a recorded IMD decile" in text
