"""Every synthetic borough, built and scanned: no counts of 1-7 and no patient identifiers in any
published file. Slow (it builds all 34 areas with `make -j2 reports`: the session fixture ``all_built`` in
conftest.py, shared with tests/test_attacks_all.py); run with `make test-slow`."""

import pytest
from scan import input_identifiers, scan_report

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_every_area_was_built(all_built):
    root, slugs = all_built
    missing = [s for s in slugs if not (root / "reports" / s / "results.json").exists()]
    assert not missing


def test_no_small_counts_or_identifiers_anywhere(all_built):
    root, slugs = all_built
    problems = {}
    for slug in slugs:
        found = scan_report(root / "reports" / slug, input_identifiers(root / "data_raw" / slug))
        if found:
            problems[slug] = found[:5]
    assert not problems, problems
