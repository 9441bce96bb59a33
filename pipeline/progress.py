"""Progress lines for long builds, and the summary line at the end of ``make report(s)``.

The Makefile exports ``SP_BUILD_START`` (seconds since the epoch when ``make`` started); a report
whose ``results.json`` is newer than that was built in this run. Kept free of heavy imports so
the summary costs nothing on a no-op rebuild::

    python -m pipeline.progress summary merton sutton tiny
    built 2 boroughs in 41 s: merton, sutton (1 up to date)
"""

from __future__ import annotations

import os
import sys
import time

from . import paths

ENV_START = "SP_BUILD_START"


def build_start() -> float | None:
    try:
        return float(os.environ[ENV_START])
    except (KeyError, ValueError):
        return None


def duration(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 90:
        return f"{seconds:.0f} s"
    m, s = divmod(int(round(seconds)), 60)
    if m < 60:
        return f"{m} min {s} s"
    h, m = divmod(m, 60)
    return f"{h} h {m} min"


def _results(target: str):
    return paths.REPORTS / target / "results.json"


def built_since(targets: list[str], start: float) -> tuple[list[str], list[str], list[str]]:
    """(built in this run, up to date, missing) among ``targets``."""
    built, fresh, missing = [], [], []
    for t in targets:
        f = _results(t)
        if not f.exists():
            missing.append(t)
        elif f.stat().st_mtime >= start:
            built.append(t)
        else:
            fresh.append(t)
    return built, fresh, missing


def summary_line(targets: list[str], start: float | None = None, now: float | None = None) -> str:
    start = build_start() if start is None else start
    now = time.time() if now is None else now
    if start is None:
        start = now
    london = paths.LONDON in targets
    targets = [t for t in targets if t != paths.LONDON]
    built, fresh, missing = built_since(targets, start)
    london_built = london and bool(built_since([paths.LONDON], start)[0])
    if not targets and not london:
        return "no boroughs to build: add an extract under data_raw/ (make data generates the synthetic ones)"
    if not built and not missing and not london_built:
        if len(targets) == 1 and not london:
            return f"reports/{targets[0]} is up to date: nothing to rebuild"
        return (f"all {len(targets)} borough{'s' if len(targets) != 1 else ''}"
                f"{' and the London comparison' if london else ''} up to date: nothing to rebuild")
    parts = []
    if built or london_built:
        what = built[0] if len(built) == 1 else f"{len(built)} boroughs" if built else ""
        if london_built:
            what = f"{what} and the London comparison" if what else "the London comparison"
        names = "" if len(built) <= 1 else ": " + ", ".join(built)
        parts.append(f"built {what} in {duration(now - start)}{names}")
    if fresh:
        parts.append(f"{len(fresh)} up to date")
    if missing:
        parts.append(f"{len(missing)} not built: {', '.join(missing)}")
    return "; ".join(parts)


def progress_line(target: str) -> str | None:
    """'[merton] finished: 3 reports built so far in this run, 1 min 21 s elapsed' (inside make only)."""
    start = build_start()
    if start is None or not paths.REPORTS.exists():
        return None
    n = sum(1 for f in paths.REPORTS.glob("*/results.json")
            if paths.SLUG_RE.match(f.parent.name) and f.stat().st_mtime >= start)
    return (f"[{target}] finished: {n} report{'s' if n != 1 else ''} built so far in this run, "
            f"{duration(time.time() - start)} elapsed")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "summary":
        print("usage: python -m pipeline.progress summary TARGET ...", file=sys.stderr)
        return 2
    print(summary_line(argv[1:]), file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
