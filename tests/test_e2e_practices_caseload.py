"""End to end: `make report` on a synthetic area with the ``practices`` and ``caseload_reviews``
tables (City of London) publishes both sections in results.json and the report, `make validate`
lists them, and `make check-release` finds nothing in them; an area without the tables (Bexley's
kind: the tables left out) gets each section's one note instead."""

from __future__ import annotations

import json
import shutil

import pytest
from sites import copy_project, make

SECTIONS = {"practice_referrals": "Referrals by practice against list size",
            "caseload_rag": "Caseload RAG ratings and safeguarding escalations"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("practices-site")
    copy_project(root)
    make(root, "report", "BOROUGH=city-of-london")
    return root


def test_both_sections_are_published(site):
    results = json.loads((site / "reports" / "city-of-london" / "results.json").read_text())
    html = (site / "reports" / "city-of-london" / "index.html").read_text()
    for name, title in SECTIONS.items():
        assert results[name].get("status") != "not_run", results[name]
        assert title in html
    assert results["practice_referrals"]["n_practices"] >= 3
    assert results["caseload_rag"]["reviews"] > 0
    assert list(results).index("caseload_rag") < list(results).index("practice_referrals")  # by name, after the contract


def test_validate_lists_the_sections(site):
    out = make(site, "validate", "BOROUGH=city-of-london").stdout
    assert "practices.csv" in out and "caseload_reviews.csv" in out
    assert "caseload rag" in out and "practice referrals" in out


def test_the_release_check_finds_nothing_in_them(site):
    out = make(site, "check-release", "BOROUGH=city-of-london", check=False).stdout
    assert "Release check of" in out
    findings = out.split("Findings:", 1)[1].split("Counts by attack:", 1)[0] if "Findings:" in out else ""
    for name in SECTIONS:
        assert name not in findings, findings


def test_without_the_tables_each_section_says_why(site):
    raw = site / "data_raw" / "city-of-london"
    without = site / "data_raw" / "no-lists"
    shutil.copytree(raw, without)
    for f in ("practices.csv", "caseload_reviews.csv"):
        (without / f).unlink()
    make(site, "report", "BOROUGH=no-lists")
    results = json.loads((site / "reports" / "no-lists" / "results.json").read_text())
    html = (site / "reports" / "no-lists" / "index.html").read_text()
    assert results["practice_referrals"] == {"status": "not_run", "reason": "this extract has no `practices` table"}
    assert results["caseload_rag"]["status"] == "not_run"
    assert "not available" in html and "caseload_reviews" in html
