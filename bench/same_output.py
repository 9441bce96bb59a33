"""Does this checkout make the same files as another revision? For a change that must not alter
behaviour (a refactoring, a speed-up): the synthetic extracts of every area plus a few sized
builds, and the processed data (``data_processed/<slug>/``: every Parquet file and manifest.json) of
some of them, made by the revision's code and by this checkout's, compared byte for byte.

    .venv/bin/python bench/same_output.py [--rev main] [--quick]

The revision is checked out into a temporary git worktree (removed afterwards); both sides run
with this checkout's ``.venv``, and both process this checkout's extracts, so a difference in the
processed data is the loader's. Prints a line per extract; exits 1 when anything differs.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
#: (folder, area, n_referrals, format): sized builds beside every area's own extract
SIZED = [("merton-n30", "merton", 30, "csv"), ("city-of-london-n30", "city-of-london", 30, "csv"),
         ("norfolk-and-waveney-n30", "norfolk-and-waveney", 30, "csv"),
         ("camden-n2000-parquet", "camden", 2000, "parquet"), ("merton-n100000", "merton", 100_000, "csv")]
#: extracts processed by both sides (the tiny fixture, a hospital service, tables left out, Parquet input)
PROCESSED = ["tiny", "merton", "city-of-london", "norfolk-and-waveney", "camden", "bexley", "harrow",
             "merton-n30", "norfolk-and-waveney-n30", "camden-n2000-parquet", "merton-n100000"]
GENERATE = """
import sys
from pathlib import Path
from pipeline.areas import AREAS
from pipeline.synthetic import generate
out, jobs = Path(sys.argv[1]), eval(sys.argv[2])
for name, slug, n, fmt in [(s, s, None, "csv") for s in sorted(AREAS)] + jobs:
    generate(slug, out / name, n_referrals=n, fmt=fmt)
"""


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def same_tree(a: Path, b: Path) -> bool:
    return digests(a) == digests(b)


def generate(code: Path, out: Path, sized: list) -> None:
    subprocess.run([PY, "-c", GENERATE, str(out), repr(sized)], env=dict(os.environ, PYTHONPATH=str(code)), check=True)


def process(code: Path, root: Path, raw: Path, names: list[str]) -> None:
    (root / "data_raw").mkdir(parents=True)
    (root / "config").symlink_to(code / "config")
    for name in names:
        shutil.copytree(raw / name, root / "data_raw" / name)
        subprocess.run([PY, "-m", "pipeline", "process", name], cwd=root, check=True, stderr=subprocess.DEVNULL,
                       env=dict(os.environ, PYTHONPATH=str(code), SP_EVAL_ROOT=str(root)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rev", default="main", help="the revision to compare with (default: main)")
    ap.add_argument("--quick", action="store_true", help="leave out the 100,000-referral build")
    args = ap.parse_args(argv)
    sized = [j for j in SIZED if not (args.quick and j[2] == 100_000)]
    left_out = {j[0] for j in SIZED} - {j[0] for j in sized}
    names = [n for n in PROCESSED if n not in left_out]
    differ = 0
    with tempfile.TemporaryDirectory(prefix="same-output-") as tmp:
        tmp = Path(tmp)
        old = tmp / "rev"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(old), args.rev], check=True)
        try:
            for side, code in (("rev", old), ("here", ROOT)):
                generate(code, tmp / side / "raw", sized)
            shutil.copytree(ROOT / "tests" / "fixtures" / "tiny", tmp / "here" / "raw" / "tiny")
            for folder in sorted(p.name for p in (tmp / "here" / "raw").iterdir()):
                if folder == "tiny":
                    continue
                same = same_tree(tmp / "rev" / "raw" / folder, tmp / "here" / "raw" / folder)
                differ += not same
                print(f"{'same' if same else 'DIFFERENT'}  synthetic {folder}", flush=True)
            for side, code in (("rev", old), ("here", ROOT)):
                process(code, tmp / side / "root", tmp / "here" / "raw", names)
            for name in names:
                a, b = (tmp / side / "root" / "data_processed" / name for side in ("rev", "here"))
                same = same_tree(a, b)
                differ += not same
                print(f"{'same' if same else 'DIFFERENT'}  processed {name} ({len(digests(b))} files)", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)
    print(f"{differ} different" if differ else f"all the same as {args.rev}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
