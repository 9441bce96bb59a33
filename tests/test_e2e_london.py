"""End to end through make, on the `site` project copy (tests/sites.py): the London comparison,
`make new-borough`, `make validate`, a report from an activity-only extract, and the progress and
summary lines of long builds."""

import json
import os
import re
import shutil

import pytest
from sites import LONDON_SAMPLE, make

pytestmark = pytest.mark.e2e


def test_make_reports_shows_progress_and_a_summary(site):
    err = site.logs["reports"].stderr
    assert "[tiny] running 20_activity" in err and "[activity-only] running 20_activity" in err
    assert re.search(r"\[(tiny|activity-only)\] finished: [12] reports? built so far in this run", err)
    assert re.search(r"^built 2 boroughs in \d+ s: activity-only, tiny$", err, re.M), err
    again = make(site.root, "reports")
    assert "all 2 boroughs up to date: nothing to rebuild" in again.stderr
    assert "running" not in again.stderr


def test_london_is_built_from_results_json_only(site):
    out = site.logs["london"]
    assert "[london] comparing 14 boroughs (2 left out)" in out.stderr
    assert "built the London comparison in" in out.stderr and "16 up to date" in out.stderr
    res = json.loads((site.report("london") / "results.json").read_text())
    assert res["boroughs"] == sorted(LONDON_SAMPLE)
    assert res["excluded"] == {"activity-only": "not a London borough", "tiny": "not a London borough"}
    dna = res["indicators"]["dna_or_cancelled"]["boroughs"]
    assert dna[0]["borough"] == "newham" and dna[0]["flag"] == "above_99.8"
    # the published boroughs were read, not rebuilt (they have no extract)
    assert not (site.root / "data_raw" / "barnet").exists()
    assert not (site.root / "build" / "barnet").exists()


def test_london_rebuilds_only_when_a_borough_changes(site):
    q = make(site.root, "-q", "reports/london/index.html", check=False)
    assert q.returncode == 0
    again = make(site.root, "london")
    assert "[london]" not in again.stderr and "up to date: nothing to rebuild" in again.stderr
    os.utime(site.report("camden") / "results.json")
    assert make(site.root, "-q", "reports/london/index.html", check=False).returncode == 1
    rebuilt = make(site.root, "london")
    assert "[london] published reports/london/" in rebuilt.stderr
    assert make(site.root, "-q", "reports/london/index.html", check=False).returncode == 0


def test_activity_only_extract_gets_a_clean_activity_report(site):
    rep = site.report("activity-only")
    res = json.loads((rep / "results.json").read_text())
    # the tiny referrals (twelve months of 1) withhold their total; the appointments are published
    assert isinstance(res["activity"].get("contacts_booked"), int) and res["activity"]["referrals"] is None
    for section in ("wellbeing", "readmission", "targets", "gp_appointments"):
        assert res[section]["status"] == "not_run", section
    html = (rep / "index.html").read_text()
    assert "Traceback" not in html and "Error" not in re.sub(r"<[^>]+>", " ", html)
    assert "Not available" in html


def test_new_borough_then_validate_is_a_message_not_a_traceback(site):
    dest = site.root / "data_raw" / "kingston-upon-thames"
    try:
        out = make(site.root, "new-borough", "NAME=Kingston upon Thames")
        assert "Created data_raw/kingston-upon-thames/" in out.stdout
        assert (dest / "README.md").exists() and (dest / "templates" / "deaths.csv").exists()
        again = make(site.root, "new-borough", "NAME=Kingston upon Thames", check=False)
        assert again.returncode != 0 and "already exists" in again.stderr and "Traceback" not in again.stderr
        v = make(site.root, "validate", "BOROUGH=kingston-upon-thames", check=False)
        assert v.returncode != 0
        assert "extract_start': is missing" in v.stdout and "referrals.csv: has a header but no data rows" in v.stdout
        assert "Traceback" not in v.stdout + v.stderr
        assert not (site.root / "data_processed" / "kingston-upon-thames").exists()  # nothing built
        bad = make(site.root, "new-borough", "NAME=", check=False)
        assert bad.returncode != 0 and "give the borough's name" in bad.stderr
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def test_validate_a_good_extract(site):
    v = make(site.root, "validate", "BOROUGH=tiny")
    assert "No problems found" in v.stdout and "referrals *" in v.stdout
