"""requirements.txt, requirements-lock.txt and environment.yml list the same pinned versions."""

import re

import yaml

from pipeline import paths


def _pins(lines):
    out = {}
    for line in lines:
        line = line.split("#")[0].strip()
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s;]+)", line)
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def test_direct_pins_match_lock_and_environment_yml():
    direct = _pins((paths.ROOT / "requirements.txt").read_text().splitlines())
    lock = _pins((paths.ROOT / "requirements-lock.txt").read_text().splitlines())
    env = yaml.safe_load((paths.ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    env_pins = _pins(pip_section)
    assert direct, "requirements.txt has no pins"
    for name, version in direct.items():
        assert lock.get(name) == version, f"{name}: requirements.txt {version} vs lock {lock.get(name)}"
        assert env_pins.get(name) == version, f"{name}: requirements.txt {version} vs environment.yml {env_pins.get(name)}"
    assert set(env_pins) == set(direct)
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    assert any(d.startswith("quarto") for d in conda), "environment.yml must bring Quarto"
    assert "python=3.11" in conda


def test_every_lock_line_is_pinned():
    for line in (paths.ROOT / "requirements-lock.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert "==" in line, line
