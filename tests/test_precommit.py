"""The pre-commit hooks lint with the pinned ruff, strip notebook outputs and keep data out of git."""

import re

import yaml

from pipeline import paths


def test_hooks_and_ruff_version_in_step():
    cfg = yaml.safe_load((paths.ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {h["id"]: repo for repo in cfg["repos"] for h in repo["hooks"]}
    assert {"ruff", "nbstripout", "jupytext", "no-patient-data"} <= set(hooks)
    pin = re.search(r"^ruff==(\S+)$", (paths.ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert hooks["ruff"]["rev"] == f"v{pin}"
    jt = re.search(r"^jupytext==(\S+)$", (paths.ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert hooks["jupytext"]["rev"] == f"v{jt}"
    data = next(h for h in hooks["no-patient-data"]["hooks"] if h["id"] == "no-patient-data")
    assert re.match(data["files"], "data_raw/merton/referrals.csv")
    assert not re.search(data["exclude"], "data_raw/merton/referrals.csv")
    assert re.search(data["exclude"], "data_raw/README.md")


def test_notebooks_are_paired_text_and_ipynb_is_ignored():
    toml = (paths.NOTEBOOKS / "jupytext.toml").read_text()
    assert "py:percent" in toml
    assert "*.ipynb" in (paths.ROOT / ".gitignore").read_text().splitlines()
