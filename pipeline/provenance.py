"""Where a report came from: inputs hash, code version, parameters, package versions, time."""

from __future__ import annotations

import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata

from . import __version__, paths

PACKAGES = ("pandas", "numpy", "pyarrow", "pandera", "scipy", "statsmodels", "lifelines", "matplotlib",
            "seaborn", "papermill", "nbconvert", "nbformat", "jupytext", "pydantic", "pyyaml")


def code_version() -> str:
    """``git describe`` of the project when it is a git checkout, else the package version."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--tags"], cwd=paths.ROOT,
                             capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return __version__


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def build_time() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
