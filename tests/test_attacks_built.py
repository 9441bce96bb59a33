"""The release check on reports the current code builds: the tiny fixture (fast suite, the
session's ``site``), every synthetic area and a very small service (slow suite, ``all_built``).

Every report must pass. Whatever the attacks recover (from a failing report, or the warnings of a
passing one) must be true: that is checked against the extracts behind the reports; the leaky
fixtures (tests/test_attacks_leaky.py) check it on reports the attacks do break."""

import shutil

import pytest
from release_truth import cohort, mismatches, open_results
from sites import make

from pipeline.load import load_extract
from pipeline.release_check import load, run
from pipeline.release_check.verdict import scan_identifiers
from pipeline.synthetic import generate

SMALL_SERVICE = "small-service"


# ---------------------------------------------------------------------------------- fast: the tiny fixture

@pytest.mark.e2e
def test_the_built_tiny_report_passes_the_release_check(site):
    verdict = run(load(site.report("tiny")))
    scan_identifiers(verdict, site.report("tiny"), site.root / "data_processed" / "tiny")
    assert verdict.passed, verdict.text()


@pytest.mark.e2e
def test_what_the_attacks_recover_from_the_built_tiny_report_is_true(site):
    verdict = run(load(site.report("tiny")))
    ex = load_extract(site.root / "data_raw" / "tiny")
    wrong, _ = mismatches(verdict.findings, {"": open_results(ex)}, cohort(ex))
    assert not wrong


@pytest.mark.e2e
def test_the_identifier_scan_finds_an_identifier_planted_in_a_published_file(site, tmp_path):
    report = tmp_path / "tiny"
    shutil.copytree(site.report("tiny"), report)
    pid = (site.root / "data_raw" / "tiny" / "referrals.csv").read_text().splitlines()[1].split(",")[1]
    verdict = run(load(report))
    scan_identifiers(verdict, report, site.root / "data_processed" / "tiny")
    assert verdict.identifiers == []
    (report / "index.html").write_text((report / "index.html").read_text() + f"<p>{pid}</p>")
    scan_identifiers(verdict, report, site.root / "data_processed" / "tiny")
    assert verdict.identifiers == [("index.html", pid)] and not verdict.passed
    assert "identifier(s) found" in verdict.text()


@pytest.mark.e2e
def test_make_check_release_prints_the_verdict_and_exits_with_it(site):
    proc = make(site.root, "check-release", "BOROUGH=tiny", check=False)
    assert "VERDICT: " in proc.stdout and "identifier scan" in proc.stdout
    assert (proc.returncode == 0) == ("VERDICT: PASS" in proc.stdout)


# ---------------------------------------------------------------------------------- slow: every area

@pytest.fixture(scope="module")
def small_service(all_built):
    """A service with about 30 referrals, built in the all-areas project copy."""
    root, _ = all_built
    generate("sutton", root / "data_raw" / SMALL_SERVICE, n_referrals=30)
    make(root, "report", f"BOROUGH={SMALL_SERVICE}")
    return root / "reports" / SMALL_SERVICE


@pytest.mark.slow
@pytest.mark.e2e
def test_every_area_passes_the_release_check(all_built):
    root, slugs = all_built
    failing = {}
    for slug in slugs:
        verdict = run(load(root / "reports" / slug))
        if not verdict.attacks_passed:
            failing[slug] = [f"{f.classification}: {f.how[:120]}" for f in verdict.failing[:3]]
    assert not failing, failing


@pytest.mark.slow
@pytest.mark.e2e
def test_a_very_small_service_passes_the_release_check(small_service):
    verdict = run(load(small_service))
    assert verdict.attacks_passed, verdict.text()


@pytest.mark.slow
@pytest.mark.e2e
def test_everything_the_attacks_recover_is_true(all_built, small_service):
    root, slugs = all_built
    wrong = {}
    for slug in [*slugs, SMALL_SERVICE]:
        verdict = run(load(root / "reports" / slug))
        ex = load_extract(root / "data_raw" / slug)
        w, _ = mismatches(verdict.findings, {"": open_results(ex)},
                          cohort(ex) if "hospital_spells" in ex.tables else None)
        if w:
            wrong[slug] = w[:5]
    assert not wrong, wrong
