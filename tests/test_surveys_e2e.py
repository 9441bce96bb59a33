"""Surveys end to end: an area with a `survey_responses` table built by `make`, in a copy of the
project, with a distinctive free-text comment planted in its extract. The section reaches
`results.json`, the report and `make validate`; the comment reaches no published file (the
identifier scan looks for ids only, so this test scans for the planted text as well); the release
check finds nothing in the section."""

from __future__ import annotations

import csv
import json

import pytest
from sites import copy_project, make

from pipeline.load import load_extract
from pipeline.publish import published_text, scan_for_identifiers
from pipeline.release_check import load, run
from pipeline.release_check.catalogue import bindings, relations
from pipeline.synthetic import generate
from pipeline.synthetic.surveys import COMMENTS

pytestmark = pytest.mark.e2e
SLUG = "survey-area"
#: planted in the extract's free text; each of these words must appear in no published file
PLANTED = "Mrs Quokkaworth of 17 Zephyrine Mews, whose son Barnaby-Ulric drove me, said: thanks"
MARKS = ("Quokkaworth", "Zephyrine", "Barnaby-Ulric")


def _plant(path, every: int = 7) -> int:
    """Put the planted comment into the free text of every ``every``-th row; returns how many."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    col = rows[0].index("free_text")
    planted = 0
    for i, row in enumerate(rows[1:]):
        if i % every == 0:
            row[col] = PLANTED
            planted += 1
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return planted


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("surveys")
    copy_project(root)
    raw = generate("richmond-upon-thames", root / "data_raw" / SLUG, n_referrals=800)
    assert _plant(raw / "survey_responses.csv") > 10
    validate = make(root, "validate", f"BOROUGH={SLUG}")
    make(root, "report", f"BOROUGH={SLUG}")
    return root, validate.stdout + validate.stderr


def test_the_section_reaches_results_json_the_report_and_make_validate(built):
    root, validate = built
    report = root / "reports" / SLUG
    sv = json.loads((report / "results.json").read_text())["surveys"]
    assert sv["waves"] == ["1", "2"] and set(sv["groups"]) == {"patient", "link_worker", "practice_staff"}
    assert sv["questionnaires"]["by_group"]["patient"] > 0
    assert sv["questions"]["patient"]["connected_community"]["change"]["agree_pct_points"] is not None
    html = (report / "index.html").read_text()
    assert "Surveys of patients, link workers and practice staff" in html and "I feel more connected" in html
    assert (report / "notebooks" / "85_surveys.ipynb").exists()
    assert "survey_responses" in validate
    sections = next(line for line in validate.splitlines() if line.startswith("Report sections"))
    assert "surveys" in sections


def test_free_text_is_in_no_published_file(built):
    root, _ = built
    report = root / "reports" / SLUG
    # the comment is in the inputs (so its absence below means something)
    assert PLANTED in (root / "data_raw" / SLUG / "survey_responses.csv").read_text()
    assert (load_extract(root / "data_raw" / SLUG)["survey_responses"]["free_text"] == PLANTED).sum() > 10
    files = [p for p in report.rglob("*") if p.is_file()]
    assert len(files) > 5 and any(p.suffix == ".csv" for p in files)  # the tables/ downloads are scanned too
    for path in files:
        text = published_text(path) + path.read_bytes().decode("latin-1")
        found = [m for m in (*MARKS, *COMMENTS) if m in text]
        assert not found, f"{path.relative_to(report)} holds free text: {found}"
    # and no identifier (the publisher's own scan)
    assert scan_for_identifiers(report, None, root / "data_processed" / SLUG) == []


def test_the_release_check_finds_nothing_in_the_section(built):
    root, _ = built
    verdict = run(load(root / "reports" / SLUG))
    mine = [f for f in verdict.findings if "surveys" in " ".join((*f.paths, *map(str, f.recovered), f.how))]
    assert not mine, "\n".join(f.text() for f in mine)
    # the attacks know the section's sums: the catalogue binds to its published figures
    results = json.loads((root / "reports" / SLUG / "results.json").read_text())
    bound = [b for r in relations(results) if "surveys" in repr(r) for b in bindings(results, r)]
    assert len(bound) > 20
