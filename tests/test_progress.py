"""Progress and summary lines for long builds (pipeline/progress.py)."""

import json
import os

import pytest

from pipeline import paths, progress


@pytest.fixture
def reports(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "REPORTS", tmp_path)
    for slug, age in (("merton", 100), ("sutton", 5), ("tiny", 1), ("london", 2)):
        d = tmp_path / slug
        d.mkdir()
        f = d / "results.json"
        f.write_text(json.dumps({"borough": slug}))
        os.utime(f, (1000.0 - age, 1000.0 - age))
    return tmp_path


def test_summary_names_what_was_built(reports):
    line = progress.summary_line(["merton", "sutton", "tiny"], start=990.0, now=1031.0)
    assert line == "built 2 boroughs in 41 s: sutton, tiny; 1 up to date"
    assert progress.summary_line(["tiny"], start=990.0, now=1000.0) == "built tiny in 10 s"
    assert progress.summary_line(["merton"], start=990.0, now=1000.0) == "reports/merton is up to date: nothing to rebuild"
    assert progress.summary_line(["merton", "london"], start=999.5, now=1000.0) == \
        "all 1 borough and the London comparison up to date: nothing to rebuild"
    assert progress.summary_line(["merton", "london"], start=990.0, now=1100.0).startswith(
        "built the London comparison in 1 min 50 s")
    assert "not built: atlantis" in progress.summary_line(["atlantis", "tiny"], start=990.0, now=1000.0)
    assert progress.summary_line([], start=990.0).startswith("no boroughs to build")


def test_durations():
    assert progress.duration(41.2) == "41 s"
    assert progress.duration(125) == "2 min 5 s"
    assert progress.duration(3 * 3600 + 120) == "3 h 2 min"


def test_progress_line_only_inside_make(reports, monkeypatch):
    monkeypatch.delenv(progress.ENV_START, raising=False)
    assert progress.progress_line("tiny") is None
    monkeypatch.setenv(progress.ENV_START, "990")
    assert progress.progress_line("tiny").startswith("[tiny] finished: 3 reports built so far in this run")


def test_main(reports, monkeypatch, capsys):
    monkeypatch.setenv(progress.ENV_START, "990")
    assert progress.main(["summary", "tiny"]) == 0
    assert capsys.readouterr().err.startswith("built tiny in")
    assert progress.main([]) == 2
