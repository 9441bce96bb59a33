"""Inputs: link-worker FTE, caseload per FTE against the 200-250 guidance, budgets.

Facts about tests/fixtures/tiny used here (hand-computed from the CSV files):

- pcn_quarterly: PCN North FTE 1.0, 1.0, 1.5, 1.5 and PCN South 0.5, 0.5, 0.8, 0.8 in the quarters
  starting 2022-04-01 (91 days), 2022-07-01 (92), 2022-10-01 (92), 2023-01-01 (90). Total FTE
  1.5, 1.5, 2.3, 2.3; registered 10,000 then 10,000, 10,010, 10,010: FTE per 100,000 = 15.0,
  15.0, 22.98, 22.98.
- FTE-years over the whole extract: North (91 + 92 + 92*1.5 + 90*1.5) / 365.25 = 456 / 365.25
  = 1.2485; South (91*0.5 + 92*0.5 + 92*0.8 + 90*0.8) / 365.25 = 237.1 / 365.25 = 0.6491;
  all 693.1 / 365.25 = 1.8976.
- people referred in the covered quarters (FY 2022/23): North P001, P002, P003, P006 (4; P001
  twice counts once), South P004, P005 (2); seen (attended): North P001, P002, P006 (3; P003 never
  seen), South 2. Referred per FTE-year: all 6 / 1.8976 = 3.2, North 3.2, South 3.1; seen: all
  5 / 1.8976 = 2.6, North 2.4, South 3.1.
- quarter 2022-Q3 (July-September): North 1.0 FTE * 92 days = 0.2519 FTE-years, no referrals;
  South 0.5 * 92 / 365.25 = 0.1259, R004 and R005 (2 people).
- health_budget_gbp: only R005, £250 (published in the hospital section, not here).
"""

import json
from dataclasses import replace

import pytest
from notebook_runs import run_notebook

from pipeline import nb
from pipeline.analyses import inputs
from pipeline.config import DisclosureSettings
from pipeline.disclosure import release
from pipeline.extract import Extract
from pipeline.periods import parse_period, restrict

OFF = DisclosureSettings(enabled=False)


def publish(raw, rules=OFF):
    return release(inputs.publish, raw, rules)


@pytest.fixture(scope="module")
def exact(tiny):
    out = publish(inputs.compute(tiny))
    assert out.suppressed == []
    return out.data


def test_fte_over_time(exact):
    assert exact["quarters"] == ["2022-04-01", "2022-07-01", "2022-10-01", "2023-01-01"]
    assert exact["fte_by_pcn_quarter"]["PCN North"] == {"2022-04-01": 1.0, "2022-07-01": 1.0,
                                                       "2022-10-01": 1.5, "2023-01-01": 1.5}
    assert list(exact["fte_total_by_quarter"].values()) == [1.5, 1.5, 2.3, 2.3]
    assert list(exact["fte_per_100k_registered_by_quarter"].values()) == [15.0, 15.0, 22.98, 22.98]


def test_caseload_per_fte(exact):
    c = exact["caseload"]
    assert c["guidance_per_fte_year"] == [200, 250]
    assert (c["fte_years"], c["people_referred"], c["people_seen"]) == (1.9, 6, 5)
    assert (c["referred_per_fte_year"], c["seen_per_fte_year"], c["seen_vs_guidance"]) == (3.2, 2.6, "below")
    north, south = c["by_pcn"]["PCN North"], c["by_pcn"]["PCN South"]
    assert (north["fte_years"], north["people_referred"], north["people_seen"]) == (1.25, 4, 3)
    assert (north["referred_per_fte_year"], north["seen_per_fte_year"]) == (3.2, 2.4)
    assert (south["fte_years"], south["referred_per_fte_year"], south["seen_per_fte_year"]) == (0.65, 3.1, 3.1)
    assert list(c["by_financial_year"]) == ["2022/23"]


def test_caseload_for_a_quarter(tiny):
    raw = inputs.compute(restrict(tiny, parse_period("2022-Q3")))
    assert raw.by_pcn["PCN North"].fte_years == pytest.approx(92 / 365.25)
    assert raw.by_pcn["PCN South"].fte_years == pytest.approx(0.5 * 92 / 365.25)
    assert (raw.by_pcn["PCN North"].referred, raw.by_pcn["PCN South"].referred) == (0, 2)
    out = publish(raw).data
    assert out["caseload"]["by_pcn"]["PCN North"]["referred_per_fte_year"] == 0.0
    assert out["caseload"]["by_pcn"]["PCN South"]["referred_per_fte_year"] == 15.9  # 2 / 0.1259
    assert out["quarters"] == ["2022-04-01", "2022-07-01", "2022-10-01", "2023-01-01"]  # the trend stays whole


def test_guidance_band():
    assert [inputs.judge(v) for v in (150, 200, 225, 250, 251, None)] == \
        ["below", "within", "within", "within", "above", None]


def test_budget_is_left_to_the_hospital_section(exact, tiny):
    """The budgets are published once (hospital section): a second copy here, under its own release,
    could show what the hospital section hides, or differ from it by the budgets outside a period."""
    b = exact["budget"]
    assert b["status"] == "in_hospital_section" and "hospital" in b["reason"]
    assert not any(isinstance(v, (int, float)) for v in b.values())
    ref = tiny["referrals"].drop(columns=["health_budget_gbp"])
    ex = Extract(tiny.config, dict(tiny.tables, referrals=ref), tiny.sha256)
    assert publish(inputs.compute(ex)).data["budget"]["status"] == "not_recorded"


def test_disclosure_control(tiny):
    out = publish(inputs.compute(tiny), DisclosureSettings())
    c = out.data["caseload"]
    assert c["people_referred"] is None and c["referred_per_fte_year"] is None and c["seen_vs_guidance"] is None
    assert c["fte_years"] == 1.9  # workforce, not people: published
    assert {"caseload.people_referred", "caseload.by_pcn.PCN South.seen_per_fte_year"} <= set(out.suppressed)
    assert out.data["fte_by_pcn_quarter"]["PCN North"]["2022-10-01"] == 1.5  # a fact


def never_seen_extract(tiny, n_seen, n_never):
    """In 2022-Q2, PCN North gains ``n_seen`` people seen and ``n_never`` never seen; PCN South 20 seen."""
    import pandas as pd

    ref, con = tiny["referrals"], tiny["sp_contacts"]
    north = ref[ref["pcn"] == "PCN North"].iloc[[0]]
    south = ref[ref["pcn"] == "PCN South"].iloc[[0]]
    extra = pd.concat([north] * (n_seen + n_never) + [south] * 20, ignore_index=True)
    extra["referral_id"] = [f"X{i:03d}" for i in range(len(extra))]
    extra["patient_id"] = [f"Q{i:03d}" for i in range(len(extra))]
    extra["referral_date"] = pd.Timestamp("2022-05-02")
    seen = extra["referral_id"][:n_seen].tolist() + extra["referral_id"][-20:].tolist()
    visits = pd.concat([con.iloc[[0]]] * len(seen), ignore_index=True)
    visits["referral_id"] = seen
    visits["status"] = "attended"
    return Extract(tiny.config, dict(tiny.tables, referrals=pd.concat([ref, extra], ignore_index=True),
                                     sp_contacts=pd.concat([con, visits], ignore_index=True)), tiny.sha256)


def test_a_small_number_never_seen_is_not_left_to_subtraction(tiny):
    """PCN North: 4 + 40 + 4 people referred, 3 + 40 seen, so 5 never seen (a small count). With
    referred (48) and seen (43) both published, a reader subtracts; referred = seen + never seen
    is declared, so one of the two is hidden. With 21 never seen there is nothing to hide."""
    raw = inputs.compute(never_seen_extract(tiny, 40, 4))
    north = raw.by_pcn["PCN North"]
    assert (north.referred, north.seen) == (48, 43)
    out = publish(raw, DisclosureSettings()).data["caseload"]["by_pcn"]["PCN North"]
    assert out["people_referred"] is None or out["people_seen"] is None
    wide = publish(inputs.compute(never_seen_extract(tiny, 40, 20)), DisclosureSettings())
    north = wide.data["caseload"]["by_pcn"]["PCN North"]
    assert (north["people_referred"], north["people_seen"]) == (65, 45)


def test_large_counts_are_rounded_before_the_rate(tiny):
    """With 40 referred people the rate uses the rounded 40, never an exact count."""
    import pandas as pd

    ref = tiny["referrals"]
    extra = pd.concat([ref.iloc[[0]]] * 40, ignore_index=True)
    extra["referral_id"] = [f"X{i:03d}" for i in range(40)]
    extra["patient_id"] = [f"Q{i:03d}" for i in range(40)]
    extra["referral_date"] = pd.Timestamp("2022-05-02")
    ex = Extract(tiny.config, dict(tiny.tables, referrals=pd.concat([ref, extra], ignore_index=True)), tiny.sha256)
    raw = inputs.compute(ex)
    assert raw.overall.referred == 46
    out = publish(raw, DisclosureSettings()).data
    assert out["caseload"]["people_referred"] == 45
    assert out["caseload"]["referred_per_fte_year"] == round(45 / (693.1 / 365.25), 1)


def test_notebook_without_pcn_quarterly_is_not_run(tiny, tmp_path):
    ex = Extract(replace(tiny.config), {"referrals": tiny["referrals"], "sp_contacts": tiny["sp_contacts"]},
                 tiny.sha256)
    frag, _ = run_notebook("10_inputs", ex, tmp_path, section="inputs")
    assert frag["status"] == "not_run" and "pcn_quarterly" in frag["reason"]


def test_notebook_runs_on_tiny(tiny, tmp_path):
    frag, _ = run_notebook("10_inputs", tiny, tmp_path, period="2022-23", section="inputs")
    assert frag["status"] == "ok" and frag["data"]["period_covered"] == {"start": "2022-04-01", "end": "2023-03-31"}


def test_fte_table_holds_the_published_fte_by_quarter(exact):
    t = inputs.fte_table(exact)
    assert list(t.columns) == ["Quarter starting", "PCN North (FTE)", "PCN South (FTE)",
                               "All PCNs given: FTE per 100,000 registered"]
    assert list(t["Quarter starting"]) == exact["quarters"]
    assert list(t["PCN North (FTE)"]) == [1.0, 1.0, 1.5, 1.5]
    assert list(t["PCN South (FTE)"]) == [0.5, 0.5, 0.8, 0.8]
    assert list(t["All PCNs given: FTE per 100,000 registered"]) == [15.0, 15.0, 22.98, 22.98]


def test_fte_table_keeps_a_missing_rate_withheld_and_a_missing_quarter_empty(exact):
    inp = json.loads(json.dumps(exact))
    inp["fte_per_100k_registered_by_quarter"]["2022-07-01"] = None
    del inp["fte_by_pcn_quarter"]["PCN South"]["2023-01-01"]
    lines = nb.csv_text(inputs.fte_table(inp)).splitlines()
    assert lines[2] == "2022-07-01,1.0,0.5,[c]"
    assert lines[4] == "2023-01-01,1.5,,22.98"


def test_caseload_table_holds_the_published_rates_and_withheld_ones_stay_withheld(exact, tiny):
    t = inputs.caseload_table(exact)
    assert t.values.tolist() == [["PCN North", 2.4, "below"], ["PCN South", 3.1, "below"]]
    assert list(t.columns) == ["PCN", "People seen per FTE-year", "Against the guidance of 200–250"]
    hidden = publish(inputs.compute(tiny), DisclosureSettings()).data
    text = nb.csv_text(inputs.caseload_table(hidden))
    assert text.splitlines()[1:] == ["PCN North,[c],[c]", "PCN South,[c],[c]"]
