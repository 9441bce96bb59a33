"""Every synthetic borough, built and scanned: no counts of 1-7 and no patient identifiers in any
published file. Slow (it builds all 34 areas with `make -j2 reports`); run with `make test-slow`."""

import os
import shutil

import pytest
from scan import input_identifiers, scan_report
from test_e2e import COPY, make

from pipeline import paths

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@pytest.fixture(scope="module")
def all_built(tmp_path_factory):
    from pipeline.areas import AREAS

    root = tmp_path_factory.mktemp("all")
    for rel in COPY:
        src, dst = paths.ROOT / rel, root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
        else:
            shutil.copy2(src, dst)
    os.symlink(paths.ROOT / ".venv", root / ".venv")
    make(root, "data")
    make(root, "-j2", "reports")
    return root, sorted(AREAS)


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
