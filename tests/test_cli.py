"""Which notebooks a rebuild re-runs (Make passes the prerequisites newer than the last run)."""

import os
import subprocess
import sys

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


# --------------------------------------------------------------------------- errors: the user's or a bug

def test_unknown_borough_is_a_message_with_status_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(paths, "DATA_RAW", tmp_path / "data_raw")
    assert cli.main(["process", "atlantis"]) == 2
    err = capsys.readouterr().err
    assert "Unknown borough 'atlantis'" in err and "Synthetic areas that can be generated: " in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["publish", "Merton"], "'Merton' is not a slug"),
    (["period", "2023-13"], "'2023-13' is not a reporting period"),
    (["publish", "merton/2023-13"], "'2023-13' is not a reporting period"),
    (["notebook", "merton", "99_nothing"], "no notebook notebooks/99_nothing.py"),
])
def test_a_bad_target_is_a_message_with_status_2(argv, message, capsys):
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_files_without_extract_yml_are_never_overwritten(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(paths, "DATA_RAW", tmp_path / "data_raw")
    (tmp_path / "data_raw" / "merton").mkdir(parents=True)
    (tmp_path / "data_raw" / "merton" / "referrals.csv").write_text("referral_id\n")
    assert cli.main(["data", "merton"]) == 2
    assert "extract.yml: is missing" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "data_raw" / "merton").iterdir()) == ["referrals.csv"]


@pytest.mark.parametrize("error", [KeyError("a bug"), ValueError("a bug"), RuntimeError("a bug")])
def test_a_bug_propagates(error, monkeypatch):
    """A LookupError, ValueError or RuntimeError from the code (not a named user or build error)
    is not reported as bad data: it leaves main() as it is."""
    def boom(*_args):
        raise error
    monkeypatch.setattr(cli, "parse_period", boom)
    with pytest.raises(type(error), match="a bug"):
        cli.main(["period", "2023-24"])


def test_a_bug_exits_with_its_traceback():
    code = ("import sys\nfrom pipeline import cli\n"
            "def boom(*_args):\n    raise KeyError('a bug in the pipeline')\n"
            "cli.available_boroughs = boom\nsys.exit(cli.main(['boroughs']))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=paths.ROOT,
                         env={**os.environ, "PYTHONPATH": str(paths.ROOT)})
    assert out.returncode == 1
    assert "Traceback (most recent call last)" in out.stderr and "KeyError: 'a bug in the pipeline'" in out.stderr
    assert "error:" not in out.stderr and "data" not in out.stderr.split("KeyError")[-1]
