"""Which notebooks a rebuild re-runs (Make passes the prerequisites newer than the last run)."""

import pytest

from pipeline import cli, paths


@pytest.fixture
def built(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "BUILD", tmp_path / "build")
    monkeypatch.setattr(cli, "notebook_names", lambda: ["10_a", "20_b", "30_c"])
    out = cli.target_dirs("merton")[2] / "notebooks"
    out.mkdir(parents=True)
    for n in ("10_a", "20_b", "30_c"):
        (out / f"{n}.ipynb").write_text("{}")
    return out


def test_first_run_runs_everything(built):
    (built / cli.STAMP).unlink(missing_ok=True)
    assert cli.stale_notebooks("merton", ["notebooks/20_b.py"]) == ["10_a", "20_b", "30_c"]


def test_one_changed_notebook_reruns_only_it(built):
    (built / cli.STAMP).touch()
    assert cli.stale_notebooks("merton", ["notebooks/20_b.py"]) == ["20_b"]


def test_changed_data_or_package_reruns_all(built):
    (built / cli.STAMP).touch()
    assert cli.stale_notebooks("merton", ["notebooks/20_b.py", "data_processed/merton/manifest.json"]) == [
        "10_a", "20_b", "30_c"]
    assert cli.stale_notebooks("merton", ["pipeline/nb.py"]) == ["10_a", "20_b", "30_c"]


def test_a_missing_executed_notebook_is_rerun(built):
    (built / cli.STAMP).touch()
    (built / "30_c.ipynb").unlink()
    assert cli.stale_notebooks("merton", ["notebooks/10_a.py"]) == ["10_a", "30_c"]
