"""The benchmark suite: ``make bench`` (everything, 50-70 minutes) or ``python bench/run.py``.

    python bench/run.py                      # the full suite, written to bench/RESULTS.md
    python bench/run.py --quick              # a smoke run: 3 areas, 10k referrals only, one repeat
    python bench/run.py --only overhead,noop # some sections (written to bench/out/RESULTS-partial.md)

Sections (each measured side by side in one run, reported as ratios, on the machine described):

1. **overhead**: ``make report BOROUGH=merton`` from clean against the same analysis functions
   called in one Python process (one process and one kernel start) on the same processed data;
   and against the notebooks' own code, figures included, run in one kernel.
2. **fanout**: every synthetic area built with ``make -j1 reports`` then ``make -j2 reports``.
3. **noop**: ``make reports`` with nothing changed; then one borough's input touched: only that
   borough rebuilds.
4. **scale**: 10k, 100k and 1M referrals, time and peak memory per stage (``bench/scale.py``).
5. **breakdown**: where the time of ``make report`` goes, per stage and per notebook
   (``bench/breakdown.py``).

Every section runs in its own copy of the project (``bench/workspace.py``): this checkout's
``data_raw/``, ``data_processed/``, ``build/`` and ``reports/`` are never touched. Nothing here
is a test: timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import breakdown  # noqa: E402
import scale  # noqa: E402
import workspace  # noqa: E402

ROOT = workspace.ROOT
SECTIONS = ("overhead", "fanout", "noop", "scale", "breakdown")
DEFAULT_BOROUGH = "merton"
QUICK_AREAS = ("city-of-london", "bexley", "merton")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------- machine

def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        mem = f"{kb / 2**20:.0f} GB"
    except (OSError, StopIteration, ValueError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "os": platform.platform(),
            "python": platform.python_version(), "load_at_start": " ".join(f"{x:.1f}" for x in os.getloadavg())}


def commit() -> str:
    out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


# ------------------------------------------------------------------------------------- sections

def _measured(ws: Path, cmd: list[str]) -> dict:
    r = workspace.measure(cmd, ws, workspace.env(ws))
    if r.returncode != 0:
        raise workspace.WorkspaceError(f"{' '.join(cmd)} failed in {ws}:\n{r.stderr[-3000:]}")
    return {"seconds": r.seconds, "cpu_seconds": r.cpu_seconds, "peak_mb": r.peak_rss_mb, "stdout": r.stdout}


def overhead(parent: Path | None, repeats: int, slug: str = DEFAULT_BOROUGH) -> dict:
    """``make report`` from clean vs the analyses in one process, alternating, ``repeats`` times."""
    ws = workspace.create(parent, "overhead")
    try:
        workspace.make(ws, f"data_raw/{slug}/extract.yml")
        make = ["make", "--no-print-directory", f"STAMP={workspace.ENV_STAMP}", "report", f"BOROUGH={slug}"]
        py = str(ws / ".venv" / "bin" / "python")
        ref = [py, str(HERE / "reference.py"), f"data_processed/{slug}"]
        runs: dict[str, list[dict]] = {"make report": [], "analyses, one process": [],
                                       "analyses, one kernel": [], "notebook code, one kernel": []}
        for i in range(repeats):
            log(f"overhead: round {i + 1} of {repeats}")
            workspace.clean(ws)
            runs["make report"].append(_measured(ws, make))
            runs["analyses, one process"].append(_measured(ws, ref))
            runs["analyses, one kernel"].append(_measured(ws, ref + ["--kernel"]))
            runs["notebook code, one kernel"].append(_measured(ws, ref + ["--notebooks"]))
        detail = json.loads(runs["analyses, one process"][-1]["stdout"].strip().splitlines()[-1])
    finally:
        workspace.remove(ws)
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
    cpu = {k: statistics.median(r["cpu_seconds"] for r in v) for k, v in runs.items()}
    return {"slug": slug, "repeats": repeats, "median_seconds": med, "median_cpu_seconds": cpu,
            "ratio": med["make report"] / med["analyses, one kernel"],
            "ratio_process": med["make report"] / med["analyses, one process"],
            "ratio_notebook_code": med["make report"] / med["notebook code, one kernel"],
            "pairs": [m["seconds"] / k["seconds"] for m, k in zip(runs["make report"], runs["analyses, one kernel"],
                                                                  strict=True)],
            "analyses": detail["timings"]}


def fanout(parent: Path | None, areas: tuple[str, ...] | None, rounds: int = 2) -> dict:
    """Every area (or ``areas``) built from clean with -j1 and with -j2, in the order j1 j2 j2 j1
    (``rounds`` = 2; 1: j1 j2) so a change in the machine's other load falls on both alike; then
    the no-op and one-borough-changed rebuilds on the built tree (section 3)."""
    ws = workspace.create(parent, "fanout")
    try:
        if areas:
            for a in areas:
                workspace.make(ws, f"data_raw/{a}/extract.yml")
        else:
            log("fanout: generating the synthetic extracts of every area")
            workspace.make(ws, "data")
        n = len(list((ws / "data_raw").glob("*/extract.yml")))
        out: dict = {"areas": n, "runs": []}
        order = ["1", "2", "2", "1"] if rounds >= 2 else ["1", "2"]
        for jobs in order:
            workspace.clean(ws)
            log(f"fanout: make -j{jobs} reports ({n} areas)")
            r = _measured(ws, ["make", "--no-print-directory", f"STAMP={workspace.ENV_STAMP}", f"-j{jobs}", "reports"])
            out["runs"].append({"jobs": int(jobs), **{k: v for k, v in r.items() if k != "stdout"}})
        for jobs in ("1", "2"):
            rs = [r for r in out["runs"] if r["jobs"] == int(jobs)]
            out[f"j{jobs}"] = {k: sum(r[k] for r in rs) / len(rs) for k in ("seconds", "cpu_seconds", "peak_mb")}
        out["speedup"] = out["j1"]["seconds"] / out["j2"]["seconds"]
        # the same speed-up if every run had done the same work (CPU seconds): the ratio of cores
        # kept busy; the wall-clock ratio also moves with the machine's speed between the runs
        out["speedup_equal_work"] = ((out["j2"]["cpu_seconds"] / out["j2"]["seconds"])
                                     / (out["j1"]["cpu_seconds"] / out["j1"]["seconds"]))
        out["noop"] = noop(ws)
    finally:
        workspace.remove(ws)
    return out


def noop(ws: Path, repeats: int = 5) -> dict:
    """``make reports`` with nothing changed (``repeats`` times); then one borough's input touched."""
    times = []
    for _ in range(repeats):
        r = workspace.make(ws, "reports")
        times.append(r.seconds)
        if "running" in r.stderr:
            raise workspace.WorkspaceError(f"a no-op `make reports` ran notebooks:\n{r.stderr[-2000:]}")
    boroughs = sorted(p.parent.name for p in (ws / "data_raw").glob("*/extract.yml"))
    victim = DEFAULT_BOROUGH if DEFAULT_BOROUGH in boroughs else boroughs[0]
    before = {b: (ws / "reports" / b / "results.json").stat().st_mtime_ns for b in boroughs}
    table = sorted((ws / "data_raw" / victim).glob("referrals.*"))[0]
    os.utime(table)  # the borough's input changed (as Make sees it)
    dry = workspace.make(ws, "-n", "reports").stdout
    r = workspace.make(ws, "reports")
    after = {b: (ws / "reports" / b / "results.json").stat().st_mtime_ns for b in boroughs}
    rebuilt = sorted(b for b in boroughs if after[b] != before[b])
    return {"seconds": times, "median_seconds": statistics.median(times), "boroughs": len(boroughs),
            "changed": victim, "rebuilt": rebuilt, "only_that_borough": rebuilt == [victim],
            "dry_run_names_others": sorted(b for b in boroughs if b != victim and f" {b}" in dry),
            "rebuild_seconds": r.seconds}


# ------------------------------------------------------------------------------------- report

def _drift(f: dict, runs: list[dict]) -> str:
    """How far the runs' CPU seconds (the same work each time) differ, and the speed-up at equal
    work: a wall-clock speed-up above 2 / (cores busy at -j1) means the machine ran faster during
    the -j2 runs, not that -j2 did better than the cores allow."""
    if "speedup_equal_work" not in f or not runs:
        return ""
    cpu = [r["cpu_seconds"] for r in runs]
    spread = (max(cpu) - min(cpu)) / min(cpu) if min(cpu) else 0.0
    return (f" The runs took {min(cpu):.0f}–{max(cpu):.0f} CPU seconds for the same work ({spread:.0%} apart: "
            "the machine's speed changed between them); at equal work, the ratio of cores kept busy, the "
            f"speed-up is {f['speedup_equal_work']:.2f}×.")


def _ok(flag: bool | None) -> str:
    return "–" if flag is None else ("met" if flag else "**not met**")


def markdown(res: dict) -> str:
    m = res["machine"]
    lines = ["# Benchmark results", "",
             f"Latest run: {res['date']}, commit `{res['commit']}`, `{res['command']}` "
             f"({res['duration_min']:.0f} min).", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']} RAM; {m['os']}; Python {m['python']}; "
             f"load average {m['load_at_start']} at the start (a shared machine: read the ratios, which are "
             "measured side by side in the same run, rather than the seconds).", "",
             "How to reproduce: `make bench` (everything) or `python bench/run.py --quick` (a smoke run); see "
             "`bench/README.md` for what each figure measures and what was changed to reach it.", "",
             "## Summary", "", "| figure | goal | measured | |", "|---|---|---|---|"]
    o, f, s = res.get("overhead"), res.get("fanout"), res.get("scale")
    if o:
        lines.append(f"| 1. overhead: `make report` from clean / analyses in one process and kernel | ≤ 1.5× | "
                     f"{o['ratio']:.2f}× | {_ok(o['ratio'] <= 1.5)} |")
        lines.append(f"| 1b. overhead: `make report` from clean / the notebooks' code (figures included) in one "
                     f"kernel | – | {o['ratio_notebook_code']:.2f}× | |")
    if f:
        lines.append(f"| 2. fan-out: `make -j1` / `make -j2` over {f['areas']} areas | ≥ 1.8× | "
                     f"{f['speedup']:.2f}× | {_ok(f['speedup'] >= 1.8)} |")
        if "speedup_equal_work" in f:
            lines.append(f"| 2b. fan-out at equal work: cores busy at -j2 / at -j1 | – | "
                         f"{f['speedup_equal_work']:.2f}× | |")
        n = f["noop"]
        lines.append(f"| 3. no-op `make reports` ({n['boroughs']} areas) | ≤ 1 s | {n['median_seconds']:.2f} s | "
                     f"{_ok(n['median_seconds'] <= 1.0)} |")
        lines.append(f"| 3b. one borough's input changed: only it rebuilds | yes | "
                     f"{'yes' if n['only_that_borough'] else 'no: ' + ', '.join(n['rebuilt'])} | "
                     f"{_ok(n['only_that_borough'])} |")
    if s:
        sizes = s["sizes"]
        worst, top_mem, failed = _scale_summary(sizes)
        whole = _pipeline_growth(sizes)
        if whole is not None:
            lines.append(f"| 4. scale: 10× data, time of the whole pipeline (load/validate + notebooks + render) | "
                         f"≤ 11× | {whole} | {_ok(float(whole.split('×')[0]) <= 11)} |")
        if worst is not None:
            lines.append(f"| 4a. scale: 10× data, time of the fastest-growing stage (the analyses alone counted "
                         f"as one) | ≤ 11× | {worst} | {_ok(float(worst.split('×')[0]) <= 11)} |")
        if top_mem is not None:
            lines.append(f"| 4b. scale: peak memory at {scale.label(sizes[-1]['n_referrals'])} referrals, pipeline "
                         f"stages that finished | ≤ 4 GB | {top_mem / 1024:.2f} GB | {_ok(top_mem <= 4096)} |")
        if failed:
            lines.append(f"| 4c. scale: stages that did not finish at {scale.label(sizes[-1]['n_referrals'])} | none | "
                         f"{failed} | **not met** |")
    b = res.get("breakdown")
    if b:
        rows = breakdown.stage_rows(b)
        total = sum(w for _, w, _ in rows)
        lines.append(f"| 5. breakdown: `make report` stages for `{b['slug']}` | – | {total:.1f} s "
                     f"({', '.join(f'{st} {w:.1f}' for st, w, _ in rows)}) | |")
    if o:
        med, cpu = o["median_seconds"], o["median_cpu_seconds"]
        lines += ["", "## 1. Overhead", "",
                  f"`{o['slug']}`, median of {o['repeats']} alternating rounds; wall clock (CPU time of the process "
                  "and its children in brackets).", "", "| run | seconds |", "|---|---:|"]
        lines += [f"| {k} | {v:.2f} ({cpu[k]:.1f} CPU) |" for k, v in med.items()]
        lines += ["", f"Ratio `make report` / analyses in one kernel: **{o['ratio']:.2f}×** (rounds: "
                  f"{', '.join(f'{x:.2f}' for x in o['pairs'])}); / analyses in one plain process: "
                  f"{o['ratio_process']:.2f}×; / the notebooks' code in one kernel: {o['ratio_notebook_code']:.2f}×.",
                  "", "The analyses in the reference (seconds, last round): " + ", ".join(
                      f"{k} {v:.2f}" for k, v in o["analyses"].items()) + "."]
    if f:
        runs = f.get("runs") or [{"jobs": 1, **f["j1"]}, {"jobs": 2, **f["j2"]}]
        lines += ["", "## 2. Fan-out", "", f"Every area built from clean, in the order "
                  f"{' '.join('-j%d' % r['jobs'] for r in runs)} (so a change in the machine's other load falls on "
                  "both); CPU is the user and system time of make and everything it ran.", "",
                  "| run | wall | CPU | cores busy |", "|---|---:|---:|---:|"]
        lines += [f"| `make -j{r['jobs']} reports` | {r['seconds']:.1f} s | {r['cpu_seconds']:.0f} s | "
                  f"{r['cpu_seconds'] / r['seconds']:.2f} |" for r in runs]
        busy = f["j1"]["cpu_seconds"] / f["j1"]["seconds"]
        lines += ["", f"Speed-up (mean -j1 wall / mean -j2 wall): **{f['speedup']:.2f}×** over {f['areas']} areas."
                  + (f" A -j1 build already keeps {busy:.2f} cores busy (each borough's kernel starts "
                     "while its driver imports Papermill), so the most -j2 can gain on 2 cores is about "
                     f"{2 / busy:.2f}×." if busy > 1 else "")
                  + _drift(f, runs),
                  "", "## 3. No-op and one-borough rebuilds", "",
                  f"`make reports` with nothing changed, {len(n['seconds'])} runs over {n['boroughs']} areas: "
                  f"median **{n['median_seconds']:.2f} s** ({', '.join(f'{x:.2f}' for x in n['seconds'])}).", "",
                  f"After touching `data_raw/{n['changed']}/referrals.*`: rebuilt {', '.join(n['rebuilt']) or 'nothing'} "
                  f"in {n['rebuild_seconds']:.1f} s; only that borough: **{'yes' if n['only_that_borough'] else 'no'}**."]
    if s:
        lines += ["", "## 4. Scale", "", scale.__doc__.split("\n\n")[1].replace("\n", " "), "", scale.markdown(s)]
    if b:
        lines += ["", "## 5. Where the time goes", "", breakdown.markdown(b)]
    return "\n".join(lines) + "\n"


PIPELINE_RUN = ("load/validate", "notebooks", "render")  # what `make report` runs (derive and the
# analyses alone are the notebooks' parts, measured apart)


def _pipeline_growth(sizes: list[dict]) -> str | None:
    """The worst 10x-data time ratio of the pipeline as `make report` runs it (the sum of its stages)."""
    worst, worst_k = None, -1.0
    for a, b in zip(sizes, sizes[1:], strict=False):
        sa = [a["stages"].get(st) for st in PIPELINE_RUN]
        sb = [b["stages"].get(st) for st in PIPELINE_RUN]
        if all(r and r.get("ok") for r in sa + sb):
            k = sum(r["seconds"] for r in sb) / sum(r["seconds"] for r in sa) * 10 / (b["n_referrals"] / a["n_referrals"])
            if k > worst_k:
                worst_k, worst = k, (f"{k:.1f}× ({scale.label(a['n_referrals'])} → {scale.label(b['n_referrals'])}: "
                                     f"{sum(r['seconds'] for r in sa):.0f} s → {sum(r['seconds'] for r in sb):.0f} s)")
    return worst


def _scale_summary(sizes: list[dict]) -> tuple[str | None, float | None, str]:
    pipeline_stages = ("load/validate", "derive", "analyses", "notebooks", "render")
    worst, worst_k = None, -1.0
    for a, b in zip(sizes, sizes[1:], strict=False):
        for st in pipeline_stages:
            ra, rb = a["stages"].get(st), b["stages"].get(st)
            if ra and rb and ra.get("ok") and rb.get("ok") and ra["seconds"] > 0:
                k = rb["seconds"] / ra["seconds"] * 10 / (b["n_referrals"] / a["n_referrals"])
                if k > worst_k:
                    worst_k, worst = k, f"{k:.1f}× ({st}, {scale.label(a['n_referrals'])} → {scale.label(b['n_referrals'])})"
    top = sizes[-1]["stages"]
    mem = [r["peak_mb"] for st, r in top.items() if st in (*pipeline_stages, "notebooks (others)") and r.get("ok")]
    failed = ", ".join(f"{st} ({r.get('error', '')[:80]})" for st, r in top.items()
                       if st in pipeline_stages and not r.get("ok"))
    return worst, (max(mem) if mem else None), failed


# ------------------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 3 areas, 10k referrals, one repeat")
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"sections to run: {','.join(SECTIONS)}")
    ap.add_argument("--repeats", type=int, default=None, help="overhead rounds (default 3, quick 1)")
    ap.add_argument("--sizes", default=None, help="scale sizes (default 10000,100000,1000000; quick 10000)")
    ap.add_argument("--workdir", type=Path, default=None, help="where workspaces go (default: the temp folder)")
    ap.add_argument("--out", type=Path, default=None,
                    help="results file (default bench/RESULTS.md for the full suite, else bench/out/RESULTS-partial.md)")
    args = ap.parse_args(argv)
    only = [x for x in args.only.split(",") if x]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown sections: {', '.join(sorted(unknown))}")
    full = not args.quick and set(only) == set(SECTIONS) and args.sizes is None and args.repeats is None
    out_path = args.out or (HERE / "RESULTS.md" if full else HERE / "out" / "RESULTS-partial.md")
    repeats = args.repeats or (1 if args.quick else 3)
    sizes = [int(x) for x in (args.sizes or ("10000" if args.quick else "10000,100000,1000000")).split(",")]
    command = "make bench" if full else "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    t0 = time.perf_counter()
    res: dict = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "commit": commit(),
                 "machine": machine(), "command": command.strip()}
    if "overhead" in only:
        res["overhead"] = overhead(args.workdir, repeats)
    if "fanout" in only or "noop" in only:
        res["fanout"] = fanout(args.workdir, QUICK_AREAS if args.quick else None, 1 if args.quick else 2)
    if "scale" in only:
        res["scale"] = scale.run(sizes, args.workdir, log=lambda m: log(m))
    if "breakdown" in only:
        ws = workspace.create(args.workdir, "breakdown")
        try:
            log("breakdown")
            res["breakdown"] = breakdown.run(ws, DEFAULT_BOROUGH)
        finally:
            workspace.remove(ws)
    res["duration_min"] = (time.perf_counter() - t0) / 60
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(markdown(res), encoding="utf-8")
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "last-run.json").write_text(json.dumps(res, indent=1, default=str))
    log(f"wrote {out_path.relative_to(ROOT) if out_path.is_relative_to(ROOT) else out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
