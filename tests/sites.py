"""A project copy with reports built by `make`, for the end-to-end and browser tests (the session
fixture ``site`` in conftest.py):

- ``tiny``: the hand-checked fixture, with default disclosure control;
- ``activity-only``: the fixture's referrals and contacts alone (a team with only those tables);
- published results.json of a dozen London boroughs (no extract in data_raw/: read, never rebuilt),
  for ``make london``;
- ``make screenshot BOROUGH=tiny``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import paths

COPY = ("Makefile", "pipeline", "notebooks", "config", "templates", "requirements-lock.txt", "pyproject.toml",
        "data_raw/README.md", "data_processed/README.md", "reports/README.md")
LONDON_SAMPLE = ["barnet", "bexley", "brent", "bromley", "camden", "croydon", "ealing", "enfield", "hackney",
                 "harrow", "lambeth", "merton", "sutton", "newham"]


def make(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "SP_BUILD_START"):
        env.pop(k, None)
    proc = subprocess.run(["make", "--no-print-directory", *args], cwd=root, capture_output=True, text=True, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"make {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@dataclass
class Site:
    root: Path
    logs: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)

    def report(self, slug: str) -> Path:
        return self.root / "reports" / slug


def copy_project(root: Path) -> None:
    for rel in COPY:
        src, dst = paths.ROOT / rel, root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
        elif src.exists():
            shutil.copy2(src, dst)
    os.symlink(paths.ROOT / ".venv", root / ".venv")


def write_london_results(reports: Path) -> None:
    import numpy as np
    from test_london import fake_results, write

    rng = np.random.default_rng(7)
    for i, slug in enumerate(LONDON_SAMPLE):
        booked = int(rng.integers(800, 4000) // 5 * 5)
        dna = 45.0 if slug == "newham" else round(30 + rng.normal(0, 0.5), 1)
        gp = {"variance_pct": {"2022/23": {"12m": round(-10 + rng.normal(0, 1), 1)}},
              "variance_detail": {"2022/23": {"12m": {"n_patients": 300, "appointments_before": 3000,
                                                      "appointments_after": 2700}}}}
        write(reports, fake_results(slug, i, dna_pct=dna, booked=booked, referrals=int(rng.integers(200, 400) * 5),
                                    n_index=300 if i % 2 else None, gp=gp))


def build_site(root: Path) -> Site:
    copy_project(root)
    site = Site(root)
    raw = root / "data_raw"
    shutil.copytree(paths.ROOT / "tests" / "fixtures" / "tiny", raw / "tiny")
    (raw / "activity-only").mkdir()
    for f in ("extract.yml", "referrals.csv", "sp_contacts.csv"):
        shutil.copy2(paths.ROOT / "tests" / "fixtures" / "tiny" / f, raw / "activity-only" / f)
    site.logs["reports"] = make(root, "-j2", "reports")
    write_london_results(root / "reports")
    site.logs["london"] = make(root, "london")
    site.logs["screenshot"] = make(root, "screenshot", "BOROUGH=tiny", check=False)
    return site
