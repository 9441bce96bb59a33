"""End to end: `make` in a copy of the project, as an evaluator runs it.

One small synthetic borough (City of London) and the hand-checked tiny fixture are built once per
session in a temporary copy of the project that shares this checkout's .venv.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from pipeline import paths

pytestmark = pytest.mark.e2e
SMALL = "city-of-london"
COPY = ("Makefile", "pipeline", "notebooks", "config", "requirements-lock.txt", "pyproject.toml",
        "data_raw/README.md", "data_processed/README.md", "reports/README.md")


def make(root, *args, env=None, check=True):
    e = dict(os.environ, **(env or {}))
    e.pop("MAKEFLAGS", None)
    proc = subprocess.run(["make", "--no-print-directory", *args], cwd=root, capture_output=True, text=True, env=e)
    if check and proc.returncode != 0:
        raise AssertionError(f"make {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def tree_hash(folder):
    h = hashlib.sha256()
    for p in sorted(Path(folder).rglob("*")):
        h.update(str(p.relative_to(folder)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="session")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    for rel in COPY:
        src = paths.ROOT / rel
        dst = root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
        else:
            shutil.copy2(src, dst)
    os.symlink(paths.ROOT / ".venv", root / ".venv")
    shutil.copytree(paths.ROOT / "tests" / "fixtures" / "tiny", root / "data_raw" / "tiny")
    # exact figures for the golden test: disclosure control off (the report says NOT FOR PUBLICATION)
    (root / "data_raw" / "tiny" / "settings.yml").write_text("disclosure:\n  enabled: false\n")
    # the kernels' IPython folder, so that what they write there can be checked
    ipython = {"IPYTHONDIR": str(root / ".ipython")}
    make(root, "report", f"BOROUGH={SMALL}", env=ipython)
    make(root, "report", "BOROUGH=tiny", env=ipython)
    return root


def test_report_is_published(project):
    rep = project / "reports" / SMALL
    assert (rep / "index.html").exists() and (rep / "results.json").exists()
    res = json.loads((rep / "results.json").read_text())
    assert res["contract_version"] == 1 and res["borough"] == SMALL
    assert set(res["activity"]) >= {"referrals", "patients", "patients_seen", "contacts_booked", "contacts_attended",
                                    "dna_or_cancelled_pct", "mean_attended_contacts_per_patient_seen",
                                    "median_days_referral_to_first_contact", "referrals_by_month"}
    assert res["synthetic"] is True
    html = (rep / "index.html").read_text()
    assert "SYNTHETIC DATA" in html
    assert not re.search(r"""<(script|img|link|iframe)[^>]+(src|href)=["']?https?://""", html)
    assert sorted(p.name for p in (rep / "notebooks").iterdir())


def test_the_kernel_writes_no_ipython_history(project):
    # IPython's history is a SQLite database committed (and synced to disk) after every cell; a
    # build must neither add its cells to the user's history nor wait on that disk
    profile = project / ".ipython" / "profile_default"
    assert profile.is_dir()  # the kernels did use this folder
    assert not (profile / "history.sqlite").exists()


def test_the_reset_cell_runs_but_is_never_published(project):
    import nbformat

    from pipeline.execute import RESET_TAG

    def tagged(nb_path):
        return [c for c in nbformat.read(nb_path, as_version=4).cells if RESET_TAG in c.metadata.get("tags", [])]

    built = sorted((project / "build" / SMALL / "notebooks").glob("*.ipynb"))
    assert built and all(tagged(p) for p in built), "every notebook ran from an emptied namespace"
    published = sorted((project / "reports" / SMALL / "notebooks").glob("*.ipynb"))
    assert published and not any(tagged(p) for p in published)
    html = (project / "reports" / SMALL / "index.html").read_text()
    assert "run_line_magic" not in html  # the reset cell's code


def test_second_run_does_no_work(project):
    rep = project / "reports" / SMALL
    before = tree_hash(rep)
    t0 = time.perf_counter()
    out = make(project, "report", f"BOROUGH={SMALL}")
    elapsed = time.perf_counter() - t0
    assert "is up to date" in out.stdout + out.stderr, out.stdout + out.stderr
    assert "running" not in out.stderr
    assert tree_hash(rep) == before
    print(f"no-op rebuild took {elapsed:.2f} s")  # measured, not asserted (see bench/)


def test_make_knows_what_is_stale(project):
    # question mode: 0 = up to date, 1 = would rebuild
    assert make(project, "-q", f"reports/{SMALL}/results.json", check=False).returncode == 0
    contacts = project / "data_raw" / "tiny" / "sp_contacts.csv"
    os.utime(contacts)  # touching one borough's data makes only that borough stale
    assert make(project, "-q", "reports/tiny/results.json", check=False).returncode == 1
    assert make(project, "-q", f"reports/{SMALL}/results.json", check=False).returncode == 0
    make(project, "report", "BOROUGH=tiny")
    assert make(project, "-q", "reports/tiny/results.json", check=False).returncode == 0


def test_unknown_borough_lists_the_available_ones(project):
    out = make(project, "report", "BOROUGH=atlantis", check=False)
    assert out.returncode != 0
    assert "Unknown borough 'atlantis'" in out.stderr
    assert SMALL in out.stderr and "merton" in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_data_is_a_message_and_publishes_nothing(project):
    rep = project / "reports" / "tiny"
    before = tree_hash(rep)
    refs = project / "data_raw" / "tiny" / "referrals.csv"
    original = refs.read_text()
    try:
        lines = original.splitlines()
        header = lines[0].split(",")
        row = lines[3].split(",")
        row[header.index("age")] = "200"
        lines[3] = ",".join(row)
        refs.write_text("\n".join(lines) + "\n")
        out = make(project, "report", "BOROUGH=tiny", check=False)
        assert out.returncode != 0
        assert "referrals.csv" in out.stderr and "age" in out.stderr and "row 4" in out.stderr and "200" in out.stderr
        assert "Traceback" not in out.stderr
        assert tree_hash(rep) == before
    finally:
        refs.write_text(original)
        make(project, "report", "BOROUGH=tiny")


def test_golden_activity_figures_on_the_tiny_extract(project):
    """Hand-computed from tests/fixtures/tiny/ (see its README) after disclosure control."""
    res = json.loads((project / "reports" / "tiny" / "results.json").read_text())
    expected = json.loads((paths.ROOT / "tests" / "fixtures" / "tiny_expected.json").read_text())
    contract_keys = {k: res["activity"][k] for k in expected["activity"]}
    assert contract_keys == expected["activity"]
    assert res["suppressed"] == expected["suppressed"]
    assert res["disclosure_control"]["enabled"] is False
    assert "NOT FOR PUBLICATION" in (project / "reports" / "tiny" / "index.html").read_text()


def test_published_files_pass_the_disclosure_scan(project):
    from scan import input_identifiers, scan_report

    problems = scan_report(project / "reports" / SMALL, input_identifiers(project / "data_raw" / SMALL))
    assert not problems, problems[:10]


def test_period_report_is_published_beside_the_borough_report(project):
    make(project, "report", f"BOROUGH={SMALL}", "PERIOD=2022-23")
    per = project / "reports" / SMALL / "2022-23"
    res = json.loads((per / "results.json").read_text())
    assert res["period"]["start"] == "2022-04-01" and res["period"]["end"] == "2023-03-31"
    assert list(res["activity"]["referrals_by_month"])[0] == "2022-04"
    assert len(res["activity"]["referrals_by_month"]) == 12
    # rebuilding the borough report keeps the period report
    os.utime(project / "data_raw" / SMALL / "referrals.csv")
    make(project, "report", f"BOROUGH={SMALL}")
    assert (per / "results.json").exists()
    bad = make(project, "report", f"BOROUGH={SMALL}", "PERIOD=2023-13", check=False)
    assert bad.returncode != 0 and "is not a reporting period" in bad.stderr


GOLDEN = paths.ROOT / "tests" / "fixtures" / "golden" / f"{SMALL}.results.json"
# build facts that are not results: when it was built, and (with Quarto) the renderer and its formats
_BUILD_FACTS = re.compile(r'^(\s*"(?:build_time|renderer)": ).*?(,?)$|^(\s*"formats": )\[[^\]]*\](,?)$', re.M)


def _without_build_facts(text):
    return _BUILD_FACTS.sub(lambda m: (m.group(1) or m.group(3)) + '"..."' + (m.group(2) or m.group(4) or ""), text)


def test_results_json_is_byte_identical_to_the_golden_copy(project):
    """A performance change must not change a published figure: results.json of a small synthetic
    borough built end to end equals the stored copy byte for byte, apart from when and by which
    renderer it was built. After an intended change of results, refresh the copy with
    ``SP_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_e2e.py -k golden`` and review its diff."""
    built = (project / "reports" / SMALL / "results.json").read_text(encoding="utf-8")
    if os.environ.get("SP_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(built, encoding="utf-8")
        pytest.skip(f"golden copy written to {GOLDEN.relative_to(paths.ROOT)}")
    assert GOLDEN.exists(), "no golden copy yet: run with SP_UPDATE_GOLDEN=1"
    golden = GOLDEN.read_text(encoding="utf-8")
    assert _without_build_facts(built) == _without_build_facts(golden), (
        "results.json differs from tests/fixtures/golden/: if the change of results is intended, refresh the copy "
        "(see this test's docstring)")


def test_london_after_one_report_says_what_it_compared(project):
    """A newcomer's first `make london`, after `make report`: a comparison of the one London borough
    built, saying so and how to compare the rest; the borough's report then shows its 'compared with
    London' markers, its results.json untouched (so a second make does no work)."""
    results = project / "reports" / SMALL / "results.json"
    before = (results.read_bytes(), results.stat().st_mtime_ns)
    out = make(project, "london")
    assert "[london] comparing 1 borough (1 left out): City of London (synthetic data)." in out.stderr
    assert "then make reports, then make london" in out.stderr
    page = (project / "reports" / "london" / "index.html").read_text()
    assert "Comparing 1 borough (1 left out): City of London (synthetic data)." in page
    res = json.loads((project / "reports" / "london" / "results.json").read_text())
    assert res["boroughs"] == [SMALL] and res["excluded"] == {"tiny": "not a London borough"}
    assert set(res["comparators"]) == {SMALL}
    html = (project / "reports" / SMALL / "index.html").read_text()
    assert "Compared with London" in html and "From the London comparison of 1 borough" in html
    assert (results.read_bytes(), results.stat().st_mtime_ns) == before
    assert "nothing to rebuild" in make(project, "london").stderr
    assert "up to date: nothing to rebuild" in make(project, "report", f"BOROUGH={SMALL}").stderr
