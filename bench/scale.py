"""Scale: time and peak memory per stage on generated extracts of 10k, 100k and 1M referrals.

Each size is Merton's synthetic extract generated with ``n_referrals=N`` as Parquet (about 22 GP
appointments per registered patient, referred or comparison: some 51 million GP rows at 1M
referrals) into a workspace copy of the project, then every stage runs in its own process with
its resident memory sampled (the process and its children, so a notebook kernel counts). The
stages run in two rounds, the sizes in one order and then the other (10k 100k 1m 1m 100k 10k),
and each time is the median of the rounds, so that a change in the machine's speed during the
run falls on both sizes of a ratio:

- **generate**: writing the extract (the benchmark's input, not a pipeline stage);
- **load/validate**: ``python -m pipeline process`` (read, type, contract checks, Parquet out);
- **derive**: reading the processed tables into the typed in-memory extract every analysis shares;
- **analyses**: each analysis module's ``compute`` + ``publish`` on its own (``bench/reference.py
  --only``), after its own read; time is the analysis alone, memory the process's peak;
- **notebooks**: ``python -m pipeline notebooks`` (the analyses with their figures, one kernel);
- **render**: ``python -m pipeline publish`` (results.json, HTML, identifier scan).

A stage that passes the memory limit or the time limit is stopped and reported as such (the
machine is shared; nothing is allowed to take it down): 8 GB for a pipeline stage, 12 GB for the
generator.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workspace  # noqa: E402

SIZES = (10_000, 100_000, 1_000_000)
LIMIT_MB = 8 * 1024
GENERATE_LIMIT_MB = 12 * 1024  # the generator (not a pipeline stage) needs about 8 GB at 1M referrals
TIMEOUT = 45 * 60
GOAL_MEMORY_MB = 4 * 1024
GOAL_TIME_RATIO = 11.0


def label(n: int) -> str:
    return f"{n // 1_000_000}m" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"


def _m(ws: Path, cmd: list[str], limit_mb: float, timeout: float) -> dict:
    r = workspace.measure(cmd, ws, workspace.env(ws), limit_mb=limit_mb, timeout=timeout)
    out = {"seconds": r.seconds, "peak_mb": r.peak_rss_mb, "max_single_mb": r.max_single_rss_mb,
           "cpu_seconds": r.cpu_seconds, "ok": r.returncode == 0 and not r.killed}
    if not out["ok"]:
        out["error"] = r.killed or (r.stderr.strip().splitlines() or ["exit status %d" % r.returncode])[-1][-300:]
    out["_stdout"] = r.stdout
    return out


def run_size(ws: Path, n: int, limit_mb: float = LIMIT_MB, timeout: float = TIMEOUT, log=print,
             previous: str | None = None) -> dict:
    slug = f"scale-{label(n)}"
    py = str(ws / ".venv" / "bin" / "python")
    res: dict = {"n_referrals": n, "slug": slug, "stages": {}}
    st = res["stages"]
    log(f"[scale {label(n)}] generating")
    st["generate"] = _m(ws, [py, "-c", "from pipeline.synthetic import generate; "
                             f"generate('merton', 'data_raw/{slug}', force=True, n_referrals={n}, fmt='parquet')"],
                        max(limit_mb, GENERATE_LIMIT_MB), timeout)
    if not st["generate"]["ok"]:
        return res
    import pyarrow.parquet as pq

    res["rows"] = {p.stem: pq.read_metadata(p).num_rows for p in sorted((ws / "data_raw" / slug).glob("*.parquet"))}
    log(f"[scale {label(n)}] {sum(res['rows'].values()):,} rows")
    st.update(run_stages(ws, n, limit_mb, timeout, log, previous))
    return res


def run_stages(ws: Path, n: int, limit_mb: float = LIMIT_MB, timeout: float = TIMEOUT, log=print,
               previous: str | None = None) -> dict:
    """The pipeline's stages on the extract already generated for size ``n``: {stage: figures}."""
    slug = f"scale-{label(n)}"
    py = str(ws / ".venv" / "bin" / "python")
    st: dict = {}
    log(f"[scale {label(n)}] load/validate")
    st["load/validate"] = _m(ws, [py, "-m", "pipeline", "process", slug], limit_mb, timeout)
    if not st["load/validate"]["ok"]:
        return st
    ref = [py, str(HERE / "reference.py"), f"data_processed/{slug}"]
    log(f"[scale {label(n)}] derive")
    st["derive"] = _m(ws, ref + ["--only="], limit_mb, timeout)
    analyses: dict = {}
    for name in _analysis_names(ws):
        log(f"[scale {label(n)}] analysis {name}")
        r = _m(ws, ref + [f"--only={name}"], limit_mb, timeout)
        if r["ok"]:
            t = json.loads(r["_stdout"].strip().splitlines()[-1])["timings"]
            r["analysis_seconds"] = sum(v for k, v in t.items() if k not in ("imports", "read_processed"))
        analyses[name] = r
    st["analyses"] = {
        "seconds": sum(a.get("analysis_seconds", a["seconds"]) for a in analyses.values()),
        "peak_mb": max((a["peak_mb"] for a in analyses.values()), default=0.0),
        "ok": all(a["ok"] for a in analyses.values()),
        "each": analyses,
    }
    failed = [k for k, a in analyses.items() if not a["ok"]]
    if failed:
        st["analyses"]["error"] = "; ".join(f"{k}: {analyses[k].get('error', '')}" for k in failed)
    log(f"[scale {label(n)}] notebooks")
    st["notebooks"] = _m(ws, [py, "-m", "pipeline", "notebooks", slug], limit_mb, timeout)
    if st["notebooks"]["ok"]:
        log(f"[scale {label(n)}] render")
        st["render"] = _m(ws, [py, "-m", "pipeline", "publish", slug], limit_mb, timeout)
    elif failed:
        # the notebooks of the analyses that ran, to show what the rest costs at this size
        names = [p.stem for p in sorted((ws / "notebooks").glob("[0-9]*.py"))]
        keep = [nb for nb in names if not any(f in nb for f in failed)]
        log(f"[scale {label(n)}] notebooks without {', '.join(sorted(set(names) - set(keep)))}")
        r = _m(ws, [py, "-m", "pipeline", "notebook", slug, *keep], limit_mb, timeout)
        r["without"] = sorted(set(names) - set(keep))
        st["notebooks (others)"] = r
        if r["ok"] and previous and _borrow(ws, previous, slug, r["without"]):
            # render still reads this size's data and scans it for identifiers; only the sections that
            # could not run here are the previous size's (labelled so in RESULTS.md)
            log(f"[scale {label(n)}] render (with {', '.join(r['without'])} from {previous})")
            st["render"] = _m(ws, [py, "-m", "pipeline", "publish", slug], limit_mb, timeout)
            st["render"]["borrowed"] = {"from": previous, "notebooks": r["without"]}
    for r in [*st.values(), *analyses.values()]:
        r.pop("_stdout", None)
    return st


def _ok(stages: dict) -> bool:
    return all(r.get("ok") for r in stages.values())


def merge_rounds(rounds: list[dict]) -> dict:
    """One size's stages measured in several rounds, as one: each stage's time the median of the
    rounds (``runs`` keeps them), its memory the highest peak; a stage that failed in any round
    is reported failed, as that round measured it."""
    out = {}
    for stage, first in rounds[0].items():
        all_runs = [r[stage] for r in rounds if stage in r]
        failed = [r for r in all_runs if not r.get("ok")]
        if failed:
            out[stage] = failed[0]
            continue
        m = dict(first, seconds=statistics.median(r["seconds"] for r in all_runs),
                 peak_mb=max(r["peak_mb"] for r in all_runs), runs=[r["seconds"] for r in all_runs])
        if "each" in first:
            m["each"] = {name: dict(a, analysis_seconds=statistics.median(r["each"][name]["analysis_seconds"]
                                                                          for r in all_runs),
                                    peak_mb=max(r["each"][name]["peak_mb"] for r in all_runs))
                         for name, a in first["each"].items()}
        out[stage] = m
    return out


def _borrow(ws: Path, src: str, dest: str, notebooks: list[str]) -> bool:
    """Copy the executed notebooks (and the results fragments missing here) of ``src``'s build."""
    import shutil

    sb, db = ws / "build" / src, ws / "build" / dest
    if not all((sb / "notebooks" / f"{nb}.ipynb").exists() for nb in notebooks):
        return False
    for nb in notebooks:
        shutil.copy2(sb / "notebooks" / f"{nb}.ipynb", db / "notebooks" / f"{nb}.ipynb")
    for frag in (sb / "fragments").glob("*.json"):
        if not (db / "fragments" / frag.name).exists():
            shutil.copy2(frag, db / "fragments" / frag.name)
    return True


def _analysis_names(ws: Path) -> list[str]:
    r = workspace.py(ws, "-c", f"import sys; sys.path[:0] = ['.', {str(HERE)!r}]; import reference; "
                     "print(','.join(n for n, _ in reference.analyses()))")
    return [x for x in r.stdout.strip().split(",") if x]


ROUNDS = 2


def run(sizes=SIZES, parent: Path | None = None, keep: bool = False, limit_mb: float = LIMIT_MB,
        timeout: float = TIMEOUT, log=print, rounds: int = ROUNDS) -> dict:
    """Every size generated and measured in turn, then the pipeline's stages measured again in
    ``rounds - 1`` more rounds, each in the opposite order to the one before (10k 100k 1m, then
    1m 100k 10k): a change in the machine's speed during the run then falls on both sizes of a
    ratio. A size with a stage that failed is not run again."""
    ws = workspace.create(parent, "scale")
    try:
        done: list[dict] = []
        for n in sizes:
            done.append(run_size(ws, n, limit_mb, timeout, log, done[-1]["slug"] if done else None))
        measured = {s["n_referrals"]: [s["stages"]] for s in done}
        sequence = [label(s["n_referrals"]) for s in done]
        order = [s["n_referrals"] for s in done if _ok(s["stages"])]
        for r in range(1, rounds):
            order.reverse()
            for n in order:
                log(f"[scale {label(n)}] round {r + 1} of {rounds}")
                measured[n].append(run_stages(ws, n, limit_mb, timeout, log))
                sequence.append(label(n))
        for s in done:
            runs = measured[s["n_referrals"]]
            s["stages"] = {"generate": s["stages"]["generate"],
                           **merge_rounds([{k: v for k, v in m.items() if k != "generate"} for m in runs])}
            s["rounds"] = len(runs)
        out = {"sizes": done, "limit_mb": limit_mb, "sequence": sequence}
    finally:
        if not keep:
            workspace.remove(ws)
    return out


STAGES = ("generate", "load/validate", "derive", "analyses", "notebooks", "notebooks (others)", "render")


def _cell(r: dict | None) -> str:
    if r is None:
        return "not run"
    if not r.get("ok", False):
        return f"**failed** ({r.get('error', '')[:120]})"
    return f"{r['seconds']:.1f} s, {r['peak_mb'] / 1024:.2f} GB"


def markdown(res: dict) -> str:
    sizes = res["sizes"]
    head = "| stage | " + " | ".join(f"{label(s['n_referrals'])} referrals" for s in sizes)
    ratios = [f"{label(b['n_referrals'])}/{label(a['n_referrals'])} time" for a, b in zip(sizes, sizes[1:], strict=False)]
    lines = [head + "".join(f" | {r}" for r in ratios) + " |",
             "|---|" + "---:|" * (len(sizes) + len(ratios))]
    for stage in STAGES:
        if not any(stage in s["stages"] for s in sizes) and stage == "notebooks (others)":
            continue
        row = [_cell(s["stages"].get(stage)) for s in sizes]
        for a, b in zip(sizes, sizes[1:], strict=False):
            ra, rb = a["stages"].get(stage), b["stages"].get(stage)
            if ra and rb and ra.get("ok") and rb.get("ok") and ra["seconds"] > 0:
                k = rb["seconds"] / ra["seconds"]
                scale = b["n_referrals"] / a["n_referrals"]
                row.append(f"{k:.1f}x" + (" ✗" if stage != "generate" and k > GOAL_TIME_RATIO * scale / 10 else ""))
            else:
                row.append("–")
        name = stage
        if stage == "notebooks (others)":
            name = "notebooks without " + ", ".join(next(s["stages"][stage]["without"] for s in sizes
                                                         if stage in s["stages"]))
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    rounds = max(s.get("rounds", 1) for s in sizes)
    if res.get("sequence") and rounds > 1:
        lines += ["", f"Every pipeline stage ran in {rounds} rounds, the sizes in "
                  f"the order {', '.join(res['sequence'])}; a cell is the median time of the rounds and the "
                  "highest memory peak."]
        for a, b in zip(sizes, sizes[1:], strict=False):
            each = [f"{st} {', '.join(f'{y / x:.1f}x' for x, y in zip(a['stages'][st]['runs'], b['stages'][st]['runs'], strict=False))}"
                    for st in STAGES if "runs" in a["stages"].get(st, {}) and "runs" in b["stages"].get(st, {})]
            if each:
                lines.append(f"Round by round, {label(b['n_referrals'])}/{label(a['n_referrals'])} time: "
                             + "; ".join(each) + ".")
    for s in sizes:
        b = s["stages"].get("render", {}).get("borrowed")
        if b:
            lines += ["", f"At {label(s['n_referrals'])} referrals the render stage read and scanned this size's data, "
                      f"with {', '.join(b['notebooks'])} (which did not finish here) taken from the {b['from']} build."]
    lines += ["", "Rows: " + "; ".join(
        f"{label(s['n_referrals'])}: {sum(s.get('rows', {}).values()):,} in all, "
        f"{s.get('rows', {}).get('gp_appointments', 0):,} GP appointments" for s in sizes) + "."]
    # analyses, one by one, at the largest size that ran them
    for s in reversed(sizes):
        each = s["stages"].get("analyses", {}).get("each")
        if each:
            lines += ["", f"Analyses one by one at {label(s['n_referrals'])} referrals (each after its own read of "
                      "the processed data; memory is that process's peak):", "",
                      "| analysis | time | peak memory |", "|---|---:|---:|"]
            for name, a in each.items():
                if a["ok"]:
                    lines.append(f"| {name} | {a['analysis_seconds']:.1f} s | {a['peak_mb'] / 1024:.2f} GB |")
                else:
                    lines.append(f"| {name} | **failed** | {a.get('error', '')[:150]} |")
            break
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--rounds", type=int, default=ROUNDS, help="rounds of the pipeline's stages per size")
    ap.add_argument("--keep", action="store_true", help="keep the workspace")
    ap.add_argument("--json", type=Path, help="also write the raw figures here")
    args = ap.parse_args(argv)
    res = run([int(x) for x in args.sizes.split(",")], keep=args.keep, log=lambda m: print(m, file=sys.stderr),
              rounds=args.rounds)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
