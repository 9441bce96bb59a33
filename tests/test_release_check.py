"""The release check's attacks on small hand-made results.json dicts: each safe example passes,
each leaky one (written from the reviewer's four examples on Merton) is caught with the exact
value recovered. Also: the rules' reading of a published count, the verdict, the command line and
the import boundary that keeps the check independent of the publishing code."""

import ast
import json
import subprocess
import sys

import pytest

from pipeline import paths
from pipeline.release_check import backsolve, curves, differencing, from_results, run, traceability
from pipeline.release_check.__main__ import main
from pipeline.release_check.findings import (
    BOUNDED_SMALL,
    EXACT_BEHIND_ROUNDED,
    EXACT_SMALL,
    NOT_FROM_ROUNDED,
    SHOWN_BUT_WITHHELD,
    SMALL_BASE,
    SUPPRESSED_RECOVERED,
)
from pipeline.release_check.rules import Rules

RULES = {"enabled": True, "min_count": 8, "rounding": 5, "min_base": 8, "pct_decimals": 1}


def report(periods=None, **sections):
    return from_results({"disclosure_control": RULES, **sections}, periods)


def only(findings, cls=None):
    assert len(findings) == 1, [f.how for f in findings]
    if cls:
        assert findings[0].classification == cls, findings[0].how
    return findings[0]


# ---------------------------------------------------------------------------------- rules

def test_what_a_published_count_says():
    r = Rules()
    assert r.count_range(15) == (13, 17)
    assert r.count_range(10) == (8, 12)  # 5..7 would have been suppressed
    assert r.count_range(0) == (0, 0)
    assert r.count_range(7) == (7, 7)  # off the rounding grid: exact
    assert r.count_range(None) == (1, None)
    assert Rules(enabled=False).count_range(15) == (15, 15)
    assert Rules(rounding=10, min_count=10).count_range(20) == (15, 24)


def test_rules_are_read_from_the_report_or_the_project_defaults():
    assert Rules.of({"disclosure_control": dict(RULES, rounding=10)}).rounding == 10
    assert Rules.of({}) == Rules()  # config/defaults.yml, as the contract documents them


# ---------------------------------------------------------------------------------- a, e: differencing

def test_hidden_cells_protected_by_rounding_pass():
    rep = report(activity={"referrals": 30, "referrals_by_source": {"gp": 20, "self": None, "nurse": None}})
    assert differencing.attack(rep) == []


def test_hidden_cells_pinned_by_their_total_are_exact():
    # 10 published referrals are 8..12; twelve months each hiding at least one referral: each is 1
    months = {f"2023-{m:02d}": None for m in range(1, 13)}
    rep = report(activity={"referrals": 10, "referrals_by_month": months})
    found = differencing.attack(rep)
    assert len(found) == 12 and {f.classification for f in found} == {EXACT_SMALL}
    assert found[0].recovered == {"activity.referrals_by_month.2023-01": 1}


def test_hidden_cells_bounded_more_tightly_than_1_to_7():
    # a need in five PCNs: 15 (13..17) in all, 10 (8..12) in one, 0 in another; the three hidden
    # cells share 1..9 and each holds at least 1, so each is 1..7: what a [c] says, no finding
    cells = {"a": None, "b": None, "c": None, "d": 10, "e": 0}
    rep = report(activity={"unmet_needs": {"top_needs": {"x": 15}, "by_need_pcn": {"x": cells}}})
    assert differencing.attack(rep) == []
    # four hidden cells share 4..9: each is 1..6, narrower than a [c] allows
    rep = report(activity={"unmet_needs": {"top_needs": {"x": 15}, "by_need_pcn": {"x": dict(cells, e=None)}}})
    found = differencing.attack(rep)
    assert [f.classification for f in found] == [BOUNDED_SMALL] * 4
    assert found[0].recovered == {"activity.unmet_needs.by_need_pcn.x.a": (1, 6)}


def test_the_worst_band_count_publishes_the_hidden_band_cell():
    """Reviewer's example: ONS4 n_started_in_worst_band publishes the cell that secondary
    suppression hides in the band table."""
    item = {"worst_band": "low", "n_started_in_worst_band": 30,
            "baseline_band_pct": {"low": None, "medium": 40.0, "high": 30.0, "very_high": None}}
    rep = report(wellbeing={"ons4": {"life_satisfaction": {"n_pairs": 100}},
                            "ons4_detail": {"life_satisfaction": item}})
    f = only(differencing.attack(rep), SUPPRESSED_RECOVERED)
    assert f.recovered == {"wellbeing.ons4_detail.life_satisfaction.baseline_band_pct.low "
                           "(count of wellbeing.ons4.life_satisfaction.n_pairs)": (28, 32)}
    item["n_started_in_worst_band"] = None  # hidden under both names: nothing recovered
    assert differencing.attack(report(wellbeing={"ons4": {"life_satisfaction": {"n_pairs": 100}},
                                                 "ons4_detail": {"life_satisfaction": item}})) == []


def test_a_published_count_behind_a_percentage_withheld_for_its_hidden_base_is_no_finding():
    """60 escalations at red reviews are published; their share of red reviews is withheld because
    the number of red reviews is: the count behind the share tells nothing new."""
    esc = {"status": "ok", "escalations": 60, "by_rating_at_review": {"red": 60, "amber": 0, "green": 0},
           "pct_of_reviews_at_rating": {"red": None, "amber": 0.0, "green": 0.0}}
    cr = {"reviews": None, "reviews_by_rating": {"red": None, "amber": 120, "green": 145}, "escalations": esc}
    assert differencing.attack(report(caseload_rag=cr)) == []
    cr["reviews_by_rating"]["red"] = 65  # the base published: the share's count is back and it is no secret
    esc["pct_of_reviews_at_rating"]["red"] = None
    found = differencing.attack(report(caseload_rag=cr))
    assert [f.classification for f in found] == [SUPPRESSED_RECOVERED]


def test_a_period_report_publishes_what_the_whole_report_hides():
    whole = {"activity": {"referrals": 200, "referrals_by_month": {"2023-07": None, "2023-08": 195}}}
    period = {"period": {"label": "2023-07", "start": "2023-07-01", "end": "2023-07-31"},
              "activity": {"referrals": 10, "referrals_by_month": {"2023-07": 10}}}
    f = only(differencing.attack(from_results({"disclosure_control": RULES, **whole}, {"2023-07": period})))
    assert f.classification == SUPPRESSED_RECOVERED
    assert f.recovered == {"activity.referrals_by_month.2023-07": (8, 9)}  # the period's 8..12, and 200 - 195


def test_a_contradicted_relation_is_set_aside_not_reported():
    rep = report(activity={"referrals": 100, "referrals_by_pcn": {"a": 10, "b": None}, "patients": 500,
                           "new_vs_rereferrals": {"new": 50, "re_referral": 50}})
    model = differencing.build(rep)
    assert differencing.attack(rep, model) == []
    assert any("a new referral is a patient's first" in n for n in model.notes)


# ---------------------------------------------------------------------------------- b: percentages and ratios

def _gp(before, after, pct, ci=None):
    return {"variance_pct": {"2021/22": {"12m": pct}},
            "variance_detail": {"2021/22": {"12m": {"appointments_before": before, "appointments_after": after,
                                                    "n_patients": 10, "variance_pct_ci95": ci}}}}


def test_gp_variance_from_rounded_totals_passes():
    assert backsolve.attack(report(gp_appointments=_gp(100, 60, -40.0))) == []


def test_gp_variance_from_exact_totals_gives_them_away():
    """Reviewer's example: 100 -> 60 at -41.0% fits only 100 and 59."""
    f = only(backsolve.attack(report(gp_appointments=_gp(100, 60, -41.0, [-54.9, -22.8]))), EXACT_BEHIND_ROUNDED)
    assert f.recovered == {"gp_appointments.variance_detail.2021/22.12m.appointments_after": 59,
                           "gp_appointments.variance_detail.2021/22.12m.appointments_before": 100}


def test_gp_variance_over_a_hidden_count_gives_it_away():
    f = only(backsolve.attack(report(gp_appointments=_gp(15, None, -53.3))), EXACT_SMALL)
    assert f.recovered["gp_appointments.variance_detail.2021/22.12m.appointments_after"] == 7


def test_a_suppressed_variance_is_the_centre_of_its_interval():
    f = only(backsolve.attack(report(gp_appointments=_gp(100, 60, None, [-54.9, -22.8]))), SUPPRESSED_RECOVERED)
    lo, hi = f.recovered["gp_appointments.variance_pct.2021/22.12m"]
    assert lo <= -41.0 <= hi and hi - lo < 0.2


def test_completeness_from_rounded_counts_passes():
    dq = {"tables": {"referrals": {"rows": 100}}, "completeness": {"referrals": {"carer": 90.0}}}
    assert backsolve.attack(report(data_quality=dq)) == []


def test_completeness_from_exact_counts_gives_them_away():
    """Reviewer's example: data-quality completeness from exact counts beside rounded totals."""
    dq = {"tables": {"referrals": {"rows": 10}}, "completeness": {"referrals": {"carer": 91.7, "diabetes": 91.7}}}
    found = backsolve.attack(report(data_quality=dq))
    assert len(found) == 2 and {f.classification for f in found} == {EXACT_SMALL}
    assert found[0].recovered == {"data_quality.completeness.referrals.carer (numerator)": 11,
                                  "data_quality.completeness.referrals.carer (rest of the base)": 1,
                                  "data_quality.tables.referrals.rows": 12}


def test_balance_percentages_from_exact_counts_give_them_away():
    """Reviewer's example: the matched comparison's balance percentages."""
    gp = {"matched_did": {"matching": {"n_referred_matched": 20},
                          "balance": {"female": {"kind": "pct", "referred": 57.9, "comparison": 50.0}}}}
    f = only(backsolve.attack(report(gp_appointments=gp)), EXACT_BEHIND_ROUNDED)
    assert f.recovered == {"gp_appointments.matched_did.balance.female.referred (numerator)": 11,
                           "gp_appointments.matched_did.balance.female.referred (rest of the base)": 8,
                           "gp_appointments.matched_did.matching.n_referred_matched": 19}


def test_a_large_base_gives_nothing_away_but_is_warned_about():
    gp = {"matched_did": {"matching": {"n_referred_matched": 2505},
                          "balance": {"female": {"kind": "pct", "referred": 69.6}}}}
    f = only(backsolve.attack(report(gp_appointments=gp)), NOT_FROM_ROUNDED)
    assert not f.fails


def test_a_suppressed_ratio_is_the_centre_of_its_interval():
    cox = {"hazard_ratios": {"age": {"hr": None, "ci95": [0.5, 2.0], "p_value": None}}}
    f = only(backsolve.attack(report(readmission={"cox": cox})), SUPPRESSED_RECOVERED)
    lo, hi = f.recovered["readmission.cox.hazard_ratios.age.hr"]
    assert lo <= 1.0 <= hi


# ---------------------------------------------------------------------------------- c: means

def _ons4(n, base, follow, change):
    return {"ons4": {"anxiety": {"n_pairs": n, "mean_baseline": base, "mean_followup": follow, "mean_change": change}}}


def test_means_over_a_large_count_pass():
    assert backsolve.attack(report(wellbeing=_ons4(2460, 6.1, 4.74, -1.36))) == []


def test_means_of_whole_scores_give_the_count_away():
    f = only(backsolve.attack(report(wellbeing=_ons4(10, 6.3, 4.9, -1.4))), EXACT_BEHIND_ROUNDED)
    assert f.recovered == {"wellbeing.ons4.anxiety.n_pairs": 10}


def test_a_mean_beside_its_total_gives_the_count_away():
    hospital = {"health_budget": {"recipients": 20, "mean_gbp": 215.27, "total_gbp": 4090.0}}
    f = only(backsolve.attack(report(hospital=hospital)), EXACT_BEHIND_ROUNDED)
    assert f.recovered == {"hospital.health_budget.recipients": 19}


def test_a_mean_to_the_decimals_its_base_allows_gives_nothing():
    """59.2 years over 35 (33..37) people: the rules allow one decimal there, and every count in
    33..37 has a sum of whole years that rounds to 59.2. Read as 59.20, only 35 would fit."""
    gp = {"matched_did": {"matching": {"n_referred_matched": 35}, "balance": {"age": {"referred": 59.2}}}}
    leaky = backsolve.attack(report(gp_appointments=gp))
    assert [f.recovered for f in leaky] == [{"gp_appointments.matched_did.matching.n_referred_matched": 35}]
    rep = report(gp_appointments=gp)
    rep.results["disclosure"] = {"mean_decimals_by_base": True}
    assert backsolve.attack(rep) == []


def test_a_total_that_is_the_published_mean_times_the_published_count_gives_nothing():
    """The layer publishes a total as mean x rounded count (90 x 10.12 = 910.8, rounded to 911):
    total / mean is the published 90, not the exact count behind it."""
    hospital = {"bed_days_saved": {"n": 90, "mean": 10.12, "total": 911.0}}
    assert backsolve.attack(report(hospital=hospital)) == []


def test_a_ratio_of_rounded_counts_gives_nothing_and_one_of_exact_counts_is_caught():
    seen = {"contacts_attended": 95, "patients_seen": 25}
    assert backsolve.attack(report(activity={**seen, "mean_attended_contacts_per_patient_seen": 3.8})) == []
    # 98 attended by 26 people (3.77), published beside 100 and 25: only 26 people give 3.77
    exact = {"contacts_attended": 100, "patients_seen": 25, "mean_attended_contacts_per_patient_seen": 3.77}
    f = only(backsolve.attack(report(activity=exact)), EXACT_BEHIND_ROUNDED)
    assert f.recovered == {"activity.patients_seen": 26}


# ---------------------------------------------------------------------------------- d, g: curves and horizons

def _readmission(**extra):
    """Merton's published readmission curve (first 30 days), as the reviewer read it."""
    curve = {str(d): {"readmission_pct": p} for d, p in ((7, 2.9), (14, 3.8), (21, 4.6), (28, 6.3), (30, 6.8))}
    return {"n_index": 420, "deaths_modelled": False, "at_risk": {"0": 420, "14": 395, "30": 370},
            "events": {"readmission": {"14d": 15, "30d": 30}}, "curve": curve, **extra}


def test_curve_steps_times_the_cohort_are_the_weekly_readmissions():
    """Reviewer's example: each step x n_index is that week's exact number of readmissions."""
    f = only(curves.attack(report(readmission=_readmission())), EXACT_SMALL)
    assert f.recovered == {
        "readmissions on days 0-6 (readmission_pct)": 12, "readmissions on days 7-13 (readmission_pct)": 4,
        "readmissions on days 14-20 (readmission_pct)": 3, "readmissions on days 21-27 (readmission_pct)": 7,
        "readmissions on days 28-29 (readmission_pct)": 2,
        "readmissions by day 14 (published as 15)": 16, "readmissions by day 30 (published as 30)": 28}


def test_a_curve_from_rounded_counts_passes():
    curve = {"7": {"readmission_pct": 2.5}, "14": {"readmission_pct": 5.0}}
    rd = {"n_index": 400, "at_risk": {"0": 400, "14": 380}, "curve": curve, "events": {"readmission": {"14d": 20}}}
    assert curves.attack(report(readmission=rd)) == []


def test_a_horizon_nobody_reached_is_flagged():
    """Reviewer's example: cif_90d_pct (with its CI) published when nobody was followed 90 days."""
    rd = {"n_index": 40, "at_risk": {"0": 40, "30": 20, "90": 0}, "cif_30d_pct": 20.0, "cif_90d_pct": 30.0,
          "readmission_ci95": {"90d": [18.0, 45.0]}}
    f = only(curves.attack_horizons(report(readmission=rd)), SMALL_BASE)
    assert f.recovered == {"readmission.at_risk.90": 0}
    assert "readmission.cif_90d_pct" in f.paths and "readmission.readmission_ci95.90d" in f.paths
    rd["at_risk"]["90"] = 15
    assert curves.attack_horizons(report(readmission=rd)) == []


def test_a_gp_horizon_on_too_few_people_is_flagged():
    gp = _gp(100, 60, -40.0)
    gp["variance_detail"]["2021/22"]["12m"]["n_patients"] = 5  # 3 to 7 people
    assert only(curves.attack_horizons(report(gp_appointments=gp)), SMALL_BASE)
    # a withheld base is no evidence: it may hide a large count to protect another (secondary suppression)
    gp["variance_detail"]["2021/22"]["12m"]["n_patients"] = None
    assert curves.attack_horizons(report(gp_appointments=gp)) == []


# ---------------------------------------------------------------------------------- f: numbers not in results.json

def _notebook(markdown, html):
    return {"cells": [{"cell_type": "markdown", "source": markdown},
                      {"cell_type": "code", "source": "show()", "outputs": [
                          {"output_type": "display_data", "data": {"text/html": html, "text/plain": "<HTML>"}}]}]}


def test_every_number_shown_is_traced_to_results_json():
    rep = report(activity={"referrals": 8990, "patients": 8335, "rate": 41.81})
    rep.notebooks = {"20_activity.ipynb": _notebook(
        "Referrals in the 12 months to March, at the 95% level.",
        "<table><tr><td>Referrals</td><td>8,990</td><td>41.8</td></tr>"
        "<tr><td>People</td><td>8,335</td><td>92.7%</td></tr></table>")}  # 92.7 = 8335 / 8990, printed beside them
    rep.html = "<html><body><p>Referrals: 8,990 in the 12 months to March.</p></body></html>"
    assert traceability.attack(rep) == []


def test_a_number_results_json_withholds_is_reported():
    rep = report(activity={"referrals": 8990, "patients_seen": None})
    rep.notebooks = {"20_activity.ipynb": _notebook("Who was seen.", "<p>People seen: 4 of 8,990 referrals</p>")}
    f = only(traceability.attack(rep), SHOWN_BUT_WITHHELD)
    assert f.recovered["number"] == "4" and "People seen" in f.recovered["context"]
    assert f.file == "notebooks/20_activity.ipynb"


def test_a_unit_written_in_the_template_is_not_a_figure():
    rep = report(activity={"fte_per_100k": 22.98})
    rep.notebooks = {"10_inputs.ipynb": _notebook('nb.show(fig, alt=f"({x} per 100,000).")',
                                                 "<p>FTE: 22.98 per 100,000.</p><p>4,321 per week</p>")}
    f = only(traceability.attack(rep), SHOWN_BUT_WITHHELD)  # the unit is traced; 4,321 is not a unit here
    assert f.recovered["number"] == "4,321"


# ---------------------------------------------------------------------------------- verdict and command line

def test_the_verdict_passes_a_safe_report_and_fails_a_leaky_one():
    safe = run(report(gp_appointments=_gp(100, 60, -40.0)))
    assert safe.attacks_passed and "PASS" not in safe.text()  # no identifier scan yet: not a release verdict
    safe.scan_note = "skipped"
    assert safe.passed and "VERDICT: PASS" in safe.text()
    leaky = run(report(gp_appointments=_gp(100, 60, -41.0)))
    assert not leaky.passed and "VERDICT: FAIL" in leaky.text() and "59" in leaky.text()


def test_a_report_built_with_control_off_never_passes():
    v = run(from_results({"disclosure_control": dict(RULES, enabled=False), "activity": {"referrals": 3}}))
    v.scan_note = "skipped"
    assert v.attacks_passed and not v.passed
    assert "switched off" in v.text()


def test_a_leak_repeated_in_a_period_report_is_reported_once_naming_both_files():
    gp = _gp(100, 60, -41.0)
    period = {"period": {"label": "2023-24", "start": "2023-04-01", "end": "2024-03-31"},
              "disclosure_control": RULES, "gp_appointments": gp}
    v = run(from_results({"disclosure_control": RULES, "gp_appointments": gp}, {"2023-24": period}))
    f = only(v.failing)
    assert f.file == "results.json, 2023-24/results.json"


def test_command_line_exit_status(tmp_path, capsys):
    leaky, safe = tmp_path / "leaky", tmp_path / "safe"
    for folder, pct in ((leaky, -41.0), (safe, -40.0)):
        folder.mkdir()
        (folder / "results.json").write_text(json.dumps({"disclosure_control": RULES, "gp_appointments": _gp(100, 60, pct)}))
    assert main([str(leaky), "--no-identifier-scan"]) == 1
    assert "VERDICT: FAIL" in capsys.readouterr().out
    assert main([str(safe), "--no-identifier-scan"]) == 0
    assert "identifier scan" in capsys.readouterr().out
    assert main([str(safe), "--processed", str(tmp_path / "nowhere")]) == 1  # cannot scan: cannot pass
    assert main([str(tmp_path / "missing")]) == 2


def test_make_check_release_is_a_documented_target():
    makefile = (paths.ROOT / "Makefile").read_text()
    assert "\n## " in makefile.split("check-release:")[0][-300:]
    assert "make check-release BOROUGH=x" in (paths.ROOT / "README.md").read_text()


# ---------------------------------------------------------------------------------- independence

FORBIDDEN = ("pipeline.disclosure", "pipeline.analyses", "pipeline.nb", "pipeline.render", "pipeline.publish")
ALLOWED = {("pipeline.publish", "scan_for_identifiers")}


def _imports(path):
    """(module, name) for every import in a release_check source file, relative ones resolved."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, None
        elif isinstance(node, ast.ImportFrom):
            base = "pipeline.release_check" if node.level == 1 else "pipeline" if node.level == 2 else ""
            mod = ".".join(p for p in (base, node.module) if p)
            for a in node.names:
                yield mod, a.name
                if mod in ("pipeline", "pipeline.release_check.."):
                    yield f"pipeline.{a.name}", None


def test_release_check_does_not_import_the_publishing_code():
    bad = []
    for f in sorted((paths.ROOT / "pipeline" / "release_check").glob("*.py")):
        for mod, name in _imports(f):
            if any(mod == m or mod.startswith(m + ".") for m in FORBIDDEN) and (mod, name) not in ALLOWED:
                bad.append(f"{f.name}: {mod} {name or ''}")
    assert not bad, bad


def test_the_import_boundary_check_would_catch_a_forbidden_import(tmp_path):
    f = tmp_path / "x.py"
    f.write_text("from ..disclosure import SDC\nfrom .. import nb\nfrom ..publish import assemble_results\n"
                 "from ..publish import scan_for_identifiers\n")
    found = [(m, n) for m, n in _imports(f) if any(m == x or m.startswith(x + ".") for x in FORBIDDEN)
             and (m, n) not in ALLOWED]
    assert ("pipeline.disclosure", "SDC") in found and ("pipeline.nb", None) in found
    assert ("pipeline.publish", "assemble_results") in found and ("pipeline.publish", "scan_for_identifiers") not in found


def test_running_the_attacks_loads_none_of_the_publishing_code():
    code = ("import sys; from pipeline.release_check import run, from_results; "
            "run(from_results({'activity': {'referrals': 10}})); "
            "print([m for m in sys.modules if m.startswith(('pipeline.disclosure', 'pipeline.analyses', "
            "'pipeline.nb', 'pipeline.render', 'pipeline.publish'))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=paths.ROOT,
                         env={"PYTHONPATH": str(paths.ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["differencing", "backsolve", "curves", "traceability", "catalogue", "counts"])
def test_modules_stay_small(module):
    assert len((paths.ROOT / "pipeline" / "release_check" / f"{module}.py").read_text().splitlines()) <= 400
