"""Execute report notebooks with Papermill, all of a borough's notebooks in one Jupyter kernel.

Starting a kernel and importing pandas, statsmodels, lifelines and seaborn costs seconds; doing
it once per borough rather than once per notebook makes the pipeline close to the cost of its
own analyses. Each notebook still starts from an empty namespace (a ``%reset -f`` cell is run
first and never published), so a notebook cannot depend on another's variables, and it runs
the same way on its own in JupyterLab. The processed extract is read once per kernel
(:func:`pipeline.nb.setup` caches it).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

RESET_TAG = "injected-reset"
KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]


class NotebookFailed(RuntimeError):
    pass


def _input_notebook(src: Path):
    import jupytext
    import nbformat

    nb = jupytext.read(src)
    reset = nbformat.v4.new_code_cell('get_ipython().run_line_magic("reset", "-f")')
    reset.metadata["tags"] = [RESET_TAG]
    nb.cells.insert(0, reset)
    return nb


def run_notebooks(jobs: Sequence[tuple[Path, Path, dict[str, Any]]], cwd: Path,
                  log: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True),
                  label: str = "") -> list[Path]:
    """Run ``(source .py, output .ipynb, parameters)`` jobs in order in one kernel.

    Each output is written to a hidden temporary name and renamed into place only when its
    notebook succeeded; the first failure stops the run and raises :class:`NotebookFailed`.
    """
    import nbformat
    import papermill as pm
    from jupyter_client.manager import KernelManager

    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    km = KernelManager(kernel_name="python3")
    km.start_kernel(extra_arguments=KERNEL_ARGS, cwd=str(cwd))
    done: list[Path] = []
    try:
        for src, dest, params in jobs:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp_in = dest.with_name(f".{dest.stem}.input.ipynb")
            tmp_out = dest.with_name(f".{dest.stem}.running.ipynb")
            nbformat.write(_input_notebook(src), tmp_in)
            t0 = time.perf_counter()
            log(f"[{label}] running {src.stem} ...")
            try:
                pm.execute_notebook(str(tmp_in), str(tmp_out), parameters=params, kernel_name="python3",
                                    km=km, cwd=str(cwd), progress_bar=False, log_output=False)
            except pm.PapermillExecutionError as e:
                raise NotebookFailed(
                    f"notebook {src.stem} failed for {label} in cell {e.exec_count}: {e.ename}: {e.evalue}\n"
                    f"(the partly executed notebook is {tmp_out})") from None
            finally:
                tmp_in.unlink(missing_ok=True)
            os.replace(tmp_out, dest)
            done.append(dest)
            log(f"[{label}] {src.stem} done in {time.perf_counter() - t0:.1f} s")
    finally:
        km.shutdown_kernel(now=True)
    return done
