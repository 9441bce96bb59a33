"""Execute report notebooks with Papermill, all of a borough's notebooks in one Jupyter kernel.

Starting a kernel and importing pandas, statsmodels, lifelines and seaborn costs seconds; doing
it once per borough rather than once per notebook makes the pipeline close to the cost of its
own analyses. Each notebook still starts from an empty namespace (a ``%reset -f`` cell is run
first and never published), so a notebook cannot depend on another's variables, and it runs
the same way on its own in JupyterLab. The processed extract is read once per kernel
(:func:`pipeline.nb.setup` caches it).

What else keeps the fixed costs down (``bench/RESULTS.md`` has the measured breakdown):

- the kernel is started first and imports what the notebooks import while this process is still
  importing Papermill and preparing the notebooks (the two run side by side);
- every notebook is run through one connected kernel client (a new client per notebook waits
  ~0.2 s for ZeroMQ's subscription handshake);
- Papermill writes each output notebook once, when it is complete (not after every cell);
- the kernel keeps no IPython history: that is a SQLite database in the user's home, committed
  and synced to disk after every cell (three disk flushes a cell, some 400 a borough), shared by
  the kernels of a ``make -j`` build, and read back from disk once the machine has dropped it
  from its cache; the cells of a build do not belong in the user's interactive history anyway;
- after the imports and after each reset the surviving objects (modules, the cached extract) are
  frozen out of the garbage collector (``gc.freeze``), so a reset does not walk every imported
  module again (~0.2 s a notebook) and neither do the collections during the analyses.
"""

from __future__ import annotations

import ast
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
STARTUP_TIMEOUT = 120
#: seconds spent in each phase of the last :func:`run_notebooks` (read by ``bench/breakdown.py``)
TIMINGS: dict[str, float] = {}


class NotebookFailed(BuildError):
    pass


def _input_notebook(src: Path):
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


def preload_code(sources: Sequence[Path]) -> str:
    """Code the kernel runs as it starts: the notebooks' own top-level imports (each guarded: a
    failing import fails later, in its notebook, with a proper message), then ``gc.freeze()``.

    A jupytext percent notebook is a Python file, so its imports are read with :mod:`ast`."""
    stmts: list[str] = []
    for src in sources:
        try:
            tree = ast.parse(Path(src).read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and node.level == 0):
                stmt = ast.unparse(node)
                if stmt not in stmts:
                    stmts.append(stmt)
    body = "".join(f"try:\n    {s}\nexcept Exception:\n    pass\n" for s in stmts)
    return body + "import gc\ngc.collect()\ngc.freeze()\ndel gc\n"


def _kernel_manager():
    """A kernel manager whose ``client()`` always returns the same connected client, whose
    ``start_channels`` and ``wait_for_ready`` are no-ops once done (Papermill asks for a client per
    notebook)."""
    from jupyter_client.blocking import BlockingKernelClient
    from jupyter_client.manager import KernelManager

    class ReusedClient(BlockingKernelClient):
        _ready = False

        def start_channels(self, *args: Any, **kwargs: Any) -> None:
            if not self.channels_running:
                super().start_channels(*args, **kwargs)

        def wait_for_ready(self, timeout: float | None = None) -> None:
            if not self._ready:
                super().wait_for_ready(timeout=timeout)
                self._ready = True

    class OneClientManager(KernelManager):
        shared: Any = None

        def client(self, **kwargs: Any):
            if self.shared is None:
                self.client_factory = ReusedClient
                self.shared = super().client(**kwargs)
            return self.shared

    return OneClientManager(kernel_name="python3")


def run_notebooks(jobs: Sequence[tuple[Path, Path, dict[str, Any]]], cwd: Path,
                  log: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True),
                  label: str = "") -> list[Path]:
    """Run ``(source .py, output .ipynb, parameters)`` jobs in order in one kernel.

    Each output is written to a hidden temporary name and renamed into place only when its
    notebook succeeded; the first failure stops the run and raises :class:`NotebookFailed`.
    """
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    TIMINGS.clear()
    t = time.perf_counter()
    km = _kernel_manager()
    km.start_kernel(extra_arguments=[*KERNEL_ARGS, "--IPKernelApp.code_to_run=" + preload_code([j[0] for j in jobs])],
                    cwd=str(cwd))
    done: list[Path] = []
    inputs: list[tuple[Path, Path, dict[str, Any], Path]] = []
    kc = None
    TIMINGS["kernel spawn"] = time.perf_counter() - t
    try:
        # while the kernel starts and imports, this process imports Papermill and prepares the inputs
        t = time.perf_counter()
        import nbformat
        import papermill as pm

        TIMINGS["driver imports"] = time.perf_counter() - t
        t = time.perf_counter()
        for src, dest, params in jobs:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp_in = dest.with_name(f".{dest.stem}.input.ipynb")
            nbformat.write(_input_notebook(src), tmp_in)
            inputs.append((src, dest, params, tmp_in))
        TIMINGS["prepare notebooks"] = time.perf_counter() - t
        t = time.perf_counter()
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        kc.allow_stdin = False
        TIMINGS["wait for kernel (start + imports)"] = time.perf_counter() - t
        for src, dest, params, tmp_in in inputs:
            tmp_out = dest.with_name(f".{dest.stem}.running.ipynb")
            t0 = time.perf_counter()
            log(f"[{label}] running {src.stem} ...")
            try:
                pm.execute_notebook(str(tmp_in), str(tmp_out), parameters=params, kernel_name="python3",
                                    km=km, cwd=str(cwd), progress_bar=False, log_output=False,
                                    request_save_on_cell_execute=False)
            except pm.PapermillExecutionError as e:
                raise NotebookFailed(
                    f"notebook {src.stem} failed for {label} in cell {e.exec_count}: {e.ename}: {e.evalue}\n"
                    f"(the partly executed notebook is {tmp_out})") from None
            os.replace(tmp_out, dest)
            done.append(dest)
            TIMINGS[f"notebook {src.stem}"] = time.perf_counter() - t0
            log(f"[{label}] {src.stem} done in {TIMINGS[f'notebook {src.stem}']:.1f} s")
    finally:
        for *_, tmp_in in inputs:
            tmp_in.unlink(missing_ok=True)
        t = time.perf_counter()
        if kc is not None:
            kc.stop_channels()
        km.shutdown_kernel(now=True)
        TIMINGS["kernel shutdown"] = time.perf_counter() - t
    return done
