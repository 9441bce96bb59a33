"""The reference for the overhead ratio: every analysis the report runs, called directly in one
Python process on a borough's processed data (no Make, no notebooks, no figures, no rendering).

    python bench/reference.py data_processed/merton            # in this process
    python bench/reference.py data_processed/merton --kernel   # in one Jupyter kernel
    python bench/reference.py data_processed/merton --notebooks  # the notebooks' code, one kernel

Prints one JSON object: seconds for imports, reading the processed data and each analysis
(compute + disclosure control), and the sections that ran. With ``--kernel`` the same code runs
in one freshly started Jupyter kernel, so the denominator of the overhead ratio pays one process
start and one kernel start, as the issue asks.

The analyses are the registered sections (:func:`pipeline.sections.registry`), each run as the
notebooks run it: compute on the section's inputs, then its release through the disclosure layer.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

T_START = time.perf_counter()
ROOT = Path(__file__).resolve().parent.parent


def analyses() -> list[tuple[str, object]]:
    """(name, section) of every registered section, in report order."""
    from pipeline.sections import registry

    return [(s.name, s) for s in registry()]


def run_all(processed: Path, only: list[str] | None = None) -> dict:
    """Read the processed data and run every section (or those in ``only``; ``[]`` reads only)."""
    t0 = time.perf_counter()
    from pipeline.config import load_settings
    from pipeline.disclosure import Rules
    from pipeline.load import read_processed
    from pipeline.sections import Inputs

    secs = analyses()
    timings: dict[str, float] = {"imports": time.perf_counter() - t0}
    t0 = time.perf_counter()
    extract = read_processed(processed)
    settings = load_settings(processed)
    timings["read_processed"] = time.perf_counter() - t0
    inputs = Inputs(extract, extract, settings)
    rules = Rules(settings.disclosure)
    ran, skipped = [], []
    for name, sec in secs:
        if only is not None and name not in only:
            continue
        t0 = time.perf_counter()
        result = sec.run(inputs, rules)
        timings[name] = time.perf_counter() - t0
        (ran if result.ok else skipped).append(name)
    return {"timings": timings, "ran": ran, "skipped": skipped}


def _start_kernel():
    """A Jupyter kernel started as the pipeline starts its own (``pipeline.execute.KERNEL_ARGS``:
    quiet, no IPython history database), and a client with its channels started."""
    import os

    from jupyter_client.manager import KernelManager

    from pipeline.execute import KERNEL_ARGS

    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    km = KernelManager(kernel_name="python3")
    km.start_kernel(extra_arguments=KERNEL_ARGS, cwd=str(Path.cwd()))
    kc = km.client()
    kc.start_channels()
    return km, kc


def run_in_kernel(processed: Path) -> dict:
    """Start one Jupyter kernel and run :func:`run_all` in it (as the notebooks are run)."""
    t0 = time.perf_counter()
    km, kc = _start_kernel()
    try:
        kc.wait_for_ready(timeout=120)
        kernel_start = time.perf_counter() - t0
        code = (f"import sys, json; sys.path.insert(0, {str(ROOT / 'bench')!r}); import reference as _r; "
                f"print('@@' + json.dumps(_r.run_all(__import__('pathlib').Path({str(processed)!r}))))")
        out: list[str] = []

        def hook(msg):
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append("ERROR " + msg["content"]["ename"] + ": " + msg["content"]["evalue"])

        reply = kc.execute_interactive(code, timeout=None, output_hook=hook)
        text = "".join(out)
        if reply["content"]["status"] != "ok" or "@@" not in text:
            raise RuntimeError(f"the reference failed in the kernel: {text[-2000:]}")
        res = json.loads(text.split("@@", 1)[1].strip().splitlines()[0])
        res["timings"] = {"kernel_start": kernel_start, **res["timings"]}
        return res
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def run_notebook_code(processed: Path, slug: str) -> dict:
    """The notebooks' own code (analyses, figures, tables, text), cell by cell, in one Jupyter
    kernel started here, with the parameters the pipeline gives them: what the report costs
    without Make, Papermill, separate processes or rendering. Fragments go to a temporary folder."""
    import tempfile

    import jupytext

    sources = sorted((Path.cwd() / "notebooks").glob("[0-9]*.py"))
    t0 = time.perf_counter()
    km, kc = _start_kernel()
    timings: dict[str, float] = {}
    try:
        kc.wait_for_ready(timeout=120)
        timings["kernel_start"] = time.perf_counter() - t0
        with tempfile.TemporaryDirectory(prefix="sp-bench-fragments-") as frag:
            params = (f"borough = {slug!r}\nprocessed_dir = {str(processed)!r}\nfragments_dir = {frag!r}\n"
                      "period = None\n")
            for src in sources:
                nb = jupytext.read(src)
                t0 = time.perf_counter()
                for cell in nb.cells:
                    if cell.cell_type != "code":
                        continue
                    code = params if "parameters" in cell.metadata.get("tags", []) else cell.source
                    reply = kc.execute_interactive(code, timeout=None, output_hook=lambda m: None)
                    if reply["content"]["status"] != "ok":
                        raise RuntimeError(f"{src.stem}: {reply['content'].get('ename')}: {reply['content'].get('evalue')}")
                timings[src.stem] = time.perf_counter() - t0
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return {"timings": timings}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("processed", type=Path, help="a processed borough folder (data_processed/<slug>)")
    ap.add_argument("--kernel", action="store_true", help="run the analyses in one Jupyter kernel")
    ap.add_argument("--only", default=None, help="comma-separated analyses to run (empty: only read the data)")
    ap.add_argument("--notebooks", action="store_true",
                    help="run the notebooks' own code (with figures) in one kernel instead")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path.cwd()))  # the project being measured (a workspace copy)
    only = None if args.only is None else [x for x in args.only.split(",") if x]
    if args.notebooks:
        res = run_notebook_code(args.processed.resolve(), args.processed.resolve().name)
    elif args.kernel:
        res = run_in_kernel(args.processed.resolve())
    else:
        res = run_all(args.processed, only)
    res["wall_in_process"] = time.perf_counter() - T_START
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
