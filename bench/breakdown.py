"""Where the time of ``make report`` goes: per stage and per notebook.

Each stage runs as the Makefile runs it (its own ``python -m pipeline``-like process, in a workspace
copy), with timers wrapped around the pipeline's own functions, so the figures add up to the real
build:

- **process** (load/validate): interpreter start and imports, reading the tables, typing them,
  the contract checks (pandera and the cross-table rules), hashing the inputs, writing Parquet;
- **notebooks**: starting the Jupyter kernel (and, timed apart in a second kernel, a bare kernel
  start and the notebooks' imports), then each notebook: its analysis cell (the imports and
  reading the processed data the first time, compute and disclosure control), its figure and
  table cells, and Papermill's own bookkeeping;
- **publish** (render): reading the processed data, assembling results.json, stripping and
  combining the notebooks, rendering (nbconvert or Quarto), the identifier scan; and, for the
  per-notebook view, each notebook rendered on its own.

    python bench/breakdown.py stage process|notebooks|publish SLUG   (in a workspace; prints JSON)
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

T_START = time.perf_counter()
TIMES: dict[str, float] = defaultdict(float)


def wrap(obj, attr: str, label: str) -> None:
    """Accumulate the wall time of ``obj.attr(...)`` calls under ``label``."""
    f = getattr(obj, attr, None)
    if f is None or getattr(f, "_bench_wrapped", False):
        return

    @functools.wraps(f)
    def timed(*a, **k):
        t0 = time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            TIMES[label] += time.perf_counter() - t0

    timed._bench_wrapped = True  # type: ignore[attr-defined]
    setattr(obj, attr, timed)


def _quiet_log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------- stages

def stage_process(slug: str) -> dict:
    t0 = time.perf_counter()
    from pipeline import cli, load

    TIMES["imports"] = time.perf_counter() - t0
    # the names load_extract calls (and cli.process imports from pipeline.load)
    wrap(load, "read_extract_config", "read extract.yml")
    wrap(load, "read_table", "read tables")
    wrap(load, "type_table", "type columns")
    wrap(load, "check_tables", "contract checks")
    wrap(load, "inputs_sha256", "hash inputs")
    wrap(load, "write_processed", "write Parquet")
    t0 = time.perf_counter()
    cli.process(slug)
    TIMES["process (total)"] = time.perf_counter() - t0
    return dict(TIMES)


def import_code(sources: list[Path]) -> str:
    """The notebooks' top-level imports (a jupytext percent notebook is a Python file), each once."""
    import ast

    stmts: list[str] = []
    for src in sources:
        for node in ast.parse(src.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and node.level == 0):
                stmt = ast.unparse(node)
                if stmt not in stmts:
                    stmts.append(stmt)
    return "\n".join(stmts)


def kernel_costs(sources: list[Path]) -> dict:
    """A bare kernel's start (to ready), then the notebooks' imports run in it: the pipeline's
    'kernel start' overlaps the first with the driver's imports, and pays the second in the first
    notebook's analysis cell."""
    from jupyter_client.manager import KernelManager

    from pipeline.execute import KERNEL_ARGS

    t = time.perf_counter()
    km = KernelManager(kernel_name="python3")
    km.start_kernel(extra_arguments=KERNEL_ARGS, cwd=str(Path.cwd()))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        boot = time.perf_counter() - t
        t = time.perf_counter()
        kc.execute_interactive(import_code(sources), timeout=None)
        return {"bare kernel start": boot, "notebook imports": time.perf_counter() - t}
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def stage_notebooks(slug: str) -> dict:
    """The notebooks stage as the Makefile runs it (``pipeline.cli.cmd_notebooks``); its phases
    from :data:`pipeline.execute.TIMINGS`, each notebook's cells from Papermill's metadata. Then,
    apart, a bare kernel start and the notebooks' imports."""
    t0 = time.perf_counter()
    # pipeline first, as `python -m pipeline` does: it keeps nbformat's (jsonschema's) 1 s import of
    # rfc3987_syntax out (pipeline/__init__.py); importing nbformat first charged that to the stage
    from pipeline import cli, execute, paths

    TIMES["driver start imports"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cli.cmd_notebooks(slug, [])
    TIMES["notebooks (total)"] = time.perf_counter() - t0
    stage = dict(TIMES)
    stage.update({k: v for k, v in execute.TIMINGS.items() if not k.startswith("notebook ")})
    import nbformat

    per_nb = {}
    for name in cli.notebook_names():
        out = paths.build_dir(slug) / "notebooks" / f"{name}.ipynb"
        wall = execute.TIMINGS.get(f"notebook {name}")
        if out.exists() and wall is not None:
            per_nb[name] = {"wall": wall, **_cell_times(nbformat.read(out, as_version=4))}
    apart = kernel_costs([paths.NOTEBOOKS / f"{n}.py" for n in cli.notebook_names()])
    return {"stage": stage, "notebooks": per_nb, "apart": apart}


def _cell_times(nb) -> dict:
    """Cell durations from Papermill's metadata: the reset cell, the analysis cell (the first
    code cell after the parameters), the other code cells (figures, tables, text)."""
    from pipeline.execute import RESET_TAG

    out = {"reset": 0.0, "analysis": 0.0, "figures and tables": 0.0, "cells": 0.0}
    seen_params = False
    analysis_done = False
    for cell in nb.cells:
        d = float(cell.metadata.get("papermill", {}).get("duration") or 0.0)
        out["cells"] += d
        tags = cell.metadata.get("tags", [])
        if cell.cell_type != "code":
            continue
        if RESET_TAG in tags:
            out["reset"] += d
        elif "parameters" in tags or "injected-parameters" in tags:
            seen_params = True
        elif seen_params and not analysis_done:
            out["analysis"] += d
            analysis_done = True
        else:
            out["figures and tables"] += d
    return out


def stage_publish(slug: str) -> dict:
    t0 = time.perf_counter()
    from pipeline import cli, config, load, paths, provenance
    from pipeline import publish as pub

    TIMES["imports"] = time.perf_counter() - t0
    wrap(load, "read_processed", "read processed data")
    wrap(config, "load_settings", "settings")
    for attr, label in (("code_version", "provenance (git, versions)"),
                        ("package_versions", "provenance (git, versions)")):
        wrap(pub, attr, label)
    wrap(pub, "read_fragments", "assemble results.json")
    wrap(pub, "strip_notebook", "strip notebooks")
    wrap(pub, "combine", "combine notebooks")
    wrap(pub, "summary_markdown", "summary")
    wrap(pub, "render", "render")
    wrap(pub, "scan_for_identifiers", "identifier scan")
    wrap(pub, "swap_into_place", "swap into place")
    _ = provenance
    t0 = time.perf_counter()
    cli.publish(slug)
    TIMES["publish (total)"] = time.perf_counter() - t0
    stage = dict(TIMES)
    # per notebook: each executed notebook rendered on its own (nbconvert), for the per-notebook view
    import tempfile

    from pipeline.render import ReportMeta, combine, render_html_fallback

    per_nb = {}
    for n in cli.notebook_names():
        src = paths.build_dir(slug) / "notebooks" / f"{n}.ipynb"
        if not src.exists():
            continue
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            render_html_fallback(combine([src]), ReportMeta(n, ""), Path(tmp))
            per_nb[n] = time.perf_counter() - t0
    return {"stage": stage, "render_alone": per_nb}


STAGES = {"process": stage_process, "notebooks": stage_notebooks, "publish": stage_publish}


# ------------------------------------------------------------------------------------- driver

def run(ws: Path, slug: str) -> dict:
    """Build ``slug`` in workspace ``ws`` stage by stage (after ``make clean``), each stage timed
    from outside (wall, including interpreter start) and inside (the timers above)."""
    from workspace import clean, make, py

    make(ws, f"data_raw/{slug}/extract.yml")
    clean(ws)
    here = str(Path(__file__).resolve())
    out: dict = {"slug": slug, "stages": {}}
    for stage in STAGES:
        run_ = py(ws, here, "stage", stage, slug)
        res = json.loads(run_.stdout.strip().splitlines()[-1])
        out["stages"][stage] = {"wall": run_.seconds, "detail": res}
    return out


def _extra_seconds(stage: str, detail: dict) -> float:
    """Time the harness itself spends in a stage's process after the stage (not the pipeline's)."""
    if stage == "notebooks":
        return sum(detail.get("apart", {}).values())
    if stage == "publish":
        return sum(detail.get("render_alone", {}).values())
    return 0.0


def stage_rows(res: dict) -> list[tuple[str, float, dict[str, float]]]:
    """(stage, wall seconds of the pipeline's own work, {part: seconds}) with the interpreter's start
    and exit as the remainder."""
    rows = []
    for stage, r in res["stages"].items():
        detail = r["detail"]
        d = detail.get("stage", detail)
        wall = r["wall"] - _extra_seconds(stage, detail)
        parts = {k: v for k, v in d.items() if not k.endswith("(total)")}
        if stage == "notebooks":
            nbs = detail.get("notebooks", {})
            parts = {k: v for k, v in parts.items() if k != "driver start imports"}
            parts = {"imports": d.get("driver start imports", 0.0), **parts, "notebooks": sum(n["wall"] for n in nbs.values())}
        accounted = sum(v for k, v in parts.items() if k in ("imports", "driver start imports")) + next(
            (v for k, v in d.items() if k.endswith("(total)")), 0.0)
        parts["interpreter start and exit"] = max(wall - accounted, 0.0)
        rows.append((stage, wall, parts))
    return rows


def markdown(res: dict) -> str:
    """Tables for RESULTS.md."""
    lines = [f"Default borough `{res['slug']}`, built stage by stage after `make clean`; seconds, wall clock, "
             "each stage in its own process as the Makefile runs it.", "",
             "| stage | wall | where it goes |", "|---|---:|---|"]
    total = 0.0
    for stage, wall, parts in stage_rows(res):
        total += wall
        lines.append(f"| {stage} | {wall:.2f} | " + "; ".join(f"{k} {v:.2f}" for k, v in parts.items() if v >= 0.005)
                     + " |")
    lines.append(f"| **all stages** | **{total:.2f}** | |")
    st = res["stages"]
    apart = st.get("notebooks", {}).get("detail", {}).get("apart", {})
    if apart:
        lines += ["", f"Measured apart in a second kernel: a bare kernel start ({apart.get('bare kernel start', 0):.2f} s), "
                  "which the stage's kernel start overlaps with the driver's imports, and the notebooks' imports "
                  f"({apart.get('notebook imports', 0):.2f} s), which the first notebook's analysis cell pays."]
    nbs = st.get("notebooks", {}).get("detail", {}).get("notebooks", {})
    alone = st.get("publish", {}).get("detail", {}).get("render_alone", {})
    if nbs:
        lines += ["", "Per notebook (seconds; the kernel start and the imports are paid once, above; *render alone* is "
                  "the notebook rendered to HTML on its own):", "",
                  "| notebook | wall | analysis cell | figures and tables | namespace reset | Papermill bookkeeping "
                  "| render alone |", "|---|---:|---:|---:|---:|---:|---:|"]
        for name, r in nbs.items():
            book = r["wall"] - r["cells"]
            lines.append(f"| {name} | {r['wall']:.2f} | {r['analysis']:.2f} | {r['figures and tables']:.2f} | "
                         f"{r['reset']:.2f} | {book:.2f} | {alone.get(name, float('nan')):.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 3 and argv[0] == "stage" and argv[1] in STAGES:
        sys.path.insert(0, str(Path.cwd()))  # the workspace's package
        res = STAGES[argv[1]](argv[2])
        print(json.dumps(res))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
