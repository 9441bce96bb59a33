"""Isolated copies of the project for benchmarks, so a run never touches this checkout's
``data_raw/``, ``data_processed/``, ``build/`` or ``reports/``.

A workspace holds a copy of the code (Makefile, pipeline, notebooks, config, templates, locks)
with modification times preserved, and a symlink to this checkout's ``.venv``. Every ``make`` in a
workspace is given ``STAMP=.bench-env`` (a file made in the workspace), so the environment rule
can never run there: the shared ``.venv`` is used as it is and never reinstalled or re-pointed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPY = ("Makefile", "pipeline", "notebooks", "config", "templates", "requirements.txt", "requirements-lock.txt",
        "pyproject.toml", "data_raw/README.md", "data_processed/README.md", "reports/README.md")
ENV_STAMP = ".bench-env"
# variables of an outer make that would leak its jobserver and options into ours
_MAKE_VARS = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GNUMAKEFLAGS", "SP_BUILD_START")


class WorkspaceError(RuntimeError):
    pass


@dataclass
class Run:
    seconds: float
    returncode: int
    stdout: str
    stderr: str


def python() -> Path:
    return ROOT / ".venv" / "bin" / "python"


def check_env() -> None:
    if not python().exists():
        raise WorkspaceError(f"{python()} is missing: run `make env` in {ROOT} first")


def create(parent: Path | None = None, name: str = "ws") -> Path:
    """A fresh copy of the project in a new folder under ``parent`` (default: a temporary folder)."""
    check_env()
    parent = Path(parent) if parent else Path(tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix=f"sp-bench-{name}-", dir=parent))
    ignore = shutil.ignore_patterns("__pycache__", "*.ipynb", ".ipynb_checkpoints")
    for rel in COPY:
        src, dst = ROOT / rel, root / rel
        if not src.exists():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=ignore, copy_function=shutil.copy2)
        else:
            shutil.copy2(src, dst)
    os.symlink(ROOT / ".venv", root / ".venv")
    (root / ENV_STAMP).touch()
    return root


def remove(root: Path) -> None:
    if root.name.startswith("sp-bench-"):
        shutil.rmtree(root, ignore_errors=True)


def env(root: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if k not in _MAKE_VARS}
    e["SP_EVAL_ROOT"] = str(root)
    e["PYTHONPATH"] = str(root)  # the workspace's package, never this checkout's
    e["PATH"] = f"{root / '.venv' / 'bin'}{os.pathsep}{e.get('PATH', '')}"
    e.update(extra or {})
    return e


def make(root: Path, *args: str, check: bool = True, extra_env: dict[str, str] | None = None) -> Run:
    """``make ARGS`` in the workspace, timed (wall clock)."""
    cmd = ["make", "--no-print-directory", f"STAMP={ENV_STAMP}", *args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env(root, extra_env))
    run = Run(time.perf_counter() - t0, proc.returncode, proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        raise WorkspaceError(f"make {' '.join(args)} failed ({proc.returncode}) in {root}:\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return run


def py(root: Path, *args: str, check: bool = True, extra_env: dict[str, str] | None = None) -> Run:
    """``.venv/bin/python ARGS`` in the workspace, timed (wall clock)."""
    t0 = time.perf_counter()
    proc = subprocess.run([str(root / ".venv" / "bin" / "python"), *args], cwd=root, capture_output=True, text=True,
                          env=env(root, extra_env))
    run = Run(time.perf_counter() - t0, proc.returncode, proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        raise WorkspaceError(f"python {' '.join(args)} failed ({proc.returncode}) in {root}:\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return run


def clean(root: Path) -> None:
    make(root, "clean")


@dataclass
class Measured:
    seconds: float
    returncode: int
    peak_rss_mb: float  # the most the process and its children held at once (sampled)
    max_single_rss_mb: float  # the largest single process (kernel-accurate, from rusage)
    cpu_seconds: float  # user + system, the process and its waited-for children
    killed: str = ""  # why the run was stopped (memory or time limit), or ""
    stdout: str = ""
    stderr: str = ""


def measure(cmd: list[str], cwd: Path, env_: dict[str, str] | None = None, limit_mb: float | None = None,
            timeout: float | None = None, interval: float = 0.05) -> Measured:
    """Run ``cmd`` and sample the resident memory of it and all its descendants (a notebook kernel
    is one); stop it when the sum passes ``limit_mb`` or the wall time passes ``timeout``."""
    import psutil

    out_f = tempfile.TemporaryFile(mode="w+")
    err_f = tempfile.TemporaryFile(mode="w+")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env_, stdout=out_f, stderr=err_f, start_new_session=True)
    peak, killed, status, usage = 0.0, "", 0, None
    try:
        root = psutil.Process(proc.pid)
    except psutil.NoSuchProcess:
        root = None
    while True:
        try:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        except ChildProcessError:
            break
        if pid:
            break
        rss = 0
        if root is not None:
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                procs = []
            for p in procs:
                try:
                    rss += p.memory_info().rss
                except psutil.Error:
                    pass
        peak = max(peak, rss / 2**20)
        elapsed = time.perf_counter() - t0
        if not killed and limit_mb is not None and peak > limit_mb:
            killed = f"stopped: memory above {limit_mb / 1024:.0f} GB"
        elif not killed and timeout is not None and elapsed > timeout:
            killed = f"stopped: longer than {timeout / 60:.0f} min"
        if killed:
            _kill_group(proc.pid)
        time.sleep(interval)
    seconds = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    out_f.seek(0)
    err_f.seek(0)
    maxrss = usage.ru_maxrss / 1024 if usage else float("nan")
    cpu = usage.ru_utime + usage.ru_stime if usage else float("nan")
    return Measured(seconds, rc, max(peak, maxrss if usage else 0.0), maxrss, cpu, killed, out_f.read(), err_f.read())


def _kill_group(pid: int) -> None:
    import signal

    try:
        os.killpg(pid, signal.SIGKILL)  # the run's own session: the command and its kernel, nothing else
    except ProcessLookupError:
        pass
