"""End to end: `make report` and `make validate` for an area whose synthetic extract carries the
instruments beyond ONS4 (Kensington and Chelsea), in a copy of the project; the section is in
results.json and the report, and the release check finds nothing in it."""

import json

import pytest
from sites import copy_project, make

from pipeline.release_check import load, run

pytestmark = pytest.mark.e2e
AREA = "kensington-and-chelsea"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("outcome-tools")
    copy_project(root)
    make(root, "report", f"BOROUGH={AREA}")
    return root


def test_the_section_is_published(built):
    rep = built / "reports" / AREA
    res = json.loads((rep / "results.json").read_text())
    ot = res["outcome_tools"]
    assert {k: ot[k]["status"] for k in ("swemwbs", "eq5d5l", "pam", "wsas", "wellbeing_star")} == dict.fromkeys(
        ("swemwbs", "eq5d5l", "pam", "wsas", "wellbeing_star"), "ok")
    assert ot["swemwbs"]["scores"]["metric"]["mean_change"] > 1
    html = (rep / "index.html").read_text()
    assert "Other outcome measures before and after" in html and "Well-being Star" in html
    assert (rep / "notebooks" / "45_outcome_tools.ipynb").exists()


def test_make_validate_lists_the_section(built):
    out = make(built, "validate", f"BOROUGH={AREA}").stdout
    assert "outcome tools" in out.split("Report sections these tables allow:")[1].splitlines()[0]


def test_the_release_check_finds_nothing_in_the_section(built):
    verdict = run(load(built / "reports" / AREA))
    mine = [f for f in verdict.findings if "45_outcome_tools" in f.file or any("outcome_tools" in p for p in f.paths)]
    assert not mine, verdict.text()
