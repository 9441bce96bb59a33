"""Execute report notebooks with Papermill, all of a borough's notebooks in one Jupyter kernel.

Starting a kernel and importing pandas, statsmodels, lifelines and seaborn costs seconds; doing
it once per borough rather than once per notebook makes the pipeline close to the cost of its
own analyses. Each notebook still starts from an empty namespace (a ``%reset -f`` cell tagged
:data:`RESET_TAG` is run first and never published), so a notebook cannot depend on another's
variables, and it runs the same way on its own in JupyterLab. The processed extract is read once
per kernel (:func:`pipeline.nb.setup` caches it).

The kernel keeps no IPython history (:data:`KERNEL_ARGS`): that is a SQLite database in the
user's home, committed and synced to disk after every cell and shared by the kernels of a
``make -j`` build, and a build's cells do not belong in the user's own history.

Three things beyond plain Papermill calls, each kept because it is worth 5% or more of one
borough's ``make report`` (``bench/README.md`` has the measurements):

- one kernel client for every notebook, through a Papermill engine (:data:`ENGINE`, Papermill's
  own nbclient execution handed the open client): a new client per notebook waits at least 0.2 s
  for ZeroMQ before its first cell;
- Papermill writes each output notebook once, when it is complete, not after every cell (a failed
  notebook is still written);
- the reset cell freezes what survives it (modules, the cached extract) out of the garbage
  collector (``gc.freeze``), so the reset's collection and those during the analyses do not walk
  every imported module again.

The reset cell also hands the heap the last notebook freed back to the operating system
(:func:`pipeline.memory.release`): at a million referrals that lowers the stage's peak memory by
about 125 MB (3%), which keeps it under the 4 GB goal with room to spare.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import memory  # the kernel runs memory.release after each reset (RESET_CODE): an import Make sees
from .errors import BuildError

RESET_TAG = "injected-reset"
KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR", "--HistoryManager.enabled=False"]
RESET_CODE = ('get_ipython().run_line_magic("reset", "-f")\nimport gc as _gc\n_gc.freeze()\ndel _gc\n'
              f'from {memory.__name__} import {memory.release.__name__} as _release\n_release()\ndel _release')
ENGINE = "pipeline-open-client"
STARTUP_TIMEOUT = 120
#: seconds spent in each phase of the last :func:`run_notebooks` (read by ``bench/breakdown.py``)
TIMINGS: dict[str, float] = {}


class NotebookFailed(BuildError):
    pass


def input_notebook(src: Path):
    """The jupytext notebook ``src`` as Papermill's input: the reset cell first."""
    import jupytext
    import nbformat

    nb = jupytext.read(src)
    # a text notebook written by hand may carry no kernel: the report's kernel is Python 3
    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    nb.metadata.setdefault("language_info", {"name": "python"})
    reset = nbformat.v4.new_code_cell(RESET_CODE)
    reset.metadata["tags"] = [RESET_TAG]
    nb.cells.insert(0, reset)
    return nb


def open_client_engine():
    """Papermill's nbclient engine run through the kernel client ``kc`` it is given (with the
    kernel manager ``km``), left open for the next notebook. Made on first use: render and publish
    import this module for :data:`RESET_TAG` and must not pay for importing Papermill."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import Engine

    class OpenClientEngine(Engine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, km=None, kc=None, **kwargs: Any):
            client = PapermillNotebookClient(nb_man, km=km, kernel_name=kernel_name)
            client.kc = kc  # nbclient opens a client only when it has none
            return client.execute()

    return OpenClientEngine


def failure_message(e, src: Path, label: str, executed: Path) -> str:
    """What failed, for a reader of ``src``: the cell by its place in ``src`` (the kernel's execution
    count runs on across notebooks, and the injected cells are not in the file) and first line."""
    import nbformat

    injected = {RESET_TAG, "injected-parameters"}
    cells = nbformat.read(executed, as_version=4).cells[:e.cell_index + 1]
    number = sum(1 for c in cells if not injected & set(c.metadata.get("tags", [])))
    first_line = next((line for line in e.source.splitlines() if line.strip()), "")
    return (f"notebook {src.stem} failed for {label} in cell {number} of {src.name} ({first_line}): "
            f"{e.ename}: {e.evalue}\n(the partly executed notebook is {executed})")


def run_notebooks(jobs: Sequence[tuple[Path, Path, dict[str, Any]]], cwd: Path,
                  log: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True),
                  label: str = "") -> list[Path]:
    """Run ``(source .py, output .ipynb, parameters)`` jobs in order in one kernel.

    Each output is written to a hidden temporary name and renamed into place only when its
    notebook succeeded; the first failure stops the run and raises :class:`NotebookFailed`.
    """
    from jupyter_client.manager import KernelManager

    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    TIMINGS.clear()
    t = time.perf_counter()
    km = KernelManager(kernel_name="python3")
    km.start_kernel(extra_arguments=KERNEL_ARGS, cwd=str(cwd))
    kc = None
    done: list[Path] = []
    try:
        import papermill as pm
        from papermill.engines import papermill_engines

        papermill_engines.register(ENGINE, open_client_engine())
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        kc.allow_stdin = False
        TIMINGS["kernel start"] = time.perf_counter() - t
        for src, dest, params in jobs:
            t = time.perf_counter()
            log(f"[{label}] running {src.stem} ...")
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp_out = dest.with_name(f".{dest.stem}.running.ipynb")
            try:
                pm.execute_notebook(input_notebook(src), tmp_out, parameters=params, engine_name=ENGINE, km=km, kc=kc,
                                    cwd=str(cwd), progress_bar=False, request_save_on_cell_execute=False)
            except pm.PapermillExecutionError as e:
                raise NotebookFailed(failure_message(e, src, label, tmp_out)) from None
            os.replace(tmp_out, dest)
            done.append(dest)
            TIMINGS[f"notebook {src.stem}"] = time.perf_counter() - t
            log(f"[{label}] {src.stem} done in {TIMINGS[f'notebook {src.stem}']:.1f} s")
    finally:
        t = time.perf_counter()
        if kc is not None:
            kc.stop_channels()
        km.shutdown_kernel(now=True)
        TIMINGS["kernel shutdown"] = time.perf_counter() - t
    return done
