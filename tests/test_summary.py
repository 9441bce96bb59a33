"""The executive summary is written from published results only."""

from pipeline.summary import caveats, headlines, markdown

RESULTS = {
    "synthetic": True,
    "suppressed": ["activity.x", "targets.y"],
    "disclosure_control": {"enabled": True, "rounding": 5, "min_base": 8},
    "activity": {"referrals": 9000, "patients": 8000, "patients_seen": 7400, "contacts_booked": 30000,
                 "dna_or_cancelled_pct": 17.1, "mean_attended_contacts_per_patient_seen": 3.21,
                 "median_days_referral_to_first_contact": 12.0},
    "wellbeing": {"ons4": {"life_satisfaction": {"n_pairs": 2000, "mean_change": 1.52, "ci95": [1.4, 1.64]},
                           "anxiety": {"n_pairs": 2000, "mean_change": -0.1, "ci95": [-0.3, 0.1]}}},
    "targets": {"diabetes": {"high": {"n": 100, "prior_pct": {"0": 80.0}, "after_pct": {"0": 50.0}}},
                "detail": {"diabetes": {"at_least_one_target_pct": {"prior": 20.0, "after": 50.0},
                                        "flow": {"with_risk_band": 100}}}},
    "gp_appointments": {"status": "not_run", "reason": "no gp_appointments table"},
    "readmission": {"n_index": 400, "cif_30d_pct": 9.5, "cif_30d_ci95": [6.9, 12.6], "benchmark_30d_pct": 12.6},
}


def test_headlines_carry_direction_and_uncertainty():
    heads = {h.measure: h for h in headlines(RESULTS)}
    assert heads["Referrals received"].value == "9,000"
    assert "92.5% of them were seen" in heads["Referrals received"].reading
    ls = heads["Life satisfaction (ONS4, 0–10)"]
    assert ls.value == "+1.5 points" and ls.reading.startswith("improved (95% CI 1.4 to 1.6)")
    assert heads["Anxiety (ONS4, 0–10)"].reading.startswith("no clear change")
    assert heads["People with diabetes meeting at least one target"].value == "20% → 50%"
    assert "spell-based" in heads["Emergency readmission within 30 days"].reading
    assert not any("GP appointments" in m for m in heads), "a not_run section has no headline"


def test_caveats():
    text = " ".join(caveats(RESULTS))
    assert "Synthetic data" in text and "Uncontrolled design" in text
    assert "2 figures" in text and "gp appointments" in text
    off = dict(RESULTS, disclosure_control={"enabled": False})
    assert "NOT FOR PUBLICATION" in " ".join(caveats(off))


def test_markdown_is_a_table_with_caveats():
    md = markdown(RESULTS)
    assert md.startswith("# Executive summary") and "| Measure | Figure | Reading |" in md
    assert "**Caveats that matter**" in md
